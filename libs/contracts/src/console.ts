/**
 * The admin API (`/api/*`) as the console sees it: what it answers and the request bodies it
 * takes. The API has no copies of the answers: its handlers return these types, and the API
 * document's schemas are generated from them. Its request DTOs are classes (class-validator needs
 * them) that `implements` the request types here; apps/api/src/console/contracts.spec.ts checks at
 * type level that each DTO and its type name the same fields, so a change on either side fails
 * `npm run typecheck`.
 */
import type { AutoModel, CatalogModel, DiscoveredRoute, ExtraSamplingParam, ModelAlias, ModelCategory, ProviderDiscovery } from './catalog.ts';
import type { AttemptCode } from './openai.ts';

/** `POST /api/auth/login`: a bearer token for every other `/api` call. */
export interface AdminSession {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** `GET /api/auth/session`. */
export interface AdminSessionInfo {
  /** Epoch ms when the session token expires. */
  expiresAt: number;
}

/**
 * `GET /api/auth/api-access`: who may call /v1. `key`: a key is required (API_KEY or a client key);
 * `open`: anyone, no key (ALLOW_OPEN_API=true); `local`: no key, and only clients on the gateway's machine.
 */
export interface ApiAccess {
  mode: 'key' | 'open' | 'local';
}

/** `available` is routable now; `cooling-down` has an open breaker (or every key cooling). */
export type ProviderStatus = 'available' | 'disabled' | 'unconfigured' | 'cooling-down';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  /** Epoch ms until which it stays open; null when not open. */
  openUntil: number | null;
  lastFailure: string | null;
}

/** Where a key came from: the environment / PROVIDERS_FILE (read-only), or the console (stored). */
export type KeySource = 'env' | 'console';

/** A provider key as the console sees it: masked, never the secret. */
export interface ProviderKeyView {
  id: string;
  source: KeySource;
  label: string | null;
  masked: string;
  breaker: BreakerSnapshot;
  invalid: boolean;
  /** For a key marked invalid after repeated auth failures: when it is tried again (epoch ms); null otherwise. */
  retestAt?: number | null;
  /** What the quota ledger knows of this key's use and limits; absent before the ledger runs. */
  quota?: KeyQuotaView;
}

/** One limit of a key or provider: how much of it is used in the current window. */
export interface QuotaUsage {
  /** `<metric>/<window>`: "requests/day", "tokens/minute", "neurons/day", "requests/30s". */
  limit: string;
  used: number;
  /** The window's most (documented, or set by the operator); null when unknown. */
  max: number | null;
  /** max − used, never below 0; null when max is unknown. */
  remaining: number | null;
  /** When the current window ends (epoch ms). */
  resetAt: number;
  /** True when `used` is the gateway's estimate, not counted from answers (Workers AI's neurons: 估算). */
  estimated?: boolean;
}

/** The ledger's view of a key: use per window, the upstream's own rate-limit headers, and rest. */
export interface KeyQuotaView {
  usage: QuotaUsage[];
  /** The last `x-ratelimit-*` headers the upstream sent for this key; null when it sent none. */
  upstream: { remainingRequests: number | null; remainingTokens: number | null; resetAt: number | null; observedAt: number } | null;
  /** Epoch ms until which the key rests (a limit used up, remaining 0, a spent credit); null when it has headroom. */
  restingUntil: number | null;
  restReason: string | null;
  /** The smallest share left of any known limit (0–1); 1 when no limit is known. */
  headroom: number;
}

/** A provider's limits in effect and where they come from (`GET /api/quotas`). */
export interface ProviderQuotaView {
  provider: string;
  name: string;
  /** The limits in effect for the provider (documented, then QUOTA_LIMITS, then the console). */
  limits: Record<string, number>;
  timeZone: string;
  resetHour: number;
  creditWindow: 'day' | 'month' | null;
  /** The console's own override for the provider, null when none. */
  override: Record<string, unknown> | null;
  /** Use summed over the provider's keys, per limit of the provider and for requests and tokens per day and month. */
  usage: QuotaUsage[];
  /** Per key: its overrides (console) and its view. */
  keys: Array<{ id: string; masked: string; override: Record<string, unknown> | null; quota: KeyQuotaView }>;
}

/** `GET /api/quotas`, and the answer of each change to the limits. */
export interface ProviderQuotaList {
  providers: ProviderQuotaView[];
}

/** Recent health, smoothed so one blip does not swing routing. */
export interface ProviderHealth {
  /** 0..1, exponentially weighted. */
  successScore: number;
  /** Exponentially weighted latency to first event (ms); null until measured. */
  latencyMs: number | null;
  successes: number;
  failures: number;
  lastError: string | null;
  /** Epoch ms. */
  lastUsedAt: number | null;
}

export type ProbeKind = 'models' | 'chat' | 'none';

/** One live attempt that got a verdict (a client's own 4xx and an abort get none). */
export interface LiveOutcome {
  ok: boolean;
  /** Epoch ms. */
  at: number;
  /** The upstream's HTTP status; null for a network error, a timeout or an unusable answer. */
  status: number | null;
  /** Why it failed (the failover's short reason); null for a success. */
  reason: string | null;
  kind: 'chat' | 'image' | 'speech' | 'models';
}

/** What the last attempts of live traffic (at most 20, in the last 15 minutes) say about a provider. */
export interface ProviderLive {
  recent: number;
  failed: number;
  /** Failures since the newest success. */
  consecutiveFailures: number;
  lastFailure: LiveOutcome | null;
  /** Epoch ms of the newest successful attempt in the window. */
  lastSuccessAt: number | null;
}

/**
 * A provider's condition from live traffic and health checks together: `failing` (异常) when its
 * recent live requests keep failing, its breaker is open or its newest evidence is a failed
 * check; `degraded` (降级) when a good share of recent requests fail; `healthy` (正常) when what
 * is known is good; `unknown` (未知) before any traffic or check, and for disabled or
 * unconfigured providers.
 */
export interface ProviderCondition {
  state: 'healthy' | 'degraded' | 'failing' | 'unknown';
  /** What the verdict rests on. */
  source: 'live' | 'breaker' | 'check' | null;
  /** The failing HTTP status, when there is one. */
  status: number | null;
  /** Why, in the gateway's words; null when healthy. */
  reason: string | null;
  /** Epoch ms of the evidence (the failure, the check); null when none. */
  at: number | null;
  live: ProviderLive;
}

export interface ProbeKeyProblem {
  key: string;
  status: number | null;
  error: string;
}

/** One health check of one provider. */
export interface ProviderCheck {
  provider: string;
  ok: boolean;
  latencyMs: number;
  /** Epoch ms. */
  checkedAt: number;
  error: string | null;
  probe: ProbeKind;
  /** The gateway model a chat probe sent its one-token request to. */
  model?: string | null;
  key?: string | null;
  keyProblems?: ProbeKeyProblem[];
  inconclusive?: boolean;
}

/** Settings an operator can change from the console (`PATCH /api/providers/:name`). */
export type ProviderSettingField = 'enabled' | 'baseUrl' | 'proxy' | 'priority' | 'weight' | 'extra';

/** A provider's runtime state: settings, status and why, breaker, keys (masked), health. */
export interface ProviderView {
  id: string;
  name: string;
  custom: boolean;
  enabled: boolean;
  baseUrl: string;
  requiresKey: boolean;
  status: ProviderStatus;
  /** Why it is not available, in words. */
  reason: string | null;
  priority: number | null;
  /** Weighted-random routing: goes first in proportion to weight × 健康分 (1 unless set; 0 only as a last resort). */
  weight: number;
  /** The HTTP proxy in use, with a password in it masked (`http://user:****@host:7890`); null for none. */
  proxy: string | null;
  /** Provider-specific settings in effect, such as Cloudflare's `accountId`. */
  extra: Record<string, string>;
  /** The provider-specific settings it cannot work without (`['accountId']` for Cloudflare). */
  requiredExtra: string[];
  /** Settings changed from the console; the others come from the environment (or the defaults). */
  overridden: ProviderSettingField[];
  breaker: BreakerSnapshot;
  keys: ProviderKeyView[];
  /** The keys' use per limit, summed (each key has its own free tier); absent before the quota ledger runs. */
  quota?: QuotaUsage[];
  health: ProviderHealth;
}

/** `GET /api/providers` (an array of these) and `GET /api/providers/:name`. */
export interface ProviderDetail extends ProviderView {
  /** How many catalog models route to this provider. */
  models: number;
  /** The latest scheduled or on-demand health probe, if any. */
  lastCheck: ProviderCheck | null;
  /** Live traffic and checks together: what the console shows as 正常 / 降级 / 异常. */
  condition: ProviderCondition;
  /** For operator-defined upstreams: where they are defined and their model map. */
  upstream: { source: 'file' | 'console'; models: Record<string, string>; ownedBy: string | null; samplingParams: ExtraSamplingParam[] } | null;
}

/** `POST /api/providers/:name/keys/:id/test`. */
export interface KeyTestResult {
  ok: boolean;
  latencyMs: number;
  probe: 'models' | 'chat';
  error: string | null;
}

/** A catalog model with each route's discovery state (`GET /api/models`). */
export interface AdminModel extends Omit<CatalogModel, 'routes'> {
  routes: DiscoveredRoute[];
  /** Whether some route can serve it right now as far as discovery knows. */
  routable: boolean;
  /** Whether `/v1/models` lists it: some route goes to an enabled, configured provider that discovery has not seen drop it (breakers aside). */
  available: boolean;
  /** Why it is not available, per route; null when it is. */
  reason: string | null;
  /** Alias patterns that send requests to this model, most specific first. */
  aliases: string[];
}

/** `GET /api/models`. */
export interface AdminModelList {
  total: number;
  categories: Array<{ id: ModelCategory; label: string; count: number }>;
  models: AdminModel[];
  /** The model aliases in effect, most specific first (see `GET /api/aliases`). */
  aliases: ModelAlias[];
  /** The virtual models in effect (see `GET /api/auto-models`). */
  autoModels: AutoModel[];
  discovery: { intervalMinutes: number; providers: ProviderDiscovery[] };
}

/**
 * `PATCH /api/providers/:name`: absent fields stay as they are; `null` clears the console's
 * setting, so the environment's value (or the default) applies again.
 */
export interface UpdateProviderRequest {
  enabled?: boolean;
  /** An http(s) URL. */
  baseUrl?: string | null;
  /** An http(s) URL. */
  proxy?: string | null;
  /** An integer ≥ 0; lower is tried first. */
  priority?: number | null;
  /** An integer 0–100 (weighted-random routing); null resets it to 1. */
  weight?: number | null;
  /** Merged into the settings there are, e.g. `{ accountId: '…' }` for Cloudflare. */
  extra?: Record<string, string>;
  /**
   * The API key for the host of the new `baseUrl` (stored encrypted, sent only there). Required when
   * `baseUrl` moves to another origin and the provider has keys: they are never sent to the new host.
   */
  key?: string;
}

/** `POST /api/providers/:name/keys`: answers with the provider (`ProviderDetail`), the key masked. */
export interface AddProviderKeyRequest {
  /** The upstream API key (1–4096 characters); stored encrypted, never returned. */
  key: string;
  /** A note shown next to the key (up to 100 characters). */
  label?: string;
}

/**
 * `POST /api/upstreams` (create) and `PATCH /api/upstreams/:name` (replace; `name` must stay the
 * same): an operator-defined OpenAI-compatible upstream. Both answer with its `ProviderDetail`;
 * its keys are added with `POST /api/providers/:name/keys`.
 */
export interface UpstreamRequest {
  /** Letters, digits, `_ . -`, starting with a letter, at most 40; not a built-in provider's name. */
  name: string;
  /** An http(s) URL, usually ending in `/v1`. */
  baseUrl: string;
  /** Default true. */
  enabled?: boolean;
  proxy?: string | null;
  priority?: number | null;
  /** `owned_by` of its models in `/v1/models` (up to 60 characters). */
  ownedBy?: string;
  /** Gateway model id → upstream model id (at least one; neither empty). */
  models: Record<string, string>;
  /** The sampling fields beyond OpenAI's this upstream takes (vLLM, Ollama: `top_k`, `min_p`…); the others are not sent. Default none. */
  samplingParams?: ExtraSamplingParam[];
  /** An API key for the host of `baseUrl`; required when an edit moves an upstream with keys to another host. */
  key?: string;
}

/**
 * `POST /api/upstreams/models` and `/api/upstreams/test`: an upstream as the console's form has
 * it, saved or not. Keys go only where they belong: the typed `key`, and the saved upstream's own
 * keys only while `baseUrl` is on the host they were entered for.
 */
export interface UpstreamTrialRequest {
  /** The saved console or PROVIDERS_FILE upstream being edited: its keys for this host are used too. */
  name?: string;
  /** An http(s) URL, usually ending in `/v1`; credentials shown masked (`****`) stand for the saved ones. */
  baseUrl: string;
  proxy?: string | null;
  /** A key typed in the form (not saved). */
  key?: string;
}

/** `POST /api/upstreams/test`: which upstream model the one-token chat asks. */
export interface UpstreamTestRequest extends UpstreamTrialRequest {
  model: string;
}

/** How one call to the upstream went: the answer's HTTP status, the time it took, why it failed. */
export interface UpstreamTrialOutcome {
  ok: boolean;
  /** The upstream's HTTP status; null when none came (timeout, network error). */
  status: number | null;
  latencyMs: number;
  /** How it failed, as in the request log (`auth_failed`, `upstream_html`, `upstream_timeout` …); null when it worked. */
  code: AttemptCode | null;
  /** The upstream's own error text (secrets and keys masked); null when it worked. */
  error: string | null;
}

/** `POST /api/upstreams/models`: the upstream's `/models`, read with one key. */
export interface UpstreamModelsResult extends UpstreamTrialOutcome {
  /** The key it was read with, masked; null for none. */
  key: string | null;
  /** The model ids, in the upstream's order, duplicates and overlong ids dropped (at most 2000). */
  models: string[];
  /** How many ids the upstream listed (more than `models` holds when it was cut). */
  total: number;
}

/** One key's one-token chat. */
export interface UpstreamKeyTrial extends UpstreamTrialOutcome {
  /** The key, masked; `(anonymous)` for a call without one. */
  key: string;
  /** `entered`: typed in the form; `env` (environment or PROVIDERS_FILE) or `console`: a saved key; `none`: a call without a key. */
  source: 'entered' | 'none' | KeySource;
}

/** `POST /api/upstreams/test`: a one-token chat per key, side by side. */
export interface UpstreamTestResult {
  /** The upstream model id asked. */
  model: string;
  results: UpstreamKeyTrial[];
}

/** `POST /api/health/check`: every enabled, configured provider probed now. */
export interface ProviderCheckAll {
  results: ProviderCheck[];
}

/**
 * `GET/PUT /api/routing`: the routing strategy in force — `random` (weighted random by 健康分 ×
 * weight), `priority` (lowest priority number first) or `latency` (fastest first) — and where it
 * comes from: `console` when chosen there (stored; every replica uses it), else `config`
 * (ROUTING_STRATEGY, `default`).
 */
export interface RoutingSettings {
  strategy: 'random' | 'priority' | 'latency';
  source: 'console' | 'config';
  default: 'random' | 'priority' | 'latency';
}

/** `PUT /api/routing`: a strategy, or null to go back to ROUTING_STRATEGY. */
export interface SetRoutingRequest {
  strategy: 'random' | 'priority' | 'latency' | null;
}

/** Answers served from the response cache since it was first used: what upstreams were spared. */
export interface CacheSavings {
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

/**
 * `GET/PUT /api/cache`: the response cache — whether it is on and where that comes from
 * (`console` when set there, stored and shared by every replica; else `config`, RESPONSE_CACHE),
 * its bounds, the models cached whatever their temperature (RESPONSE_CACHE_MODELS plus the
 * console's), what it holds now and what it has saved.
 */
export interface CacheSettings {
  enabled: boolean;
  source: 'console' | 'config';
  default: boolean;
  ttlMs: number;
  maxBytes: number;
  maxEntryBytes: number;
  /** Models the console added to `configModels`. */
  models: string[];
  configModels: string[];
  entries: number;
  bytes: number;
  saved: CacheSavings;
}

/** `PUT /api/cache`: `enabled` true/false, or null to go back to RESPONSE_CACHE; `models` replaces the console's list. */
export interface SetCacheRequest {
  enabled?: boolean | null;
  models?: string[];
}

/** One route's place in a model's own routing: a provider and its weight (0–100) for that model. */
export interface ModelRouteWeight {
  provider: string;
  weight: number;
}

/**
 * `PUT /api/routing/models/{id}`: the model's route order with a weight each (null: the providers'
 * own priorities and weights), and the provider it is forced to (null: none). Both null resets.
 */
export interface SetModelRoutingRequest {
  routes: ModelRouteWeight[] | null;
  forced: string | null;
}

/** One route of a model as routing uses it. */
export interface ModelRoutingRoute {
  provider: string;
  upstream_model: string;
  /** The weight in force for this model: its own when set, else the provider's. */
  weight: number;
  /** 1-based place in the model's own order; null when not listed there (the provider's priority then). */
  position: number | null;
  /** The provider's own weight and priority: what applies without a per-model setting. */
  providerWeight: number;
  providerPriority: number | null;
  /** Whether weight and position come from this model's own routing. */
  overridden: boolean;
}

/** `GET /api/routing/models/{id}`: a model's routes in the order set for it, then the others. */
export interface ModelRouting {
  model: string;
  /** The routing strategy in force (per-model order applies under `priority`, weights under `random`). */
  strategy: 'random' | 'priority' | 'latency';
  /** Whether the model has its own route order and weights. */
  custom: boolean;
  /** The provider tried first whenever it can serve; null when not forced. */
  forced: string | null;
  routes: ModelRoutingRoute[];
  /** When it was last changed (epoch ms); null without a setting. */
  updatedAt: number | null;
}

/** `GET /api/routing/models`: the models that have their own routing. */
export interface ModelRoutingList {
  items: ModelRouting[];
}

/** `GET /api/playground/limits`: the bounds the console's playground checks before it sends a request. */
export interface PlaygroundLimits {
  /** The largest audio file a transcription may upload (TRANSCRIPTION_MAX_BYTES); a larger one is a 413. */
  transcriptionMaxBytes: number;
  /** The most inputs one embeddings request may carry. */
  embeddingMaxInputs: number;
}
