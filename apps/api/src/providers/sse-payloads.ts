import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';
import { UpstreamError, type ChatEvent } from './provider-adapter.ts';
import type { SseEvent } from './sse-parser.ts';

export const streamCutShort = () => new UpstreamError('network', 'the upstream stream ended before [DONE]');

/**
 * Events that are not JSON skipped in one stream before it counts as broken. A proxy or a
 * provider's bug sometimes garbles one event of a good answer, and peers skip it; a stream that
 * keeps sending garbage is failed (over, before any content reached the client).
 */
export const MAX_MALFORMED_EVENTS = 3;

const notJson = (count: number, last: string) => new UpstreamError('invalid', `${count} stream events were not JSON, the last: ${last}`);

export interface ChatStreamOptions {
  /** Events to emit at `data: [DONE]`, before completing. */
  atDone?: readonly ChatEvent[];
  /** Told of each skipped event that was not JSON (its start, for the log). */
  onMalformed?: (sample: string) => void;
}

/**
 * Chat events of an OpenAI-style event stream: each JSON payload through `toEvents`, up to
 * `data: [DONE]`, which completes the stream (and, unsubscribing, lets the rest of the body
 * drain), after `atDone` if given. A body that ends without [DONE] was cut short, unless
 * `toEvents` already gave a finish reason: some servers omit [DONE] after one. Up to
 * MAX_MALFORMED_EVENTS events that are not JSON are skipped (and reported); one more fails it.
 */
export function chatStreamEvents(toEvents: (json: unknown) => readonly ChatEvent[], options: ChatStreamOptions = {}): OperatorFunction<SseEvent, ChatEvent> {
  return (source) => new Observable<ChatEvent>((subscriber) => source.subscribe(new ChatStreamReader(subscriber, toEvents, options)));
}

/**
 * The source's observer for chatStreamEvents: one object with its state, not three closures and
 * their scope, for every open stream.
 */
class ChatStreamReader {
  private finished = false;
  private malformed = 0;
  private parsed = 0;
  private lastMalformed = '';

  constructor(
    private readonly subscriber: Subscriber<ChatEvent>,
    private readonly toEvents: (json: unknown) => readonly ChatEvent[],
    private readonly options: ChatStreamOptions,
  ) {}

  next(event: SseEvent): void {
    const { subscriber } = this;
    const data = event.data.trim();
    if (data === '[DONE]') {
      for (const e of this.options.atDone ?? []) subscriber.next(e);
      return subscriber.complete();
    }
    // Errors are handed on, not thrown: a throwing handler would not reach the subscriber
    // (RxJS reports it as unhandled).
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      this.lastMalformed = data.slice(0, 80);
      if (++this.malformed > MAX_MALFORMED_EVENTS) return subscriber.error(notJson(this.malformed, this.lastMalformed));
      return this.options.onMalformed?.(this.lastMalformed);
    }
    this.parsed++;
    let events: readonly ChatEvent[];
    try {
      events = this.toEvents(json);
    } catch (err) {
      return subscriber.error(err);
    }
    for (const e of events) {
      if (e.type === 'finish') this.finished = true;
      subscriber.next(e);
    }
  }

  error(err: unknown): void {
    this.subscriber.error(err);
  }

  complete(): void {
    if (this.finished) return this.subscriber.complete();
    // Nothing but garbage is an invalid answer, not one cut short.
    this.subscriber.error(this.malformed > 0 && this.parsed === 0 ? notJson(this.malformed, this.lastMalformed) : streamCutShort());
  }
}
