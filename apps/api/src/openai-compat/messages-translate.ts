import type { ChatCompletionRequest, ChatMessage, ContentPart, FinishReason, ToolCall } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import type { CountMessageTokensDto, CreateMessageDto } from './messages-request.dto.ts';

/**
 * Anthropic Messages requests in chat-completion form, for the failover core: the system prompt
 * becomes a system message, content blocks become content parts, tool_use blocks an assistant's
 * tool_calls and tool_result blocks tool messages. Anything that cannot be said in chat-completion
 * form is a 400 naming the block, never dropped.
 */

type Block = Record<string, unknown>;
type Prompt = Pick<CountMessageTokensDto, 'system' | 'messages' | 'tools' | 'tool_choice'>;

export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'refusal';

const STOP_REASONS: Record<FinishReason, StopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export const stopReason = (finish: FinishReason): StopReason => STOP_REASONS[finish] ?? 'end_turn';

const unsupported = (param: string, what: string) => ApiError.badRequest(`${param}: ${what} is not supported by this gateway.`, param, 'unsupported_content');
const invalid = (param: string, what: string) => ApiError.badRequest(`${param}: ${what}`, param);

function str(value: unknown, param: string): string {
  if (typeof value !== 'string') throw invalid(param, 'must be a string');
  return value;
}

/** The whole create request: the prompt, the sampling settings, and the gateway's `provider`. */
export function toChatRequest(dto: CreateMessageDto): ChatCompletionRequest {
  const { messages, tools, tool_choice, parallel_tool_calls } = toChatPrompt(dto);
  const body: ChatCompletionRequest = { model: dto.model, messages, stream: dto.stream === true, max_tokens: dto.max_tokens };
  if (dto.provider !== undefined) body.provider = dto.provider;
  if (dto.temperature !== undefined) body.temperature = dto.temperature;
  if (dto.top_p !== undefined) body.top_p = dto.top_p;
  if (dto.top_k !== undefined) body.top_k = dto.top_k;
  if (dto.stop_sequences?.length) body.stop = dto.stop_sequences;
  if (tools) body.tools = tools;
  if (tool_choice !== undefined) body.tool_choice = tool_choice;
  if (parallel_tool_calls !== undefined) body.parallel_tool_calls = parallel_tool_calls;
  const userId = dto.metadata?.user_id;
  if (typeof userId === 'string' && userId) body.user = userId.slice(0, 256);
  return body;
}

/** What the model is given: messages, tools and how to use them (also all count_tokens counts). */
export function toChatPrompt(dto: Prompt): { messages: ChatMessage[]; tools?: unknown[]; tool_choice?: unknown; parallel_tool_calls?: boolean } {
  const messages: ChatMessage[] = [];
  if (dto.system !== undefined) {
    const system = typeof dto.system === 'string' ? dto.system : textOf(dto.system, 'system');
    if (system) messages.push({ role: 'system', content: system });
  }
  dto.messages.forEach((m, i) => messages.push(...(m.role === 'user' ? userMessages(m.content, i) : [assistantMessage(m.content, i)])));
  if (!dto.tools?.length) return { messages };
  const choice = dto.tool_choice;
  return {
    messages,
    tools: dto.tools.map(toChatTool),
    tool_choice: choice && toChatToolChoice(choice),
    parallel_tool_calls: (choice as { disable_parallel_tool_use?: unknown } | undefined)?.disable_parallel_tool_use === true ? false : undefined,
  };
}

/** Text blocks only (a system prompt, a tool result's text), joined. */
function textOf(blocks: Block[], param: string): string {
  return blocks
    .map((b, j) => {
      if (b.type !== 'text') throw unsupported(`${param}[${j}]`, `a \`${String(b.type)}\` block here`);
      return str(b.text, `${param}[${j}].text`);
    })
    .join('\n');
}

function imagePart(block: Block, param: string): ContentPart {
  const source = block.source as Block | undefined;
  if (typeof source !== 'object' || source === null) throw invalid(`${param}.source`, 'must be an object');
  if (source.type === 'base64') {
    const media = str(source.media_type, `${param}.source.media_type`);
    return { type: 'image_url', image_url: { url: `data:${media};base64,${str(source.data, `${param}.source.data`)}` } };
  }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: str(source.url, `${param}.source.url`) } };
  throw unsupported(`${param}.source.type`, `an image source of type \`${String(source.type)}\``);
}

/**
 * One user turn: its tool results first, as tool messages (chat completions want them right after
 * the assistant's tool_calls, and Anthropic puts them first in the turn), then the rest as one user
 * message. Images in a tool result go to that user message: a tool message holds text only.
 */
function userMessages(content: string | Block[], i: number): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  content.forEach((block, j) => {
    const param = `messages[${i}].content[${j}]`;
    if (block.type === 'text') parts.push({ type: 'text', text: str(block.text, `${param}.text`) });
    else if (block.type === 'image') parts.push(imagePart(block, param));
    else if (block.type === 'tool_result') tools.push(toolMessage(block, param, parts));
    else throw unsupported(`${param}.type`, `a \`${block.type as string}\` block`);
  });
  if (parts.length === 0) return tools;
  const onlyText = parts.every((p) => p.type === 'text');
  const user: ChatMessage = { role: 'user', content: onlyText ? parts.map((p) => (p as { text: string }).text).join('\n') : parts };
  return [...tools, user];
}

function toolMessage(block: Block, param: string, images: ContentPart[]): ChatMessage {
  const id = str(block.tool_use_id, `${param}.tool_use_id`);
  let text: string;
  if (block.content === undefined || block.content === null) text = '';
  else if (typeof block.content === 'string') text = block.content;
  else if (Array.isArray(block.content)) {
    const texts: string[] = [];
    (block.content as Block[]).forEach((b, k) => {
      const at = `${param}.content[${k}]`;
      if (typeof b !== 'object' || b === null) throw invalid(at, 'must be a content block');
      if (b.type === 'text') texts.push(str(b.text, `${at}.text`));
      else if (b.type === 'image') images.push(imagePart(b, at));
      else throw unsupported(`${at}.type`, `a \`${String(b.type)}\` block in a tool result`);
    });
    text = texts.join('\n');
  } else throw invalid(`${param}.content`, 'must be a string or an array of blocks');
  // Chat completions have no is_error: the model is told in the text instead.
  return { role: 'tool', tool_call_id: id, content: block.is_error === true ? `Error: ${text}` : text };
}

/** An assistant turn: its text, and its tool_use blocks as tool_calls; earlier thinking is not sent back. */
function assistantMessage(content: string | Block[], i: number): ChatMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: string[] = [];
  const calls: ToolCall[] = [];
  content.forEach((block, j) => {
    const param = `messages[${i}].content[${j}]`;
    if (block.type === 'text') texts.push(str(block.text, `${param}.text`));
    else if (block.type === 'tool_use') calls.push(toolCall(block, param));
    else if (block.type !== 'thinking' && block.type !== 'redacted_thinking') throw unsupported(`${param}.type`, `a \`${block.type as string}\` block`);
  });
  const message: ChatMessage = { role: 'assistant', content: texts.length ? texts.join('\n') : calls.length ? null : '' };
  if (calls.length) message.tool_calls = calls;
  return message;
}

function toolCall(block: Block, param: string): ToolCall {
  const input = block.input ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) throw invalid(`${param}.input`, 'must be an object');
  return { id: str(block.id, `${param}.id`), type: 'function', function: { name: str(block.name, `${param}.name`), arguments: JSON.stringify(input) } };
}

/** A client tool (`{name, description, input_schema}`); Anthropic's server tools (web search, bash…) run at Anthropic, not here. */
function toChatTool(tool: Block, j: number): unknown {
  const param = `tools[${j}]`;
  if (tool.type !== undefined && tool.type !== 'custom') throw unsupported(`${param}.type`, `the server tool \`${String(tool.type)}\``);
  const schema = tool.input_schema;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw invalid(`${param}.input_schema`, 'must be a JSON schema object');
  const fn: Record<string, unknown> = { name: str(tool.name, `${param}.name`), parameters: schema };
  if (tool.description !== undefined) fn.description = str(tool.description, `${param}.description`);
  return { type: 'function', function: fn };
}

function toChatToolChoice(choice: { type: string; name?: string }): unknown {
  switch (choice.type) {
    case 'any':
      return 'required';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
    case 'none':
      return 'none';
    default:
      return 'auto';
  }
}
