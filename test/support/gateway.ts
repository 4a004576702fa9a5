import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../apps/api/src/bootstrap.ts';
import { loadConfig } from '../../apps/api/src/config/app-config.ts';
import type { Emulator } from '../emulators/emulator.ts';

export interface Gateway {
  /** http://127.0.0.1:PORT */
  url: string;
  /** `${url}/v1`, what OpenAI SDKs take as baseURL. */
  baseURL: string;
  app: NestExpressApplication;
  close(): Promise<void>;
}

/** Every built-in provider pointed at the emulator, with working keys and short timeouts. */
export function emulatorEnv(emu: Emulator): Record<string, string> {
  return {
    POLLINATIONS_BASE_URL: emu.baseUrl('pollinations'),
    DEEPINFRA_BASE_URL: emu.baseUrl('deepinfra'),
    DEEPINFRA_API_KEY: 'di-good-key-0001',
    TOGETHER_BASE_URL: emu.baseUrl('together'),
    TOGETHER_API_KEY: 'tg-good-key-0001',
    HUGGINGFACE_BASE_URL: emu.baseUrl('huggingface'),
    HUGGINGFACE_API_KEY: 'hf_good_key_0001',
    CLOUDFLARE_BASE_URL: emu.baseUrl('cloudflare'),
    CLOUDFLARE_API_TOKEN: 'cf-good-key-0001',
    CLOUDFLARE_ACCOUNT_ID: 'acct-123',
    UPSTREAM_CONNECT_TIMEOUT_MS: '1000',
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1500',
    UPSTREAM_IDLE_TIMEOUT_MS: '1500',
    UPSTREAM_TIMEOUT_MS: '5000',
    // Model lists are fetched only on demand, so that tests counting upstream requests see only
    // their own; discovery.e2e-spec turns the automatic fetches back on.
    DISCOVERY_INTERVAL_MINUTES: '0',
    // Image URLs the emulated providers return point at the emulator, on loopback: a private address
    // the gateway refuses to fetch unless told (test/e2e/hostile/edge.e2e-spec.ts tests without this).
    MEDIA_FETCH_ALLOW_HOSTS: '127.0.0.1',
  };
}

/**
 * Providers tried in a fixed order (DeepInfra, Together, HuggingFace, Pollinations, Cloudflare),
 * breakers that never open and keys that cool for a millisecond: a test's faults decide alone who
 * answers.
 */
export const FIXED_ORDER_ENV: Readonly<Record<string, string>> = {
  ROUTING_STRATEGY: 'priority',
  DEEPINFRA_PRIORITY: '1',
  TOGETHER_PRIORITY: '2',
  HUGGINGFACE_PRIORITY: '3',
  POLLINATIONS_PRIORITY: '4',
  CLOUDFLARE_PRIORITY: '5',
  BREAKER_FAILURE_THRESHOLD: '1000',
  BREAKER_COOLDOWN_MS: '1',
  BREAKER_MAX_COOLDOWN_MS: '10',
  KEY_AUTH_COOLDOWN_MS: '1',
};

/** Starts the real application on a loopback port. `env` adds to (or, with '', removes from) emulatorEnv. */
export async function startGateway(emu: Emulator | null, env: Record<string, string> = {}, options: { logger?: LoggerService } = {}): Promise<Gateway> {
  const merged: Record<string, string | undefined> = {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-data-')),
    ADMIN_PASSWORD: 'admin-test-password',
    // No scheduled provider health checks: they would add upstream requests to other tests' counts.
    HEALTH_CHECK_INTERVAL: '0',
    // close() waits for requests in flight; a test that left a stream unread must not hold its
    // teardown for the default 30 s (a hook's timeout). The shutdown tests set their own.
    SHUTDOWN_GRACE_SECONDS: '2',
    ...(emu ? emulatorEnv(emu) : {}),
    ...env,
  };
  for (const [k, v] of Object.entries(merged)) if (v === '') delete merged[k];
  const config = loadConfig(merged);
  const app = await createApp(config, { logger: options.logger ?? false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return { url, baseURL: `${url}/v1`, app, close: () => app.close() };
}

/** Reads an SSE response body into its `data:` payloads (JSON-parsed, '[DONE]' kept as a string). */
export async function readSse(res: Response): Promise<unknown[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n'),
    )
    .filter(Boolean)
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
