import { resolve } from 'node:path';

/** The built-in providers and the env prefix each one reads (`<P>_BASE_URL`, `<P>_API_KEY`, ...). */
export const BUILTIN_PROVIDER_ENV = {
  pollinations: 'POLLINATIONS',
  deepinfra: 'DEEPINFRA',
  together: 'TOGETHER',
  huggingface: 'HUGGINGFACE',
  cloudflare: 'CLOUDFLARE',
} as const;

export type RoutingStrategy = 'random' | 'priority' | 'latency';

/** What the environment says about one provider. Absent fields fall back to the adapter's defaults. */
export interface ProviderEnv {
  enabled: boolean;
  baseUrl?: string;
  apiKeys: string[];
  proxy?: string;
  extra: Record<string, string>;
  /** Lower comes first with ROUTING_STRATEGY=priority; also a weight hint for random. */
  priority?: number;
}

export interface AppConfig {
  port: number;
  host: string;
  /** Client keys that may call /v1 (API_KEY); empty means open. */
  apiKeys: string[];
  bodyLimitBytes: number;
  routingStrategy: RoutingStrategy;
  timeouts: {
    connectMs: number;
    /** Until the upstream's response headers and, for streams, its first event. */
    firstByteMs: number;
    /** Longest silence between two stream events. */
    idleMs: number;
    /** Whole non-stream request. */
    totalMs: number;
  };
  breaker: {
    /** Consecutive failures that open a provider's breaker. */
    failureThreshold: number;
    baseCooldownMs: number;
    maxCooldownMs: number;
    /** Cooldown of a key that answered 401/402/403. */
    authCooldownMs: number;
  };
  providers: Record<string, ProviderEnv>;
  providersFile?: string;
  catalogFile?: string;
  dataDir: string;
  admin: {
    /** From ADMIN_PASSWORD; when unset a random one is made at first start and stored hashed. */
    password?: string;
    sessionTtlMs: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function url(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  // new URL('localhost:3128') parses "localhost:" as a scheme; only http(s) makes sense here.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

/** "10mb", "512kb", "1048576" → bytes. */
export function parseSize(raw: string, name = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(`${name} must be a size like 10mb, got "${raw}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
}

function providerEnv(env: Env, prefix: string): ProviderEnv {
  const keys = list(env[`${prefix}_API_KEY`]);
  const extra: Record<string, string> = {};
  if (prefix === 'CLOUDFLARE') {
    // Cloudflare calls its keys API tokens; accept both names.
    keys.push(...list(env.CLOUDFLARE_API_TOKEN).filter((k) => !keys.includes(k)));
    const account = env.CLOUDFLARE_ACCOUNT_ID?.trim();
    if (account) extra.accountId = account;
  }
  const priority = env[`${prefix}_PRIORITY`]?.trim() ? int(env, `${prefix}_PRIORITY`, 0) : undefined;
  return {
    enabled: bool(env, `${prefix}_ENABLED`, true),
    baseUrl: url(env, `${prefix}_BASE_URL`),
    apiKeys: [...new Set(keys)],
    proxy: url(env, `${prefix}_PROXY`),
    extra,
    priority,
  };
}

export function loadConfig(env: Env = process.env): AppConfig {
  const strategy = (env.ROUTING_STRATEGY?.trim().toLowerCase() || 'random') as RoutingStrategy;
  if (!['random', 'priority', 'latency'].includes(strategy)) {
    throw new ConfigError(`ROUTING_STRATEGY must be random, priority or latency, got "${env.ROUTING_STRATEGY}"`);
  }
  const providers: Record<string, ProviderEnv> = {};
  for (const [id, prefix] of Object.entries(BUILTIN_PROVIDER_ENV)) providers[id] = providerEnv(env, prefix);

  return {
    port: int(env, 'PORT', 8080, 0, 65_535),
    host: env.HOST?.trim() || '0.0.0.0',
    apiKeys: list(env.API_KEY),
    bodyLimitBytes: parseSize(env.BODY_LIMIT?.trim() || '10mb', 'BODY_LIMIT'),
    routingStrategy: strategy,
    timeouts: {
      connectMs: int(env, 'UPSTREAM_CONNECT_TIMEOUT_MS', 10_000, 1),
      firstByteMs: int(env, 'UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 60_000, 1),
      idleMs: int(env, 'UPSTREAM_IDLE_TIMEOUT_MS', 120_000, 1),
      totalMs: int(env, 'UPSTREAM_TIMEOUT_MS', 300_000, 1),
    },
    breaker: {
      failureThreshold: int(env, 'BREAKER_FAILURE_THRESHOLD', 3, 1),
      baseCooldownMs: int(env, 'BREAKER_COOLDOWN_MS', 30_000, 1),
      maxCooldownMs: int(env, 'BREAKER_MAX_COOLDOWN_MS', 600_000, 1),
      authCooldownMs: int(env, 'KEY_AUTH_COOLDOWN_MS', 600_000, 1),
    },
    providers,
    providersFile: env.PROVIDERS_FILE?.trim() || undefined,
    catalogFile: env.CATALOG_FILE?.trim() || undefined,
    dataDir: resolve(env.DATA_DIR?.trim() || './data'),
    admin: {
      password: env.ADMIN_PASSWORD || undefined,
      sessionTtlMs: int(env, 'ADMIN_SESSION_TTL_HOURS', 24, 1, 24 * 365) * 3_600_000,
    },
  };
}

/** Injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
