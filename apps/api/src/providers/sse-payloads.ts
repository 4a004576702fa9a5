import { Observable, type OperatorFunction } from 'rxjs';
import { UpstreamError, type ChatEvent } from './provider-adapter.ts';
import type { SseEvent } from './sse-parser.ts';

export const streamCutShort = () => new UpstreamError('network', 'the upstream stream ended before [DONE]');

/**
 * Chat events of an OpenAI-style event stream: each JSON payload through `toEvents`, up to
 * `data: [DONE]`, which completes the stream (and, unsubscribing, lets the rest of the body
 * drain), after `atDone` if given. A body that ends without [DONE] was cut short, unless
 * `toEvents` already gave a finish reason: some servers omit [DONE] after one.
 */
export function chatStreamEvents(toEvents: (json: unknown) => readonly ChatEvent[], atDone: readonly ChatEvent[] = []): OperatorFunction<SseEvent, ChatEvent> {
  return (source) =>
    new Observable<ChatEvent>((subscriber) => {
      let finished = false;
      return source.subscribe({
        next(event) {
          const data = event.data.trim();
          if (data === '[DONE]') {
            for (const e of atDone) subscriber.next(e);
            return subscriber.complete();
          }
          // Errors are handed on, not thrown: a throwing handler would not reach the subscriber
          // (RxJS reports it as unhandled).
          let json: unknown;
          try {
            json = JSON.parse(data);
          } catch {
            return subscriber.error(new UpstreamError('invalid', `stream event is not JSON: ${data.slice(0, 80)}`));
          }
          let events: readonly ChatEvent[];
          try {
            events = toEvents(json);
          } catch (err) {
            return subscriber.error(err);
          }
          for (const e of events) {
            if (e.type === 'finish') finished = true;
            subscriber.next(e);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => (finished ? subscriber.complete() : subscriber.error(streamCutShort())),
      });
    });
}
