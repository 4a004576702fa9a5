import type { ChatMessage, ToolCallDelta } from '#contracts';
import { UpstreamError, type ChatEvent, type ChatRequest } from '../provider-adapter.ts';
import { readUsage } from '../openai-compatible/openai-mapping.ts';
import { errorMessageFromJson } from '../upstream-errors.ts';

// The generation parameters Workers AI's text-generation schema accepts; anything else is rejected upstream.
const PASSED_PARAMS = ['temperature', 'top_p', 'seed', 'frequency_penalty', 'presence_penalty'] as const;

/** Native Workers AI body for `POST /accounts/{account_id}/ai/run/{model}`. */
export function buildCloudflareChatBody(req: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { messages: req.messages.map(toCloudflareMessage), stream: req.stream };
  // Workers AI validates types strictly and rejects null, so a null from the client counts as absent.
  const maxTokens = present(req.params.max_tokens) ?? present(req.params.max_completion_tokens);
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  for (const key of PASSED_PARAMS) {
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

function toCloudflareMessage(message: ChatMessage): { role: string; content: string } {
  // Workers AI knows system/user/assistant/tool; 'developer' is OpenAI's newer name for system.
  const role = message.role === 'developer' ? 'system' : message.role;
  return { role, content: flattenContent(message.content) };
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
      id: typeof item.id === 'string' && item.id !== '' ? item.id : `call_${index}`,
      type: 'function',
      function: {
        name: fn.name,
        arguments: typeof args === 'string' ? args : args === undefined || args === null ? '{}' : JSON.stringify(args),
      },
    });
  }
  return calls;
}
