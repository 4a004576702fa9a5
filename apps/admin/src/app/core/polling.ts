import { DOCUMENT, DestroyRef, type Signal, computed, inject, signal } from '@angular/core';
import type { Observable, Subscription } from 'rxjs';
import { type ApiFailure, describeApiError } from './api-error';

/**
 * `loading`: nothing to show yet; `ready`: data (perhaps stale, see `failure`); `unreachable` /
 * `error`: the first load failed.
 */
export type PollStatus = 'loading' | 'ready' | 'unreachable' | 'error';

/** What a page needs to show its states: the status, the last failure and how old the data is. */
export interface PollState {
  readonly status: Signal<PollStatus>;
  readonly failure: Signal<ApiFailure | null>;
  readonly stale: Signal<boolean>;
  readonly updatedAt: Signal<number | null>;
}

export interface PollingOptions<T> {
  /**
   * Starts one fetch (called on every refresh and poll). Null when there is nothing to ask for now
   * (an invalid query): the fetch under way is dropped and no poll is scheduled.
   */
  fetch: () => Observable<T> | null;
  /** Time between polls (ms); null (the default): fetch on demand only. */
  intervalMs?: number | null;
  /** Whether to poll on, read whenever a poll would be scheduled (default: always). */
  auto?: () => boolean;
}

/** What is read from `document`: whether the tab is hidden, and when that changes. */
export interface VisibilitySource {
  readonly hidden: boolean;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

/**
 * One piece of API data kept fresh: fetches on `start()` and `refresh()`, then every `intervalMs`
 * while running and `auto()` says so. A refresh cancels the fetch under way. A hidden tab skips
 * polls; showing it again refreshes at once. After a failure it keeps the last data (`stale`),
 * says why (`failure`) and keeps polling, except on 401/403 (the interceptor has gone to 登录).
 * Stops with the injector it was created in.
 */
export class PollingResource<T> implements PollState {
  /** The last data fetched; writable so that an action's answer can be put in at once. */
  readonly data = signal<T | null>(null);
  private readonly failureState = signal<ApiFailure | null>(null);
  private readonly busyState = signal(false);
  private readonly updatedAtState = signal<number | null>(null);
  /** The last fetch's failure; cleared by the next success. */
  readonly failure = this.failureState.asReadonly();
  /** A fetch is in flight. */
  readonly busy = this.busyState.asReadonly();
  /** When the data arrived (epoch ms). */
  readonly updatedAt = this.updatedAtState.asReadonly();
  readonly status = computed<PollStatus>(() => {
    if (this.data() !== null) return 'ready';
    const f = this.failure();
    if (!f) return 'loading';
    return f.kind === 'unreachable' ? 'unreachable' : 'error';
  });
  /** Showing data from before the latest failure. */
  readonly stale = computed(() => this.data() !== null && this.failure() !== null);

  private readonly fetch: () => Observable<T> | null;
  private readonly intervalMs: number | null;
  private readonly auto: () => boolean;
  private active = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Subscription | undefined;
  private settle: (() => void) | undefined;
  private readonly onVisibility = () => {
    if (this.active && this.auto() && !this.document.hidden) void this.refresh();
  };

  constructor(
    options: PollingOptions<T>,
    private readonly document: VisibilitySource,
    destroyRef?: DestroyRef,
  ) {
    this.fetch = options.fetch;
    this.intervalMs = options.intervalMs ?? null;
    this.auto = options.auto ?? (() => true);
    destroyRef?.onDestroy(() => this.stop());
  }

  /** Between start() and stop(). */
  get running(): boolean {
    return this.active;
  }

  /** Fetches now, then polls while running. */
  start(): void {
    if (this.active) return;
    this.active = true;
    if (this.intervalMs !== null) this.document.addEventListener('visibilitychange', this.onVisibility);
    void this.refresh();
  }

  /** Stops polling and cancels the fetch under way; the data stays. */
  stop(): void {
    this.active = false;
    this.clearTimer();
    this.cancel();
    this.busyState.set(false);
    this.document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /**
   * Fetches now (cancelling a fetch under way), then schedules the next poll. Resolves when this
   * fetch has settled, or was cancelled.
   */
  refresh(): Promise<void> {
    this.clearTimer();
    this.cancel();
    const source = this.fetch();
    if (!source) {
      this.busyState.set(false);
      return Promise.resolve();
    }
    this.busyState.set(true);
    return new Promise<void>((resolve) => {
      this.settle = resolve;
      const sub = source.subscribe({
        next: (value) => {
          this.data.set(value);
          this.failureState.set(null);
          this.updatedAtState.set(Date.now());
          this.busyState.set(false);
          this.schedule();
          this.done(resolve);
        },
        error: (err: unknown) => {
          const failure = describeApiError(err);
          this.failureState.set(failure);
          this.busyState.set(false);
          // 401/403: the interceptor has sent the admin to 登录; polling on would only fail again.
          if (failure.kind !== 'unauthorized') this.schedule();
          this.done(resolve);
        },
        complete: () => {
          // Completed without a value: nothing new, but not a failure either.
          if (this.settle !== resolve) return;
          this.busyState.set(false);
          this.schedule();
          this.done(resolve);
        },
      });
      if (this.settle === resolve) this.inflight = sub;
    });
  }

  /** Call when `auto()` may have changed: drops the pending poll and, if polling is on, waits a full interval. */
  reschedule(): void {
    this.clearTimer();
    this.schedule();
  }

  private schedule(): void {
    if (!this.active || this.intervalMs === null || !this.auto()) return;
    this.clearTimer();
    // A hidden tab skips polls; becoming visible again refreshes at once (onVisibility).
    this.timer = setTimeout(() => (this.document.hidden ? this.schedule() : void this.refresh()), this.intervalMs);
  }

  private done(resolve: () => void): void {
    if (this.settle !== resolve) return;
    this.settle = undefined;
    this.inflight = undefined;
    resolve();
  }

  private cancel(): void {
    this.inflight?.unsubscribe();
    this.inflight = undefined;
    const settle = this.settle;
    this.settle = undefined;
    settle?.();
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A PollingResource watching this injector's document, stopped when the injector is destroyed. Call in an injection context. */
export function pollingResource<T>(options: PollingOptions<T>): PollingResource<T> {
  return new PollingResource(options, inject(DOCUMENT), inject(DestroyRef));
}
