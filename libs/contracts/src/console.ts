/**
 * The admin API (`/api/*`) as the console sees it: what it answers and the request bodies it
 * takes. The API has no copies of the answers: its handlers return these types, and the API
 * document's schemas are generated from them. Its request DTOs are classes (class-validator needs
 * them) that `implements` the request types here; apps/api/src/console/contracts.spec.ts checks at
 * type level that each DTO and its type name the same fields, so a change on either side fails
 * `npm run typecheck`.
 */
import type { CatalogModel, DiscoveredRoute, ModelAlias, ModelCategory, ProviderDiscovery } from './catalog.ts';

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
  upstream: { source: 'file' | 'console'; models: Record<string, string>; ownedBy: string | null } | null;
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
  /** An API key for the host of `baseUrl`; required when an edit moves an upstream with keys to another host. */
  key?: string;
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

/** `GET /api/playground/limits`: the bounds the console's playground checks before it sends a request. */
export interface PlaygroundLimits {
  /** The largest audio file a transcription may upload (TRANSCRIPTION_MAX_BYTES); a larger one is a 413. */
  transcriptionMaxBytes: number;
  /** The most inputs one embeddings request may carry. */
  embeddingMaxInputs: number;
}
