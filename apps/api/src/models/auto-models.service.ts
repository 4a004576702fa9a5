import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { AutoModel, AutoModelList, CatalogModel, CatalogRoute } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { ConfigError } from '../config/app-config.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { LOW_HEADROOM } from '../providers/key-pool.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import {
  DEFAULT_AUTO_MODELS,
  ofKind,
  overlay,
  parseAutoModels,
  rankModels,
  tier,
  type AutoNeeds,
  type Headroom,
  type ModelFilter,
  type ModelSignals,
  type RankEntry,
} from './auto-models.ts';
import { CatalogService } from './catalog.service.ts';
import { routeHonours } from './chat-features.ts';
import { DiscoveryService } from './discovery.service.ts';
import { modelTakesImages, routeTakesImages } from './vision.ts';

/** Settings namespace and key of the console's list (the whole list, in place of the defaults). */
export const AUTO_MODELS_NS = 'auto-models';
export const AUTO_MODELS_KEY = 'list';

/**
 * Where ranking learns a route's quota headroom: from the quota ledger (ledgerHeadroom, bound in
 * ModelsModule); `unknown` where nothing is counted, ranked like `plenty`.
 */
export interface QuotaHeadroom {
  headroom(provider: string, upstreamModel: string): Headroom;
}
export const QUOTA_HEADROOM = Symbol('QUOTA_HEADROOM');
export const UNKNOWN_HEADROOM: QuotaHeadroom = { headroom: () => 'unknown' };

/** Below this share of its quota left, a provider's best key makes its routes `low` (the router's mark too). */
export { LOW_HEADROOM };

/**
 * Headroom per provider: the best any of its usable keys has in the quota ledger. Every key
 * resting (or none usable) is `exhausted`; the ledger's limits are per key and provider, not per
 * model, so every route of a provider shares its answer.
 */
export function ledgerHeadroom(registry: ProviderRegistry): QuotaHeadroom {
  return {
    headroom(provider: string): Headroom {
      const best = registry.find(provider)?.keys.bestHeadroom();
      if (best === undefined || best === null) return 'unknown';
      return best <= 0 ? 'exhausted' : best < LOW_HEADROOM ? 'low' : 'plenty';
    },
  };
}

/** A virtual id resolved for one request: the models to try, best first. */
export interface AutoChoice {
  auto: AutoModel;
  models: CatalogModel[];
}

/** Most models one request may move through: more would only keep a client waiting before the first byte. */
const MAX_CHOICES = 8;

/**
 * The virtual models (`auto`, `auto-coder`…): the shipped ones with the catalog file's
 * `auto_models:` over them, or the console's list in their place (kept in the settings store, so
 * a restart and every replica use it). Per request, choose() ranks the catalog models that can
 * serve it now.
 */
@Injectable()
export class AutoModelsService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('AutoModels');
  private readonly defaultModels: AutoModel[];
  private override: AutoModel[] | null = null;
  private changesSub?: Subscription;

  constructor(
    private readonly catalog: CatalogService,
    private readonly registry: ProviderRegistry,
    private readonly discovery: DiscoveryService,
    @Inject(STORAGE) private readonly storage: Storage,
    @Optional() @Inject(QUOTA_HEADROOM) private readonly quota: QuotaHeadroom = UNKNOWN_HEADROOM,
  ) {
    // The shipped defaults name catalog models an operator may have disabled: those are dropped.
    const shipped = DEFAULT_AUTO_MODELS.map((m) => ({ ...m, models: m.models.filter((id) => catalog.resolve(id)) }));
    const fromFile = catalog.fileAutoModels;
    if (fromFile === undefined) this.defaultModels = shipped;
    else {
      const { models, problems } = parseAutoModels(fromFile, (id) => catalog.resolve(id));
      if (problems.length) throw new ConfigError(`CATALOG_FILE auto_models: ${problems.slice(0, 10).join('; ')}`);
      this.defaultModels = overlay(shipped, models);
    }
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.changesSub = this.storage.settings.changes.subscribe(({ namespace, key }) => {
      if (namespace === AUTO_MODELS_NS && (key === AUTO_MODELS_KEY || key === '')) void this.reload();
    });
  }

  onModuleDestroy(): void {
    this.changesSub?.unsubscribe();
  }

  /** The virtual models in effect. */
  all(): AutoModel[] {
    return this.override ?? this.defaultModels;
  }

  /** The virtual model a client's id names (case-insensitively), if any. A catalog id always wins. */
  find(id: string): AutoModel | undefined {
    const lower = id.toLowerCase();
    return this.all().find((m) => m.id.toLowerCase() === lower);
  }

  view(): AutoModelList {
    return { models: this.all(), defaults: this.defaultModels, source: this.override ? 'console' : 'config' };
  }

  /** Checks and stores the whole list (400 naming what is wrong), then applies it. */
  async set(raw: unknown): Promise<AutoModelList> {
    const { models, problems } = parseAutoModels(raw, (id) => this.catalog.resolve(id));
    if (problems.length) throw ApiError.badRequest(`Invalid auto models: ${problems.slice(0, 10).join('; ')}`, 'models', 'invalid_auto_model');
    await this.storage.settings.set(AUTO_MODELS_NS, AUTO_MODELS_KEY, models);
    this.override = models;
    return this.view();
  }

  /** Forgets the console's list: the defaults apply again. */
  async reset(): Promise<AutoModelList> {
    await this.storage.settings.delete(AUTO_MODELS_NS, AUTO_MODELS_KEY);
    this.override = null;
    return this.view();
  }

  /**
   * For a virtual id, the catalog models to try for a request with `needs`, best first; undefined
   * for an id that is not virtual. Throws a 400 when no model of it could ever honour the request
   * and a 503 when none can serve now.
   */
  choose(id: string, needs: AutoNeeds): AutoChoice | undefined {
    const auto = this.find(id);
    if (!auto) return undefined;
    const all = this.candidates(auto);
    const candidates = this.allowedCandidates(auto, all, needs.allowed);
    this.checkForced(auto, candidates, needs.provider);
    // A model's place in the whole list, not in the key's share of it: past the preference list
    // (`others`) every model ranks alike and latency decides, whichever models the key leaves out.
    const position = new Map(all.map((model, i) => [model, i]));
    const entries: RankEntry[] = [];
    for (const model of candidates) {
      const signals = this.signals(auto, model, needs);
      if (signals) entries.push({ model, preference: Math.min(position.get(model) ?? 0, auto.models.length), signals });
    }
    if (entries.length === 0) {
      // Whether some model could serve a plain request: then it is this request's needs that none can honour.
      const plain: AutoNeeds = { features: [], images: false, tokens: 0, provider: needs.provider };
      if (candidates.some((m) => this.signals(auto, m, plain) !== null)) {
        throw ApiError.badRequest(
          `No model of \`${auto.id}\` can honour this request now (tools, image input, JSON output or its length); remove what it cannot honour or name a model.`,
          'model',
          'model_not_supported',
        );
      }
      throw new ApiError(503, `No model of \`${auto.id}\` can be served right now.`, 'server_error', 'no_available_provider');
    }
    return { auto, models: rankModels(entries).slice(0, MAX_CHOICES) };
  }

  /**
   * The candidates a client's key may use. A key allowed `auto` but none of the models it could
   * pick is refused as for a forbidden model (403 model_not_allowed), never served by one of them.
   */
  private allowedCandidates(auto: AutoModel, candidates: CatalogModel[], allowed: ModelFilter | undefined): CatalogModel[] {
    if (!allowed) return candidates;
    const mine = candidates.filter(allowed);
    if (!mine.some((m) => this.isMember(auto, m))) {
      throw new ApiError(403, `This API key may not use any model of \`${auto.id}\`.`, 'permission_error', 'model_not_allowed', 'model');
    }
    return mine;
  }

  /** Like a catalog model's: an unknown forced provider, or one none of the candidates has, is a 400. */
  private checkForced(auto: AutoModel, candidates: CatalogModel[], name: string | undefined): void {
    if (name === undefined) return;
    const forced = this.registry.find(name);
    if (!forced) throw ApiError.badRequest(this.registry.unknownMessage(name), 'provider', 'unknown_provider');
    const members = candidates.filter((m) => this.isMember(auto, m));
    if (!members.some((m) => m.routes.some((r) => this.registry.find(r.provider) === forced))) {
      throw ApiError.badRequest(`Provider \`${forced.name}\` serves none of the models of \`${auto.id}\`.`, 'provider', 'provider_model_mismatch');
    }
  }

  /** The catalog models `auto` may pick from, whatever the request (for listings). */
  members(auto: AutoModel): CatalogModel[] {
    return this.candidates(auto).filter((m) => this.isMember(auto, m));
  }

  private isMember(auto: AutoModel, model: CatalogModel): boolean {
    return ofKind(model, auto.kind) && (!auto.vision || modelTakesImages(model));
  }

  /** The preference list's catalog models, then (with `others`) every other model of the kind. */
  private candidates(auto: AutoModel): CatalogModel[] {
    const listed = auto.models.flatMap((id) => this.catalog.resolve(id) ?? []);
    if (!auto.others) return listed;
    return [...listed, ...this.catalog.all().filter((m) => ofKind(m, auto.kind) && !listed.includes(m))];
  }

  /** What ranking knows about `model`'s best route for this request, or null when no route can serve it. */
  private signals(auto: AutoModel, model: CatalogModel, needs: AutoNeeds): ModelSignals | null {
    if (!ofKind(model, auto.kind)) return null;
    if (auto.vision && !modelTakesImages(model)) return null;
    if (model.context_length !== undefined && needs.tokens > model.context_length) return null;
    const forced = needs.provider === undefined ? undefined : this.registry.find(needs.provider);
    if (needs.provider !== undefined && !forced) return null;
    let best: ModelSignals | null = null;
    for (const route of model.routes) {
      const provider = this.registry.find(route.provider);
      if (!provider || (forced && provider !== forced) || !this.canServe(auto, model, route, provider, needs)) continue;
      const signals: ModelSignals = {
        ready: provider.status().status === 'available',
        successScore: provider.health.successScore,
        latencyMs: provider.health.latencyMs,
        headroom: this.quota.headroom(provider.name, route.upstream_model),
      };
      if (!best || better(signals, best)) best = signals;
    }
    return best;
  }

  private canServe(auto: AutoModel, model: CatalogModel, route: CatalogRoute, provider: ProviderState, needs: AutoNeeds): boolean {
    if (provider.unusableReason() || this.discovery.routeSkipReason(model, route, provider)) return false;
    if (auto.kind === 'image') return provider.adapter.image !== undefined;
    if (needs.images && !routeTakesImages(model, route, provider.adapter)) return false;
    return needs.features.every((f) => routeHonours(provider.adapter, route.upstream_model, f));
  }

  /** Applies what the store holds; an entry naming a model that has left the catalog is dropped with a warning. */
  private async reload(): Promise<void> {
    try {
      const raw = await this.storage.settings.get<unknown>(AUTO_MODELS_NS, AUTO_MODELS_KEY);
      if (raw === undefined) {
        this.override = null;
        return;
      }
      const { models, problems } = parseAutoModels(raw, (id) => this.catalog.resolve(id));
      if (problems.length) this.log.warn(`stored auto models: ${problems.slice(0, 10).join('; ').slice(0, 2000)} (ignored)`);
      this.override = models;
    } catch (err) {
      this.log.error(`cannot load the stored auto models: ${String((err as Error)?.message ?? err).slice(0, 500)}`);
    }
  }
}

/** A route ranks above another by tier, then success score, then measured latency. */
function better(a: ModelSignals, b: ModelSignals): boolean {
  const latency = (s: ModelSignals) => s.latencyMs ?? Number.MAX_SAFE_INTEGER;
  return tier(a) - tier(b) < 0 || (tier(a) === tier(b) && (a.successScore > b.successScore || (a.successScore === b.successScore && latency(a) < latency(b))));
}
