import { Observable, from, type ObservableInput, type Subscription } from 'rxjs';
import { UpstreamError } from './provider-adapter.ts';

const toUpstreamError = (err: unknown) => (err instanceof UpstreamError ? err : new UpstreamError('network', String((err as Error)?.message ?? err)));

/**
 * Turns an upstream call into a cold Observable: `open` sends the request and resolves to what
 * the answer emits (an array for a whole answer, an Observable for a stream). Subscribing starts
 * it; unsubscribing before it has finished aborts the signal it was given, which aborts the
 * upstream HTTP request. A call that finished is left alone: aborting costs an exception object
 * per request for nothing.
 */
export function observeUpstream<T>(open: (signal: AbortSignal) => Promise<ObservableInput<T>>, outer?: AbortSignal): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuterAbort, { once: true });
    let finished = false;
    let answer: Subscription | undefined;
    const fail = (err: unknown) => {
      finished = true;
      subscriber.error(toUpstreamError(err));
    };
    // A throw while subscribing to the answer (not an ObservableInput, say) fails this call like a
    // rejection: left in the promise chain it would be an unhandled rejection, which ends the process.
    open(controller.signal)
      .then((input) => {
        if (subscriber.closed) return;
        answer = from(input).subscribe({
          next: (value) => subscriber.next(value),
          error: fail,
          complete: () => {
            finished = true;
            subscriber.complete();
          },
        });
      })
      .catch(fail);
    return () => {
      outer?.removeEventListener('abort', onOuterAbort);
      answer?.unsubscribe();
      if (!finished) controller.abort();
    };
  });
}
