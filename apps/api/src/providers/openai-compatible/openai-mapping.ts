import type { FinishReason, ToolCallDelta, Usage } from '#contracts';
import type { ChatEvent, ChatRequest } from '../provider-adapter.ts';
import { EXTRA_SAMPLING_PARAMS } from '../provider-declaration.ts';
import { UpstreamError, embeddedErrorMessage, isRecord } from '../upstream-errors.ts';

type DeltaEvent = Extract<ChatEvent, { type: 'delta' }>;

// The router decides these; a stray copy in params must never override its decision.
const GATEWAY_FIELDS: ReadonlySet<string> = new Set(['model', 'messages', 'stream', 'stream_options', 'provider']);

export interface OpenAIChatBodyOptions {
  includeUsageInStream?: boolean;
  dropParams?: readonly string[];
  /** The non-OpenAI sampling fields (EXTRA_SAMPLING_PARAMS) this upstream takes; the rest are not sent. None by default. */
  samplingParams?: readonly string[];
}

/** Upstream body for an OpenAI-compatible /chat/completions call. */
export function buildOpenAIChatBody(req: ChatRequest, upstreamModel: string, opts: OpenAIChatBodyOptions = {}): Record<string, unknown> {
  const accepted = new Set(opts.samplingParams ?? []);
  const drop = new Set([...(opts.dropParams ?? []), ...EXTRA_SAMPLING_PARAMS.filter((param) => !accepted.has(param))]);
  const body: Record<string, unknown> = { model: upstreamModel, messages: req.messages };
  for (const [key, value] of Object.entries(req.params)) {
    if (value === undefined || drop.has(key) || GATEWAY_FIELDS.has(key)) continue;
    body[key] = value;
  }
  body.stream = req.stream;
  // Without this, DeepInfra/Together/HF/custom upstreams stream no usage and the gateway has to estimate.
  // OpenAI rejects stream_options on a non-stream request, so it is only sent when streaming.
  if (req.stream && (opts.includeUsageInStream ?? true)) body.stream_options = { include_usage: true };
  return body;
}

/** A parsed non-stream response → one delta, one finish, and a usage when the upstream counted. */
export function completionToEvents(json: unknown): ChatEvent[] {
  if (!isRecord(json)) throw notAnAnswer('body is not a JSON object');
  const embedded = embeddedErrorMessage(json);
  if (embedded !== undefined) throw new UpstreamError('invalid', `upstream error in a 2xx answer: ${embedded}`);
  if (!Array.isArray(json.choices)) throw notAnAnswer('no choices array');
  const choice = firstChoice(json.choices);
  if (!choice || !isRecord(choice.message)) throw notAnAnswer('choice without message');
  const message = choice.message;

  const delta: DeltaEvent = { type: 'delta' };
  const content = textOf(message.content);
  if (content !== undefined) delta.content = content;
  const reasoning = textOf(message.reasoning_content) ?? textOf(message.reasoning);
  if (reasoning !== undefined) delta.reasoning = reasoning;
  const toolCalls = completeToolCalls(message.tool_calls);
  if (toolCalls.length > 0) delta.toolCalls = toolCalls;
  if (content === undefined && reasoning === undefined && toolCalls.length === 0) {
    throw notAnAnswer('the message has no content, reasoning or tool calls');
  }

  const events: ChatEvent[] = [delta, finishOf(choice, toolCalls.length > 0)];
  const usage = readUsage(json.usage);
  if (usage) events.push({ type: 'usage', usage, estimated: false });
  return events;
}

/** One parsed stream chunk → 0..n events (delta, finish, usage, in that order). */
export function chunkToEvents(json: unknown): ChatEvent[] {
  if (!isRecord(json)) throw notAnAnswer('stream chunk is not a JSON object');
  const embedded = embeddedErrorMessage(json);
  if (embedded !== undefined) throw new UpstreamError('invalid', `upstream error in the stream: ${embedded}`);

  const events: ChatEvent[] = [];
  // Usage-only chunks (OpenAI's final `choices: []`) and Azure's prompt-filter chunk carry no choice.
  const choice = Array.isArray(json.choices) ? firstChoice(json.choices) : undefined;
  if (choice) {
    const delta: DeltaEvent = { type: 'delta' };
    const d = isRecord(choice.delta) ? choice.delta : {};
    const content = textOf(d.content);
    if (content !== undefined) delta.content = content;
    const reasoning = textOf(d.reasoning_content) ?? textOf(d.reasoning);
    if (reasoning !== undefined) delta.reasoning = reasoning;
    const toolCalls = streamToolCalls(d.tool_calls);
    if (toolCalls.length > 0) delta.toolCalls = toolCalls;
    if (content !== undefined || reasoning !== undefined || toolCalls.length > 0) events.push(delta);
    if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') {
      events.push(finishOf(choice, toolCalls.length > 0));
    }
  }
  const usage = readUsage(json.usage);
  if (usage) events.push({ type: 'usage', usage, estimated: false });
  return events;
}

/** Usage from an upstream `usage` object when it has real counts; extra fields (DeepInfra's estimated_cost) are dropped. */
export function readUsage(raw: unknown): Usage | undefined {
  if (!isRecord(raw)) return undefined;
  const { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total } = raw;
  if (!isCount(prompt) || !isCount(completion)) return undefined;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: isCount(total) ? total : prompt + completion };
  // Only the one detail clients read (reasoning models' thinking share); the rest is provider-specific noise.
  const reasoning = isRecord(raw.completion_tokens_details) ? raw.completion_tokens_details.reasoning_tokens : undefined;
  if (isCount(reasoning)) usage.completion_tokens_details = { reasoning_tokens: reasoning };
  return usage;
}

// ---------------------------------------------------------------------------------------

const FINISH_REASONS: ReadonlyMap<string, FinishReason> = new Map<string, FinishReason>([
  ['stop', 'stop'],
  ['length', 'length'],
  ['tool_calls', 'tool_calls'],
  ['content_filter', 'content_filter'],
  ['function_call', 'function_call'],
  // Non-OpenAI spellings from TGI/vLLM-based hosts (Together's 'eos') and Anthropic-style proxies.
  ['eos', 'stop'],
  ['eos_token', 'stop'],
  ['stop_sequence', 'stop'],
  ['end_turn', 'stop'],
  ['max_tokens', 'length'],
  ['model_length', 'length'],
  ['tool_use', 'tool_calls'],
]);

/** The finish event of a choice; vLLM-based hosts name the stop sequence that ended it in `stop_reason` (a token id or null otherwise). */
function finishOf(choice: Record<string, unknown>, hasToolCalls: boolean): ChatEvent {
  const reason = finishReasonOf(choice.finish_reason, hasToolCalls);
  const sequence = choice.stop_reason;
  return reason === 'stop' && typeof sequence === 'string' && sequence !== '' ? { type: 'finish', reason, stopSequence: sequence } : { type: 'finish', reason };
}

function finishReasonOf(raw: unknown, hasToolCalls: boolean): FinishReason {
  const known = typeof raw === 'string' ? FINISH_REASONS.get(raw) : undefined;
  return known ?? (hasToolCalls ? 'tool_calls' : 'stop');
}

function notAnAnswer(why: string): UpstreamError {
  return new UpstreamError('invalid', `upstream answer is not a chat completion: ${why}`);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

// n > 1 is not something the gateway serves, so only choice 0 is read; a chunk for another choice yields nothing.
function firstChoice(choices: unknown[]): Record<string, unknown> | undefined {
  const choice = choices.find((c) => isRecord(c) && (c.index === undefined || c.index === 0));
  return isRecord(choice) ? choice : undefined;
}

/** Non-empty text; some upstreams (Mistral-style) send content as an array of text parts. */
function textOf(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw === '' ? undefined : raw;
  if (Array.isArray(raw)) {
    const text = raw
      .filter(isRecord)
      .filter((part) => part.type === 'text' && typeof part.text === 'string')
      .map((part) => part.text)
      .join('');
    return text === '' ? undefined : text;
  }
  return undefined;
}

function indexOf(raw: unknown, position: number): number {
  return typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 ? raw : position;
}

function argumentsText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  // Some OpenAI-compatible servers (Ollama, older vLLM) send arguments as an object, not a JSON string.
  if (raw !== undefined && raw !== null) return JSON.stringify(raw);
  return undefined;
}

/** Whole tool calls from a non-stream message; calls without a function name are not usable and are skipped. */
function completeToolCalls(raw: unknown): ToolCallDelta[] {
  if (!Array.isArray(raw)) return [];
  const calls: ToolCallDelta[] = [];
  raw.forEach((item, position) => {
    if (!isRecord(item) || !isRecord(item.function) || typeof item.function.name !== 'string') return;
    const index = indexOf(item.index, position);
    calls.push({
      index,
      id: typeof item.id === 'string' && item.id !== '' ? item.id : `call_${index}`,
      type: 'function',
      function: { name: item.function.name, arguments: argumentsText(item.function.arguments) ?? '{}' },
    });
  });
  return calls;
}

/** Tool-call fragments from a stream delta, keeping only the fields this fragment carries. */
function streamToolCalls(raw: unknown): ToolCallDelta[] {
  if (!Array.isArray(raw)) return [];
  const calls: ToolCallDelta[] = [];
  raw.forEach((item, position) => {
    if (!isRecord(item)) return;
    const call: ToolCallDelta = { index: indexOf(item.index, position) };
    if (typeof item.id === 'string' && item.id !== '') call.id = item.id;
    if (typeof item.type === 'string') call.type = 'function';
    if (isRecord(item.function)) {
      const fn: NonNullable<ToolCallDelta['function']> = {};
      if (typeof item.function.name === 'string') fn.name = item.function.name;
      const args = argumentsText(item.function.arguments);
      if (args !== undefined) fn.arguments = args;
      if (fn.name !== undefined || fn.arguments !== undefined) call.function = fn;
    }
    if (call.id !== undefined || call.type !== undefined || call.function !== undefined) calls.push(call);
  });
  return calls;
}
