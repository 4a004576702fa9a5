import { Inject, Injectable, Optional } from '@nestjs/common';
import type { CatalogModel, CatalogRoute } from '#contracts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { DiscoveryService } from '../models/discovery.service.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
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

/**
 * Picks and orders the providers that may serve one request. It knows nothing about any
 * single provider: only their state (enabled, configured, breaker, health).
 */
@Injectable()
export class RouterService {
  private readonly settings: RoutingSettingsService;
  /** Replaceable in tests. */
  random: () => number = Math.random;

  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
    /** Live model lists: routes the provider no longer offers are skipped unless pinned. */
    @Optional() private readonly discovery?: DiscoveryService,
    /** The strategy chosen in the console; ROUTING_STRATEGY when absent (unit tests). */
    @Optional() settings?: RoutingSettingsService,
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
    return { candidates: this.order(candidates), skipped };
  }

  private order(candidates: Candidate[]): Candidate[] {
    if (candidates.length < 2) return candidates;
    switch (this.settings.strategy) {
      case 'priority': {
        // Lower priority number first; the catalog's route order breaks ties.
        const rank = (c: Candidate) => c.provider.priority ?? Number.MAX_SAFE_INTEGER;
        return candidates
          .map((c, i) => ({ c, i }))
          .sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i)
          .map((x) => x.c);
      }
      case 'latency': {
        // Unmeasured providers go first, so they get measured.
        const latency = (c: Candidate) => c.provider.health.latencyMs ?? -1;
        return [...candidates].sort((a, b) => latency(a) - latency(b));
      }
      default: {
        // Weight 0: only when every weighted provider failed (in health order among themselves).
        const weighted = candidates.filter((c) => c.provider.weight > 0);
        const last = candidates.filter((c) => c.provider.weight <= 0);
        const shuffled = weightedShuffle(weighted, (c) => c.provider.health.successScore * c.provider.weight, this.random);
        return [...shuffled, ...last];
      }
    }
  }
}
