import type { FinishReason, ToolCallDelta, Usage } from '#contracts';
import { UpstreamError, type ChatEvent, type ChatRequest } from '../provider-adapter.ts';

type DeltaEvent = Extract<ChatEvent, { type: 'delta' }>;

// The router decides these; a stray copy in params must never override its decision.
const GATEWAY_FIELDS: ReadonlySet<string> = new Set(['model', 'messages', 'stream', 'stream_options', 'provider']);

/** Upstream body for an OpenAI-compatible /chat/completions call. */
export function buildOpenAIChatBody(
  req: ChatRequest,
  upstreamModel: string,
  opts: { includeUsageInStream?: boolean; dropParams?: readonly string[] } = {},
): Record<string, unknown> {
  const drop = new Set(opts.dropParams ?? []);
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

  const events: ChatEvent[] = [delta, { type: 'finish', reason: finishReasonOf(choice.finish_reason, toolCalls.length > 0) }];
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
      events.push({ type: 'finish', reason: finishReasonOf(choice.finish_reason, toolCalls.length > 0) });
    }
  }
  const usage = readUsage(json.usage);
  if (usage) events.push({ type: 'usage', usage, estimated: false });
  return events;
}

/**
 * Best-effort human message from an upstream error body; '' when the body says nothing
 * (callers fall back to the status text). Never throws.
 */
export function upstreamErrorMessage(body: string): string {
  try {
    const text = String(body).trim();
    if (text === '') return '';
    if (/^[[{"]/.test(text)) {
      const parsed = tryParseJson(text);
      if (parsed !== undefined) {
        const message = errorMessageFromJson(parsed);
        if (message !== undefined) return clip(message, MAX_JSON_MESSAGE);
      }
    }
    return excerpt(text);
  } catch {
    return '';
  }
}

/**
 * The message inside an already-parsed error body (OpenAI, Pollinations, Cloudflare, HF,
 * FastAPI shapes); undefined when it carries none. Shared with the Cloudflare mapping.
 */
export function errorMessageFromJson(json: unknown): string | undefined {
  return messageOf(json, 0);
}

/** Usage from an upstream `usage` object when it has real counts; extra fields (DeepInfra's estimated_cost) are dropped. */
export function readUsage(raw: unknown): Usage | undefined {
  if (!isRecord(raw)) return undefined;
  const { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total } = raw;
  if (!isCount(prompt) || !isCount(completion)) return undefined;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: isCount(total) ? total : prompt + completion };
}

/** Parses Retry-After (delta-seconds or HTTP-date) into ms from now; undefined when absent/invalid. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  // Decimals are not in RFC 9110, but some rate limiters send them and the intent is unambiguous.
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  // Date.parse alone accepts too much ("foo 1" is a date to V8), so only HTTP-date shapes get through.
  let date: number;
  if (IMF_OR_RFC850_DATE.test(text)) date = Date.parse(text);
  else if (ASCTIME_DATE.test(text))
    date = Date.parse(`${text} GMT`); // asctime carries no zone but means GMT
  else return undefined;
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - now);
}

// ---------------------------------------------------------------------------------------

const IMF_OR_RFC850_DATE = /^[A-Za-z]{3,9}, \d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]?\d \d{2}:\d{2}:\d{2} \d{4}$/;
const MAX_EXCERPT = 200;
// Upstream JSON messages (context-length errors, validation errors) are often longer than an
// excerpt but still worth reading whole; the cap only guards against bodies that dump inputs.
const MAX_JSON_MESSAGE = 500;

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

function finishReasonOf(raw: unknown, hasToolCalls: boolean): FinishReason {
  const known = typeof raw === 'string' ? FINISH_REASONS.get(raw) : undefined;
  return known ?? (hasToolCalls ? 'tool_calls' : 'stop');
}

function notAnAnswer(why: string): UpstreamError {
  return new UpstreamError('invalid', `upstream answer is not a chat completion: ${why}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/** The upstream's message when a 2xx body or stream chunk is really an error object. */
function embeddedErrorMessage(json: Record<string, unknown>): string | undefined {
  const hasError = (json.error !== undefined && json.error !== null) || json.success === false;
  if (!hasError) return undefined;
  return errorMessageFromJson(json) ?? clip(JSON.stringify(json), MAX_EXCERPT);
}

function messageOf(value: unknown, depth: number): string | undefined {
  if (depth > 4) return undefined;
  if (typeof value === 'string') return nonBlank(value);
  if (Array.isArray(value)) {
    const parts = value.map((v) => messageOf(v, depth + 1)).filter((m): m is string => m !== undefined);
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
  if (!isRecord(value)) return undefined;
  // `error` first: Pollinations puts {status, success, error:{message}} and HF puts {error:"…"}.
  for (const key of ['error', 'errors', 'message', 'detail', 'msg']) {
    const found = messageOf(value[key], depth + 1);
    if (found !== undefined) return found;
  }
  // An error object with only a code still says something.
  return typeof value.code === 'string' ? nonBlank(value.code) : undefined;
}

function nonBlank(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short readable excerpt of a non-JSON body; HTML is reduced to its visible text. */
function excerpt(text: string): string {
  let plain = text;
  if (/<[a-z!/][^>]*>/i.test(text)) {
    plain = text
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(script|style|template)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]*>/g, ' ');
    plain = decodeEntities(plain);
  }
  return clip(plain.replace(/\s+/g, ' ').trim(), MAX_EXCERPT);
}

const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
  ['nbsp', ' '],
]);

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith('#')) {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES.get(name.toLowerCase()) ?? whole;
  });
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  // Never leave half a surrogate pair before the ellipsis.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut).trimEnd()}…`;
}
