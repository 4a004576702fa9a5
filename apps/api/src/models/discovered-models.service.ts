import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { merge, type Subscription } from 'rxjs';
import { MODEL_CATEGORIES, type CatalogModel, type CatalogRoute, type DiscoveryAutoAddList, type ModelCategory } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { CatalogService } from './catalog.service.ts';
import { comparableId, indexModelList } from './discovery-match.ts';
import { DiscoveryService } from './discovery.service.ts';

/** Settings namespaces: the console's auto-add switch per provider (lower-case name), promoted models by id. */
export const AUTO_ADD_NS = 'discovery.auto-add';
export const PROMOTED_NS = 'catalog.promoted';

/** Most models one provider's list may add: a list of thousands (a hub) must not flood the catalog. */
export const MAX_ADDED_PER_PROVIDER = 200;
/** Longest upstream id taken as a model id. */
const MAX_ID_CHARS = 128;
/** Printable ASCII without spaces: what a client can send as a model id. */
const ID_CHARS = /^[\x21-\x7e]+$/;
/**
 * Model lists are chat lists on most providers, but some also list image, speech and embedding
 * models: ids that name one of those are not added as chat models.
 */
const NOT_CHAT = /flux|sdxl|stable-diffusion|dall-e|gptimage|whisper|tts|embed|bge-|e5-|rerank|guard|clip|-vae|kontext|openai-audio/i;

/** Whether a listed upstream id may become a chat model of the catalog. */
export function addableId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_CHARS && ID_CHARS.test(id) && !NOT_CHAT.test(id);
}

/** Reads a stored promoted model defensively: the store may come from another release. */
export function parsePromoted(raw: unknown): CatalogModel | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  if (typeof m.id !== 'string' || !m.id || !MODEL_CATEGORIES.includes(m.category as ModelCategory) || !Array.isArray(m.routes)) return null;
  const routes = (m.routes as unknown[]).flatMap((r): CatalogRoute[] => {
    const route = r as Record<string, unknown> | null;
    return typeof route?.provider === 'string' && typeof route.upstream_model === 'string'
      ? [{ provider: route.provider, upstream_model: route.upstream_model }]
      : [];
  });
  if (routes.length === 0) return null;
  return {
    id: m.id,
    label: typeof m.label === 'string' ? m.label : m.id,
    owned_by: typeof m.owned_by === 'string' ? m.owned_by : 'unknown',
    category: m.category as ModelCategory,
    routes,
  };
}

/**
 * Models that discovery finds on upstreams but the catalog lacks: added to the catalog (marked
 * `discovered`) for the providers where auto-add is on (DISCOVERY_AUTO_ADD, or the console's
 * switch), retired when their provider's list no longer has them. The operator can promote one
 * to a curated entry: kept in the settings store, so it stays after a restart and when it
 * leaves the list (discovery then marks its route missing, as for any curated model).
 */
@Injectable()
export class DiscoveredModelsService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('DiscoveredModels');
  /** The console's switches by lower-case provider name. */
  private readonly switches = new Map<string, boolean>();
  private readonly promoted = new Map<string, CatalogModel>();
  /** Per lower-case provider name, how many models its list adds now. */
  private added = new Map<string, number>();
  private ids = new Set<string>();
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly catalog: CatalogService,
    private readonly registry: ProviderRegistry,
    private readonly discovery: DiscoveryService,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Subscribed at once: discovery loads the stored lists while the modules start.
    this.subs.push(merge(discovery.listsChanged, registry.upstreamsChanged).subscribe(() => this.recompute()));
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.subs.push(
      this.storage.settings.changes.subscribe(({ namespace }) => {
        if (namespace === AUTO_ADD_NS || namespace === PROMOTED_NS) void this.reload();
      }),
    );
  }

  onModuleDestroy(): void {
    for (const sub of this.subs) sub.unsubscribe();
  }

  /** Whether models `provider` lists are added: the console's switch, else DISCOVERY_AUTO_ADD. */
  enabled(provider: Pick<ProviderState, 'name'>): boolean {
    const name = provider.name.toLowerCase();
    return this.switches.get(name) ?? (this.config.discoveryAutoAdd.includes('*') || this.config.discoveryAutoAdd.includes(name));
  }

  view(): DiscoveryAutoAddList {
    return {
      providers: this.registry.all().map((p) => ({
        provider: p.name,
        enabled: this.enabled(p),
        source: this.switches.has(p.name.toLowerCase()) ? 'console' : 'config',
        added: this.added.get(p.name.toLowerCase()) ?? 0,
      })),
    };
  }

  /** Turns auto-add on or off for one provider (null: DISCOVERY_AUTO_ADD decides again). 404 for an unknown provider. */
  async setEnabled(providerName: string, enabled: boolean | null): Promise<DiscoveryAutoAddList> {
    const provider = this.registry.find(providerName);
    if (!provider) throw new ApiError(404, this.registry.unknownMessage(providerName), 'not_found_error', 'provider_not_found', 'provider');
    const key = provider.name.toLowerCase();
    if (enabled === null) {
      await this.storage.settings.delete(AUTO_ADD_NS, key);
      this.switches.delete(key);
    } else {
      await this.storage.settings.set(AUTO_ADD_NS, key, enabled);
      this.switches.set(key, enabled);
    }
    this.recompute();
    return this.view();
  }

  /**
   * Makes a discovered model a curated entry, as it is now (its routes, chat category): kept in
   * the store. 404 for an unknown model, 400 for one that is not discovered.
   */
  async promote(id: string): Promise<CatalogModel> {
    const model = this.catalog.resolve(id);
    if (!model) throw new ApiError(404, `The model \`${id.slice(0, 200)}\` does not exist.`, 'not_found_error', 'model_not_found', 'id');
    if (!model.discovered) throw ApiError.badRequest(`The model \`${model.id}\` is already a curated catalog entry.`, 'id', 'model_not_discovered');
    const { discovered: _discovered, ...curated } = model;
    await this.storage.settings.set(PROMOTED_NS, model.id, curated);
    this.promoted.set(model.id, curated);
    this.catalog.setPromoted([...this.promoted.values()]);
    this.recompute();
    this.log.log(`${model.id} promoted to a curated catalog entry`);
    return this.catalog.resolve(model.id)!;
  }

  /** Applies the store's switches and promoted models (another replica may have changed them). */
  private async reload(): Promise<void> {
    try {
      const [switches, promoted] = await Promise.all([this.storage.settings.list<unknown>(AUTO_ADD_NS), this.storage.settings.list<unknown>(PROMOTED_NS)]);
      this.switches.clear();
      for (const [key, value] of Object.entries(switches)) if (typeof value === 'boolean') this.switches.set(key, value);
      this.promoted.clear();
      for (const raw of Object.values(promoted)) {
        const model = parsePromoted(raw);
        if (model) this.promoted.set(model.id, model);
      }
      this.catalog.setPromoted([...this.promoted.values()]);
      this.recompute();
    } catch (err) {
      this.log.error(`cannot load auto-add settings or promoted models: ${String((err as Error)?.message ?? err).slice(0, 500)}`);
    }
  }

  /** Rebuilds the discovered models from the providers' current lists; logs what was added and retired. */
  private recompute(): void {
    const curated = this.catalog.all().filter((m) => !m.discovered);
    const curatedIds = new Set(curated.map((m) => m.id.toLowerCase()));
    const byId = new Map<string, CatalogModel>();
    const added = new Map<string, number>();
    for (const provider of this.registry.all()) {
      const listed = this.enabled(provider) ? this.discovery.listedIds(provider) : null;
      if (!listed) continue;
      const rules = provider.adapter.declaration?.modelIds;
      const own = curated.flatMap((m) => m.routes.filter((r) => this.registry.find(r.provider) === provider).map((r) => r.upstream_model));
      const covered = indexModelList(rules, own);
      let count = 0;
      for (const raw of listed) {
        const id = raw.trim();
        if (count >= MAX_ADDED_PER_PROVIDER) break;
        if (!addableId(id) || covered.has(comparableId(rules, id)) || curatedIds.has(id.toLowerCase())) continue;
        const route = { provider: provider.name, upstream_model: id };
        const existing = byId.get(id.toLowerCase());
        if (existing) existing.routes.push(route);
        else byId.set(id.toLowerCase(), { id, label: id, owned_by: provider.name, category: 'chat', discovered: true, routes: [route] });
        count++;
      }
      added.set(provider.name.toLowerCase(), count);
    }
    const next = new Set(byId.keys());
    const gained = [...next].filter((id) => !this.ids.has(id));
    // A promoted model left the discovered ones by becoming curated: not a retirement.
    const retired = [...this.ids].filter((id) => !next.has(id) && !curatedIds.has(id));
    if (gained.length === 0 && retired.length === 0 && sameCounts(added, this.added)) return;
    this.added = added;
    this.ids = next;
    this.catalog.setDiscovered([...byId.values()]);
    if (gained.length) this.log.log(`discovery added ${gained.length} model(s): ${names(gained)}`);
    if (retired.length) this.log.log(`discovery retired ${retired.length} model(s) no longer listed: ${names(retired)}`);
  }
}

const names = (ids: string[]) => (ids.slice(0, 5).join(', ') + (ids.length > 5 ? ', …' : '')).slice(0, 700);

function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}
