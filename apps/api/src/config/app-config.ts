import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseQuotaOverride, type QuotaOverride } from '../common/quota-spec.ts';
import { maskUrlCredentials } from '../common/redact.ts';
// Plain data (each built-in provider's own declaration): the adapters behind it load only in Nest.
import { BUILTIN_PROVIDERS } from '../providers/builtin-providers.ts';
import type { ProviderDeclaration } from '../providers/provider-declaration.ts';

export type RoutingStrategy = 'random' | 'priority' | 'latency';

/** LOG_LEVEL: each level shows itself and everything above it. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

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
    /**
     * A stream's first content (UPSTREAM_FIRST_TOKEN_TIMEOUT_MS): until then the attempt can still
     * fail over. Comments, empty chunks and role-only deltas are not content.
     */
    firstTokenMs: number;
    /** A whole stream, from the request to its last event (UPSTREAM_STREAM_TIMEOUT_MS). */
    streamMs: number;
  };
  /** Bounds on what an upstream or a client can make the gateway hold. */
  limits: {
    /** A whole (non-stream) upstream body as received, before decompression (UPSTREAM_MAX_BODY). */
    upstreamBodyBytes: number;
    /** A whole upstream body after decompression (UPSTREAM_MAX_DECODED_BODY). */
    upstreamDecodedBytes: number;
    /** One line of an upstream event stream (SSE_MAX_LINE). */
    sseLineBytes: number;
    /** One event of an upstream event stream, all its lines together (SSE_MAX_EVENT). */
    sseEventBytes: number;
    /** How long a streaming client may read nothing while the gateway has data for it (CLIENT_STALL_TIMEOUT_MS). */
    clientStallMs: number;
    /** An image fetched from a URL an upstream returned (MEDIA_FETCH_MAX_BYTES). */
    mediaFetchBytes: number;
  };
  /** Who may reach what, from where. */
  access: {
    /**
     * Express's `trust proxy` (TRUST_PROXY): false (default: the socket's address is the client's),
     * true, a hop count, or a comma-separated list of proxy addresses/CIDRs/names (loopback, uniquelocal).
     */
    trustProxy: boolean | number | string[];
    /** Origins allowed to call /v1 from a browser (CORS_ORIGINS); undefined: `*` when a client key is required, none otherwise. */
    corsOrigins?: string[];
    /** With no API_KEY and no client key, answer /v1 from any address, not only loopback (ALLOW_OPEN_API). */
    allowOpenApi: boolean;
    /** Hosts, IPs or CIDRs (no port: each allows every port) that media fetches may reach although private (MEDIA_FETCH_ALLOW_HOSTS). */
    mediaFetchAllowHosts: string[];
  };
  breaker: {
    /** Consecutive failures that open a provider's breaker. */
    failureThreshold: number;
    baseCooldownMs: number;
    maxCooldownMs: number;
    /** Cooldown of a key that answered 401/402/403. */
    authCooldownMs: number;
  };
  failover: {
    /**
     * Whether a provider's content-policy refusal is tried on the next provider (true) or
     * returned to the client as that provider's decision (false, the default).
     */
    onContentPolicy: boolean;
    /** A 429's Retry-After up to this is waited out on the same route when no other is ready; 0: never wait. */
    retryAfterMaxMs: number;
    /** Retry a 5xx or network failure once on the same route even when another route is ready. */
    sameRoute: boolean;
    /** Most same-route retries in one request, all causes together. */
    retryBudget: number;
  };
  /**
   * Stream resumption: a chat stream cut or stalled after content continues on another route that
   * takes the text already sent as a trailing assistant message (prefill).
   */
  streamResume: {
    /** STREAM_RESUME, off by default. */
    enabled: boolean;
    /** Most resumptions of one stream (STREAM_RESUME_MAX). */
    maxResumes: number;
    /**
     * Providers whose routes continue a trailing assistant message rather than answer anew
     * (STREAM_RESUME_PROVIDERS, names as in the `provider` field, any case): only they resume.
     */
    prefillProviders: string[];
  };
  /** Exact-match cache of deterministic chat answers (see cache/response-cache.ts). */
  responseCache: {
    /** RESPONSE_CACHE, off by default; the console's stored setting overrides it. */
    enabled: boolean;
    /** How long an answer is served from the cache (RESPONSE_CACHE_TTL, a duration; 1 h). */
    ttlMs: number;
    /** All entries together, JSON-encoded (RESPONSE_CACHE_MAX_BYTES; 64 MB): the oldest go first beyond it. */
    maxBytes: number;
    /** One answer's entry (RESPONSE_CACHE_MAX_ENTRY_BYTES; 1 MB): a larger answer is not cached. */
    maxEntryBytes: number;
    /** Model ids cached whatever their temperature (RESPONSE_CACHE_MODELS, comma-separated; the console adds to them). */
    models: string[];
    /**
     * Where a single machine keeps the entries (RESPONSE_CACHE_STORE): `sqlite` (default), a file
     * in DATA_DIR that a restart keeps, or `memory`. Cluster mode (REDIS_URL) always uses Redis.
     */
    store: 'sqlite' | 'memory';
  };
  /** Session affinity: one conversation's turns stay on the route that answered it (see routing/affinity.ts). */
  sessionAffinity: {
    /** SESSION_AFFINITY, on by default. */
    enabled: boolean;
    /** How long a conversation keeps its route after its last answer (SESSION_AFFINITY_TTL; 30 min). */
    ttlMs: number;
    /** Conversations remembered per replica, least recently used forgotten first (SESSION_AFFINITY_MAX_SESSIONS). */
    maxSessions: number;
  };
  providers: Record<string, ProviderEnv>;
  providersFile?: string;
  catalogFile?: string;
  /**
   * Model aliases from MODEL_ALIASES (a JSON object, `{"claude-*": "qwen3-coder"}`), as given: the
   * catalog checks each pattern and target, since only it knows the models. Empty when unset.
   */
  modelAliases: Record<string, unknown>;
  /**
   * What an answer's `model` says (RESPONSE_MODEL): `served`, the upstream model id that answered
   * (default, as OpenAI names its resolved snapshot), or `requested`, the id the client sent.
   */
  responseModel: 'served' | 'requested';
  dataDir: string;
  /** Minutes between scheduled model-list refreshes (DISCOVERY_INTERVAL_MINUTES); 0 = only on demand. */
  discoveryIntervalMinutes: number;
  /**
   * Providers whose listed models the catalog lacks are added to it (DISCOVERY_AUTO_ADD, provider
   * names, lower-case; `*` for every provider); the console can turn each on or off.
   */
  discoveryAutoAdd: string[];
  /** How long `/v1/images/files/...` URLs serve their image before the file is deleted (IMAGE_URL_TTL_SECONDS). */
  imageUrlTtlSeconds: number;
  /** Origin (and optional path prefix) for the URLs the gateway hands out (PUBLIC_BASE_URL); else the request's own. */
  publicBaseUrl?: string;
  /** Master key for secrets at rest (SECRET_KEY); generated into DATA_DIR when unset. */
  secretKey?: string;
  /** The admin console's build to serve at `/` (CONSOLE_DIR); default dist/admin/browser next to the API's build. */
  consoleDir?: string;
  health: {
    /** How often every configured provider is probed (HEALTH_CHECK_INTERVAL); 0 turns the scheduled checks off. */
    checkIntervalMs: number;
    /** What a check sends by default (HEALTH_PROBE): a one-token chat, a model-list read, or nothing. */
    probe: HealthProbeMode;
    /** Per provider, lower-cased name or id (HEALTH_PROBE_PROVIDERS): its own mode and chat probe model. */
    probeByProvider: Record<string, HealthProbeSetting>;
  };
  /**
   * After SIGTERM/SIGINT (or app.close()), how long requests and streams already running may take
   * to finish before they are cut (SHUTDOWN_GRACE_SECONDS); new ones are refused from the start.
   */
  shutdownGraceMs: number;
  admin: {
    /** From ADMIN_PASSWORD; when unset a random one is made at first start and stored hashed. */
    password?: string;
    sessionTtlMs: number;
  };
  /** How much the log says (LOG_LEVEL): `info` by default; `debug` adds every route and model at start. */
  logLevel: LogLevelName;
  /** IANA time zone in which client keys' daily and monthly quotas reset at midnight (QUOTA_TIME_ZONE, default UTC). */
  quotaTimeZone: string;
  /** Cluster mode (REDIS_URL): every replica with the same Redis and key prefix shares all state there. */
  redis?: {
    url: string;
    /** Prepended to every key and channel (REDIS_KEY_PREFIX), so deployments can share one Redis. */
    keyPrefix: string;
    /** The request log in Redis keeps about this many entries at most (REDIS_LOG_MAX_ENTRIES, else LOG_MAX_ENTRIES). */
    logMaxEntries: number;
  };
  stats: {
    /** How often buffered request log entries and stats are written to storage (STATS_FLUSH_MS). */
    flushMs: number;
    /** Request log entries older than this are deleted (LOG_RETENTION_DAYS). */
    logRetentionDays: number;
    /** The request log keeps about this many entries at most, the oldest deleted first (LOG_MAX_ENTRIES). */
    logMaxEntries: number;
    /** The embedded store keeps about this many stats rows at most, the oldest buckets deleted first (STATS_MAX_ROWS). */
    maxRows: number;
  };
  /** Responses API answers kept for GET /v1/responses/{id} and `previous_response_id` (`store: true`, the default). */
  responses: {
    /** How long one is kept (RESPONSES_TTL_SECONDS); OpenAI keeps them 30 days, which clients expect. */
    ttlSeconds: number;
    /** The largest stored record, the answer and the conversation it continues (RESPONSES_MAX_STORED_BYTES); a larger one is not stored. */
    maxStoredBytes: number;
  };
  /** `/v1/audio/transcriptions`. */
  transcriptions: {
    /** The largest audio file a client may upload (TRANSCRIPTION_MAX_BYTES; 25 MB as OpenAI's); a larger one is a 413. */
    maxFileBytes: number;
    /** Uploads taken at once (TRANSCRIPTION_MAX_CONCURRENT); each is held in memory, so one more is a 429. */
    maxConcurrent: number;
  };
  /** The providers' quota ledger (docs/providers.md, 免费额度账本). */
  providerQuota: {
    /** QUOTA_LIMITS: per provider id or name, or per key (`<provider>#<key id>`), limits over the documented ones. */
    overrides: Record<string, QuotaOverride>;
    /** How often counters are written to storage and other replicas' counts read back (QUOTA_SYNC_MS). */
    syncMs: number;
    /** An invalid key's first retest after this long, then every `retestLaterMs` (KEY_RETEST_FIRST_MS, KEY_RETEST_MS). */
    retestFirstMs: number;
    retestLaterMs: number;
    /** Health probes skip keys with less than this share of a known limit left (QUOTA_PROBE_MIN_HEADROOM, 0–1). */
    probeMinHeadroom: number;
    /** Per provider (lower-cased name or id): how often its scheduled health probe runs (HEALTH_CHECK_INTERVAL_PROVIDERS). */
    probeIntervalMs: Record<string, number>;
  };
}

/** The longest a single provider health check or model-list fetch may take, every key tried (docs/admin-api.md: 15 s). */
export const CHECK_DEADLINE_MS = 15_000;

/**
 * The deadline of one health check or model-list fetch: CHECK_DEADLINE_MS, or UPSTREAM_TIMEOUT_MS
 * when shorter. One deadline for the whole call, not per key or per read: an upstream that
 * trickles a byte now and then never trips the idle timeout, and would otherwise hold it for good.
 */
export function checkDeadlineMs(config: Pick<AppConfig, 'timeouts'>): number {
  return Math.min(CHECK_DEADLINE_MS, config.timeouts.totalMs);
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

/**
 * A URL as a startup error may quote it: error lines end up in container logs, so a password in
 * a proxy or base URL (`http://user:pass@proxy:3128`) is masked, and so is anything before an "@"
 * of a value too malformed for the URL masking to see its credentials (`user:pass@proxy:3128`).
 */
export function quotedUrl(raw: string): string {
  const masked = maskUrlCredentials(raw);
  if (masked !== raw) return masked;
  const at = raw.lastIndexOf('@');
  return at < 0 ? raw : `****${raw.slice(at)}`;
}

function url(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const invalid = () => new ConfigError(`${name} must be an http(s) URL, got "${quotedUrl(raw)}"`);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw invalid();
  }
  // new URL('localhost:3128') parses "localhost:" as a scheme; only http(s) makes sense here.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid();
  return raw.replace(/\/+$/, '');
}

/** "10mb", "512kb", "1048576" → bytes. */
export function parseSize(raw: string, name = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(`${name} must be a size like 10mb, got "${raw}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "90" (seconds), "500ms", "30s", "5m", "1h", "1d" → milliseconds. */
export function parseDuration(raw: string, name = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(`${name} must be a duration like 30s, 5m or 1h (a bare number is seconds), got "${raw}"`);
  return Math.round(Number(m[1]) * DURATION_UNITS_MS[(m[2] ?? 's').toLowerCase() as keyof typeof DURATION_UNITS_MS]);
}

/** A duration variable (see parseDuration) within [minMs, maxMs]. */
function boundedDuration(env: Env, name: string, fallback: string, minMs: number, maxMs: number): number {
  const ms = parseDuration(env[name]?.trim() || fallback, name);
  if (ms < minMs || ms > maxMs) throw new ConfigError(`${name} must be from ${minMs / 1000} s to ${maxMs / 1000} s, got "${env[name]}"`);
  return ms;
}

/** HEALTH_CHECK_INTERVAL: a duration from 1s to 7d, or 0/off for no scheduled checks; 5 minutes by default. */
function healthCheckInterval(raw: string | undefined): number {
  const value = raw?.trim().toLowerCase();
  if (!value) return 5 * 60_000;
  if (['off', 'false', 'no'].includes(value)) return 0;
  const ms = parseDuration(value, 'HEALTH_CHECK_INTERVAL');
  if (ms !== 0 && (ms < 1000 || ms > 7 * 86_400_000)) {
    throw new ConfigError(`HEALTH_CHECK_INTERVAL must be from 1s to 7d, or 0/off to turn the checks off, got "${raw}"`);
  }
  return ms;
}

/** What a provider health check sends: a one-token chat (the default), a model-list read, or nothing. */
export type HealthProbeMode = 'chat' | 'models' | 'off';
export interface HealthProbeSetting {
  mode: HealthProbeMode;
  /** The gateway model id for the one-token chat; the provider's cheapest chat model when unset. */
  model?: string;
}
const HEALTH_PROBE_MODES: readonly HealthProbeMode[] = ['chat', 'models', 'off'];
const MAX_PROBE_SETTINGS = 200;

function healthProbeMode(raw: string | undefined, name: string): HealthProbeMode {
  const value = (raw?.trim().toLowerCase() || 'chat') as HealthProbeMode;
  if (!HEALTH_PROBE_MODES.includes(value)) throw new ConfigError(`${name} must be one of ${HEALTH_PROBE_MODES.join(', ')}, got "${raw}"`);
  return value;
}

/** HEALTH_PROBE_PROVIDERS: `deepinfra=off,together=models,huggingface=chat:llama-3.2-1b` (comma-separated). */
function healthProbeByProvider(raw: string | undefined): Record<string, HealthProbeSetting> {
  const out: Record<string, HealthProbeSetting> = {};
  const items = (raw ?? '')
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean);
  if (items.length > MAX_PROBE_SETTINGS) throw new ConfigError(`HEALTH_PROBE_PROVIDERS may name at most ${MAX_PROBE_SETTINGS} providers`);
  for (const item of items) {
    const m = /^([^=\s]{1,64})\s*=\s*(chat|models|off)(?::(\S{1,200}))?$/i.exec(item);
    if (!m || (m[3] && m[2]!.toLowerCase() !== 'chat')) {
      throw new ConfigError(`HEALTH_PROBE_PROVIDERS entries look like provider=chat, provider=chat:<model>, provider=models or provider=off, got "${item}"`);
    }
    out[m[1]!.toLowerCase()] = { mode: m[2]!.toLowerCase() as HealthProbeMode, ...(m[3] ? { model: m[3] } : {}) };
  }
  return out;
}

/** TRUST_PROXY: off by default; true/false, a hop count, or a list of addresses, CIDRs and Express's names. */
/** An IANA zone name Intl knows (`Asia/Shanghai`, `UTC`), in its canonical spelling. */
function quotaTimeZone(raw: string | undefined): string {
  const zone = raw?.trim() || 'UTC';
  // Without Intl for the default: its first DateTimeFormat loads ICU's zone and locale data (~7 MB of RSS).
  if (zone.toUpperCase() === 'UTC') return 'UTC';
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new ConfigError(`QUOTA_TIME_ZONE must be an IANA time zone like UTC or Asia/Shanghai, got "${zone.slice(0, 64)}"`);
  }
}

function trustProxy(raw: string | undefined): boolean | number | string[] {
  const value = raw?.trim().toLowerCase();
  if (!value || ['0', 'false', 'no', 'off'].includes(value)) return false;
  if (['true', 'yes', 'on'].includes(value)) return true;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = list(raw);
  for (const entry of entries) {
    if (!/^[0-9a-f.:/]+$/i.test(entry) && !['loopback', 'linklocal', 'uniquelocal'].includes(entry)) {
      throw new ConfigError(
        `TRUST_PROXY must be true, false, a hop count or a list of proxy addresses/CIDRs (or loopback, linklocal, uniquelocal), got "${raw}"`,
      );
    }
  }
  return entries;
}

/** A host name as MEDIA_FETCH_ALLOW_HOSTS takes it: labels of letters, digits, "-" and "_", an optional final dot. */
const isHostName = (entry: string): boolean =>
  entry.length <= 253 &&
  entry
    .replace(/\.$/, '')
    .split('.')
    .every((label) => /^[a-z0-9_-]{1,63}$/i.test(label));

/**
 * Why one MEDIA_FETCH_ALLOW_HOSTS entry is not a host name, IP or CIDR, or undefined when it is one.
 * An entry with a port (`host:8080`, `[::1]:8080`) is refused rather than half-honoured: the
 * guard allows hosts and addresses, on every port, and would never match the entry as written.
 */
function allowHostProblem(entry: string): string | undefined {
  if (entry.includes('://')) return 'is a URL: write only its host';
  const [net, bits, more] = entry.split('/');
  const bare = net!.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (bits !== undefined) {
    const max = family === 4 ? 32 : 128;
    return more !== undefined || !family || !/^\d+$/.test(bits) || Number(bits) > max ? 'not a valid CIDR' : undefined;
  }
  if (family) return undefined;
  const port = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d{1,5})$/i.exec(entry);
  if (port) return `has a port: entries allow a host on every port, write "${port[1]}" instead`;
  return isHostName(entry) ? undefined : 'not a host name, IP or CIDR';
}

/** MEDIA_FETCH_ALLOW_HOSTS: host names, IPs and CIDRs; a malformed entry fails at start, not at the first image. */
function mediaFetchAllowHosts(raw: string | undefined): string[] {
  const entries = list(raw);
  for (const entry of entries) {
    const problem = allowHostProblem(entry);
    if (problem) {
      throw new ConfigError(`MEDIA_FETCH_ALLOW_HOSTS must list host names, IPs or CIDRs without a port (e.g. 127.0.0.1,10.0.0.0/8): "${entry}" ${problem}`);
    }
  }
  return entries;
}

/** LOG_LEVEL: one of LOG_LEVELS, `log` being Nest's word for `info`. */
function logLevel(raw: string | undefined): LogLevelName {
  const value = raw?.trim().toLowerCase();
  if (!value) return 'info';
  if (value === 'log') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  return value as LogLevelName;
}

/** REDIS_URL and friends; cluster mode needs the same SECRET_KEY on every replica, or keys sealed by one are unreadable on the others. */
function redisConfig(env: Env): AppConfig['redis'] {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return undefined;
  const invalid = () => new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL, got "${quotedUrl(raw)}"`);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw invalid();
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw invalid();
  if (!env.SECRET_KEY) {
    throw new ConfigError('REDIS_URL (cluster mode) needs SECRET_KEY, the same on every replica: upstream keys are stored encrypted with it');
  }
  return {
    url: raw,
    keyPrefix: env.REDIS_KEY_PREFIX?.trim() || 'g4f:',
    logMaxEntries: int(env, 'REDIS_LOG_MAX_ENTRIES', int(env, 'LOG_MAX_ENTRIES', 100_000, 1000, 100_000_000), 1000, 100_000_000),
  };
}

/** One provider's `<P>_*` variables, plus the key aliases and extra settings its declaration names. */
function providerEnv(env: Env, declaration: ProviderDeclaration): ProviderEnv {
  const prefix = declaration.envPrefix;
  const keys = list(env[`${prefix}_API_KEY`]);
  for (const alias of declaration.keyAliases ?? []) keys.push(...list(env[alias]).filter((k) => !keys.includes(k)));
  const extra: Record<string, string> = {};
  for (const setting of declaration.extraSettings ?? []) {
    const value = env[setting.env]?.trim();
    if (value) extra[setting.key] = value;
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

function responseModel(raw: string | undefined): AppConfig['responseModel'] {
  const value = raw?.trim().toLowerCase() || 'served';
  if (value !== 'served' && value !== 'requested') throw new ConfigError(`RESPONSE_MODEL must be served or requested, got "${raw}"`);
  return value;
}

function responseCacheStore(raw: string | undefined): AppConfig['responseCache']['store'] {
  const value = raw?.trim().toLowerCase() || 'sqlite';
  if (value !== 'sqlite' && value !== 'memory') throw new ConfigError(`RESPONSE_CACHE_STORE must be sqlite or memory, got "${raw}"`);
  return value;
}

/** A JSON object from one variable; unset or blank is `{}`. */
function jsonObject(env: Env, name: string): Record<string, unknown> {
  const raw = env[name]?.trim();
  if (!raw) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${name} must be a JSON object: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`${name} must be a JSON object, e.g. {"claude-*": "qwen3-coder"}`);
  return value as Record<string, unknown>;
}

/**
 * The environment, read and validated once. `providers` (the built-in list by default) are the
 * declarations whose variables are read; tests pass a list with a fixture provider in it.
 */
export function loadConfig(env: Env = process.env, providers: readonly ProviderDeclaration[] = BUILTIN_PROVIDERS): AppConfig {
  const strategy = (env.ROUTING_STRATEGY?.trim().toLowerCase() || 'random') as RoutingStrategy;
  if (!['random', 'priority', 'latency'].includes(strategy)) {
    throw new ConfigError(`ROUTING_STRATEGY must be random, priority or latency, got "${env.ROUTING_STRATEGY}"`);
  }
  const providerEnvs: Record<string, ProviderEnv> = {};
  for (const declaration of providers) providerEnvs[declaration.id] = providerEnv(env, declaration);

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
      firstTokenMs: int(env, 'UPSTREAM_FIRST_TOKEN_TIMEOUT_MS', 60_000, 1),
      streamMs: int(env, 'UPSTREAM_STREAM_TIMEOUT_MS', 900_000, 1),
    },
    limits: {
      upstreamBodyBytes: parseSize(env.UPSTREAM_MAX_BODY?.trim() || '32mb', 'UPSTREAM_MAX_BODY'),
      upstreamDecodedBytes: parseSize(env.UPSTREAM_MAX_DECODED_BODY?.trim() || '64mb', 'UPSTREAM_MAX_DECODED_BODY'),
      sseLineBytes: parseSize(env.SSE_MAX_LINE?.trim() || '1mb', 'SSE_MAX_LINE'),
      sseEventBytes: parseSize(env.SSE_MAX_EVENT?.trim() || '4mb', 'SSE_MAX_EVENT'),
      clientStallMs: int(env, 'CLIENT_STALL_TIMEOUT_MS', 30_000, 1),
      mediaFetchBytes: parseSize(env.MEDIA_FETCH_MAX_BYTES?.trim() || '20mb', 'MEDIA_FETCH_MAX_BYTES'),
    },
    access: {
      trustProxy: trustProxy(env.TRUST_PROXY),
      corsOrigins: env.CORS_ORIGINS?.trim() ? list(env.CORS_ORIGINS) : undefined,
      allowOpenApi: bool(env, 'ALLOW_OPEN_API', false),
      mediaFetchAllowHosts: mediaFetchAllowHosts(env.MEDIA_FETCH_ALLOW_HOSTS),
    },
    breaker: {
      failureThreshold: int(env, 'BREAKER_FAILURE_THRESHOLD', 3, 1),
      baseCooldownMs: int(env, 'BREAKER_COOLDOWN_MS', 30_000, 1),
      // A free pool's providers blink rather than die: after a minute at most, try again.
      maxCooldownMs: int(env, 'BREAKER_MAX_COOLDOWN_MS', 60_000, 1),
      authCooldownMs: int(env, 'KEY_AUTH_COOLDOWN_MS', 600_000, 1),
    },
    failover: {
      onContentPolicy: bool(env, 'FAILOVER_ON_CONTENT_POLICY', false),
      retryAfterMaxMs: int(env, 'RETRY_AFTER_MAX_MS', 3000, 0, 60_000),
      sameRoute: bool(env, 'RETRY_SAME_ROUTE', false),
      retryBudget: int(env, 'RETRY_BUDGET', 2, 0, 10),
    },
    streamResume: {
      enabled: bool(env, 'STREAM_RESUME', false),
      maxResumes: int(env, 'STREAM_RESUME_MAX', 1, 1, 5),
      prefillProviders: list(env.STREAM_RESUME_PROVIDERS),
    },
    responseCache: {
      enabled: bool(env, 'RESPONSE_CACHE', false),
      ttlMs: boundedDuration(env, 'RESPONSE_CACHE_TTL', '1h', 1000, 30 * 86_400_000),
      maxBytes: parseSize(env.RESPONSE_CACHE_MAX_BYTES?.trim() || '64mb', 'RESPONSE_CACHE_MAX_BYTES'),
      maxEntryBytes: parseSize(env.RESPONSE_CACHE_MAX_ENTRY_BYTES?.trim() || '1mb', 'RESPONSE_CACHE_MAX_ENTRY_BYTES'),
      models: list(env.RESPONSE_CACHE_MODELS),
      store: responseCacheStore(env.RESPONSE_CACHE_STORE),
    },
    sessionAffinity: {
      enabled: bool(env, 'SESSION_AFFINITY', true),
      ttlMs: boundedDuration(env, 'SESSION_AFFINITY_TTL', '30m', 1000, 7 * 86_400_000),
      maxSessions: int(env, 'SESSION_AFFINITY_MAX_SESSIONS', 100_000, 1, 10_000_000),
    },
    providers: providerEnvs,
    providersFile: env.PROVIDERS_FILE?.trim() || undefined,
    catalogFile: env.CATALOG_FILE?.trim() || undefined,
    modelAliases: jsonObject(env, 'MODEL_ALIASES'),
    responseModel: responseModel(env.RESPONSE_MODEL),
    dataDir: resolve(env.DATA_DIR?.trim() || './data'),
    discoveryIntervalMinutes: int(env, 'DISCOVERY_INTERVAL_MINUTES', 60, 0, 7 * 24 * 60),
    discoveryAutoAdd: list(env.DISCOVERY_AUTO_ADD).map((name) => name.toLowerCase()),
    imageUrlTtlSeconds: int(env, 'IMAGE_URL_TTL_SECONDS', 3600, 1, 7 * 24 * 3600),
    publicBaseUrl: url(env, 'PUBLIC_BASE_URL'),
    secretKey: env.SECRET_KEY || undefined,
    consoleDir: env.CONSOLE_DIR?.trim() ? resolve(env.CONSOLE_DIR.trim()) : undefined,
    health: {
      checkIntervalMs: healthCheckInterval(env.HEALTH_CHECK_INTERVAL),
      probe: healthProbeMode(env.HEALTH_PROBE, 'HEALTH_PROBE'),
      probeByProvider: healthProbeByProvider(env.HEALTH_PROBE_PROVIDERS),
    },
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_SECONDS', 30, 0, 3600) * 1000,
    admin: {
      password: env.ADMIN_PASSWORD || undefined,
      sessionTtlMs: int(env, 'ADMIN_SESSION_TTL_HOURS', 24, 1, 24 * 365) * 3_600_000,
    },
    logLevel: logLevel(env.LOG_LEVEL),
    quotaTimeZone: quotaTimeZone(env.QUOTA_TIME_ZONE),
    redis: redisConfig(env),
    stats: {
      flushMs: int(env, 'STATS_FLUSH_MS', 1000, 50, 60_000),
      logRetentionDays: int(env, 'LOG_RETENTION_DAYS', 30, 1, 3650),
      logMaxEntries: int(env, 'LOG_MAX_ENTRIES', 100_000, 1000, 100_000_000),
      maxRows: int(env, 'STATS_MAX_ROWS', 500_000, 10_000, 100_000_000),
    },
    responses: {
      ttlSeconds: int(env, 'RESPONSES_TTL_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600),
      maxStoredBytes: parseSize(env.RESPONSES_MAX_STORED_BYTES?.trim() || '4mb', 'RESPONSES_MAX_STORED_BYTES'),
    },
    transcriptions: {
      maxFileBytes: parseSize(env.TRANSCRIPTION_MAX_BYTES?.trim() || '25mb', 'TRANSCRIPTION_MAX_BYTES'),
      maxConcurrent: int(env, 'TRANSCRIPTION_MAX_CONCURRENT', 4, 1, 1000),
    },
    providerQuota: {
      overrides: quotaOverrides(env),
      syncMs: int(env, 'QUOTA_SYNC_MS', 2000, 50, 60_000),
      retestFirstMs: int(env, 'KEY_RETEST_FIRST_MS', 3_600_000, 1000, 30 * 24 * 3_600_000),
      retestLaterMs: int(env, 'KEY_RETEST_MS', 24 * 3_600_000, 1000, 30 * 24 * 3_600_000),
      probeMinHeadroom: fraction(env, 'QUOTA_PROBE_MIN_HEADROOM', 0.1),
      probeIntervalMs: probeIntervals(env.HEALTH_CHECK_INTERVAL_PROVIDERS),
    },
  };
}

// --- The providers' quota ledger ------------------------------------------------------------

const MAX_QUOTA_TARGETS = 200;

/** QUOTA_LIMITS: `{"<provider>": {"neurons/day": 10000}, "<provider>#env-0123abcd4567": {"requests/day": 100}}` (docs/providers.md, 免费额度账本). */
function quotaOverrides(env: Env): Record<string, QuotaOverride> {
  const raw = jsonObject(env, 'QUOTA_LIMITS');
  const entries = Object.entries(raw);
  if (entries.length > MAX_QUOTA_TARGETS) throw new ConfigError(`QUOTA_LIMITS may name at most ${MAX_QUOTA_TARGETS} providers and keys`);
  const out: Record<string, QuotaOverride> = {};
  for (const [target, value] of entries) {
    if (!/^[^#\s]{1,64}(#[A-Za-z0-9_-]{1,64})?$/.test(target))
      throw new ConfigError(`QUOTA_LIMITS keys are a provider's id or name, or "<provider>#<key id>" for one key, got "${target.slice(0, 64)}"`);
    try {
      out[target.toLowerCase()] = parseQuotaOverride(value, `QUOTA_LIMITS["${target}"]`);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  return out;
}

function fraction(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${raw.slice(0, 32)}"`);
  return n;
}

/** HEALTH_CHECK_INTERVAL_PROVIDERS: `<provider>=6h,<provider>=30m,<provider>=90s` (comma-separated). */
function probeIntervals(raw: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  const items = list(raw);
  if (items.length > MAX_PROBE_SETTINGS) throw new ConfigError(`HEALTH_CHECK_INTERVAL_PROVIDERS may name at most ${MAX_PROBE_SETTINGS} providers`);
  const unit: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  for (const item of items) {
    const m = /^([^=\s]{1,64})\s*=\s*(\d{1,6})(s|m|h|d)$/i.exec(item);
    if (!m) throw new ConfigError(`HEALTH_CHECK_INTERVAL_PROVIDERS entries look like provider=30m (s, m, h or d), got "${item.slice(0, 80)}"`);
    const ms = Number(m[2]) * unit[m[3]!.toLowerCase()]!;
    if (ms < 1000 || ms > 30 * 86_400_000) throw new ConfigError(`HEALTH_CHECK_INTERVAL_PROVIDERS: "${item.slice(0, 80)}" must be between 1s and 30d`);
    out[m[1]!.toLowerCase()] = ms;
  }
  return out;
}

/** Injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
