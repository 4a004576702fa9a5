import { Injectable, computed, inject, signal } from '@angular/core';
import { type Observable, type Subscription, catchError, firstValueFrom, forkJoin, of } from 'rxjs';
import type { AdminModelList, DiscoveryRefreshResult, ModelDiscovery, ProviderDetail } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { withRoutes } from './models-view';

/** `loading`: nothing yet; `ready`: data (perhaps stale); `unreachable` / `error`: the first load failed. */
export type ModelsStatus = 'loading' | 'ready' | 'unreachable' | 'error';

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

  readonly list = signal<AdminModelList | null>(null);
  /** Null when unknown (not loaded, or that call failed): routes are then judged by discovery alone. */
  readonly providers = signal<ProviderDetail[] | null>(null);
  /** The last load's failure; cleared by the next success. */
  readonly failure = signal<ApiFailure | null>(null);
  /** A load is in flight. */
  readonly busy = signal(false);
  readonly updatedAt = signal<number | null>(null);
  /** A discovery refresh is in flight. */
  readonly refreshing = signal(false);
  readonly lastRefresh = signal<LastRefresh | null>(null);
  /** Route keys (`model\nprovider`) with a pin or unpin in flight. */
  readonly pinning = signal<ReadonlySet<string>>(new Set());

  readonly status = computed<ModelsStatus>(() => {
    if (this.list()) return 'ready';
    const f = this.failure();
    if (!f) return 'loading';
    return f.kind === 'unreachable' ? 'unreachable' : 'error';
  });
  /** Showing data from before the latest failed load. */
  readonly stale = computed(() => this.list() !== null && this.failure() !== null);

  private inflight: Subscription | undefined;

  /** (Re)loads the catalog and the providers' status, cancelling a load under way. */
  load(): Promise<void> {
    this.inflight?.unsubscribe();
    this.busy.set(true);
    return new Promise((resolve) => {
      this.inflight = forkJoin({
        list: this.api.models(),
        // The providers only refine "usable now": the page works without them.
        providers: this.api.providers().pipe(catchError(() => of(null))),
      }).subscribe({
        next: ({ list, providers }) => {
          this.list.set(list);
          this.providers.set(providers);
          this.failure.set(null);
          this.updatedAt.set(Date.now());
          this.busy.set(false);
          resolve();
        },
        error: (err: unknown) => {
          this.failure.set(describeApiError(err));
          this.busy.set(false);
          resolve();
        },
      });
    });
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
