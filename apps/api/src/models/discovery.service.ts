import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Subject, type Subscription } from 'rxjs';
import type {
  CatalogModel,
  CatalogRoute,
  DiscoveredRoute,
  DiscoveryRefreshResult,
  DiscoverySnapshot,
  ModelCategory,
  ModelDiscovery,
  PinSource,
  ProviderDiscovery,
  RouteState,
  RouteStateChange,
} from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, checkDeadlineMs, type AppConfig } from '../config/app-config.ts';
import type { PooledKey } from '../providers/key-pool.ts';
import { UpstreamError, shortReason } from '../providers/provider-adapter.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { CatalogService } from './catalog.service.ts';
import { indexModelList, isRoutable, routeState } from './discovery-match.ts';

/** The skip reason routing gives for a route whose provider no longer lists its upstream id. */
export const NOT_OFFERED = 'not offered by the provider (discovery)';

/** Settings namespaces: one document per provider (its last list), one per runtime pin. */
export const DISCOVERY_LISTS_NS = 'discovery.lists';
export const DISCOVERY_PINS_NS = 'discovery.pins';

const INTERVAL_NAME = 'model-discovery';

/**
 * Categories whose routes discovery judges. The providers' list endpoints are chat lists
 * (HuggingFace's router and Pollinations' `/v1/models` do not list their text-to-image or
 * speech models), so an image or audio route absent from one says nothing: it stays `unknown`.
 */
const JUDGED_CATEGORIES: ReadonlySet<ModelCategory> = new Set<ModelCategory>(['chat', 'reasoning', 'code', 'vision']);

/** One provider's discovery record, as persisted. */
interface StoredList {
  provider: string;
  /** The base URL the list came from: a list of another upstream says nothing about this one. */
  baseUrl: string | null;
  fetchedAt: number | null;
  ok: boolean | null;
  error: string | null;
  /** The last list fetched (raw upstream ids) and when; kept when a later fetch fails. */
  ids: string[] | null;
  listedAt: number | null;
}

interface StoredPin {
  model: string;
  provider: string;
  pinnedAt: number;
}

interface ListRecord extends StoredList {
  index: ReadonlySet<string> | null;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const numOrNull = (v: unknown): number | null => (isNum(v) ? v : null);

/** Reads a persisted record defensively: the file may come from another release. */
function parseStoredList(raw: unknown, fallbackName: string): StoredList | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const ids = Array.isArray(r.ids) && r.ids.every((id) => typeof id === 'string') ? (r.ids as string[]) : null;
  return {
    provider: typeof r.provider === 'string' ? r.provider : fallbackName,
    baseUrl: typeof r.baseUrl === 'string' ? r.baseUrl : null,
    fetchedAt: numOrNull(r.fetchedAt),
    ok: typeof r.ok === 'boolean' ? r.ok : null,
    error: typeof r.error === 'string' ? r.error : null,
    ids,
    listedAt: ids ? numOrNull(r.listedAt) : null,
  };
}

function parseStoredPin(raw: unknown): StoredPin | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.model !== 'string' || typeof r.provider !== 'string') return null;
  return { model: r.model, provider: r.provider, pinnedAt: numOrNull(r.pinnedAt) ?? 0 };
}

const pinKey = (model: string, provider: string): string => JSON.stringify([model, provider.toLowerCase()]);

/** A discovery error is kept with the provider's state and shown in the console: a little longer than a failover reason. */
const DISCOVERY_ERROR_CHARS = 200;

/**
 * Live model discovery: fetches each provider's model list (at start, on a schedule and on
 * demand), marks every catalog route `confirmed`, `missing` or `unknown`, and tells routing to
 * skip `missing` routes unless they are pinned. Results and pins live in the settings store, so
 * a restart starts from the last known state.
 */
/** Routes that went missing named in discovery's one log line per read; the rest at debug level. */
const MISSING_NAMED = 5;

@Injectable()
export class DiscoveryService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Discovery');
  /** By adapter id. */
  private readonly lists = new Map<string, ListRecord>();
  /** By pinKey(model, provider name). */
  private readonly pins = new Map<string, StoredPin>();
  /** Fetches under way, by adapter id: a second refresh of the same provider joins the first. */
  private readonly inflight = new Map<string, Promise<DiscoveryRefreshResult>>();
  private readonly pendingWrites = new Map<string, number>();
  private readonly writes = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private readonly intervalMinutes: number;
  private changesSub?: Subscription;
  private timer?: NodeJS.Timeout;
  /** A provider's list was read, reloaded or dropped (auto-added models follow the lists). */
  readonly listsChanged = new Subject<void>();

  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(CatalogService) private readonly catalog: Pick<CatalogService, 'all' | 'resolve'>,
    private readonly http: UpstreamHttp,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {
    this.intervalMinutes = config.discoveryIntervalMinutes;
  }

  /** Loads the last known state before the app serves, so routing uses it from the first request. */
  async onModuleInit(): Promise<void> {
    const [lists, pins] = await Promise.all([this.storage.settings.list<unknown>(DISCOVERY_LISTS_NS), this.storage.settings.list<unknown>(DISCOVERY_PINS_NS)]);
    for (const [id, raw] of Object.entries(lists)) this.applyStoredList(id, raw);
    for (const [key, raw] of Object.entries(pins)) {
      const pin = parseStoredPin(raw);
      if (pin) this.pins.set(key, pin);
    }
    // Another replica sharing the store refreshed or pinned: take its result.
    this.changesSub = this.storage.settings.changes.subscribe(({ namespace, key }) => {
      if (namespace !== DISCOVERY_LISTS_NS && namespace !== DISCOVERY_PINS_NS) return;
      // '' (cluster mode, after a reconnect): anything in the namespace may have changed.
      if (key === '') {
        void this.reloadNamespace(namespace);
        return;
      }
      if ((this.pendingWrites.get(`${namespace}\n${key}`) ?? 0) > 0) return;
      void this.reload(namespace, key);
    });
  }

  /** Starts the first fetch without waiting for it, and the schedule. */
  onApplicationBootstrap(): void {
    if (this.intervalMinutes <= 0) return;
    const round = () => void this.refresh().catch((err: unknown) => this.log.error(`model discovery failed: ${(err as Error).message}`));
    round();
    const timer = setInterval(round, this.intervalMinutes * 60_000);
    timer.unref();
    this.timer = timer;
    this.scheduler?.addInterval(INTERVAL_NAME, timer);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      if (this.scheduler?.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
      this.timer = undefined;
    }
    this.changesSub?.unsubscribe();
    this.shutdown.abort();
    // The store closes after this: let fetches wind down and writes land first.
    await Promise.allSettled([...this.inflight.values()]);
    await Promise.allSettled([...this.writes]);
  }

  // ---- refresh ---------------------------------------------------------------------------

  /**
   * Fetches the model list of one provider (by name or id) or of every provider, and returns
   * what each fetch found. Providers that are disabled, unconfigured or cannot list models are
   * returned as skipped. Never rejects for an upstream failure (that is a result); rejects with
   * a 404 ApiError for an unknown provider name.
   */
  async refresh(providerName?: string): Promise<DiscoveryRefreshResult[]> {
    let providers: ProviderState[];
    if (providerName === undefined) providers = this.registry.all();
    else {
      const provider = this.registry.find(providerName);
      if (!provider) throw new ApiError(404, this.registry.unknownMessage(providerName), 'not_found_error', 'provider_not_found', 'provider');
      providers = [provider];
    }
    return Promise.all(providers.map((p) => this.refreshOne(p)));
  }

  private refreshOne(provider: ProviderState): Promise<DiscoveryRefreshResult> {
    const id = provider.adapter.id;
    const skipped = this.skipReason(provider);
    if (skipped || this.shutdown.signal.aborted) {
      return Promise.resolve(this.result(provider, false, [], skipped ?? 'the gateway is shutting down'));
    }
    const running = this.inflight.get(id);
    if (running) return running;
    const run = this.fetchAndApply(provider).finally(() => this.inflight.delete(id));
    this.inflight.set(id, run);
    return run;
  }

  /** Why a provider is not fetched now, or null. */
  private skipReason(provider: ProviderState): string | null {
    if (!provider.adapter.listModels) return 'this provider cannot list its models';
    const { status, reason } = provider.status();
    if (status === 'disabled' || status === 'unconfigured') return reason ?? status;
    return null;
  }

  private async fetchAndApply(provider: ProviderState): Promise<DiscoveryRefreshResult> {
    const id = provider.adapter.id;
    const before = this.routeStates(provider);
    const startedAt = Date.now();
    let ids: string[] | null = null;
    let error: string | null = null;
    try {
      ids = await this.fetchList(provider);
      if (ids.length === 0) {
        // An empty list is far more likely a broken or restricted endpoint than a provider that
        // serves nothing: treat it like a failure, so that every route does not turn `missing`.
        ids = null;
        error = 'the provider listed no models';
      }
    } catch (raw) {
      if (this.shutdown.signal.aborted) return this.result(provider, true, [], null);
      error = shortReason(raw instanceof UpstreamError ? raw : new UpstreamError('invalid', (raw as Error)?.message ?? String(raw)), DISCOVERY_ERROR_CHARS);
    }

    const previous = this.lists.get(id);
    const keep = previous && this.listApplies(previous, provider) ? previous : undefined;
    const next: StoredList = {
      provider: provider.name,
      baseUrl: ids ? provider.baseUrl : (keep?.baseUrl ?? null),
      fetchedAt: startedAt,
      ok: ids !== null,
      error,
      // A failed fetch keeps the previous list: an upstream that is down does not make its models missing.
      ids: ids ?? keep?.ids ?? null,
      listedAt: ids ? startedAt : (keep?.listedAt ?? null),
    };
    this.setList(id, next);
    this.persist(DISCOVERY_LISTS_NS, id, next).catch(() => undefined); // logged by track()

    const after = this.routeStates(provider);
    const changed: RouteStateChange[] = [];
    for (const [key, to] of after) {
      const from = before.get(key) ?? 'unknown';
      if (from === to) continue;
      const [model, upstream] = JSON.parse(key) as [string, string];
      changed.push({ model, upstream_model: upstream, from, to });
    }
    if (error) this.log.warn(`${provider.name}: model list fetch failed (${error}); keeping the previous state`);
    this.logChanges(provider.name, changed);
    return this.result(provider, true, changed, null);
  }

  /**
   * One line per provider and read (a first read changes every route, ~100 lines at start
   * otherwise), naming a few routes that went missing; each change is a debug line.
   */
  private logChanges(provider: string, changed: readonly RouteStateChange[]): void {
    for (const c of changed) this.log.debug(`${provider}: ${c.model} (${c.upstream_model}) ${c.from} → ${c.to}`);
    if (changed.length === 0) return;
    const missing = changed.filter((c) => c.to === 'missing').map((c) => c.model);
    const counts = (['confirmed', 'missing', 'unknown'] as const)
      .flatMap((to) => {
        const n = changed.filter((c) => c.to === to).length;
        return n ? [`${n} ${to}`] : [];
      })
      .join(', ');
    const line = `${provider}: model list read, ${changed.length} route(s) changed (${counts})`;
    if (missing.length === 0) return this.log.log(line);
    const named = missing.slice(0, MISSING_NAMED).join(', ') + (missing.length > MISSING_NAMED ? ', …' : '');
    this.log.warn(`${line}; missing now: ${named} (LOG_LEVEL=debug lists every change)`);
  }

  /**
   * Fetches the list with a key from the provider's pool. A key-level answer (401/402/403/429)
   * tries the next key. Discovery never judges keys: a key's breaker slot is released whatever
   * the outcome, because a models endpoint says little about chat (it is public on several
   * providers, and lists models for keys that are out of credit), so neither a failure here
   * should cool a key that chats fine, nor a success heal one that chat found broken.
   */
  private async fetchList(provider: ProviderState): Promise<string[]> {
    const listModels = provider.adapter.listModels!.bind(provider.adapter);
    const tried = new Set<PooledKey>();
    let keyError: UpstreamError | undefined;
    // One deadline for the whole fetch, every key tried: an upstream that answers each key slowly,
    // or trickles its list a byte at a time (never silent long enough for the idle timeout), would
    // otherwise hold the refresh, and the console waiting for it, for as long as it likes.
    const timeoutMs = checkDeadlineMs(this.config);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([this.shutdown.signal, timeout]);
    for (;;) {
      if (timeout.aborted) throw new UpstreamError('timeout', `no model list within ${timeoutMs} ms`);
      const key = provider.keys.acquire(tried);
      if (!key) throw keyError ?? new UpstreamError('invalid', 'no key of this provider is usable right now');
      tried.add(key);
      try {
        const models = await listModels({
          upstreamModel: '',
          baseUrl: provider.baseUrl,
          apiKey: key.value,
          extra: provider.extra,
          signal,
          http: this.http,
          proxy: provider.proxy,
        });
        return models.map((m) => m.id);
      } catch (raw) {
        if (timeout.aborted && !this.shutdown.signal.aborted) throw new UpstreamError('timeout', `no model list within ${timeoutMs} ms`);
        const err = raw instanceof UpstreamError ? raw : new UpstreamError('invalid', (raw as Error)?.message ?? String(raw));
        if (!err.isKeyProblem) throw err;
        keyError = err;
      } finally {
        key.breaker.release();
      }
    }
  }

  private result(provider: ProviderState, attempted: boolean, changed: RouteStateChange[], skipped: string | null): DiscoveryRefreshResult {
    const routes: Record<RouteState, number> = { confirmed: 0, missing: 0, unknown: 0 };
    for (const state of this.routeStates(provider).values()) routes[state]++;
    const view = this.providerView(provider);
    return { ...view, skipped: skipped ?? view.skipped, attempted, routes, changed };
  }

  /** The state of each judged catalog route served by `provider`, keyed by [model, upstream]. */
  private routeStates(provider: ProviderState): Map<string, RouteState> {
    const states = new Map<string, RouteState>();
    for (const model of this.catalog.all()) {
      if (!JUDGED_CATEGORIES.has(model.category)) continue;
      for (const route of model.routes) {
        if (this.registry.find(route.provider) !== provider) continue;
        states.set(JSON.stringify([model.id, route.upstream_model]), this.stateOf(model, route, provider));
      }
    }
    return states;
  }

  // ---- state and routing -----------------------------------------------------------------

  /** `confirmed`, `missing` or `unknown` for one route of one model. */
  stateOf(model: CatalogModel, route: CatalogRoute, provider: ProviderState | undefined = this.registry.find(route.provider)): RouteState {
    if (!provider || !JUDGED_CATEGORIES.has(model.category)) return 'unknown';
    return routeState(provider.adapter.declaration?.modelIds, this.currentList(provider)?.index, route.upstream_model);
  }

  /** The provider's last list, unless it came from another base URL (changed since). */
  private currentList(provider: ProviderState): ListRecord | undefined {
    const record = this.lists.get(provider.adapter.id);
    return record && this.listApplies(record, provider) ? record : undefined;
  }

  private listApplies(record: StoredList, provider: ProviderState): boolean {
    return record.baseUrl === null || record.baseUrl === provider.baseUrl;
  }

  /** Who pinned a route, or null. */
  pinSource(model: CatalogModel, route: CatalogRoute, provider: ProviderState | undefined = this.registry.find(route.provider)): PinSource | null {
    if (route.pinned === true) return 'catalog';
    return this.pins.has(pinKey(model.id, provider?.name ?? route.provider)) ? 'operator' : null;
  }

  /**
   * For routing: the reason to skip this route (its provider's live list does not have it and
   * it is not pinned), or null. Cheap: a set lookup.
   */
  routeSkipReason(model: CatalogModel, route: CatalogRoute, provider: ProviderState): string | null {
    if (this.stateOf(model, route, provider) !== 'missing') return null;
    return this.pinSource(model, route, provider) ? null : NOT_OFFERED;
  }

  /** Everything the console shows: per provider the fetch status, per model its routes. */
  snapshot(): DiscoverySnapshot {
    return {
      intervalMinutes: Math.max(0, this.intervalMinutes),
      providers: this.registry.all().map((p) => this.providerView(p)),
      models: this.catalog.all().map((m) => this.modelView(m)),
    };
  }

  /** One model's routes with their discovery state; 404 ApiError for an unknown model. */
  model(id: string): ModelDiscovery {
    return this.modelView(this.resolveModel(id));
  }

  private providerView(provider: ProviderState): ProviderDiscovery {
    const record = this.lists.get(provider.adapter.id);
    const list = this.currentList(provider);
    return {
      provider: provider.name,
      fetchedAt: record?.fetchedAt ?? null,
      ok: record?.ok ?? null,
      error: record?.error ?? null,
      modelCount: list?.ids ? list.ids.length : null,
      listedAt: list?.listedAt ?? null,
      skipped: this.skipReason(provider),
      refreshing: this.inflight.has(provider.adapter.id),
    };
  }

  private modelView(model: CatalogModel): ModelDiscovery {
    return {
      model: model.id,
      routes: model.routes.map((route): DiscoveredRoute => {
        const provider = this.registry.find(route.provider);
        const state = this.stateOf(model, route, provider);
        const pinnedBy = this.pinSource(model, route, provider);
        return {
          provider: provider?.name ?? route.provider,
          upstream_model: route.upstream_model,
          state,
          pinned: pinnedBy !== null,
          pinnedBy,
          checkedAt: state === 'unknown' || !provider ? null : (this.currentList(provider)?.listedAt ?? null),
          routable: isRoutable(state, pinnedBy !== null),
        };
      }),
    };
  }

  // ---- pins ------------------------------------------------------------------------------

  /**
   * Pins a model's route on one provider: routing uses it even when discovery says `missing`
   * (the list is incomplete, or the operator knows better). Persisted. Throws a 404 ApiError
   * for an unknown model or provider and a 400 when the model has no route on that provider.
   */
  async pin(modelId: string, providerName: string): Promise<ModelDiscovery> {
    const { model, provider } = this.resolveRoute(modelId, providerName);
    const pin: StoredPin = { model: model.id, provider: provider.name, pinnedAt: Date.now() };
    const key = pinKey(model.id, provider.name);
    this.pins.set(key, pin);
    await this.persist(DISCOVERY_PINS_NS, key, pin);
    return this.modelView(model);
  }

  /** Removes a runtime pin (a catalog `pinned: true` stays: edit the catalog for that). */
  async unpin(modelId: string, providerName: string): Promise<ModelDiscovery> {
    const { model, provider } = this.resolveRoute(modelId, providerName);
    const key = pinKey(model.id, provider.name);
    if (this.pins.delete(key)) await this.track(DISCOVERY_PINS_NS, key, () => this.storage.settings.delete(DISCOVERY_PINS_NS, key));
    return this.modelView(model);
  }

  private resolveModel(id: string): CatalogModel {
    const model = this.catalog.resolve(id);
    if (!model) throw new ApiError(404, `The model \`${id}\` does not exist.`, 'not_found_error', 'model_not_found', 'model');
    return model;
  }

  private resolveRoute(modelId: string, providerName: string): { model: CatalogModel; provider: ProviderState } {
    const model = this.resolveModel(modelId);
    const provider = this.registry.find(providerName);
    if (!provider) throw new ApiError(404, `Unknown provider \`${providerName}\`.`, 'not_found_error', 'provider_not_found', 'provider');
    if (!model.routes.some((r) => this.registry.find(r.provider) === provider)) {
      throw ApiError.badRequest(`Provider \`${provider.name}\` does not serve the model \`${model.id}\`.`, 'provider', 'provider_model_mismatch');
    }
    return { model, provider };
  }

  // ---- storage ---------------------------------------------------------------------------

  private setList(id: string, stored: StoredList): void {
    const rules = this.registry.find(id)?.adapter.declaration?.modelIds;
    this.lists.set(id, { ...stored, index: stored.ids ? indexModelList(rules, stored.ids) : null });
    this.listsChanged.next();
  }

  private applyStoredList(id: string, raw: unknown): void {
    const stored = parseStoredList(raw, id);
    if (stored) this.setList(id, stored);
    else if (this.lists.delete(id)) this.listsChanged.next();
  }

  /** The upstream ids of the provider's last list (raw), or null when there is none that applies. */
  listedIds(provider: ProviderState): readonly string[] | null {
    return this.currentList(provider)?.ids ?? null;
  }

  private async reloadNamespace(namespace: string): Promise<void> {
    try {
      const stored = Object.keys(await this.storage.settings.list<unknown>(namespace));
      const known = namespace === DISCOVERY_PINS_NS ? [...this.pins.keys()] : [];
      for (const key of new Set([...stored, ...known])) {
        if ((this.pendingWrites.get(`${namespace}\n${key}`) ?? 0) === 0) await this.reload(namespace, key);
      }
    } catch (err) {
      this.log.warn(`cannot reload ${namespace}: ${(err as Error).message}`);
    }
  }

  private async reload(namespace: string, key: string): Promise<void> {
    try {
      const raw = await this.storage.settings.get<unknown>(namespace, key);
      if (namespace === DISCOVERY_LISTS_NS) {
        // Our own fetch of this provider is newer than what another replica wrote before it.
        if (!this.inflight.has(key)) this.applyStoredList(key, raw);
        return;
      }
      const pin = raw === undefined ? null : parseStoredPin(raw);
      if (pin) this.pins.set(key, pin);
      else this.pins.delete(key);
    } catch (err) {
      this.log.warn(`cannot reload ${namespace}/${key}: ${(err as Error).message}`);
    }
  }

  /**
   * Writes one document. The returned promise rejects when the write fails (pin() reports that);
   * refreshes do not wait for it. Either way a failure is logged, and shutdown waits for writes.
   */
  private persist<T>(namespace: string, key: string, value: T): Promise<void> {
    return this.track(namespace, key, () => this.storage.settings.set(namespace, key, value));
  }

  private track(namespace: string, key: string, write: () => Promise<unknown>): Promise<void> {
    const slot = `${namespace}\n${key}`;
    this.pendingWrites.set(slot, (this.pendingWrites.get(slot) ?? 0) + 1);
    const result = (async () => {
      await write();
    })();
    const settled: Promise<void> = result
      .catch((err: unknown) => this.log.error(`cannot store ${namespace}/${key}: ${(err as Error).message}`))
      .finally(() => {
        const n = (this.pendingWrites.get(slot) ?? 1) - 1;
        if (n > 0) this.pendingWrites.set(slot, n);
        else this.pendingWrites.delete(slot);
        this.writes.delete(settled);
      });
    this.writes.add(settled);
    return result;
  }
}
