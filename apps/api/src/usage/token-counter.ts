import { createRequire } from 'node:module';
import type * as O200kBase from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage, Usage } from '#contracts';

/**
 * Token counts for when an upstream reports no usage, so the gateway never reports zero for a
 * non-empty exchange. Counts use o200k_base (GPT-4o / GPT-4.1 / GPT-5 / o-series); other model
 * families tokenize differently, so for them these are estimates.
 */

type Tokenizer = typeof O200kBase;

// Evaluating the encoding module builds its 200k-entry rank table: ~130 ms and ~33 MB of heap
// (about 30 MB of the process's RSS). A synchronous require defers that to the first count
// without making this API async: a gateway whose upstreams all report usage never pays it, and
// one that needs it pays the 130 ms once, on the first answer that comes without usage.
const requireModule = createRequire(import.meta.url);
let tokenizer: Tokenizer | undefined;

function loadTokenizer(): Tokenizer {
  tokenizer ??= requireModule('gpt-tokenizer/encoding/o200k_base') as Tokenizer;
  return tokenizer;
}

// The library throws on text containing special tokens such as "<|endoftext|>" unless told
// otherwise; in a prompt or completion they are plain text, and that is how the upstream
// tokenizes them too.
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

// BPE time grows quadratically with the length of a pre-tokenized piece: 100k spaces, or 30k
// CJK characters without punctuation, take ~5 s in one piece. Letter, symbol and whitespace
// runs (the only piece kinds without a length cap) are therefore counted in slices of this
// many code units; ordinary text has no such runs, and a cut costs at most about a token.
const MAX_RUN = 128;
// Finding those runs with Unicode property classes costs more than counting the text, so this
// cheap pass finds the spans that can contain one (a long letter or symbol run lies inside a
// long non-whitespace span) and only those are searched with the exact pattern. The lookbehinds
// make each span or run match only from its start, keeping both scans linear.
const LONG_SPAN = new RegExp(`(?<!\\S)(\\S{${MAX_RUN},})|(?<!\\s)\\s{${MAX_RUN},}`, 'g');
const LONG_RUN_IN_SPAN = new RegExp(`(?<![\\p{L}\\p{M}])[\\p{L}\\p{M}]{${MAX_RUN},}|(?<![^\\s\\p{L}\\p{N}])[^\\s\\p{L}\\p{N}]{${MAX_RUN},}`, 'gu');

/** OpenAI's documented chat overheads (openai-cookbook, "How to count tokens with tiktoken"). */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;
/** OpenAI's flat cost of an image at low detail; image size is unknown without fetching it. */
const IMAGE_TOKENS = 85;

export function countTextTokens(text: string): number {
  if (text === '') return 0;
  const { countTokens } = loadTokenizer();
  let total = 0;
  let last = 0;
  for (const [start, end] of longRuns(text)) {
    if (start > last) total += countTokens(text.slice(last, start), AS_PLAIN_TEXT);
    total += countInSlices(text.slice(start, end), countTokens);
    last = end;
  }
  if (last < text.length) total += countTokens(text.slice(last), AS_PLAIN_TEXT);
  return total;
}

/** [start, end) of each letter, symbol or whitespace run of at least MAX_RUN code units. */
function* longRuns(text: string): Generator<[number, number]> {
  for (const span of text.matchAll(LONG_SPAN)) {
    if (span[1] === undefined) {
      yield [span.index, span.index + span[0].length];
      continue;
    }
    for (const run of span[1].matchAll(LONG_RUN_IN_SPAN)) {
      const start = span.index + run.index;
      yield [start, start + run[0].length];
    }
  }
}

function countInSlices(run: string, countTokens: Tokenizer['countTokens']): number {
  let total = 0;
  for (let start = 0; start < run.length;) {
    let end = Math.min(start + MAX_RUN, run.length);
    // Never separate the halves of a surrogate pair.
    const last = run.charCodeAt(end - 1);
    if (end < run.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    total += countTokens(run.slice(start, end), AS_PLAIN_TEXT);
    start = end;
  }
  return total;
}

/**
 * Prompt tokens for a chat request, with OpenAI's per-message overhead (3 per message + 3 for
 * the reply priming; a set `name` costs its tokens + 1). The role and text content count; image
 * parts count a fixed 85 tokens each (OpenAI's low-detail cost); tool_calls count their function
 * name + arguments; the `tools` definitions count as their JSON when given.
 */
export function countPromptTokens(messages: ChatMessage[], tools?: unknown[]): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE;
    if (typeof message.role === 'string') total += countTextTokens(message.role);
    total += countContentTokens(message.content);
    if (typeof message.name === 'string' && message.name !== '') {
      total += TOKENS_PER_NAME + countTextTokens(message.name);
    }
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls) total += countToolCallTokens(call);
    }
  }
  if (tools !== undefined && tools.length > 0) total += countTextTokens(JSON.stringify(tools));
  return total;
}

function countContentTokens(content: ChatMessage['content']): number {
  if (typeof content === 'string') return countTextTokens(content);
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content) {
    if (part.type === 'image_url') {
      total += IMAGE_TOKENS;
      continue;
    }
    // Only text is counted: other parts (audio, files) carry base64 payloads whose text token
    // count has nothing to do with what the model is billed for them.
    if ('text' in part && typeof part.text === 'string') total += countTextTokens(part.text);
  }
  return total;
}

/** What the assistant produced, as collected from a response or a stream. */
export interface CompletionParts {
  content?: string;
  reasoning?: string;
  toolCalls?: Array<{ function?: { name?: string; arguments?: string } }>;
}

function countToolCallTokens(call: { function?: { name?: string; arguments?: string } }): number {
  const fn = call.function;
  // Upstream JSON may carry `"function": null` despite the type.
  if (!fn) return 0;
  return (typeof fn.name === 'string' ? countTextTokens(fn.name) : 0) + (typeof fn.arguments === 'string' ? countTextTokens(fn.arguments) : 0);
}

/** Completion tokens for what the assistant produced: content + reasoning + tool call names/arguments. */
export function countCompletionTokens(parts: CompletionParts): number {
  let total = countTextTokens(parts.content ?? '') + countTextTokens(parts.reasoning ?? '');
  for (const call of parts.toolCalls ?? []) total += countToolCallTokens(call);
  return total;
}

export function estimateUsage(messages: ChatMessage[], tools: unknown[] | undefined, completion: CompletionParts): Usage {
  const prompt_tokens = countPromptTokens(messages, tools);
  const completion_tokens = countCompletionTokens(completion);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}
