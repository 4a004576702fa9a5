/**
 * What the admin API (`/api/*`) answers, as the console reads it. The API declares these shapes
 * next to its controllers; apps/api/src/console/contracts.spec.ts checks at type level that both
 * stay the same, so a change on either side fails `npm run typecheck`.
 */
import type { CatalogModel, DiscoveredRoute, ModelCategory, ProviderDiscovery } from './catalog.ts';

/** `POST /api/auth/login`: a bearer token for every other `/api` call. */
export interface AdminSession {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** `GET /api/auth/session`. */
export interface AdminSessionInfo {
  expiresAt: number;
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
  key?: string | null;
  keyProblems?: ProbeKeyProblem[];
  inconclusive?: boolean;
}

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
}

/** `GET /api/models`. */
export interface AdminModelList {
  total: number;
  categories: Array<{ id: ModelCategory; label: string; count: number }>;
  models: AdminModel[];
  discovery: { intervalMinutes: number; providers: ProviderDiscovery[] };
}
