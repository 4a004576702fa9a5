import { Observable } from 'rxjs';
import { UpstreamError } from './provider-adapter.ts';

/**
 * Turns an async producer into a cold Observable. Subscribing starts it; unsubscribing before it
 * has finished aborts the signal it was given, which aborts the upstream HTTP request. A producer
 * that finished is left alone: aborting costs an exception object per request for nothing.
 */
export function observeUpstream<T>(produce: (signal: AbortSignal) => AsyncIterable<T>, outer?: AbortSignal): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    let finished = false;
    void (async () => {
      try {
        for await (const value of produce(controller.signal)) {
          if (subscriber.closed) return;
          subscriber.next(value);
        }
        finished = true;
        subscriber.complete();
      } catch (err) {
        finished = true;
        if (!subscriber.closed) subscriber.error(err instanceof UpstreamError ? err : new UpstreamError('network', String((err as Error)?.message ?? err)));
      }
    })();
    return () => {
      outer?.removeEventListener('abort', onOuterAbort);
      if (!finished) controller.abort();
    };
  });
}
