// The one request the benchmark sends, addressed two ways: straight to the emulated DeepInfra
// upstream, and through the gateway (auth on) that routes the same model to that upstream.
import type { Target } from './client.ts';

/** Gateway model id and the DeepInfra model id the catalog routes it to. */
export const GATEWAY_MODEL = 'llama-3.3-70b';
export const UPSTREAM_MODEL = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
export const UPSTREAM_KEY = 'di-good-key-0001';
export const CLIENT_KEY = 'sk-bench-client-key-0001';

export const USER_TEXT = 'Summarize in one sentence why a gateway should add as little latency as possible.';
export const SYSTEM_TEXT = 'You are a concise assistant.';
const MESSAGES = [
  { role: 'system', content: SYSTEM_TEXT },
  { role: 'user', content: USER_TEXT },
];

/** What the emulator answers (test/emulators/answers.ts answerText) for this request, streamed or not. */
export const EXPECTED_TEXT = `Hello from deepinfra (${UPSTREAM_MODEL}). You said: ${USER_TEXT}`;

export function requestBody(model: string, stream: boolean): string {
  return JSON.stringify({ model, messages: MESSAGES, stream, temperature: 0.2 });
}

export function directTarget(emulatorUrl: string): Target {
  return { label: 'direct', url: `${emulatorUrl}/deepinfra/v1/openai/chat/completions`, headers: { authorization: `Bearer ${UPSTREAM_KEY}` } };
}

export function gatewayTarget(gatewayUrl: string): Target {
  return { label: 'gateway', url: `${gatewayUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${CLIENT_KEY}` } };
}

/** Body for a target: the gateway takes its own model id, the upstream its own. */
export function bodyFor(target: Target, stream: boolean): string {
  return requestBody(target.label === 'gateway' ? GATEWAY_MODEL : UPSTREAM_MODEL, stream);
}

/**
 * The gateway's environment: auth on (API_KEY), stats and the request log on (they always are;
 * flushed every STATS_FLUSH_MS as in production), only DeepInfra configured and pointed at the
 * emulator, no scheduled health checks or model-list refreshes to add requests of their own.
 */
export function gatewayEnv(emulatorUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    API_KEY: CLIENT_KEY,
    ADMIN_PASSWORD: 'bench-admin-password',
    DEEPINFRA_BASE_URL: `${emulatorUrl}/deepinfra/v1/openai`,
    DEEPINFRA_API_KEY: UPSTREAM_KEY,
    POLLINATIONS_ENABLED: 'false',
    TOGETHER_ENABLED: 'false',
    HUGGINGFACE_ENABLED: 'false',
    CLOUDFLARE_ENABLED: 'false',
    HEALTH_CHECK_INTERVAL: '0',
    DISCOVERY_INTERVAL_MINUTES: '0',
    STATS_FLUSH_MS: '1000',
  };
}
