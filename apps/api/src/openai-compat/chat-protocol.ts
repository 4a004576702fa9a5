import type { ChatCompletionRequest, Usage } from '#contracts';
import type { AppConfig } from '../config/app-config.ts';
import { answerModel } from '../models/answer-model.ts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import type { AnswerProtocol, StreamEncoder, StreamFailure } from './answer-protocol.ts';
import type { ChatAccumulator } from './chat-accumulator.ts';
import type { ChatStart } from './chat.service.ts';
import type { SseWriter } from './sse-writer.ts';
import { ChunkBuilder, buildCompletion, completionId } from './chat-response.ts';
import { nowSeconds } from './client-call.ts';

/**
 * OpenAI chat completions: a `chat.completion`, or `chat.completion.chunk` events ending in
 * `[DONE]`. Their `model` is the one that served, or the requested id (`responseModel`, RESPONSE_MODEL).
 */
export function chatProtocol(body: ChatCompletionRequest, responseModel: AppConfig['responseModel'] = 'served'): AnswerProtocol {
  return new ChatProtocol(body, responseModel);
}

// Classes, not object literals of closures: an open stream holds its protocol and encoder to its
// end, and a closure per method (with their scopes) is several times the fields they share.
class ChatProtocol implements AnswerProtocol {
  readonly id = completionId();
  readonly created = nowSeconds();

  constructor(
    readonly body: ChatCompletionRequest,
    private readonly responseModel: AppConfig['responseModel'],
  ) {}

  answer(start: ChatStart, acc: ChatAccumulator, usage: Usage): unknown {
    return buildCompletion(this.id, this.created, this.model(start), acc, usage);
  }

  encoder(writer: SseWriter): StreamEncoder {
    return new ChatEncoder(this, writer);
  }

  model(start: ChatStart): string {
    return answerModel(this.responseModel, this.body.model, start.upstreamModel);
  }
}

class ChatEncoder implements StreamEncoder {
  private readonly includeUsage: boolean;
  // Made when the stream opens, once the provider that serves (and so the answer's model) is known.
  private chunks!: ChunkBuilder;
  private finishSent = false;

  constructor(
    private readonly protocol: ChatProtocol,
    private readonly writer: SseWriter,
  ) {
    this.includeUsage = protocol.body.stream_options?.include_usage === true;
  }

  open(start: ChatStart): void {
    const { id, created } = this.protocol;
    this.chunks = new ChunkBuilder(id, created, this.protocol.model(start), this.includeUsage);
    this.writer.send(this.chunks.role());
  }

  event(item: ChatEvent): void {
    if (item.type === 'delta') {
      const chunk = this.chunks.delta(item);
      if (chunk) this.writer.send(chunk);
    } else if (item.type === 'finish' && !this.finishSent) {
      this.finishSent = true;
      this.writer.send(this.chunks.finish(item.reason));
    }
  }

  complete(acc: ChatAccumulator, usage: () => Usage): void {
    if (!this.finishSent) this.writer.send(this.chunks.finish(acc.finish));
    if (this.includeUsage) this.writer.send(this.chunks.usage(usage()));
    this.writer.done();
  }

  error({ message, type, code }: StreamFailure): void {
    this.writer.send({ error: { message, type, param: null, code } });
    this.writer.done();
  }
}
