import { randomBytes } from 'node:crypto';
import type { ChatMessage, ToolCallDelta } from '#contracts';
import { UpstreamError, type ChatEvent, type ChatFeature, type ChatRequest } from '../provider-adapter.ts';
import { readUsage } from '../openai-compatible/openai-mapping.ts';
import { errorMessageFromJson } from '../upstream-errors.ts';

// The OpenAI generation parameters Workers AI's text-generation schema accepts; anything else is
// rejected upstream. Its sampling fields beyond OpenAI's come from the provider's declaration.
const PASSED_PARAMS = ['temperature', 'top_p', 'seed', 'frequency_penalty', 'presence_penalty'] as const;

/**
 * Models whose Workers AI page documents function calling ("Function calling: Yes"; see
 * https://developers.cloudflare.com/workers-ai/features/function-calling/traditional/). Others
 * are not documented to take `tools`, so routing keeps tool requests away from them.
 */
const TOOL_MODELS: ReadonlySet<string> = new Set([
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
  '@cf/meta/llama-4-scout-17b-16e-instruct',
  '@hf/nousresearch/hermes-2-pro-mistral-7b',
]);

/** Models the JSON Mode page lists (https://developers.cloudflare.com/workers-ai/features/json-mode/): their schema takes `response_format`. */
const JSON_MODE_MODELS: ReadonlySet<string> = new Set([
  '@cf/meta/llama-3.1-8b-instruct-fast',
  '@cf/meta/llama-3.1-70b-instruct',
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
  '@cf/meta/llama-3-8b-instruct',
  '@cf/meta/llama-3.1-8b-instruct',
  '@cf/meta/llama-3.2-11b-vision-instruct',
  '@hf/nousresearch/hermes-2-pro-mistral-7b',
  '@hf/thebloke/deepseek-coder-6.7b-instruct-awq',
  '@cf/deepseek-ai/deepseek-r1-distill-qwen-32b',
]);

/**
 * What the native mapping carries, per model: tools and JSON mode where documented; never
 * `stop` (not in the text-generation schema), a forced `tool_choice` or `reasoning_effort`.
 */
export function cloudflareHonours(feature: ChatFeature, upstreamModel: string): boolean {
  const model = upstreamModel.toLowerCase();
  if (feature === 'tools') return TOOL_MODELS.has(model);
  if (feature === 'json_object' || feature === 'json_schema') return JSON_MODE_MODELS.has(model);
  return false;
}

/**
 * Whether the upstream call must be non-streaming even for a streamed request: tool calls in a
 * native stream are undocumented and JSON mode does not stream, so the whole answer is fetched
 * and then replayed to the client as a stream.
 */
export function cloudflareNeedsWholeAnswer(req: ChatRequest): boolean {
  return sendsTools(req) || jsonFormat(req.params.response_format) !== undefined;
}

/** Native Workers AI body for `POST /accounts/{account_id}/ai/run/{model}`; `samplingParams` are the declared non-OpenAI ones (top_k…). */
export function buildCloudflareChatBody(req: ChatRequest, samplingParams: readonly string[] = []): Record<string, unknown> {
  const stream = req.stream && !cloudflareNeedsWholeAnswer(req);
  const body: Record<string, unknown> = { messages: req.messages.map(toCloudflareMessage), stream };
  // `tool_choice: "none"` is met by offering no tools; routing refuses the forcing kinds before this.
  if (sendsTools(req)) body.tools = (req.params.tools as unknown[]).map(toCloudflareTool);
  const format = jsonFormat(req.params.response_format);
  if (format) body.response_format = format;
  // Workers AI validates types strictly and rejects null, so a null from the client counts as absent.
  const maxTokens = present(req.params.max_tokens) ?? present(req.params.max_completion_tokens);
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  for (const key of [...PASSED_PARAMS, ...samplingParams]) {
    const value = present(req.params[key]);
    if (value !== undefined) body[key] = value;
  }
  return body;
}

/** `{"result":{"response":"…","usage":{…}},"success":true,…}` → delta + finish + usage. */
export function cloudflareResultToEvents(json: unknown): ChatEvent[] {
  if (!isRecord(json)) throw notAnAnswer('body is not a JSON object');
  if (json.success === false) {
    throw new UpstreamError('invalid', `Cloudflare reported failure: ${errorMessageFromJson(json) ?? 'no message'}`);
  }
  const result = json.result;
  if (!isRecord(result)) throw notAnAnswer('no result object');

  const content = responseText(result.response);
  const toolCalls = cloudflareToolCalls(result.tool_calls);
  if (content === undefined && toolCalls.length === 0) throw notAnAnswer('result has no response text or tool calls');

  const delta: Extract<ChatEvent, { type: 'delta' }> = { type: 'delta' };
  if (content !== undefined) delta.content = content;
  if (toolCalls.length > 0) delta.toolCalls = toolCalls;
  const events: ChatEvent[] = [delta, { type: 'finish', reason: toolCalls.length > 0 ? 'tool_calls' : 'stop' }];
  const usage = readUsage(result.usage);
  if (usage) events.push({ type: 'usage', usage, estimated: false });
  return events;
}

/**
 * One stream event payload `{"response":"…","usage"?:{…}}` → events. Never a finish: the
 * native stream has no finish reason, so the adapter emits finish('stop') at `[DONE]`.
 */
export function cloudflareChunkToEvents(json: unknown): ChatEvent[] {
  if (!isRecord(json)) throw notAnAnswer('stream event is not a JSON object');
  if (json.success === false || (json.error !== undefined && json.error !== null)) {
    throw new UpstreamError('invalid', `Cloudflare error in the stream: ${errorMessageFromJson(json) ?? 'no message'}`);
  }
  const events: ChatEvent[] = [];
  // `p` is random padding some models add against length side channels; it is not text.
  if (typeof json.response === 'string' && json.response !== '') events.push({ type: 'delta', content: json.response });
  const usage = readUsage(json.usage);
  if (usage) events.push({ type: 'usage', usage, estimated: false });
  return events;
}

/** The model path segment, with '@' and '/' kept literal (Cloudflare routes on them) and the rest encoded. */
export function cloudflareModelPath(model: string): string {
  const segments = model.split('/');
  // Dot segments (even percent-encoded) are resolved by URL parsers and would point the
  // account's token at another Cloudflare API route, so such an id is refused outright.
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new UpstreamError('invalid', `not a Cloudflare model id: ${JSON.stringify(model)}`);
  }
  return segments.map((s) => encodeURIComponent(s).replace(/%40/g, '@')).join('/');
}

// ---------------------------------------------------------------------------------------

function notAnAnswer(why: string): UpstreamError {
  return new UpstreamError('invalid', `Cloudflare answer is not a chat completion: ${why}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: unknown): unknown {
  return value === null ? undefined : value;
}

function sendsTools(req: ChatRequest): boolean {
  return Array.isArray(req.params.tools) && req.params.tools.length > 0 && req.params.tool_choice !== 'none';
}

/** OpenAI `{type:"function", function:{name, description, parameters}}` → native `{name, description, parameters}`. */
function toCloudflareTool(tool: unknown): Record<string, unknown> {
  const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : isRecord(tool) ? tool : {};
  const native: Record<string, unknown> = { name: fn.name };
  if (typeof fn.description === 'string') native.description = fn.description;
  native.parameters = isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
  return native;
}

/** `json_object` as is; OpenAI's `json_schema: {name, schema, strict}` → Workers AI's `json_schema: <the schema>`. */
function jsonFormat(raw: unknown): Record<string, unknown> | undefined {
  if (!isRecord(raw)) return undefined;
  if (raw.type === 'json_object') return { type: 'json_object' };
  if (raw.type !== 'json_schema') return undefined;
  const wrapper = isRecord(raw.json_schema) ? raw.json_schema : {};
  return { type: 'json_schema', json_schema: isRecord(wrapper.schema) ? wrapper.schema : { type: 'object' } };
}

function toCloudflareMessage(message: ChatMessage): { role: string; content: string } {
  // Workers AI knows system/user/assistant/tool; 'developer' is OpenAI's newer name for system.
  const role = message.role === 'developer' ? 'system' : message.role;
  const text = flattenContent(message.content);
  // The message schema has no tool_calls field: an earlier call is told to the model as the
  // native call it made, so the tool result that follows has something to answer.
  const calls = role === 'assistant' && Array.isArray(message.tool_calls) ? message.tool_calls : [];
  if (calls.length === 0) return { role, content: text };
  const native = calls.map((c) => ({ name: c.function?.name, arguments: parseArguments(c.function?.arguments) }));
  return { role, content: [text, JSON.stringify(native)].filter(Boolean).join('\n') };
}

function parseArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function flattenContent(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content) {
    if (part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
  }
  return texts.join('\n');
}

/** JSON mode returns the parsed object as `response`; clients expect the JSON text. */
function responseText(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return text === '' ? undefined : text;
}

/** Native `[{name, arguments:{…}}]` (and OpenAI-shaped entries some newer models return) → tool calls. */
function cloudflareToolCalls(raw: unknown): ToolCallDelta[] {
  if (!Array.isArray(raw)) return [];
  const calls: ToolCallDelta[] = [];
  for (const item of raw) {
    if (!isRecord(item)) continue;
    const fn = isRecord(item.function) ? item.function : item;
    if (typeof fn.name !== 'string' || fn.name === '') continue;
    const index = calls.length;
    const args = fn.arguments;
    calls.push({
      index,
      // Native calls carry no id; clients send it back with the tool result, so it must be unique.
      id: typeof item.id === 'string' && item.id !== '' ? item.id : `call_${randomBytes(12).toString('hex')}`,
      type: 'function',
      function: {
        name: fn.name,
        arguments: typeof args === 'string' ? args : args === undefined || args === null ? '{}' : JSON.stringify(args),
      },
    });
  }
  return calls;
}
