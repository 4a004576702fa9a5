import type { ChatCompletionRequest, Usage } from '#contracts';
import type { AnswerProtocol, StreamEncoder } from './answer-protocol.ts';
import { ChunkBuilder, buildCompletion, completionId } from './chat-response.ts';
import { nowSeconds } from './client-call.ts';

/** OpenAI chat completions: a `chat.completion`, or `chat.completion.chunk` events ending in `[DONE]`. */
export function chatProtocol(body: ChatCompletionRequest): AnswerProtocol {
  const id = completionId();
  const created = nowSeconds();
  return {
    answer: (_start, acc, usage) => buildCompletion(id, created, body.model, acc, usage),
    encoder(writer): StreamEncoder {
      const includeUsage = body.stream_options?.include_usage === true;
      const chunks = new ChunkBuilder(id, created, body.model, includeUsage);
      let finishSent = false;
      return {
        open: () => writer.send(chunks.role()),
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
