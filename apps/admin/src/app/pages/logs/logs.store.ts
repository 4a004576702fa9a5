import { DestroyRef, Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { type Observable, type Subscription, catchError, forkJoin, map, of, tap } from 'rxjs';
import type { ClientKey, RequestLogPage } from '#contracts';
import { ApiService } from '../../core/api.service';
import { type PollStatus, pollingResource } from '../../core/polling';
import { DEFAULT_QUERY, type LogQuery, apiParams, hasFilters, logRow, queryKey, rangeError } from './logs-view';

/** How often the log refreshes while auto refresh is on (ms). */
export const LOGS_POLL_MS = new InjectionToken<number>('LOGS_POLL_MS', { providedIn: 'root', factory: () => 5000 });

/** Key names (for the 密钥 column) are re-read every Nth refresh. */
export const KEYS_EVERY_N_POLLS = 12;

export type LogsStatus = PollStatus;

/** What the filters offer: providers, model ids and client keys. */
export interface LogFilterOptions {
  providers: string[];
  models: string[];
  keys: ClientKey[];
}

const swallow = <T>(fallback: T) => catchError<T, Observable<T>>(() => of(fallback));

/**
 * The request log: one page for the query the URL holds, refreshed every few seconds while auto
 * refresh is on (by default on page 1 only: on later pages new requests would shift the rows
 * under the reader), with the filters' choices loaded alongside.
 */
@Injectable()
export class LogsStore {
  private readonly api = inject(ApiService);
  private polls = 0;
  private readonly poll = pollingResource<RequestLogPage>({
    intervalMs: inject(LOGS_POLL_MS),
    auto: () => this.autoRefresh(),
    fetch: () => {
      const q = this.query();
      if (rangeError(q)) return null;
      if (++this.polls % KEYS_EVERY_N_POLLS === 0) this.loadOptions(false);
      const key = queryKey(q);
      return this.api.logs(apiParams(q, Date.now())).pipe(tap(() => this.pageKey.set(key)));
    },
  });

  readonly query = signal<LogQuery>(DEFAULT_QUERY);
  readonly page = this.poll.data;
  /** queryKey() of the query `page` answers. */
  private readonly pageKey = signal<string | null>(null);
  readonly failure = this.poll.failure;
  readonly busy = this.poll.busy;
  readonly updatedAt = this.poll.updatedAt;
  readonly autoRefresh = signal(true);
  readonly options = signal<LogFilterOptions>({ providers: [], models: [], keys: [] });
  /** requestIds of the rows opened to show their attempts. */
  readonly expanded = signal<ReadonlySet<string>>(new Set());

  /** A custom range that cannot be asked for (start after end). */
  readonly invalidRange = computed(() => rangeError(this.query()));
  readonly status = this.poll.status;
  readonly stale = this.poll.stale;
  /** The rows shown answer an earlier query (a filter or page change is loading). */
  readonly switching = computed(() => this.page() !== null && this.pageKey() !== queryKey(this.query()));
  readonly filtered = computed(() => hasFilters(this.query()));
  readonly keyNames = computed(() => new Map(this.options().keys.map((k) => [k.id, k.name])));
  readonly rows = computed(() => {
    const names = this.keyNames();
    const now = this.updatedAt() ?? Date.now();
    return (this.page()?.items ?? []).map((e) => logRow(e, names, now));
  });

  private optionsSub: Subscription | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
  }

  /** Loads the page for the current query and the filters' choices. */
  start(): void {
    if (this.poll.running) return;
    this.loadOptions(true);
    this.poll.start();
  }

  stop(): void {
    this.poll.stop();
    this.optionsSub?.unsubscribe();
  }

  /**
   * Shows another query (the URL changed). Moving to another page turns auto refresh on for
   * page 1 and off for the others.
   */
  setQuery(q: LogQuery): void {
    const previous = this.query();
    if (queryKey(q) === queryKey(previous)) return;
    this.query.set(q);
    if (q.page !== previous.page) this.autoRefresh.set(q.page === 1);
    if (this.poll.running) this.refresh();
  }

  setAutoRefresh(on: boolean): void {
    if (on === this.autoRefresh()) return;
    this.autoRefresh.set(on);
    if (on) this.refresh();
    else this.poll.reschedule();
  }

  toggleExpanded(id: string): void {
    const next = new Set(this.expanded());
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.expanded.set(next);
  }

  /** Fetches now (cancelling a fetch under way); with auto refresh on, schedules the next. */
  refresh(): void {
    void this.poll.refresh();
  }

  /** Providers, models and keys for the filters; a failure leaves a choice empty, not the page broken. */
  private loadOptions(all: boolean): void {
    const previous = this.options();
    this.optionsSub?.unsubscribe();
    this.optionsSub = forkJoin({
      providers: all
        ? this.api.providers().pipe(
            map((list) => list.map((p) => p.name).sort((a, b) => a.localeCompare(b))),
            swallow(previous.providers),
          )
        : of(previous.providers),
      models: all
        ? this.api.models().pipe(
            map((list) => list.models.map((m) => m.id).sort((a, b) => a.localeCompare(b))),
            swallow(previous.models),
          )
        : of(previous.models),
      keys: this.api.clientKeys().pipe(
        map((list) => list.data),
        swallow(previous.keys),
      ),
    }).subscribe((options) => this.options.set(options));
  }
}
