import type { ChatCompletionRequest, ToolCall, ToolCallDelta, Usage } from '#contracts';
import { randomId } from '../common/random-pool.ts';
import type { ChatEvent } from '../providers/provider-adapter.ts';
import { countPromptTokens } from '../usage/token-counter.ts';
import type { AnswerProtocol, StreamEncoder } from './answer-protocol.ts';
import { anthropicStreamError } from './anthropic-errors.ts';
import type { ChatAccumulator } from './chat-accumulator.ts';
import { stopReason, type StopReason } from './messages-translate.ts';
import type { SseWriter } from './sse-writer.ts';
import type { ChatStart } from './chat.service.ts';

/** Anthropic's usage; the cache counts are always 0 here (the gateway caches no prompts). */
export interface MessageUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type MessageContentBlock =
  { type: 'text'; text: string } | { type: 'thinking'; thinking: string; signature: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

/** Anthropic's `Message`. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: MessageContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: MessageUsage;
}

export const messageId = () => `msg_${randomId(18, 'base64url')}`;
const toolUseId = () => `toolu_${randomId(18, 'base64url')}`;

const messageUsage = (u: Pick<Usage, 'prompt_tokens' | 'completion_tokens'>): MessageUsage => ({
  input_tokens: u.prompt_tokens,
  output_tokens: u.completion_tokens,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
});

/** A tool call's arguments as the object Anthropic's `input` is; text that is not a JSON object is kept under `_raw` rather than lost. */
function toolInput(args: string): unknown {
  if (!args.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // Falls through: an upstream's malformed arguments reach the client as they came.
  }
  return { _raw: args };
}

/**
 * stop_reason and stop_sequence: `stop_sequence` when the upstream named which of the request's
 * stop sequences ended the answer (over chat completions, only vLLM-based hosts say), else the
 * finish reason's counterpart.
 */
function stopOf(acc: ChatAccumulator, body: ChatCompletionRequest): { stop_reason: StopReason; stop_sequence: string | null } {
  const sequence = acc.stopSequence;
  const requested = Array.isArray(body.stop) ? body.stop : [];
  if (acc.finish === 'stop' && sequence !== null && requested.includes(sequence)) return { stop_reason: 'stop_sequence', stop_sequence: sequence };
  return { stop_reason: stopReason(acc.finish), stop_sequence: null };
}

const toolUse = (c: ToolCall): MessageContentBlock => ({
  type: 'tool_use',
  id: c.id || toolUseId(),
  name: c.function.name,
  input: toolInput(c.function.arguments),
});

/** The Anthropic Messages API: a `message`, or its typed events (message_start … message_stop). */
/** `modelOf` says which model an answer names (see answerModel). */
export function messagesProtocol(body: ChatCompletionRequest, modelOf: (start: ChatStart) => string): AnswerProtocol {
  const id = messageId();
  return {
    answer(start, acc, usage): AnthropicMessage {
      const content: MessageContentBlock[] = [];
      if (acc.reasoning) content.push({ type: 'thinking', thinking: acc.reasoning, signature: '' });
      if (acc.content) content.push({ type: 'text', text: acc.content });
      for (const call of acc.calls) if (call.function.name) content.push(toolUse(call));
      return {
        id,
        type: 'message',
        role: 'assistant',
        model: modelOf(start),
        content,
        ...stopOf(acc, body),
        usage: messageUsage(usage),
      };
    },
    encoder: (writer) => new MessageStreamEncoder(writer, id, body, modelOf),
  };
}

/** One upstream tool call while it streams: its block starts once its name is known. */
interface ToolState {
  id: string;
  name: string;
  /** Arguments that came before the name. */
  pending: string;
  /** Its content block, once started. */
  block: number | null;
  closed: boolean;
}

/**
 * Anthropic's stream from chat events. Thinking and text each stream in one block at a time; a
 * change of kind stops the open block and starts the next. Tool calls stream as tool_use blocks
 * keyed by their upstream index, so that parallel calls whose arguments interleave still land in
 * the right block (the SDKs accumulate by `index`).
 */
class MessageStreamEncoder implements StreamEncoder {
  private nextIndex = 0;
  /** The open thinking or text block. */
  private current: { kind: 'thinking' | 'text'; index: number } | null = null;
  private readonly tools = new Map<number, ToolState>();
  private pinged = false;

  constructor(
    private readonly writer: SseWriter,
    private readonly id: string,
    private readonly body: ChatCompletionRequest,
    private readonly modelOf: (start: ChatStart) => string,
  ) {}

  open(start: ChatStart): void {
    const message: AnthropicMessage = {
      id: this.id,
      type: 'message',
      role: 'assistant',
      model: this.modelOf(start),
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: messageUsage({ prompt_tokens: this.promptEstimate(), completion_tokens: 0 }),
    };
    this.send('message_start', { message });
  }

  event(event: ChatEvent): void {
    if (event.type !== 'delta') return;
    if (event.reasoning) this.delta('thinking', { type: 'thinking_delta', thinking: event.reasoning });
    if (event.content) this.delta('text', { type: 'text_delta', text: event.content });
    for (const d of event.toolCalls ?? []) this.toolDelta(d);
  }

  complete(acc: ChatAccumulator, usage: () => Usage): void {
    this.stopAll();
    this.send('message_delta', { delta: stopOf(acc, this.body), usage: messageUsage(usage()) });
    this.send('message_stop', {});
    this.writer.end();
  }

  error(failure: { message: string; type: string; code: string }): void {
    this.send('error', { error: anthropicStreamError(failure) });
    this.writer.end();
  }

  private send(type: string, fields: Record<string, unknown>): void {
    this.writer.send({ type, ...fields }, type);
  }

  /** message_start's input_tokens: the count the answer's usage would estimate (the upstream's own comes in message_delta). */
  private promptEstimate(): number {
    try {
      return countPromptTokens(this.body.messages, this.body.tools);
    } catch {
      return 0;
    }
  }

  private start(block: MessageContentBlock): number {
    const index = this.nextIndex++;
    this.send('content_block_start', { index, content_block: block });
    // Anthropic's streams have a ping after the first block starts; clients expect to skip it.
    if (!this.pinged) {
      this.pinged = true;
      this.send('ping', {});
    }
    return index;
  }

  private delta(kind: 'thinking' | 'text', delta: Record<string, unknown>): void {
    if (this.current?.kind !== kind) {
      this.stopAll();
      const block: MessageContentBlock = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
      this.current = { kind, index: this.start(block) };
    }
    this.send('content_block_delta', { index: this.current.index, delta });
  }

  private toolDelta(d: ToolCallDelta): void {
    let tool = this.tools.get(d.index);
    if (!tool) {
      tool = { id: '', name: '', pending: '', block: null, closed: false };
      this.tools.set(d.index, tool);
    }
    // A call whose block was stopped (text came between its pieces) cannot be reopened.
    if (tool.closed) return;
    if (d.id && !tool.id) tool.id = d.id;
    if (d.function?.name) tool.name += d.function.name;
    const args = d.function?.arguments ?? '';
    if (tool.block === null) {
      tool.pending += args;
      if (!tool.name) return;
      if (this.current) this.stopAll();
      tool.block = this.start({ type: 'tool_use', id: tool.id || toolUseId(), name: tool.name, input: {} });
      if (tool.pending) this.send('content_block_delta', { index: tool.block, delta: { type: 'input_json_delta', partial_json: tool.pending } });
      tool.pending = '';
    } else if (args) {
      this.send('content_block_delta', { index: tool.block, delta: { type: 'input_json_delta', partial_json: args } });
    }
  }

  /** Stops every open block, in the order they started. */
  private stopAll(): void {
    const open: number[] = [];
    if (this.current) open.push(this.current.index);
    this.current = null;
    for (const tool of this.tools.values()) {
      if (tool.block === null || tool.closed) continue;
      tool.closed = true;
      open.push(tool.block);
    }
    for (const index of open.sort((a, b) => a - b)) this.send('content_block_stop', { index });
  }
}
