import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import type { Subscription } from 'rxjs';
import type { AttemptSummary, OpenAIErrorEnvelope, PlaygroundLimits } from '#contracts';
import { ApiService } from '../../core/api.service';

/** GET: the upload limit and the most embedding inputs, so the tabs refuse before sending. */
export const PLAYGROUND_LIMITS_URL = '/api/playground/limits';

/**
 * The server's playground limits, fetched once per page. Until they arrive (or when they cannot
 * be read) they are unknown and the tabs rely on the server's own refusal (413, 400).
 */
@Injectable()
export class PlaygroundLimitsLoader {
  private readonly http = inject(HttpClient);
  readonly limits = signal<PlaygroundLimits | null>(null);
  private asked = false;

  load(): void {
    if (this.asked) return;
    this.asked = true;
    this.http.get<PlaygroundLimits>(PLAYGROUND_LIMITS_URL).subscribe({
      next: (l) => this.limits.set(l),
      // An older gateway, or a moment of trouble: the server still refuses what is too big.
      error: () => (this.asked = false),
    });
  }
}

/** The attempts a failed request listed in its envelope (all providers failed), else []. */
export function errorAttempts(err: unknown): AttemptSummary[] {
  if (!(err instanceof HttpErrorResponse)) return [];
  let body: unknown = err.error;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return [];
    }
  }
  return (body as Partial<OpenAIErrorEnvelope> | null)?.error?.attempts ?? [];
}

export const requestIdOf = (err: unknown): string | null => (err instanceof HttpErrorResponse ? (err.headers?.get('x-request-id') ?? null) : null);

/**
 * Looks up a finished request's upstream tries in the request log (failover shows there); the
 * answer stands without them when the lookup fails.
 */
@Injectable()
export class AttemptsLookup {
  private readonly api = inject(ApiService);
  /** Lookups under way: dropped with the tab that asked (its answer would land on nothing). */
  private readonly pending = new Set<Subscription>();

  constructor() {
    inject(DestroyRef).onDestroy(() => this.pending.forEach((s) => s.unsubscribe()));
  }

  find(model: string, requestId: string | null, found: (attempts: AttemptSummary[]) => void): void {
    if (!requestId) return;
    const sub = this.api.recentRequests(model).subscribe({
      next: (page) => {
        const entry = page.items.find((e) => e.requestId === requestId);
        if (entry) found(entry.attempts);
      },
      error: () => undefined,
    });
    if (sub.closed) return;
    this.pending.add(sub);
    sub.add(() => this.pending.delete(sub));
  }
}
