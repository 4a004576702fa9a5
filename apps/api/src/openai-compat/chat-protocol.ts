import type { ChatCompletionRequest, Usage } from '#contracts';
import type { AppConfig } from '../config/app-config.ts';
import { answerModel } from '../models/answer-model.ts';
import type { AnswerProtocol, StreamEncoder } from './answer-protocol.ts';
import { ChunkBuilder, buildCompletion, completionId } from './chat-response.ts';
import { nowSeconds } from './client-call.ts';

/**
 * OpenAI chat completions: a `chat.completion`, or `chat.completion.chunk` events ending in
 * `[DONE]`. Their `model` is the one that served, or the requested id (`responseModel`, RESPONSE_MODEL).
 */
export function chatProtocol(body: ChatCompletionRequest, responseModel: AppConfig['responseModel'] = 'served'): AnswerProtocol {
  const id = completionId();
  const created = nowSeconds();
  return {
    answer: (start, acc, usage) => buildCompletion(id, created, answerModel(responseModel, body.model, start.upstreamModel), acc, usage),
    encoder(writer): StreamEncoder {
      const includeUsage = body.stream_options?.include_usage === true;
      // Made when the stream opens, once the provider that serves (and so the answer's model) is known.
      let chunks: ChunkBuilder;
      let finishSent = false;
      return {
        open(start) {
          chunks = new ChunkBuilder(id, created, answerModel(responseModel, body.model, start.upstreamModel), includeUsage);
          writer.send(chunks.role());
        },
        event(item) {
          if (item.type === 'delta') {
            const chunk = chunks.delta(item);
            if (chunk) writer.send(chunk);
          } else if (item.type === 'finish' && !finishSent) {
            finishSent = true;
            writer.send(chunks.finish(item.reason));
          }
        },
        complete(acc, usage: () => Usage) {
          if (!finishSent) writer.send(chunks.finish(acc.finish));
          if (includeUsage) writer.send(chunks.usage(usage()));
          writer.done();
        },
        error({ message, type, code }) {
          writer.send({ error: { message, type, param: null, code } });
          writer.done();
        },
      };
    },
  };
}
