import { DOCUMENT, DestroyRef, Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { type Subscription, forkJoin, of } from 'rxjs';
import type { StatsRange } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { BROWSER_STORAGE, STORAGE_KEYS } from '../../core/browser';
import { DEFAULT_RANGE, type DashboardSnapshot, RANGE_OPTIONS, providerRows, rangeOption, snippetModel, summarize } from './dashboard-view';

/** How often the dashboard polls (ms). */
export const DASHBOARD_POLL_MS = new InjectionToken<number>('DASHBOARD_POLL_MS', { providedIn: 'root', factory: () => 5000 });

/** The model list changes rarely (and is the largest answer): fetched on every Nth poll only. */
export const MODELS_EVERY_N_POLLS = 6;

/**
 * `loading`: nothing to show yet; `ready`: data (perhaps stale, see `failure`); `unreachable` /
 * `error`: the first load failed.
 */
export type DashboardStatus = 'loading' | 'ready' | 'unreachable' | 'error';

/**
 * The dashboard's data and its live refresh: polls stats, providers (and now and then the model
 * list) every few seconds while the page is visible; after a failure it keeps the last data,
 * says so, and keeps retrying. A 401 stops it (the interceptor has gone to 登录).
 */
@Injectable()
export class DashboardStore {
  private readonly api = inject(ApiService);
  private readonly storage = inject(BROWSER_STORAGE);
  private readonly document = inject(DOCUMENT);
  private readonly pollMs = inject(DASHBOARD_POLL_MS);

  readonly ranges = RANGE_OPTIONS;
  readonly range = signal<StatsRange>(this.storedRange());
  readonly snapshot = signal<DashboardSnapshot | null>(null);
  /** The last poll's failure; cleared by the next success. */
  readonly failure = signal<ApiFailure | null>(null);
  /** A request is in flight. */
  readonly busy = signal(false);
  /** When the shown data arrived (epoch ms). */
  readonly updatedAt = signal<number | null>(null);

  readonly status = computed<DashboardStatus>(() => {
    if (this.snapshot()) return 'ready';
    const f = this.failure();
    if (!f) return 'loading';
    return f.kind === 'unreachable' ? 'unreachable' : 'error';
  });
  /** Showing data from before the latest failure. */
  readonly stale = computed(() => this.snapshot() !== null && this.failure() !== null);
  /** The stats shown are for another range than the one picked (a range switch is loading). */
  readonly switchingRange = computed(() => {
    const s = this.snapshot();
    return s !== null && s.stats.range !== this.range();
  });
  readonly cards = computed(() => {
    const s = this.snapshot();
    return s ? summarize(s) : null;
  });
  readonly providers = computed(() => {
    const s = this.snapshot();
    return s ? providerRows(s.providers, s.stats) : [];
  });
  /** No request at all in the range: the charts give way to a hint. */
  readonly empty = computed(() => this.snapshot()?.stats.totals.requests === 0);
  readonly snippetModel = computed(() => {
    const s = this.snapshot();
    return snippetModel(s?.models ?? null, s?.providers ?? []);
  });

  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Subscription | undefined;
  private polls = 0;
  private readonly onVisibility = () => {
    if (this.running && !this.document.hidden) this.refresh();
  };

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
  }

  /** Loads now, then every pollMs while running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.document.addEventListener('visibilitychange', this.onVisibility);
    this.refresh();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight?.unsubscribe();
    this.inflight = undefined;
    this.busy.set(false);
    this.document.removeEventListener('visibilitychange', this.onVisibility);
  }

  setRange(range: StatsRange): void {
    if (range === this.range()) return;
    this.range.set(range);
    try {
      this.storage?.setItem(STORAGE_KEYS.statsRange, range);
    } catch {
      // not remembered
    }
    this.refresh();
  }

  /** Fetches now (cancelling a fetch under way), then schedules the next poll. */
  refresh(): void {
    clearTimeout(this.timer);
    this.inflight?.unsubscribe();
    const range = this.range();
    const previous = this.snapshot();
    const needModels = !previous?.models || this.polls % MODELS_EVERY_N_POLLS === 0;
    this.polls++;
    this.busy.set(true);
    this.inflight = forkJoin({
      stats: this.api.stats(range, rangeOption(range).granularity),
      providers: this.api.providers(),
      models: needModels ? this.api.models() : of(previous!.models),
    }).subscribe({
      next: (snapshot) => {
        this.snapshot.set(snapshot);
        this.failure.set(null);
        this.updatedAt.set(Date.now());
        this.busy.set(false);
        this.schedule();
      },
      error: (err: unknown) => {
        const failure = describeApiError(err);
        this.failure.set(failure);
        this.busy.set(false);
        // 401/403: the interceptor has sent the admin to 登录; polling on would only fail again.
        if (failure.kind !== 'unauthorized') this.schedule();
      },
    });
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    // A hidden tab skips polls; becoming visible again refreshes at once (onVisibility).
    this.timer = setTimeout(() => (this.document.hidden ? this.schedule() : this.refresh()), this.pollMs);
  }

  private storedRange(): StatsRange {
    let stored: string | null = null;
    try {
      stored = this.storage?.getItem(STORAGE_KEYS.statsRange) ?? null;
    } catch {
      // ignore
    }
    return RANGE_OPTIONS.find((o) => o.range === stored)?.range ?? DEFAULT_RANGE;
  }
}
