import { randomBytes } from 'node:crypto';
import { isRecord } from './types.ts';
import type { ProviderId } from './types.ts';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Reasoning models count their thinking, as OpenAI and DeepSeek do. */
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** Everything a provider's wire format needs to render one deterministic answer. */
export interface AnswerPlan {
  reasoning: string | undefined;
  content: string | null;
  toolCall: ToolCall | undefined;
  finishReason: FinishReason;
  /** The stop sequence the answer ended at (vLLM-based hosts report it as `stop_reason`). */
  stopSequence?: string;
  usage: Usage;
}

export interface AnswerInput {
  provider: ProviderId;
  model: string;
  body: Record<string, unknown>;
  supportsTools: boolean;
  supportsReasoning: boolean;
  /** A trailing assistant message to continue (PrefillMode `continue`): the answer is only what follows it. */
  prefill?: string;
}

export const REASONING_TEXT = 'Let me think about this.';
export const TOOL_ARGUMENTS = '{"city":"Paris"}';
const QUOTE_LIMIT = 200;

export function planAnswer(input: AnswerInput): AnswerPlan {
  const messages = Array.isArray(input.body.messages) ? input.body.messages.filter(isRecord) : [];
  const userText = lastUserText(messages, input.body.prompt);
  const promptTokens = estimateTokens(promptText(messages, input.body.prompt));
  const reasoning = input.supportsReasoning && isReasoningModel(input.model) ? REASONING_TEXT : undefined;
  const toolName = input.supportsTools ? chosenTool(input.body, messages, userText) : undefined;

  if (toolName !== undefined) {
    const toolCall = { id: `call_${randomBytes(8).toString('hex')}`, name: toolName, arguments: TOOL_ARGUMENTS };
    const completion = estimateTokens((reasoning ?? '') + toolName + TOOL_ARGUMENTS);
    return { reasoning, content: null, toolCall, finishReason: 'tool_calls', usage: usage(promptTokens, completion) };
  }

  const whole = answerText(input.provider, input.model, userText);
  const { text: full, stopSequence } = cutAtStop(input.prefill === undefined ? whole : continuationText(input.provider, whole, input.prefill), input.body.stop);
  const { text, truncated } = truncateWords(full, maxTokens(input.body));
  const completion = estimateTokens((reasoning ?? '') + text);
  const counted = usage(promptTokens, completion);
  if (reasoning !== undefined) counted.completion_tokens_details = { reasoning_tokens: estimateTokens(reasoning) };
  return {
    reasoning,
    content: text,
    toolCall: undefined,
    finishReason: truncated ? 'length' : 'stop',
    ...(stopSequence !== undefined && !truncated ? { stopSequence } : {}),
    usage: counted,
  };
}

/** The answer up to the first of the request's stop sequences it contains (which, as upstreams do, is not part of it). */
function cutAtStop(text: string, stop: unknown): { text: string; stopSequence?: string } {
  const sequences = (typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : []).filter((s): s is string => typeof s === 'string' && s !== '');
  let first: { at: number; sequence: string } | undefined;
  for (const sequence of sequences) {
    const at = text.indexOf(sequence);
    if (at >= 0 && (first === undefined || at < first.at)) first = { at, sequence };
  }
  return first ? { text: text.slice(0, first.at), stopSequence: first.sequence } : { text };
}

export function answerText(provider: ProviderId, model: string, userText: string | undefined): string {
  const greeting = `Hello from ${provider} (${model}).`;
  return userText ? `${greeting} You said: ${userText.slice(0, QUOTE_LIMIT)}` : greeting;
}

/**
 * What a provider that honours prefill sends after `prefill`: the rest of its own answer when the
 * prefill is the start of it, else a marked continuation of someone else's text (never empty, so
 * a test can tell a continuation from a fresh answer).
 */
export function continuationText(provider: ProviderId, answer: string, prefill: string): string {
  if (prefill.length > 0 && answer.startsWith(prefill) && answer.length > prefill.length) return answer.slice(prefill.length);
  return ` (continued by ${provider})`;
}

export function isReasoningModel(model: string): boolean {
  return /r1|reason|thinking|qwq/i.test(model);
}

/** Rough chars/4, never zero, so usage is always plausible. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Splits text into at most n pieces of near-equal length, never splitting a code point. */
export function splitText(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(n, chars.length));
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * chars.length) / count);
    const end = Math.floor(((i + 1) * chars.length) / count);
    pieces.push(chars.slice(start, end).join(''));
  }
  return pieces;
}

export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isRecord)
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => String(part.text))
    .join(' ');
}

function lastUserText(messages: Record<string, unknown>[], prompt: unknown): string | undefined {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (last) return textOf(last.content);
  return typeof prompt === 'string' ? prompt : undefined;
}

function promptText(messages: Record<string, unknown>[], prompt: unknown): string {
  const texts = messages.map((m) => textOf(m.content));
  if (typeof prompt === 'string') texts.push(prompt);
  return texts.join('\n');
}

function chosenTool(body: Record<string, unknown>, messages: Record<string, unknown>[], userText: string | undefined): string | undefined {
  const names = Array.isArray(body.tools) ? body.tools.map(toolFunctionName).filter((n) => n !== undefined) : [];
  if (names.length === 0 || body.tool_choice === 'none') return undefined;
  const named = toolFunctionName(body.tool_choice);
  if (named !== undefined) return named;
  if (body.tool_choice === 'required') return names[0];
  // After a tool result the model answers in text, so agent loops terminate.
  if (messages.at(-1)?.role === 'tool') return undefined;
  return userText !== undefined && /weather/i.test(userText) ? names[0] : undefined;
}

function toolFunctionName(value: unknown): string | undefined {
  if (!isRecord(value) || !isRecord(value.function)) return undefined;
  return typeof value.function.name === 'string' ? value.function.name : undefined;
}

function maxTokens(body: Record<string, unknown>): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

function truncateWords(text: string, limit: number | undefined): { text: string; truncated: boolean } {
  const words = text.split(' ');
  if (limit === undefined || limit >= words.length) return { text, truncated: false };
  return { text: words.slice(0, limit).join(' '), truncated: true };
}
