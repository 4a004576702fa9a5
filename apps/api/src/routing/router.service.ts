import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { CatalogModel, CatalogRoute } from '#contracts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { DiscoveryService } from '../models/discovery.service.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { QuotaLedger } from '../providers/quota-ledger.ts';
import { ModelRoutingService, type ModelRouteRules } from './model-routing.service.ts';
import { RoutingSettingsService } from './routing-settings.service.ts';

export interface Candidate {
  provider: ProviderState;
  upstreamModel: string;
}

export interface SkippedRoute {
  provider: string;
  reason: string;
}

export interface RoutePlan {
  candidates: Candidate[];
  skipped: SkippedRoute[];
}

/** Random order where each candidate's chance of going first grows with its weight (Efraimidis–Spirakis). */
function weightedShuffle<T>(items: T[], weight: (t: T) => number, random: () => number): T[] {
  return items
    .map((item) => ({ item, key: -Math.log(1 - random()) / Math.max(weight(item), 1e-3) }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.item);
}

/** A forced provider that cannot serve is logged at most this often per model. */
const FORCED_LOG_INTERVAL_MS = 60_000;

/**
 * Picks and orders the providers that may serve one request. It knows nothing about any
 * single provider: only their state (enabled, configured, breaker, health).
 */
@Injectable()
export class RouterService {
  private readonly settings: RoutingSettingsService;
  private readonly log = new Logger('Routing');
  /** When each model's unusable forced provider was last logged (only models with a forced provider). */
  private readonly forcedLogged = new Map<string, number>();
  /** Replaceable in tests. */
  random: () => number = Math.random;

  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
    /** Live model lists: routes the provider no longer offers are skipped unless pinned. */
    @Optional() private readonly discovery?: DiscoveryService,
    /** The strategy chosen in the console; ROUTING_STRATEGY when absent (unit tests). */
    @Optional() settings?: RoutingSettingsService,
    /** Per-model route order, weights and forced provider (模型浏览); none when absent (unit tests). */
    @Optional() private readonly modelRouting?: ModelRoutingService,
    /** Says when some key is low on headroom; without it (unit tests) the order ignores headroom. */
    @Optional() private readonly ledger?: QuotaLedger,
  ) {
    this.settings = settings ?? new RoutingSettingsService(config);
  }

  /** `filter` may veto routes that cannot take this particular request (images, capabilities). */
  plan(model: CatalogModel, forced?: ProviderState, filter?: (route: CatalogRoute, provider: ProviderState) => string | null): RoutePlan {
    const candidates: Candidate[] = [];
    const skipped: SkippedRoute[] = [];
    for (const route of model.routes) {
      const provider = this.registry.find(route.provider);
      if (!provider) {
        skipped.push({ provider: route.provider, reason: 'provider is not known to this gateway' });
        continue;
      }
      if (forced && provider !== forced) continue;
      const unsuitable = filter?.(route, provider);
      if (unsuitable) {
        skipped.push({ provider: provider.name, reason: unsuitable });
        continue;
      }
      const unoffered = this.discovery?.routeSkipReason(model, route, provider);
      if (unoffered) {
        skipped.push({ provider: provider.name, reason: unoffered });
        continue;
      }
      const { status, reason } = provider.status();
      if (status !== 'available') {
        skipped.push({ provider: provider.name, reason: reason ?? status });
        continue;
      }
      // Two routes of one provider (rare) would only retry the same upstream: keep the first.
      if (candidates.some((c) => c.provider === provider)) continue;
      candidates.push({ provider, upstreamModel: route.upstream_model });
    }
    const rules = this.modelRouting?.rulesFor(model.id) ?? null;
    const ordered = this.behindLow(this.order(candidates, rules?.listed ?? null));
    return { candidates: forced ? ordered : this.forceFirst(model, rules?.forced ?? null, ordered, skipped), skipped };
  }

  /**
   * Orders by the strategy in force. `listed` (a model's own route order and weights) replaces
   * the providers' priorities and weights for the providers it names; the others keep theirs and
   * come after the listed ones under `priority`.
   */
  private order(candidates: Candidate[], listed: ModelRouteRules['listed']): Candidate[] {
    if (candidates.length < 2) return candidates;
    const own = (c: Candidate) => listed?.get(c.provider.name.toLowerCase());
    const weight = (c: Candidate) => own(c)?.weight ?? c.provider.weight;
    switch (this.settings.strategy) {
      case 'priority': {
        // The model's order first, then lower priority number first; the catalog's route order breaks ties.
        const group = (c: Candidate) => (own(c) ? 0 : 1);
        const rank = (c: Candidate) => own(c)?.rank ?? c.provider.priority ?? Number.MAX_SAFE_INTEGER;
        return candidates
          .map((c, i) => ({ c, i }))
          .sort((a, b) => group(a.c) - group(b.c) || rank(a.c) - rank(b.c) || a.i - b.i)
          .map((x) => x.c);
      }
      case 'latency': {
        // Unmeasured providers go first, so they get measured.
        const latency = (c: Candidate) => c.provider.health.latencyMs ?? -1;
        return [...candidates].sort((a, b) => latency(a) - latency(b));
      }
      default: {
        // Weight 0: only when every weighted provider failed (in health order among themselves).
        const weighted = candidates.filter((c) => weight(c) > 0);
        const last = candidates.filter((c) => weight(c) <= 0);
        const shuffled = weightedShuffle(weighted, (c) => c.provider.health.successScore * weight(c), this.random);
        return [...shuffled, ...last];
      }
    }
  }

  /**
   * Providers whose every usable key is low on known headroom (LOW_HEADROOM) go after the others,
   * each group keeping the strategy's order: the budget's last share is kept for when the others
   * cannot serve. Unknown limits are never low. Skipped at once (no work, no allocation) while the
   * ledger knows no low key, which is nearly always.
   */
  private behindLow(ordered: Candidate[]): Candidate[] {
    if (ordered.length < 2 || !this.ledger?.anyLow) return ordered;
    const now = Date.now();
    const low = ordered.filter((c) => c.provider.keys.lowOnHeadroom(now));
    if (low.length === 0 || low.length === ordered.length) return ordered;
    return [...ordered.filter((c) => !low.includes(c)), ...low];
  }

  /**
   * A model forced to one provider (模型浏览 → 强制) tries it first whenever it can serve; when it
   * cannot (cooling down, disabled, filtered out), the others serve as usual and the log says so.
   */
  private forceFirst(model: CatalogModel, forcedTo: string | null, ordered: Candidate[], skipped: SkippedRoute[]): Candidate[] {
    if (!forcedTo) return ordered;
    const i = ordered.findIndex((c) => c.provider.name.toLowerCase() === forcedTo);
    if (i === 0) return ordered;
    if (i > 0) return [ordered[i], ...ordered.slice(0, i), ...ordered.slice(i + 1)];
    const now = Date.now();
    if (now - (this.forcedLogged.get(model.id) ?? 0) >= FORCED_LOG_INTERVAL_MS) {
      this.forcedLogged.set(model.id, now);
      const why = skipped.find((s) => s.provider.toLowerCase() === forcedTo)?.reason ?? 'not a route of this model';
      this.log.warn(`${model.id} is forced to ${forcedTo}, which cannot serve it now (${why.slice(0, 200)}): failing over to the other routes`);
    }
    return ordered;
  }
}
