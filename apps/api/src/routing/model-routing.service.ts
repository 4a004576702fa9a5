import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { CatalogModel, ModelRouteWeight, ModelRouting, ModelRoutingRoute } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { RoutingSettingsService } from './routing-settings.service.ts';

/** Settings namespace of the per-model routing: one document per model id. */
export const MODEL_ROUTING_NS = 'routing.models';
/** The bounds of a per-model weight: the same as a provider's. */
export const MODEL_WEIGHT_MAX = 100;
/** A model has at most this many routes worth listing (the catalog's models have a handful). */
export const MODEL_ROUTES_MAX = 64;

/** One model's stored routing: its own route order and weights, and the provider it is forced to. */
export interface StoredModelRouting {
  model: string;
  /** In the order the operator set; null: the providers' own priorities and weights. */
  routes: ModelRouteWeight[] | null;
  /** Provider name tried first whenever it can serve; null: none. */
  forced: string | null;
  updatedAt: number;
}

/** What routing needs of one model's override, by lower-cased provider name. */
export interface ModelRouteRules {
  /** Position in the operator's order (0 first) and weight, for the providers listed. */
  listed: ReadonlyMap<string, { rank: number; weight: number }> | null;
  forced: string | null;
}

const isWeight = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MODEL_WEIGHT_MAX;

function parseRoutes(raw: unknown): ModelRouteWeight[] | null {
  if (!Array.isArray(raw)) return null;
  const routes = raw
    .slice(0, MODEL_ROUTES_MAX)
    .filter((r): r is ModelRouteWeight => typeof r === 'object' && r !== null && typeof r.provider === 'string' && isWeight(r.weight));
  return routes.map((r) => ({ provider: r.provider.slice(0, 200), weight: r.weight }));
}

/** A stored document, or null when it is not one (a hand-edited or older store). */
export function parseStoredModelRouting(raw: unknown): StoredModelRouting | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.model !== 'string') return null;
  const routes = parseRoutes(r.routes);
  const forced = typeof r.forced === 'string' ? r.forced.slice(0, 200) : null;
  if (!routes && !forced) return null;
  return { model: r.model, routes, forced, updatedAt: typeof r.updatedAt === 'number' ? r.updatedAt : 0 };
}

/**
 * Per-model routing chosen in the console (模型浏览): a route order and a weight per route that
 * replace the providers' priorities and weights for that model alone, and a provider the model
 * is forced to (tried first while it can serve; the others stay behind it as failover). Kept in
 * the settings store, so a restart and, in cluster mode, every replica use the same.
 */
@Injectable()
export class ModelRoutingService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Routing');
  /** By catalog model id. */
  private readonly stored = new Map<string, StoredModelRouting>();
  /** Rules derived from `stored`, by model id (built when stored changes, read per request). */
  private readonly rules = new Map<string, ModelRouteRules>();
  private changesSub?: Subscription;

  constructor(
    private readonly catalog: CatalogService,
    private readonly registry: ProviderRegistry,
    private readonly settings: RoutingSettingsService,
    @Optional() @Inject(STORAGE) private readonly storage?: Storage,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.storage) return;
    await this.reloadAll();
    // Another replica changed a model's routing ('' after a cluster reconnect: anything may have).
    this.changesSub = this.storage.settings.changes.subscribe(({ namespace, key }) => {
      if (namespace !== MODEL_ROUTING_NS) return;
      void (key === '' ? this.reloadAll() : this.reload(key));
    });
  }

  onModuleDestroy(): void {
    this.changesSub?.unsubscribe();
  }

  /** The model's override as routing reads it; null when it has none (the common case: one map lookup). */
  rulesFor(modelId: string): ModelRouteRules | null {
    return this.rules.get(modelId) ?? null;
  }

  /** Every model with its own routing, by model id. */
  list(): ModelRouting[] {
    return [...this.stored.keys()]
      .sort()
      .map((id) => this.catalog.resolve(id))
      .filter((m): m is CatalogModel => m !== undefined)
      .map((m) => this.viewOf(m));
  }

  /** One model's routes as routing uses them (404 for an unknown model). */
  view(modelId: string): ModelRouting {
    return this.viewOf(this.requireModel(modelId));
  }

  /**
   * Changes a model's route order and weights (`routes`, null for the providers' own) and its
   * forced provider (`forced`, null for none); an absent field stays as it is, and nothing left
   * is a reset. 400 for a provider the model has no route on, a provider listed twice, or a
   * weight that is not an integer from 0 to 100; 404 for an unknown model.
   */
  async set(modelId: string, change: { routes?: unknown; forced?: unknown }): Promise<ModelRouting> {
    const model = this.requireModel(modelId);
    const current = this.stored.get(model.id);
    const routes = change.routes === undefined ? (current?.routes ?? null) : this.checkRoutes(model, change.routes);
    const forced = change.forced === undefined ? (current?.forced ?? null) : this.checkForced(model, change.forced);
    if (!this.storage) throw new Error('no settings store');
    if (routes === null && forced === null) {
      await this.storage.settings.delete(MODEL_ROUTING_NS, model.id);
      this.apply(model.id, null);
    } else {
      const doc: StoredModelRouting = { model: model.id, routes, forced, updatedAt: Date.now() };
      await this.storage.settings.set(MODEL_ROUTING_NS, model.id, doc);
      this.apply(model.id, doc);
    }
    return this.viewOf(model);
  }

  private checkRoutes(model: CatalogModel, raw: unknown): ModelRouteWeight[] | null {
    if (raw === null) return null;
    if (!Array.isArray(raw) || raw.length > MODEL_ROUTES_MAX) {
      throw ApiError.badRequest(
        `Invalid value for 'routes': must be null or an array of at most ${MODEL_ROUTES_MAX} { provider, weight }.`,
        'routes',
        'invalid_value',
      );
    }
    const seen = new Set<string>();
    return raw.map((r: unknown, i) => {
      const item = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      const name = this.canonicalProvider(model, item.provider, `routes[${i}].provider`);
      if (!isWeight(item.weight)) {
        throw ApiError.badRequest(
          `Invalid value for 'routes[${i}].weight': must be an integer from 0 to ${MODEL_WEIGHT_MAX}.`,
          `routes[${i}].weight`,
          'invalid_value',
        );
      }
      if (seen.has(name)) throw ApiError.badRequest(`Provider \`${name}\` is listed twice.`, `routes[${i}].provider`, 'duplicate_provider');
      seen.add(name);
      return { provider: name, weight: item.weight };
    });
  }

  private checkForced(model: CatalogModel, raw: unknown): string | null {
    return raw === null ? null : this.canonicalProvider(model, raw, 'forced');
  }

  /** The registry's spelling of a provider the model has a route on; 400 otherwise. */
  private canonicalProvider(model: CatalogModel, raw: unknown, param: string): string {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 200) {
      throw ApiError.badRequest(`Invalid value for '${param}': must be a provider name.`, param, 'invalid_value');
    }
    const provider = this.servingProviders(model).get(raw.toLowerCase());
    if (!provider) throw ApiError.badRequest(`Provider \`${raw}\` does not serve the model \`${model.id}\`.`, param, 'provider_model_mismatch');
    return provider.name;
  }

  /** Back to the providers' priorities and weights, not forced. */
  reset(modelId: string): Promise<ModelRouting> {
    return this.set(modelId, { routes: null, forced: null });
  }

  private viewOf(model: CatalogModel): ModelRouting {
    const doc = this.stored.get(model.id);
    const rules = this.rules.get(model.id);
    const routes: Array<ModelRoutingRoute & { catalogIndex: number }> = [];
    const seen = new Set<string>();
    model.routes.forEach((route, catalogIndex) => {
      const provider = this.registry.find(route.provider);
      const name = provider?.name ?? route.provider;
      if (seen.has(name.toLowerCase())) return;
      seen.add(name.toLowerCase());
      const own = rules?.listed?.get(name.toLowerCase());
      const providerWeight = provider?.weight ?? 1;
      routes.push({
        provider: name,
        upstream_model: route.upstream_model,
        weight: own ? own.weight : providerWeight,
        position: own ? own.rank + 1 : null,
        providerWeight,
        providerPriority: provider?.priority ?? null,
        overridden: own !== undefined,
        catalogIndex,
      });
    });
    // The operator's order first, then the rest as the catalog lists them.
    routes.sort((a, b) => (a.position ?? Number.MAX_SAFE_INTEGER) - (b.position ?? Number.MAX_SAFE_INTEGER) || a.catalogIndex - b.catalogIndex);
    return {
      model: model.id,
      strategy: this.settings.strategy,
      custom: doc?.routes != null,
      forced: doc?.forced ?? null,
      routes: routes.map(({ catalogIndex: _, ...r }) => r),
      updatedAt: doc?.updatedAt ?? null,
    };
  }

  private requireModel(id: string): CatalogModel {
    const model = this.catalog.resolve(id);
    if (!model) throw new ApiError(404, `The model \`${id.slice(0, 200)}\` does not exist.`, 'not_found_error', 'model_not_found', 'model');
    return model;
  }

  /** The providers the model has a route on, by lower-cased name. */
  private servingProviders(model: CatalogModel): Map<string, ProviderState> {
    const served = new Map<string, ProviderState>();
    for (const route of model.routes) {
      const provider = this.registry.find(route.provider);
      if (provider) served.set(provider.name.toLowerCase(), provider);
    }
    return served;
  }

  private apply(modelId: string, doc: StoredModelRouting | null): void {
    if (!doc) {
      this.stored.delete(modelId);
      this.rules.delete(modelId);
      return;
    }
    this.stored.set(modelId, doc);
    const listed = doc.routes ? new Map(doc.routes.map((r, rank) => [r.provider.toLowerCase(), { rank, weight: r.weight }])) : null;
    this.rules.set(modelId, { listed, forced: doc.forced?.toLowerCase() ?? null });
  }

  private async reloadAll(): Promise<void> {
    try {
      const all = await this.storage!.settings.list<unknown>(MODEL_ROUTING_NS);
      for (const id of [...this.stored.keys()]) if (!(id in all)) this.apply(id, null);
      for (const [id, raw] of Object.entries(all)) this.applyRaw(id, raw);
    } catch (err) {
      this.log.error(`cannot load the per-model routing: ${String((err as Error)?.message ?? err).slice(0, 500)}`);
    }
  }

  private async reload(id: string): Promise<void> {
    try {
      this.applyRaw(id, await this.storage!.settings.get<unknown>(MODEL_ROUTING_NS, id));
    } catch (err) {
      this.log.error(`cannot load the routing of ${id.slice(0, 200)}: ${String((err as Error)?.message ?? err).slice(0, 500)}`);
    }
  }

  private applyRaw(id: string, raw: unknown): void {
    const doc = raw === undefined ? null : parseStoredModelRouting(raw);
    if (raw !== undefined && !doc) this.log.warn(`the stored routing of ${id.slice(0, 200)} is not valid (ignored)`);
    this.apply(id, doc && doc.model === id ? doc : doc ? { ...doc, model: id } : null);
  }
}
