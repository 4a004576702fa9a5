import { DOCUMENT, DestroyRef, Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { type Observable, type Subscription, catchError, forkJoin, map, of } from 'rxjs';
import type { ClientKey, RequestLogPage } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { DEFAULT_QUERY, type LogQuery, apiParams, hasFilters, logRow, queryKey, rangeError } from './logs-view';

/** How often the log refreshes while auto refresh is on (ms). */
export const LOGS_POLL_MS = new InjectionToken<number>('LOGS_POLL_MS', { providedIn: 'root', factory: () => 5000 });

/** Key names (for the 密钥 column) are re-read every Nth refresh. */
export const KEYS_EVERY_N_POLLS = 12;

export type LogsStatus = 'loading' | 'ready' | 'unreachable' | 'error';

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
  private readonly document = inject(DOCUMENT);
  private readonly pollMs = inject(LOGS_POLL_MS);

  readonly query = signal<LogQuery>(DEFAULT_QUERY);
  readonly page = signal<RequestLogPage | null>(null);
  /** queryKey() of the query `page` answers. */
  private readonly pageKey = signal<string | null>(null);
  readonly failure = signal<ApiFailure | null>(null);
  readonly busy = signal(false);
  readonly updatedAt = signal<number | null>(null);
  readonly autoRefresh = signal(true);
  readonly options = signal<LogFilterOptions>({ providers: [], models: [], keys: [] });
  /** requestIds of the rows opened to show their attempts. */
  readonly expanded = signal<ReadonlySet<string>>(new Set());

  /** A custom range that cannot be asked for (start after end). */
  readonly invalidRange = computed(() => rangeError(this.query()));
  readonly status = computed<LogsStatus>(() => {
    if (this.page()) return 'ready';
    const f = this.failure();
    if (!f) return 'loading';
    return f.kind === 'unreachable' ? 'unreachable' : 'error';
  });
  readonly stale = computed(() => this.page() !== null && this.failure() !== null);
  /** The rows shown answer an earlier query (a filter or page change is loading). */
  readonly switching = computed(() => this.page() !== null && this.pageKey() !== queryKey(this.query()));
  readonly filtered = computed(() => hasFilters(this.query()));
  readonly keyNames = computed(() => new Map(this.options().keys.map((k) => [k.id, k.name])));
  readonly rows = computed(() => {
    const names = this.keyNames();
    const now = this.updatedAt() ?? Date.now();
    return (this.page()?.items ?? []).map((e) => logRow(e, names, now));
  });

  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Subscription | undefined;
  private optionsSub: Subscription | undefined;
  private polls = 0;
  private readonly onVisibility = () => {
    if (this.running && this.autoRefresh() && !this.document.hidden) this.refresh();
  };

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
  }

  /** Loads the page for the current query and the filters' choices. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.document.addEventListener('visibilitychange', this.onVisibility);
    this.loadOptions(true);
    this.refresh();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inflight?.unsubscribe();
    this.inflight = undefined;
    this.optionsSub?.unsubscribe();
    this.busy.set(false);
    this.document.removeEventListener('visibilitychange', this.onVisibility);
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
    if (this.running) this.refresh();
  }

  setAutoRefresh(on: boolean): void {
    if (on === this.autoRefresh()) return;
    this.autoRefresh.set(on);
    if (on) this.refresh();
    else {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  toggleExpanded(id: string): void {
    const next = new Set(this.expanded());
    if (next.has(id)) next.delete(id);
    else next.add(id);
    this.expanded.set(next);
  }

  /** Fetches now (cancelling a fetch under way); with auto refresh on, schedules the next. */
  refresh(): void {
    clearTimeout(this.timer);
    this.inflight?.unsubscribe();
    const q = this.query();
    if (rangeError(q)) {
      this.busy.set(false);
      return;
    }
    if (++this.polls % KEYS_EVERY_N_POLLS === 0) this.loadOptions(false);
    const key = queryKey(q);
    this.busy.set(true);
    this.inflight = this.api.logs(apiParams(q, Date.now())).subscribe({
      next: (page) => {
        this.page.set(page);
        this.pageKey.set(key);
        this.failure.set(null);
        this.updatedAt.set(Date.now());
        this.busy.set(false);
        this.schedule();
      },
      error: (err: unknown) => {
        const failure = describeApiError(err);
        this.failure.set(failure);
        this.busy.set(false);
        if (failure.kind !== 'unauthorized') this.schedule();
      },
    });
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

  private schedule(): void {
    if (!this.running || !this.autoRefresh()) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.document.hidden ? this.schedule() : this.refresh()), this.pollMs);
  }
}
