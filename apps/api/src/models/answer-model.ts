import type { AppConfig } from '../config/app-config.ts';

/**
 * The `model` an answer names, on every front door: the upstream model id that served it (so
 * cost dashboards and tracing see fallbacks and aliases as they were), or with
 * RESPONSE_MODEL=requested the id the client sent.
 */
export function answerModel(mode: AppConfig['responseModel'], requested: string, served: string): string {
  return mode === 'requested' ? requested : served;
}
