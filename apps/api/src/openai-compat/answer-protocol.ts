import type { Usage } from '#contracts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import type { ChatAccumulator } from './chat-accumulator.ts';
import type { ChatStart } from './chat.service.ts';
import type { SseWriter } from './sse-writer.ts';

/**
 * How one front door speaks: the failover core (ChatService) yields the same items for every
 * protocol, and RunResponder drives them (client call, backpressure, shutdown, the record); a
 * protocol only says what the client sees. Chat completions, the Responses API and Anthropic
 * Messages are three protocols over one core.
 */
export interface AnswerProtocol {
  /** The whole answer of a non-stream request, sent with status 200. */
  answer(start: ChatStart, acc: ChatAccumulator, usage: Usage): unknown;
  /** The encoder of one stream; made once per request, before the stream opens. */
  encoder(writer: SseWriter): StreamEncoder;
}

/**
 * Writes one stream's events. Called in order: `open` once (the provider is committed, headers are
 * sent), `event` per upstream event (already added to the accumulator), then exactly one of
 * `complete` or `error`, each of which ends the stream.
 */
export interface StreamEncoder {
  open(start: ChatStart): void;
  event(event: ChatEvent, acc: ChatAccumulator): void;
  /** `usage` counts the answer (exact or estimated); only call it when it is needed. */
  complete(acc: ChatAccumulator, usage: () => Usage): void;
  /** After content, the stream can only end with an error in the protocol's own shape. */
  error(failure: StreamFailure): void;
}

export interface StreamFailure {
  message: string;
  /** OpenAI's error type (`upstream_error`, `server_error`…); other protocols map it. */
  type: string;
  code: string;
}
