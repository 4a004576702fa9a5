import { UpstreamError } from './provider-adapter.ts';
import type { SseEvent } from './sse-parser.ts';

export interface StreamEnd {
  /** Whether the stream said `data: [DONE]`; a body that just stops did not. */
  done: boolean;
}

export const streamCutShort = () => new UpstreamError('network', 'the upstream stream ended before [DONE]');

/** The JSON payloads of an OpenAI-style event stream, up to `data: [DONE]`. */
export async function* ssePayloads(events: AsyncIterable<SseEvent>, end: StreamEnd): AsyncGenerator<unknown> {
  for await (const event of events) {
    const data = event.data.trim();
    if (data === '[DONE]') {
      end.done = true;
      return;
    }
    try {
      yield JSON.parse(data);
    } catch {
      throw new UpstreamError('invalid', `stream event is not JSON: ${data.slice(0, 80)}`);
    }
  }
}
