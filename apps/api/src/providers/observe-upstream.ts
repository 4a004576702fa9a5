import { Observable, from, type ObservableInput, type Subscriber, type Subscription, type Unsubscribable } from 'rxjs';
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
  return new Observable<T>((subscriber) => new UpstreamCall(subscriber, outer).start(open));
}

/**
 * One call of observeUpstream: the answer's observer, the outer signal's listener (handleEvent)
 * and the teardown (unsubscribe) as one object, not a closure each (and their scope) for every
 * open stream.
 */
class UpstreamCall<T> {
  private readonly controller = new AbortController();
  private finished = false;
  private answer: Subscription | undefined;

  constructor(
    private readonly subscriber: Subscriber<T>,
    private readonly outer: AbortSignal | undefined,
  ) {}

  start(open: (signal: AbortSignal) => Promise<ObservableInput<T>>): Unsubscribable {
    const { outer } = this;
    if (outer?.aborted) this.controller.abort(outer.reason);
    else outer?.addEventListener('abort', this, { once: true });
    // A throw while subscribing to the answer (not an ObservableInput, say) fails this call like a
    // rejection: left in the promise chain it would be an unhandled rejection, which ends the process.
    open(this.controller.signal)
      .then((input) => {
        if (this.subscriber.closed) return;
        this.answer = from(input).subscribe(this);
      })
      .catch((err: unknown) => this.error(err));
    return this;
  }

  /** The outer signal aborted. */
  handleEvent(): void {
    this.controller.abort(this.outer?.reason);
  }

  next(value: T): void {
    this.subscriber.next(value);
  }

  error(err: unknown): void {
    this.finished = true;
    this.subscriber.error(toUpstreamError(err));
  }

  complete(): void {
    this.finished = true;
    this.subscriber.complete();
  }

  unsubscribe(): void {
    this.outer?.removeEventListener('abort', this);
    this.answer?.unsubscribe();
    if (!this.finished) this.controller.abort();
  }
}
