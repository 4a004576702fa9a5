import type { ChatCompletionRequest, ChatMessage, ContentPart, ToolCall } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import type { ResponsesRequestDto } from './responses-request.dto.ts';
import type { OutputItem } from './responses-output.ts';

/**
 * The Responses API in chat-completion terms: `input` items become chat messages, function
 * tools become chat tools, `text.format` becomes `response_format`. What has no chat meaning
 * (hosted tools, files) is refused with a 400 naming the param, never silently dropped.
 */

type Item = Record<string, unknown>;

const isObject = (v: unknown): v is Item => typeof v === 'object' && v !== null && !Array.isArray(v);

const bad = (message: string, param: string, code = 'invalid_value') => ApiError.badRequest(message, param, code);

function requireString(item: Item, field: string, at: string): string {
  const v = item[field];
  if (typeof v !== 'string') throw bad(`${at}.${field} must be a string.`, `${at}.${field}`, 'missing_required_parameter');
  return v;
}

const MESSAGE_ROLES = new Set(['user', 'system', 'developer', 'assistant']);

/** Builds this turn's messages, merging consecutive function calls into one assistant message. */
class MessageList {
  readonly messages: ChatMessage[] = [];

  push(message: ChatMessage): void {
    this.messages.push(message);
  }

  /** A call joins the assistant message right before it (its text, or calls made in the same turn). */
  call(call: ToolCall): void {
    const last = this.messages.at(-1);
    if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
    else this.messages.push({ role: 'assistant', content: null, tool_calls: [call] });
  }
}

/** Text parts joined; a refusal part (assistant history) counts as its text. */
function textOfParts(parts: unknown[], at: string, allowed: readonly string[]): string {
  return parts
    .map((part, j) => {
      if (!isObject(part) || !allowed.includes(String(part.type))) {
        throw bad(`${at}[${j}].type must be one of ${allowed.join(', ')} here.`, `${at}[${j}].type`);
      }
      return requireString(part, part.type === 'refusal' ? 'refusal' : 'text', `${at}[${j}]`);
    })
    .join('');
}

/** A user (or system) content part in chat's form. */
function chatPart(part: unknown, at: string): ContentPart {
  if (!isObject(part)) throw bad(`${at} must be an object.`, at);
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: requireString(part, 'text', at) };
    case 'input_image': {
      if (typeof part.image_url !== 'string') {
        throw bad(`${at}: only images given by \`image_url\` (a URL or a data: URL) are supported, not \`file_id\`.`, `${at}.image_url`, 'unsupported_value');
      }
      const detail = typeof part.detail === 'string' ? { detail: part.detail } : {};
      return { type: 'image_url', image_url: { url: part.image_url, ...detail } };
    }
    case 'input_file':
    case 'input_audio':
      throw bad(`${at}.type \`${part.type}\` is not supported by this gateway; send text and images.`, `${at}.type`, 'unsupported_value');
    default:
      throw bad(`${at}.type must be input_text or input_image.`, `${at}.type`);
  }
}

function messageFrom(item: Item, at: string): ChatMessage {
  const role = item.role;
  if (typeof role !== 'string' || !MESSAGE_ROLES.has(role)) throw bad(`${at}.role must be one of user, system, developer, assistant.`, `${at}.role`);
  const content = item.content;
  if (typeof content !== 'string' && !Array.isArray(content)) throw bad(`${at}.content must be a string or an array of content parts.`, `${at}.content`);
  if (role === 'assistant') {
    const text = typeof content === 'string' ? content : textOfParts(content, `${at}.content`, ['output_text', 'input_text', 'refusal']);
    return { role: 'assistant', content: text };
  }
  // Not every upstream knows the `developer` role; it is what `system` was.
  const chatRole = role === 'developer' ? 'system' : (role as 'user' | 'system');
  if (typeof content === 'string') return { role: chatRole, content };
  const parts = content.map((p, j) => chatPart(p, `${at}.content[${j}]`));
  // System text as one string: some upstreams take only strings there.
  if (chatRole === 'system') return { role: 'system', content: textOfParts(content, `${at}.content`, ['input_text', 'output_text']) };
  return { role: chatRole, content: parts };
}

function toolOutput(item: Item, at: string): string {
  const output = item.output;
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return textOfParts(output, `${at}.output`, ['input_text', 'output_text']);
  throw bad(`${at}.output must be a string or an array of text parts.`, `${at}.output`);
}

/** One output item of a stored response, as it continues a conversation. */
function addOutputItem(list: MessageList, item: OutputItem): void {
  if (item.type === 'message') list.push({ role: 'assistant', content: item.content.map((c) => c.text).join('') });
  else if (item.type === 'function_call') list.call({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
  // Reasoning is not sent back: chat upstreams take no reasoning input.
}

function addItem(list: MessageList, item: Item, at: string, references: ReadonlyMap<string, OutputItem>): void {
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message':
      return list.push(messageFrom(item, at));
    case 'function_call':
      return list.call({
        id: requireString(item, 'call_id', at),
        type: 'function',
        function: { name: requireString(item, 'name', at), arguments: requireString(item, 'arguments', at) },
      });
    case 'function_call_output':
      return list.push({ role: 'tool', tool_call_id: requireString(item, 'call_id', at), content: toolOutput(item, at) });
    case 'reasoning':
      return;
    case 'item_reference': {
      const found = references.get(requireString(item, 'id', at));
      if (!found) throw new ApiError(404, `Item with id '${String(item.id)}' not found.`, 'invalid_request_error', 'item_not_found', `${at}.id`);
      return addOutputItem(list, found);
    }
    default:
      throw bad(`${at}.type \`${String(type)}\` is not supported by this gateway.`, `${at}.type`, 'unsupported_value');
  }
}

/** The ids of `item_reference` items, which the caller looks up before translating. */
export function referencedIds(input: ResponsesRequestDto['input']): string[] {
  if (!Array.isArray(input)) return [];
  return input.filter((item) => item.type === 'item_reference' && typeof item.id === 'string').map((item) => item.id as string);
}

/** This turn's `input` as chat messages (without `instructions`, which are not carried over). */
export function inputMessages(input: ResponsesRequestDto['input'], references: ReadonlyMap<string, OutputItem> = new Map()): ChatMessage[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const list = new MessageList();
  input.forEach((item, i) => addItem(list, item, `input[${i}]`, references));
  return list.messages;
}

/** A response's output as chat messages, for the conversation a later turn continues. */
export function outputMessages(output: readonly OutputItem[]): ChatMessage[] {
  const list = new MessageList();
  for (const item of output) addOutputItem(list, item);
  return list.messages;
}

/** Function tools in chat's form; any other tool type is a 400 naming it. */
export function chatTools(tools: readonly Item[]): unknown[] {
  return tools.map((tool, i) => {
    const at = `tools[${i}]`;
    if (tool.type !== 'function') {
      throw bad(
        `${at}.type \`${String(tool.type)}\` is not supported by this gateway: only function tools are (hosted tools such as web search, file search and computer use are not).`,
        `${at}.type`,
        'unsupported_tool_type',
      );
    }
    const fn: Item = { name: requireString(tool, 'name', at) };
    if (typeof tool.description === 'string') fn.description = tool.description;
    if (isObject(tool.parameters)) fn.parameters = tool.parameters;
    if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
    return { type: 'function', function: fn };
  });
}

export function chatToolChoice(choice: unknown): unknown {
  if (typeof choice === 'string') return choice;
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  throw bad(
    'tool_choice must be "none", "auto", "required" or {"type": "function", "name": …}; hosted tools are not supported.',
    'tool_choice',
    'unsupported_value',
  );
}

/** `text.format` as chat's `response_format`; plain text needs none. */
export function chatResponseFormat(text: ResponsesRequestDto['text']): unknown {
  const format = text?.format;
  if (format === undefined || format === null) return undefined;
  if (!isObject(format)) throw bad('text.format must be an object.', 'text.format');
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const name = requireString(format, 'name', 'text.format');
      if (!isObject(format.schema)) throw bad('text.format.schema must be a JSON Schema object.', 'text.format.schema', 'missing_required_parameter');
      const schema: Item = { name, schema: format.schema };
      if (typeof format.strict === 'boolean') schema.strict = format.strict;
      if (typeof format.description === 'string') schema.description = format.description;
      return { type: 'json_schema', json_schema: schema };
    }
    default:
      throw bad('text.format.type must be text, json_object or json_schema.', 'text.format.type');
  }
}

/**
 * The chat request the failover core runs: the earlier turns (`history`), this request's
 * `instructions` first, then this turn's messages.
 */
export function toChatRequest(dto: ResponsesRequestDto, history: readonly ChatMessage[], turn: readonly ChatMessage[]): ChatCompletionRequest {
  const messages: ChatMessage[] = [...(dto.instructions ? [{ role: 'system' as const, content: dto.instructions }] : []), ...history, ...turn];
  if (!messages.some((m) => m.role !== 'system')) {
    throw bad("Missing required parameter: 'input' (a string or at least one input item).", 'input', 'missing_required_parameter');
  }
  const body: ChatCompletionRequest = { model: dto.model, messages, stream: dto.stream === true };
  if (dto.provider !== undefined) body.provider = dto.provider;
  if (dto.temperature !== undefined) body.temperature = dto.temperature;
  if (dto.top_p !== undefined) body.top_p = dto.top_p;
  if (dto.max_output_tokens !== undefined) body.max_tokens = dto.max_output_tokens;
  if (dto.user !== undefined) body.user = dto.user;
  if (dto.tools?.length) {
    body.tools = chatTools(dto.tools);
    if (dto.parallel_tool_calls !== undefined) body.parallel_tool_calls = dto.parallel_tool_calls;
  }
  if (dto.tool_choice !== undefined) body.tool_choice = chatToolChoice(dto.tool_choice);
  const format = chatResponseFormat(dto.text);
  if (format !== undefined) body.response_format = format;
  return body;
}
