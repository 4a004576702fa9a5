import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { maskUrlCredentials, originOf, secretScrubber, urlCredentials } from '../common/redact.ts';
import { APP_CONFIG, type AppConfig, type ProviderEnv } from '../config/app-config.ts';
import { MAX_REASON_CHARS, truncate } from '../events/record-bounds.ts';
import { CircuitBreaker, type CallKind } from './circuit-breaker.ts';
import { loadCustomUpstreams, type CustomUpstreamConfig } from './custom/custom-upstreams.ts';
import { Subject } from 'rxjs';
import { KeyPool, sumQuotaUsage, type KeyEntry } from './key-pool.ts';
import { OPENAI_EMBEDDINGS, OpenAICompatibleAdapter } from './openai-compatible/openai-compatible.adapter.ts';
import type { ProviderAdapter } from './provider-adapter.ts';
import { keyEnvName } from './provider-declaration.ts';
import type { LiveOutcome, ProviderHealth, ProviderLive, ProviderSettingField, ProviderStatus, ProviderView } from '#contracts';

export type { LiveOutcome, ProviderHealth, ProviderLive, ProviderStatus, ProviderView };

/** The built-in providers' declarations (builtin-providers.ts); the adapters are loaded from them. */
export const PROVIDER_DECLARATIONS = Symbol('PROVIDER_DECLARATIONS');
/** The built-in providers' adapters, one per declaration. */
export const PROVIDER_ADAPTERS = Symbol('PROVIDER_ADAPTERS');

/** What the environment (or PROVIDERS_FILE) says about a provider: the config's own shape. */
export type BaseSettings = ProviderEnv;

/** What an operator changed from the console; absent fields keep the base value. */
export interface ProviderOverride {
  enabled?: boolean;
  baseUrl?: string | null;
  proxy?: string | null;
  priority?: number | null;
  /** Share of first tries under weighted-random routing (1 by default; 0: only when no other is left). */
  weight?: number | null;
  extra?: Record<string, string>;
}

/** A provider's breaker, or one of its keys' breakers, opened on this process's own verdict. */
export interface BreakerOpening {
  /** The provider's adapter id. */
  provider: string;
  /** The key's id; null for the provider's own breaker. */
  key: string | null;
  /** Epoch ms. */
  until: number;
  reason: string | null;
}

const EWMA = 0.2;
/** A provider's routing weight until the operator sets one. */
export const DEFAULT_WEIGHT = 1;
/** Live outcomes kept per provider, and how long one counts: what "recent live traffic" means. */
export const LIVE_WINDOW = 20;
export const LIVE_WINDOW_MS = 15 * 60_000;

/** How one live attempt ended, beside the smoothed score. */
export interface OutcomeDetail {
  /** The upstream's HTTP status, when it answered one. */
  status?: number | null;
  kind?: CallKind;
}

/** A proxy URL as the API shows it: a password in it replaced by `****` (see maskUrlCredentials). */
export function maskProxy(proxy: string | undefined): string | null {
  return maskUrlCredentials(proxy);
}

/** The standard proxy variables (read by proxy-from-env for providers without their own proxy). */
const PROXY_ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'];

/** One provider's runtime state: settings from env (later the console), key pool, breaker, health. */
export class ProviderState {
  enabled: boolean;
  baseUrl: string;
  proxy?: string;
  extra: Record<string, string>;
  priority?: number;
  /** Weighted-random routing: this provider goes first in proportion to weight × success score. */
  weight = DEFAULT_WEIGHT;
  /** The settings an operator override sets (null and absent fields fall back to the base). */
  overridden: ProviderSettingField[] = [];
  /** Keys from the environment not sent because the base URL now points to another host. */
  envKeysWithheld = 0;
  readonly keys: KeyPool;
  readonly breaker: CircuitBreaker;
  readonly health: ProviderHealth = { successScore: 1, latencyMs: null, successes: 0, failures: 0, lastError: null, lastUsedAt: null };
  /** The last LIVE_WINDOW live attempts with a verdict, oldest first. */
  private readonly recent: LiveOutcome[] = [];

  constructor(
    readonly adapter: ProviderAdapter,
    readonly custom: boolean,
    /** What the environment (or PROVIDERS_FILE) says; console overrides apply on top of it. */
    readonly base: BaseSettings,
    config: AppConfig,
  ) {
    this.enabled = base.enabled;
    this.baseUrl = base.baseUrl ?? adapter.defaultBaseUrl;
    this.proxy = base.proxy;
    this.extra = { ...base.extra };
    this.priority = base.priority;
    const { failureThreshold, baseCooldownMs, maxCooldownMs } = config.breaker;
    this.breaker = new CircuitBreaker({ failureThreshold, baseCooldownMs, maxCooldownMs });
    const { retestFirstMs, retestLaterMs } = config.providerQuota;
    this.keys = new KeyPool({ failureThreshold: 1, baseCooldownMs, maxCooldownMs }, base.apiKeys, !adapter.requiresKey, {
      firstMs: retestFirstMs,
      laterMs: retestLaterMs,
    });
  }

  /** The base URL the environment (or PROVIDERS_FILE, or the adapter's default) gives: its keys are for this origin. */
  get configuredBaseUrl(): string {
    return this.base.baseUrl ?? this.adapter.defaultBaseUrl;
  }

  /** The base URL's origin: the only one this provider's keys are sent to. */
  get origin(): string {
    return originOf(this.baseUrl);
  }

  /**
   * Applies the operator's stored settings over the base ones; null in an override resets that field.
   * Keys go only to the host they were given for: the environment's keys while the base URL keeps the
   * configured origin, console keys while it is the origin they were entered for.
   */
  applyOverride(override: ProviderOverride | undefined, storedKeys: KeyEntry[]): void {
    const o = override ?? {};
    // An absent field, or null (the console's "reset"), means the base value.
    const pick = <T>(field: 'baseUrl' | 'proxy' | 'priority', fallback: T): T => (o[field] ?? fallback) as T;
    this.enabled = o.enabled ?? this.base.enabled;
    this.baseUrl = pick<string | undefined>('baseUrl', this.base.baseUrl) ?? this.adapter.defaultBaseUrl;
    this.proxy = pick('proxy', this.base.proxy);
    this.priority = pick('priority', this.base.priority);
    this.weight = o.weight ?? DEFAULT_WEIGHT;
    this.extra = { ...this.base.extra, ...(o.extra ?? {}) };
    this.overridden = (['enabled', 'baseUrl', 'proxy', 'priority', 'weight'] as const).filter((f) => o[f] !== undefined && o[f] !== null);
    if (o.extra && Object.keys(o.extra).length > 0) this.overridden.push('extra');
    const origin = this.origin;
    const envKeys = originOf(this.configuredBaseUrl) === origin ? this.base.apiKeys : [];
    this.envKeysWithheld = this.base.apiKeys.length - envKeys.length;
    this.keys.replace([...envKeys, ...storedKeys.filter((k) => !k.origin || k.origin === origin)]);
  }

  /** Every secret of this provider, pooled or not, for the scrubber: keys and URL credentials. */
  secrets(): string[] {
    return [
      ...this.base.apiKeys,
      ...this.keys.secretValues(),
      ...[this.baseUrl, this.configuredBaseUrl, this.proxy, this.base.proxy].flatMap((u) => urlCredentials(u)),
    ];
  }

  get name(): string {
    return this.adapter.name;
  }

  /** Why this provider cannot be configured to run, or null. */
  missingConfig(): string | null {
    if (this.adapter.requiresKey && this.keys.size === 0) {
      if (this.envKeysWithheld)
        return `needs an API key for ${this.origin}: the ${this.keyEnvName()} keys are only sent to ${originOf(this.configuredBaseUrl)}`;
      return `needs an API key (${this.keyEnvName()})`;
    }
    const missing = (this.adapter.requiredExtra ?? []).filter((k) => !this.extra[k]);
    if (missing.length) return `needs ${missing.map((k) => this.extraEnvName(k)).join(', ')}`;
    return null;
  }

  /** Why this provider cannot serve at all, breakers aside (disabled, or a key or setting missing); null when it can. */
  unusableReason(): string | null {
    return this.enabled ? this.missingConfig() : 'disabled by the operator';
  }

  status(): { status: ProviderStatus; reason: string | null } {
    if (!this.enabled) return { status: 'disabled', reason: 'disabled by the operator' };
    const missing = this.missingConfig();
    if (missing) return { status: 'unconfigured', reason: missing };
    if (!this.breaker.isAvailable())
      return { status: 'cooling-down', reason: `cooling down after failures: ${this.breaker.snapshot().lastFailure ?? ''}`.trim() };
    if (!this.keys.hasAvailable()) return { status: 'cooling-down', reason: 'every key is cooling down or invalid' };
    return { status: 'available', reason: null };
  }

  /** When a provider that is only cooling down can serve again (epoch ms); null when it is not cooling down. */
  availableAt(): number | null {
    if (!this.enabled || this.missingConfig()) return null;
    const own = this.breaker.snapshot().openUntil;
    if (own !== null) return own;
    if (this.keys.hasAvailable()) return null;
    // A key cooling down, resting for quota, or due for its retest.
    return this.keys.nextAvailableAt();
  }

  recordOutcome(ok: boolean, latencyMs: number | null, error?: string, detail: OutcomeDetail = {}): void {
    this.recent.push({
      ok,
      at: Date.now(),
      status: detail.status ?? null,
      reason: ok ? null : truncate(error ?? 'failed', MAX_REASON_CHARS),
      kind: detail.kind ?? 'chat',
    });
    if (this.recent.length > LIVE_WINDOW) this.recent.shift();
    const h = this.health;
    h.successScore = h.successScore * (1 - EWMA) + (ok ? 1 : 0) * EWMA;
    if (ok) h.successes++;
    else {
      h.failures++;
      h.lastError = error ?? null;
    }
    if (ok && latencyMs !== null) h.latencyMs = h.latencyMs === null ? latencyMs : h.latencyMs * (1 - EWMA) + latencyMs * EWMA;
    h.lastUsedAt = Date.now();
  }

  /** What live traffic of the last LIVE_WINDOW_MS says: counts, the failures in a row, the newest failure. */
  live(now = Date.now()): ProviderLive {
    const recent = this.recent.filter((o) => now - o.at <= LIVE_WINDOW_MS);
    let consecutiveFailures = 0;
    for (let i = recent.length - 1; i >= 0 && !recent[i]!.ok; i--) consecutiveFailures++;
    const failures = recent.filter((o) => !o.ok);
    const successes = recent.filter((o) => o.ok);
    return {
      recent: recent.length,
      failed: failures.length,
      consecutiveFailures,
      lastFailure: failures.at(-1) ?? null,
      lastSuccessAt: successes.at(-1)?.at ?? null,
    };
  }

  view(): ProviderView {
    const { status, reason } = this.status();
    const keys = this.keys.view();
    return {
      id: this.adapter.id,
      name: this.name,
      custom: this.custom,
      enabled: this.enabled,
      baseUrl: maskUrlCredentials(this.baseUrl),
      requiresKey: this.adapter.requiresKey,
      status,
      reason,
      priority: this.priority ?? null,
      weight: this.weight,
      proxy: maskProxy(this.proxy),
      extra: { ...this.extra },
      requiredExtra: [...(this.adapter.requiredExtra ?? [])],
      overridden: [...this.overridden],
      breaker: this.breaker.snapshot(),
      keys,
      ...(this.keys.ledger ? { quota: sumQuotaUsage(keys) } : {}),
      health: { ...this.health },
    };
  }

  private keyEnvName(): string {
    if (this.custom) return `apiKeys of upstream "${this.name}" in PROVIDERS_FILE`;
    const { declaration } = this.adapter;
    return declaration ? keyEnvName(declaration) : `${this.adapter.id.toUpperCase()}_API_KEY`;
  }

  /** The variable an extra setting is read from, as "needs …" names it; the key itself when none is declared. */
  private extraEnvName(key: string): string {
    return this.adapter.declaration?.extraSettings?.find((s) => s.key === key)?.env ?? key;
  }
}

/** Every provider the pool knows: the built-in adapters plus the operator's upstreams. */
@Injectable()
export class ProviderRegistry implements OnModuleDestroy {
  private readonly byKey = new Map<string, ProviderState>();
  private readonly upstreams = new Map<string, CustomUpstreamConfig>();
  /** Emits when operator-defined upstreams are added or removed (the catalog rebuilds its routes). */
  readonly upstreamsChanged = new Subject<void>();
  /** Emits (synchronously, on the request path: keep subscribers cheap) when a provider or key breaker opens. */
  readonly breakerOpened = new Subject<BreakerOpening>();
  /** This registry's entry in the process's secret scrubber. */
  private readonly secretsOwner = Symbol('ProviderRegistry');
  /** Console keys in storage (also those bound to another host), as the settings service last read them. */
  private storedSecrets: string[] = [];

  constructor(
    @Inject(PROVIDER_ADAPTERS) adapters: ProviderAdapter[],
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    for (const adapter of adapters) {
      const settings = config.providers[adapter.id] ?? { enabled: true, apiKeys: [], extra: {} };
      this.add(new ProviderState(adapter, false, settings, config));
    }
    const fromFile = config.providersFile
      ? loadCustomUpstreams(
          config.providersFile,
          adapters.flatMap((a) => [a.id, a.name]),
        )
      : [];
    for (const u of fromFile) this.addUpstream({ ...u, source: 'file' });
    this.refreshSecrets();
  }

  onModuleDestroy(): void {
    secretScrubber.delete(this.secretsOwner);
  }

  /**
   * Tells the scrubber every secret there is now: provider keys and URL credentials, the stored
   * console keys (`stored`, when given), client keys, the admin password, the master key and the
   * credentials of the standard proxy variables.
   */
  refreshSecrets(stored?: string[]): void {
    if (stored) this.storedSecrets = stored;
    const { config } = this;
    secretScrubber.set(this.secretsOwner, [
      ...this.all().flatMap((p) => p.secrets()),
      ...this.storedSecrets,
      ...config.apiKeys,
      config.admin.password,
      config.secretKey,
      ...urlCredentials(config.redis?.url),
      ...PROXY_ENV.flatMap((name) => urlCredentials(process.env[name])),
    ]);
  }

  /** Operator-defined upstreams: from PROVIDERS_FILE and from the console. */
  get customUpstreams(): CustomUpstreamConfig[] {
    return [...this.upstreams.values()];
  }

  /** Adds (or replaces) an operator-defined upstream and its provider state. */
  addUpstream(u: CustomUpstreamConfig): ProviderState {
    const previous = this.find(u.name);
    if (previous && !previous.custom) throw new Error(`"${u.name}" is a built-in provider`);
    if (previous) this.remove(previous);
    const adapter = new OpenAICompatibleAdapter({
      id: u.name.toLowerCase(),
      name: u.name,
      defaultBaseUrl: u.baseUrl,
      requiresKey: false,
      embeddings: OPENAI_EMBEDDINGS,
      transcriptions: { segments: true },
      samplingParams: u.samplingParams,
    });
    const state = new ProviderState(adapter, true, { enabled: u.enabled, apiKeys: u.apiKeys, proxy: u.proxy, extra: {}, priority: u.priority }, this.config);
    this.add(state);
    this.upstreams.set(u.name.toLowerCase(), u);
    this.refreshSecrets();
    this.upstreamsChanged.next();
    return state;
  }

  removeUpstream(name: string): boolean {
    const state = this.find(name);
    if (!state?.custom) return false;
    this.remove(state);
    this.upstreams.delete(state.name.toLowerCase());
    this.upstreamsChanged.next();
    return true;
  }

  upstream(name: string): CustomUpstreamConfig | undefined {
    return this.upstreams.get(name.trim().toLowerCase());
  }

  private add(state: ProviderState): void {
    const provider = state.adapter.id;
    state.breaker.onOpen = (until, reason) => this.breakerOpened.next({ provider, key: null, until, reason });
    state.keys.onKeyOpen = (key, until, reason) => this.breakerOpened.next({ provider, key, until, reason });
    this.byKey.set(state.adapter.id.toLowerCase(), state);
    this.byKey.set(state.name.toLowerCase(), state);
  }

  private remove(state: ProviderState): void {
    this.byKey.delete(state.adapter.id.toLowerCase());
    this.byKey.delete(state.name.toLowerCase());
  }

  /** Looks a provider up by name or id, case-insensitively. */
  find(name: string): ProviderState | undefined {
    return this.byKey.get(name.trim().toLowerCase());
  }

  all(): ProviderState[] {
    return [...new Set(this.byKey.values())];
  }

  /** What a client is told when `name` finds no provider: the names it could have used. */
  unknownMessage(name: string): string {
    const known = this.all()
      .map((p) => p.name)
      .join(', ');
    return `Unknown provider \`${name}\`. Known providers: ${known}.`;
  }
}
