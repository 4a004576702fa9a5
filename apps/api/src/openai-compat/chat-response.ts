import type { ChatCompletion, ChatCompletionChunk, FinishReason, Usage } from '#contracts';
import { randomId } from '../common/random-pool.ts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import type { ChatAccumulator } from './chat-accumulator.ts';

export const completionId = () => `chatcmpl-${randomId(12, 'base64url')}`;

export function buildCompletion(id: string, created: number, model: string, acc: ChatAccumulator, usage: Usage): ChatCompletion {
  const calls = acc.calls;
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: acc.content || (calls.length ? null : ''),
    refusal: null,
  };
  if (acc.reasoning) message.reasoning_content = acc.reasoning;
  if (calls.length) message.tool_calls = calls;
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: acc.finish }],
    usage,
  };
}

/** Builds the chunks of one streamed answer; all share id, created and model. */
export class ChunkBuilder {
  constructor(
    private readonly id: string,
    private readonly created: number,
    private readonly model: string,
    /** With include_usage OpenAI sends `usage: null` on every chunk but the last. */
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null): ChatCompletionChunk {
    const c: ChatCompletionChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (this.includeUsage) c.usage = null;
    return c;
  }

  role(): ChatCompletionChunk {
    return this.chunk({ role: 'assistant', content: '' }, null);
  }

  delta(event: Extract<ChatEvent, { type: 'delta' }>): ChatCompletionChunk | null {
    const delta: ChatCompletionChunk['choices'][number]['delta'] = {};
    if (event.content) delta.content = event.content;
    if (event.reasoning) delta.reasoning_content = event.reasoning;
    if (event.toolCalls?.length) delta.tool_calls = event.toolCalls;
    return Object.keys(delta).length ? this.chunk(delta, null) : null;
  }

  finish(reason: FinishReason): ChatCompletionChunk {
    return this.chunk({}, reason);
  }

  usage(usage: Usage): ChatCompletionChunk {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage };
  }
}
