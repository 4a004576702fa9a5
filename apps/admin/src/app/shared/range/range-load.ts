import { DestroyRef, type WritableSignal, inject, signal } from '@angular/core';
import type { Observable, Subscription } from 'rxjs';
import type { StatsRange } from '#contracts';
import { describeApiError } from '../../core/api-error';

export interface RangeLoadOptions<T> {
  fetch: (range: StatsRange) => Observable<T>;
  /** The range shown first (loaded by the first load()). */
  initial: StatsRange;
  /** Keep the last answer on screen while the next range loads (a chart), or clear it (a table that would mislead). */
  keepWhileLoading: boolean;
}

/**
 * One range's data at a time, for a view that offers a few ranges: a newer pick cancels the load
 * under way (a slow earlier answer never replaces a later one); a failure is said, not thrown.
 * Cancels its load when the injector it was created in is destroyed. Create in an injection context.
 */
export class RangeLoad<T> {
  readonly range: WritableSignal<StatsRange>;
  readonly data = signal<T | null>(null);
  readonly busy = signal(false);
  /** Why the last load failed (in Chinese), cleared by the next pick. */
  readonly error = signal<string | null>(null);
  private sub: Subscription | undefined;

  constructor(private readonly options: RangeLoadOptions<T>) {
    this.range = signal(options.initial);
    inject(DestroyRef).onDestroy(() => this.sub?.unsubscribe());
  }

  /** Shows `range`, cancelling a load under way. */
  load(range: StatsRange): void {
    this.range.set(range);
    this.sub?.unsubscribe();
    this.busy.set(true);
    this.error.set(null);
    if (!this.options.keepWhileLoading) this.data.set(null);
    this.sub = this.options.fetch(range).subscribe({
      next: (value) => {
        this.data.set(value);
        this.busy.set(false);
      },
      error: (err: unknown) => {
        this.busy.set(false);
        this.error.set(describeApiError(err).message);
      },
    });
  }
}
