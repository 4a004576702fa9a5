import type { FinishReason, ToolCall, Usage } from '#contracts';
import { randomId } from '../common/random-pool.ts';
import { nowSeconds } from './client-call.ts';

/** The Responses API's wire shapes the gateway produces (OpenAI's `Response` and its output items). */
export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}
export interface ReasoningText {
  type: 'reasoning_text';
  text: string;
}
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';
export interface MessageItem {
  type: 'message';
  id: string;
  status: ItemStatus;
  role: 'assistant';
  content: OutputText[];
}
export interface FunctionCallItem {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
}
export interface ReasoningItem {
  type: 'reasoning';
  id: string;
  summary: never[];
  content: ReasoningText[];
  status: ItemStatus;
}
export type OutputItem = MessageItem | FunctionCallItem | ReasoningItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'completed' | 'incomplete' | 'in_progress' | 'failed';

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  completed_at: number | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number;
  text: { format: unknown };
  tool_choice: unknown;
  tools: unknown[];
  top_p: number;
  truncation: 'disabled';
  /** Only once finished: the spec's `usage` is an object, never null. */
  usage?: ResponseUsage;
  metadata: Record<string, string>;
  user?: string;
}

/** What a response echoes of its request: every field the Response object repeats. */
export type ResponseEcho = Pick<
  ResponseObject,
  | 'instructions'
  | 'max_output_tokens'
  | 'model'
  | 'parallel_tool_calls'
  | 'previous_response_id'
  | 'reasoning'
  | 'store'
  | 'temperature'
  | 'text'
  | 'tool_choice'
  | 'tools'
  | 'top_p'
  | 'metadata'
  | 'user'
>;

const ITEM_PREFIXES = { message: 'msg', function_call: 'fc', reasoning: 'rs' } as const;

/**
 * A response's token: its creation second in hex, then 64 random bits. Ids that grow with time
 * (as OpenAI's `resp_` ids do) are stored at the end of the responses table's key index instead
 * of at random places in it, which halves the storage thread's work per stored response once the
 * table holds tens of thousands (42 µs of CPU per row with random ids, 22 µs with these).
 */
function responseToken(now: number): string {
  return (
    Math.floor(now / 1000)
      .toString(16)
      .padStart(8, '0') + randomId(8, 'hex')
  );
}

/**
 * One response's ids. Item ids carry the response's token (`msg_<token>_<n>`), so that an
 * `item_reference` in a later request finds its response without an index of items.
 */
export class ResponseIds {
  readonly token: string;
  readonly id: string;
  private next = 0;

  constructor(now = Date.now()) {
    this.token = responseToken(now);
    this.id = `resp_${this.token}`;
  }

  item(type: OutputItem['type']): string {
    return `${ITEM_PREFIXES[type]}_${this.token}_${this.next++}`;
  }

  /** A call id for an upstream tool call that came without one. */
  call(index: number): string {
    return `call_${this.token}_${index}`;
  }
}

/** The response id an item id (`msg_<token>_<n>`) belongs to, if it is one of the gateway's. */
export function responseIdOfItem(itemId: string): string | undefined {
  const m = /^(?:msg|fc|rs)_([0-9a-f]{24})_\d+$/.exec(itemId);
  return m ? `resp_${m[1]}` : undefined;
}

/** How a finished answer ends: `length` is the output token limit, as OpenAI reports it. */
export function outcomeOf(finish: FinishReason): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** Chat usage in the Responses API's words; reasoning tokens when the upstream counted them. */
export function responseUsage(usage: Usage): ResponseUsage {
  const details = (usage as Usage & { completion_tokens_details?: { reasoning_tokens?: unknown } }).completion_tokens_details;
  const reasoning = typeof details?.reasoning_tokens === 'number' ? details.reasoning_tokens : 0;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: usage.total_tokens,
  };
}

export const messageItem = (id: string, text: string, status: ItemStatus): MessageItem => ({
  type: 'message',
  id,
  status,
  role: 'assistant',
  content: [outputText(text)],
});

export const outputText = (text: string): OutputText => ({ type: 'output_text', text, annotations: [], logprobs: [] });

export const reasoningItem = (id: string, text: string, status: ItemStatus): ReasoningItem => ({
  type: 'reasoning',
  id,
  summary: [],
  content: [{ type: 'reasoning_text', text }],
  status,
});

export const functionCallItem = (id: string, call: ToolCall, callId: string, status: ItemStatus): FunctionCallItem => ({
  type: 'function_call',
  id,
  call_id: callId,
  name: call.function.name,
  arguments: call.function.arguments,
  status,
});

/** A response object; `output`, status and usage are filled in as the answer goes. */
export function responseObject(ids: ResponseIds, createdAt: number, echo: ResponseEcho): ResponseObject {
  // Field by field (an object rest and spreads cost a few µs per request), in the order they always had.
  const response: ResponseObject = {
    id: ids.id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    completed_at: null,
    error: null,
    incomplete_details: null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    model: echo.model,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: echo.previous_response_id,
    reasoning: echo.reasoning,
    store: echo.store,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_p: echo.top_p,
    metadata: echo.metadata,
    output: [],
    truncation: 'disabled',
  };
  // The spec's `user` is a string, never null: absent when the request had none.
  if (echo.user !== undefined) response.user = echo.user;
  return response;
}

/** Finishes `response` with its output and outcome. */
export function finishResponse(response: ResponseObject, output: OutputItem[], finish: FinishReason, usage: Usage): ResponseObject {
  const outcome = outcomeOf(finish);
  return {
    ...response,
    ...outcome,
    completed_at: outcome.status === 'completed' ? nowSeconds() : null,
    output,
    usage: responseUsage(usage),
  };
}
