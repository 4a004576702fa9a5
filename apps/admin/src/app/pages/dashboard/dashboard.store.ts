import { Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { type Observable, forkJoin, of, tap } from 'rxjs';
import type { StatsRange } from '#contracts';
import { ApiService } from '../../core/api.service';
import { budgetWarnings } from '../../core/quota-view';
import { BROWSER_STORAGE, STORAGE_KEYS } from '../../core/browser';
import { type PollStatus, type PollingResource, pollingResource } from '../../core/polling';
import { DEFAULT_RANGE, type DashboardSnapshot, RANGE_OPTIONS, providerRows, rangeOption, snippetModel, summarize } from './dashboard-view';

/** How often the dashboard polls (ms). */
export const DASHBOARD_POLL_MS = new InjectionToken<number>('DASHBOARD_POLL_MS', { providedIn: 'root', factory: () => 5000 });

/** The model list changes rarely (and is the largest answer): fetched on every Nth poll only. */
export const MODELS_EVERY_N_POLLS = 6;

/** See PollStatus. */
export type DashboardStatus = PollStatus;

/**
 * The dashboard's data and its live refresh: polls providers every few seconds while the page is
 * visible, the range's stats as often as the range calls for (RangeOption.statsEveryMs) and now
 * and then the model list; after a failure it keeps the last data,
 * says so, and keeps retrying. A 401 stops it (the interceptor has gone to 登录).
 */
@Injectable()
export class DashboardStore {
  private readonly api = inject(ApiService);
  private readonly storage = inject(BROWSER_STORAGE);
  private readonly pollMs = inject(DASHBOARD_POLL_MS);
  private polls = 0;
  /** When the shown stats were asked for (epoch ms). */
  private statsAskedAt = 0;
  /** The next fetch asks for the stats whether or not they are due (刷新). */
  private statsWanted = false;
  private readonly poll: PollingResource<DashboardSnapshot> = pollingResource({
    intervalMs: this.pollMs,
    fetch: (): Observable<DashboardSnapshot> => {
      const range = this.range();
      const previous = this.snapshot();
      const askedAt = Date.now();
      const needStats = this.statsDue(previous, askedAt);
      const needModels = !previous?.models || this.polls % MODELS_EVERY_N_POLLS === 0;
      this.polls++;
      return forkJoin({
        stats: needStats ? this.api.stats(range, rangeOption(range).granularity) : of(previous!.stats),
        providers: this.api.providers(),
        models: needModels ? this.api.models() : of(previous!.models),
      }).pipe(
        tap(() => {
          if (!needStats) return;
          this.statsAskedAt = askedAt;
          this.statsWanted = false;
        }),
      );
    },
  });

  readonly ranges = RANGE_OPTIONS;
  readonly range = signal<StatsRange>(this.storedRange());
  readonly snapshot = this.poll.data;
  /** The last poll's failure; cleared by the next success. */
  readonly failure = this.poll.failure;
  /** A request is in flight. */
  readonly busy = this.poll.busy;
  /** When the shown data arrived (epoch ms). */
  readonly updatedAt = this.poll.updatedAt;
  readonly status = this.poll.status;
  /** Showing data from before the latest failure. */
  readonly stale = this.poll.stale;
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
  /** Providers near or past a free-tier budget (the quota ledger), worst first; as of the last poll. */
  readonly budgetWarnings = computed(() => {
    const s = this.snapshot();
    return s ? budgetWarnings(s.providers, this.updatedAt() ?? Date.now()) : [];
  });
  /** No request at all in the range: the charts give way to a hint. */
  readonly empty = computed(() => this.snapshot()?.stats.totals.requests === 0);
  readonly snippetModel = computed(() => {
    const s = this.snapshot();
    return snippetModel(s?.models ?? null, s?.providers ?? []);
  });

  /** Loads now, then every pollMs while running (skipping polls while the tab is hidden). */
  start(): void {
    this.poll.start();
  }

  stop(): void {
    this.poll.stop();
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

  /** Fetches everything now, the stats included (cancelling a fetch under way), then schedules the next poll. */
  refresh(): void {
    this.statsWanted = true;
    void this.poll.refresh();
  }

  /**
   * The stats are asked for on a poll only when the range's period has passed (a long range's
   * chart barely moves between polls, and is the largest answer): providers stay live meanwhile.
   */
  private statsDue(previous: DashboardSnapshot | null, now: number): boolean {
    const range = this.range();
    if (this.statsWanted || !previous || previous.stats.range !== range) return true;
    return now - this.statsAskedAt >= rangeOption(range).statsEveryMs;
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
