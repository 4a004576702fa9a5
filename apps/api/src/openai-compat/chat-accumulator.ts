import { Logger } from '@nestjs/common';
import type { ChatMessage, FinishReason, ToolCall, Usage } from '#contracts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import { estimateUsage } from '../usage/token-counter.ts';

/** Collects a stream of chat events into one answer, for non-stream replies, usage and stats. */
export class ChatAccumulator {
  content = '';
  reasoning = '';
  finishReason: FinishReason | null = null;
  /** The stop sequence that ended the answer, when the upstream said. */
  stopSequence: string | null = null;
  upstreamUsage: Usage | null = null;
  private readonly toolCalls = new Map<number, ToolCall>();
  private counted: CountedUsage | undefined;

  add(event: ChatEvent): void {
    switch (event.type) {
      case 'delta':
        if (event.content) this.content += event.content;
        if (event.reasoning) this.reasoning += event.reasoning;
        for (const d of event.toolCalls ?? []) {
          const call = this.toolCalls.get(d.index) ?? { id: '', type: 'function', function: { name: '', arguments: '' } };
          if (d.id) call.id = d.id;
          if (d.function?.name) call.function.name += d.function.name;
          if (d.function?.arguments) call.function.arguments += d.function.arguments;
          this.toolCalls.set(d.index, call);
        }
        break;
      case 'finish':
        this.finishReason = event.reason;
        this.stopSequence = event.stopSequence ?? null;
        break;
      case 'usage':
        if (!event.estimated) this.upstreamUsage = event.usage;
        break;
    }
  }

  get calls(): ToolCall[] {
    return [...this.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  }

  /** The finish reason, defaulting sensibly when the upstream never said. */
  get finish(): FinishReason {
    return this.finishReason ?? (this.toolCalls.size > 0 ? 'tool_calls' : 'stop');
  }

  /**
   * The upstream's usage when it gave a real one; otherwise counted with the tokenizer, once per
   * answer (the reply and the record share it). An upstream "usage" of all zeros for a non-empty
   * exchange is not believed. Best effort: when counting fails, the answer has no usage (null)
   * rather than the request (or, in a stream's callback, the process) failing.
   */
  usage(messages: ChatMessage[], tools: unknown[] | undefined): CountedUsage {
    this.counted ??= this.count(messages, tools);
    return this.counted;
  }

  private count(messages: ChatMessage[], tools: unknown[] | undefined): CountedUsage {
    const u = this.upstreamUsage;
    if (u && u.total_tokens > 0 && u.completion_tokens + u.prompt_tokens > 0) return { usage: u, estimated: false };
    try {
      return { usage: estimateUsage(messages, tools, { content: this.content, reasoning: this.reasoning, toolCalls: this.calls }), estimated: true };
    } catch (err) {
      countFailed(err);
      return { usage: null, estimated: false };
    }
  }
}

export interface CountedUsage {
  usage: Usage | null;
  estimated: boolean;
}

const logger = new Logger('Usage');
const LOG_EVERY_MS = 60_000;
let failures = 0;
let loggedAt = -Infinity;

/** One bounded line at most a minute, however many answers fail to count. */
function countFailed(err: unknown): void {
  failures += 1;
  const now = Date.now();
  if (now - loggedAt < LOG_EVERY_MS) return;
  loggedAt = now;
  const message = String((err as Error)?.message ?? err).slice(0, 200);
  logger.warn(`Token estimate failed, answers recorded without usage (${failures} so far): ${message}`);
}
