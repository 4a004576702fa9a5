import { Injectable, inject, signal } from '@angular/core';
import { type Observable, catchError, firstValueFrom, forkJoin, map, of, tap } from 'rxjs';
import type { AdminModelList, DiscoveryRefreshResult, ModelDiscovery, ModelRouting, ProviderDetail, SetModelRoutingRequest } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { type PollStatus, pollingResource } from '../../core/polling';
import { withRoutes } from './models-view';

/** See PollStatus. */
export type ModelsStatus = PollStatus;

/** What an action (refresh, pin, unpin) came to. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: ApiFailure };

export interface LastRefresh {
  /** When the refresh answered (epoch ms). */
  at: number;
  results: DiscoveryRefreshResult[];
}

/**
 * The model catalog with each route's discovery state (`GET /api/models`) and the providers'
 * runtime status (`GET /api/providers`, to say whether a route can be used right now), plus the
 * page's actions: refresh discovery, pin and unpin a route.
 */
@Injectable()
export class ModelsStore {
  private readonly api = inject(ApiService);

  /** Loaded on demand (load()), never polled. */
  private readonly resource = pollingResource<AdminModelList>({
    fetch: () =>
      forkJoin({
        list: this.api.models(),
        // The providers only refine "usable now": the page works without them.
        providers: this.api.providers().pipe(catchError(() => of(null))),
        // Only the cards' 强制 / 自定义路由 tags: the page works without them.
        routings: this.api.modelRoutings().pipe(catchError(() => of(null))),
      }).pipe(
        tap(({ providers, routings }) => {
          this.providers.set(providers);
          this.routings.set(routings ? new Map(routings.items.map((r) => [r.model, r])) : new Map());
        }),
        map(({ list }) => list),
      ),
  });

  readonly list = this.resource.data;
  /** Null when unknown (not loaded, or that call failed): routes are then judged by discovery alone. */
  readonly providers = signal<ProviderDetail[] | null>(null);
  /** The models with their own routing (order, weights, forced provider), by model id. */
  readonly routings = signal<ReadonlyMap<string, ModelRouting>>(new Map());
  /** The last load's failure; cleared by the next success. */
  readonly failure = this.resource.failure;
  /** A load is in flight. */
  readonly busy = this.resource.busy;
  readonly updatedAt = this.resource.updatedAt;
  /** A discovery refresh is in flight. */
  readonly refreshing = signal(false);
  readonly lastRefresh = signal<LastRefresh | null>(null);
  /** Route keys (`model\nprovider`) with a pin or unpin in flight. */
  readonly pinning = signal<ReadonlySet<string>>(new Set());

  readonly status = this.resource.status;
  /** Showing data from before the latest failed load. */
  readonly stale = this.resource.stale;

  /** (Re)loads the catalog and the providers' status, cancelling a load under way. */
  load(): Promise<void> {
    return this.resource.refresh();
  }

  /**
   * Fetches every provider's model list now, keeps the result, then reloads the catalog. Null
   * when a refresh is already running (the button is disabled meanwhile).
   */
  async refreshDiscovery(): Promise<Outcome<DiscoveryRefreshResult[]> | null> {
    if (this.refreshing()) return null;
    this.refreshing.set(true);
    try {
      const outcome = await attempt(this.api.refreshDiscovery());
      if (outcome.ok) {
        const at = Date.now();
        // The result shows with the routes it changed, not before them.
        await this.load();
        this.lastRefresh.set({ at, results: outcome.value });
      }
      return outcome;
    } finally {
      this.refreshing.set(false);
    }
  }

  pin(model: string, provider: string): Promise<Outcome<ModelDiscovery>> {
    return this.changePin(model, provider, this.api.pinRoute(model, provider));
  }

  unpin(model: string, provider: string): Promise<Outcome<ModelDiscovery>> {
    return this.changePin(model, provider, this.api.unpinRoute(model, provider));
  }

  /** One model's routes as routing uses them, fresh (for 路由设置). */
  modelRouting(model: string): Promise<Outcome<ModelRouting>> {
    return attempt(this.api.modelRouting(model));
  }

  /** Saves a model's routing change (null: the providers' settings again); the card follows the answer. */
  async saveRouting(model: string, change: Partial<SetModelRoutingRequest> | null): Promise<Outcome<ModelRouting>> {
    const outcome = await attempt(change ? this.api.setModelRouting(model, change) : this.api.resetModelRouting(model));
    if (outcome.ok) this.applyRouting(outcome.value);
    return outcome;
  }

  isPinning(model: string, provider: string): boolean {
    return this.pinning().has(pinKey(model, provider));
  }

  private async changePin(model: string, provider: string, call: Observable<ModelDiscovery>): Promise<Outcome<ModelDiscovery>> {
    const key = pinKey(model, provider);
    this.pinning.update((s) => new Set(s).add(key));
    try {
      const outcome = await attempt(call);
      if (outcome.ok) this.applyRoutes(outcome.value);
      return outcome;
    } finally {
      this.pinning.update((s) => {
        const next = new Set(s);
        next.delete(key);
        return next;
      });
    }
  }

  private applyRouting(routing: ModelRouting): void {
    this.routings.update((all) => {
      const next = new Map(all);
      if (routing.custom || routing.forced) next.set(routing.model, routing);
      else next.delete(routing.model);
      return next;
    });
  }

  /** Puts a model's new routes (a pin's answer) into the list without reloading it. */
  private applyRoutes(found: ModelDiscovery): void {
    this.list.update((list) => (list ? { ...list, models: list.models.map((m) => (m.id === found.model ? withRoutes(m, found.routes) : m)) } : list));
  }
}

function pinKey(model: string, provider: string): string {
  return `${model}\n${provider.toLowerCase()}`;
}

async function attempt<T>(call: Observable<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await firstValueFrom(call) };
  } catch (err) {
    return { ok: false, failure: describeApiError(err) };
  }
}
