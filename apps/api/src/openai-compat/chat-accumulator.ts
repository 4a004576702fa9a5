import type { ChatMessage, FinishReason, ToolCall, Usage } from '#contracts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import { estimateUsage } from '../usage/token-counter.ts';

/** Collects a stream of chat events into one answer, for non-stream replies, usage and stats. */
export class ChatAccumulator {
  content = '';
  reasoning = '';
  finishReason: FinishReason | null = null;
  upstreamUsage: Usage | null = null;
  private readonly toolCalls = new Map<number, ToolCall>();

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
   * The upstream's usage when it gave a real one; otherwise counted with the tokenizer.
   * An upstream "usage" of all zeros for a non-empty exchange is not believed.
   */
  usage(messages: ChatMessage[], tools: unknown[] | undefined): { usage: Usage; estimated: boolean } {
    const u = this.upstreamUsage;
    if (u && u.total_tokens > 0 && u.completion_tokens + u.prompt_tokens > 0) return { usage: u, estimated: false };
    return { usage: estimateUsage(messages, tools, { content: this.content, reasoning: this.reasoning, toolCalls: this.calls }), estimated: true };
  }
}
