import { Logger } from '@nestjs/common';
import type { ChatMessage, FinishReason, ToolCall, ToolCallDelta, Usage } from '#contracts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import { estimateUsage } from '../usage/token-counter.ts';

/** Pieces joined into one string at a time (see PieceText). */
const JOIN_EVERY = 16;

/**
 * Text that arrives a few characters at a time (about a token per delta), held compactly for the
 * life of a stream: `text += piece` keeps a 32-byte rope node and the piece's own string per
 * delta, ten times the text itself on a long answer. Here the pieces are joined into one flat
 * string every JOIN_EVERY, so what is held is about the text and at most that many pieces.
 */
class PieceText {
  private joined = '';
  private pieces: string[] = [];

  add(piece: string): void {
    this.pieces.push(piece);
    if (this.pieces.length >= JOIN_EVERY) this.join();
  }

  get value(): string {
    if (this.pieces.length > 0) this.join();
    return this.joined;
  }

  private join(): void {
    this.joined += this.pieces.join('');
    this.pieces = [];
  }
}

/** Collects a stream of chat events into one answer, for non-stream replies, usage and stats. */
export class ChatAccumulator {
  finishReason: FinishReason | null = null;
  /** The stop sequence that ended the answer, when the upstream said. */
  stopSequence: string | null = null;
  upstreamUsage: Usage | null = null;
  private readonly text = new PieceText();
  /** Made with the first reasoning: most answers have none, and each open stream holds its accumulator. */
  private thinking: PieceText | undefined;
  /** Made with the first tool call, for the same reason. */
  private toolCalls: Map<number, ToolCall> | undefined;
  private counted: CountedUsage | undefined;

  get content(): string {
    return this.text.value;
  }

  get reasoning(): string {
    return this.thinking?.value ?? '';
  }

  add(event: ChatEvent): void {
    switch (event.type) {
      case 'delta':
        if (event.content) this.text.add(event.content);
        if (event.reasoning) (this.thinking ??= new PieceText()).add(event.reasoning);
        if (event.toolCalls?.length) this.addToolCalls(event.toolCalls);
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
    if (!this.toolCalls) return [];
    return [...this.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  }

  /** The finish reason, defaulting sensibly when the upstream never said. */
  get finish(): FinishReason {
    return this.finishReason ?? (this.toolCalls ? 'tool_calls' : 'stop');
  }

  private addToolCalls(deltas: ToolCallDelta[]): void {
    const calls = (this.toolCalls ??= new Map());
    for (const d of deltas) {
      const call = calls.get(d.index) ?? { id: '', type: 'function', function: { name: '', arguments: '' } };
      if (d.id) call.id = d.id;
      if (d.function?.name) call.function.name += d.function.name;
      if (d.function?.arguments) call.function.arguments += d.function.arguments;
      calls.set(d.index, call);
    }
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
