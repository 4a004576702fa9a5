import { Observable } from 'rxjs';
import { UpstreamError } from './provider-adapter.ts';

/**
 * Turns an async producer into a cold Observable. Subscribing starts it; unsubscribing
 * aborts the signal it was given, which aborts the upstream HTTP request.
 */
export function observeUpstream<T>(produce: (signal: AbortSignal) => AsyncIterable<T>, outer?: AbortSignal): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
    void (async () => {
      try {
        for await (const value of produce(signal)) {
          if (subscriber.closed) return;
          subscriber.next(value);
        }
        subscriber.complete();
      } catch (err) {
        if (!subscriber.closed) subscriber.error(err instanceof UpstreamError ? err : new UpstreamError('network', String((err as Error)?.message ?? err)));
      }
    })();
    return () => controller.abort();
  });
}
