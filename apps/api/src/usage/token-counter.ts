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

/*
 * Even in short pieces, exact counting costs up to 1-3 µs of event-loop time per character (text
 * made of random 127-letter words; ordinary prose is ~40x cheaper), and a request body may hold
 * 10 MB. So an estimate counts exactly only while its text is at most EXACT_CHARS code units
 * (prompt and completion each: ~10-25 ms at worst). Above that, SAMPLE_WINDOWS windows of
 * SAMPLE_WINDOW code units, evenly spaced over all of its text, are counted exactly and their
 * tokens-per-character ratio is applied to the whole length (window edges inside a string move
 * to whitespace, so as not to split words). That is exact in expectation for text whose make-up
 * does not change at a finer scale than the windows: within 3% on long prose, code, CJK, mixes of
 * them and random words (token-counter.spec.ts); on this repository's own files (README, JSON,
 * TypeScript, 15-420 KB) mostly within 2%, at worst 8% on a test file mixing code and long
 * literals. Text built so that the windows miss its expensive parts can be under-estimated: these
 * are estimates for when the upstream reports no usage. The cost is linear in the number of
 * strings and constant in their length.
 */
const EXACT_CHARS = 8_192;
const SAMPLE_WINDOWS = 16;
const SAMPLE_WINDOW = EXACT_CHARS / SAMPLE_WINDOWS;

/** OpenAI's documented chat overheads (openai-cookbook, "How to count tokens with tiktoken"). */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;
/** OpenAI's flat cost of an image at low detail; image size is unknown without fetching it. */
const IMAGE_TOKENS = 85;

/**
 * Counts of texts seen lately, most recently used last. Clients resend the same texts turn after
 * turn (a system prompt, the conversation so far, tool definitions), and an Anthropic stream
 * counts its prompt before its first event: each text is tokenized once while it keeps coming.
 * Bounded in entries and in the characters the keys hold; only texts of at most EXACT_CHARS are
 * kept (a prompt's longer texts are sampled in windows of their own, see countTextsTokens).
 */
const countCache = new Map<string, number>();
let cachedChars = 0;
let cacheHits = 0;
export const COUNT_CACHE_MAX_ENTRIES = 4_096;
export const COUNT_CACHE_MAX_CHARS = 2 * 1024 * 1024;
/** Below this a text is counted each time: a lookup would cost about as much. */
const COUNT_CACHE_MIN_CHARS = 24;

/** Exact o200k_base count of one string, linear in its length (see MAX_RUN); remembered for a text seen again. */
export function countTextTokens(text: string): number {
  if (text.length < COUNT_CACHE_MIN_CHARS || text.length > EXACT_CHARS) return countUncached(text);
  const known = countCache.get(text);
  if (known !== undefined) {
    cacheHits += 1;
    countCache.delete(text);
    countCache.set(text, known);
    return known;
  }
  const count = countUncached(text);
  countCache.set(text, count);
  cachedChars += text.length;
  for (const [oldest] of countCache) {
    if (countCache.size <= COUNT_CACHE_MAX_ENTRIES && cachedChars <= COUNT_CACHE_MAX_CHARS) break;
    countCache.delete(oldest);
    cachedChars -= oldest.length;
  }
  return count;
}

/** What the count cache holds now, and how many counts it answered so far (for its tests). */
export function countCacheSize(): { entries: number; chars: number; hits: number } {
  return { entries: countCache.size, chars: cachedChars, hits: cacheHits };
}

function countUncached(text: string): number {
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

const LETTER = 1;
const SPACE = 2;
const SYMBOL = 3;
const OTHER = 0;
const IS_SPACE = /^\s$/u;
const IS_LETTER = /^[\p{L}\p{M}]$/u;
const IS_NUMBER = /^\p{N}$/u;

/** The pre-tokenizer's class of a code point, as far as run lengths go (numbers are pieces of 3). */
function kindOf(code: number): number {
  if (code < 0x80) {
    if ((code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a)) return LETTER;
    if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) return SPACE;
    return code >= 0x30 && code <= 0x39 ? OTHER : SYMBOL;
  }
  const char = String.fromCodePoint(code);
  if (IS_LETTER.test(char)) return LETTER;
  if (IS_SPACE.test(char)) return SPACE;
  return IS_NUMBER.test(char) ? OTHER : SYMBOL;
}

/**
 * [start, end) of each letter, symbol or whitespace run of at least MAX_RUN code units. A plain
 * scan rather than a regular expression: a backtracking `\S{128,}` over megabytes overflows the
 * stack.
 */
function* longRuns(text: string): Generator<[number, number]> {
  let kind = OTHER;
  let start = 0;
  for (let i = 0; i < text.length;) {
    const code = text.codePointAt(i)!;
    const k = kindOf(code);
    if (k !== kind) {
      if (kind !== OTHER && i - start >= MAX_RUN) yield [start, i];
      kind = k;
      start = i;
    }
    i += code > 0xffff ? 2 : 1;
  }
  if (kind !== OTHER && text.length - start >= MAX_RUN) yield [start, text.length];
}

function countInSlices(run: string, countTokens: Tokenizer['countTokens']): number {
  let total = 0;
  for (let start = 0; start < run.length;) {
    let end = Math.min(start + MAX_RUN, run.length);
    // Never separate the halves of a surrogate pair.
    if (end < run.length && isHighSurrogate(run.charCodeAt(end - 1))) end -= 1;
    total += countTokens(run.slice(start, end), AS_PLAIN_TEXT);
    start = end;
  }
  return total;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * Tokens of all these strings together: exact up to EXACT_CHARS code units, sampled above
 * (see EXACT_CHARS). Never zero for non-empty text.
 */
export function countTextsTokens(texts: readonly string[]): number {
  let length = 0;
  for (const text of texts) length += text.length;
  if (length <= EXACT_CHARS) {
    let total = 0;
    for (const text of texts) total += countTextTokens(text);
    return total;
  }
  // Windows at evenly spaced offsets of all the text as if concatenated (they cannot overlap:
  // length / SAMPLE_WINDOWS > SAMPLE_WINDOW), each crossing from one string into the next as
  // needed and counting each string's part on its own, as token boundaries fall between strings.
  let sampledTokens = 0;
  let sampledChars = 0;
  let index = 0;
  let before = 0;
  for (let w = 0; w < SAMPLE_WINDOWS; w++) {
    let from = Math.floor(((w + 0.5) * length) / SAMPLE_WINDOWS) - SAMPLE_WINDOW / 2;
    let wanted = SAMPLE_WINDOW;
    while (wanted > 0 && from < length) {
      while (before + texts[index]!.length <= from) before += texts[index++]!.length;
      const text = texts[index]!;
      const offset = from - before;
      const planned = Math.min(text.length, offset + wanted);
      const [start, end] = inwardToSpaces(text, offset, planned);
      if (end > start) {
        sampledTokens += countTextTokens(text.slice(start, end));
        sampledChars += end - start;
      }
      from += planned - offset;
      wanted -= planned - offset;
    }
  }
  return Math.max(1, Math.round((sampledChars ? sampledTokens / sampledChars : 1) * length));
}

/** How far a window edge inside a string may move to reach whitespace. */
const EDGE_SEARCH = 48;
const isSpace = (code: number) => code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d;

/**
 * [start, end) moved inward where it cuts inside `text`: to whitespace nearby, so that an edge does
 * not split a word into two tokens (a start keeps the space, which o200k joins to the next word);
 * else just off the middle of a surrogate pair.
 */
function inwardToSpaces(text: string, start: number, end: number): [number, number] {
  if (start > 0) {
    let at = start;
    while (at < end && at < start + EDGE_SEARCH && !isSpace(text.charCodeAt(at))) at++;
    if (at < end && isSpace(text.charCodeAt(at))) start = at;
    else if (isHighSurrogate(text.charCodeAt(start - 1))) start += 1;
  }
  if (end < text.length) {
    let at = end;
    while (at > start && at > end - EDGE_SEARCH && !isSpace(text.charCodeAt(at))) at--;
    if (at > start && isSpace(text.charCodeAt(at))) end = at;
    else if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  }
  return [start, end];
}

/**
 * Prompt tokens for a chat request, with OpenAI's per-message overhead (3 per message + 3 for
 * the reply priming; a set `name` costs its tokens + 1). The role and text content count; image
 * parts count a fixed 85 tokens each (OpenAI's low-detail cost); tool_calls count their function
 * name + arguments; the `tools` definitions count as their JSON when given. Anything of another
 * shape (a client's `tool_calls: [null]`, say) counts as nothing rather than throwing.
 */
export function countPromptTokens(messages: readonly ChatMessage[], tools?: unknown[]): number {
  let total = REPLY_PRIMING_TOKENS;
  const texts: string[] = [];
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE;
    if (!isObject(message)) continue;
    if (typeof message.role === 'string') texts.push(message.role);
    total += contentTexts(message.content, texts);
    if (typeof message.name === 'string' && message.name !== '') {
      total += TOKENS_PER_NAME;
      texts.push(message.name);
    }
    if (Array.isArray(message.tool_calls)) for (const call of message.tool_calls as unknown[]) toolCallTexts(call, texts);
  }
  if (Array.isArray(tools) && tools.length > 0) texts.push(JSON.stringify(tools));
  return total + countTextsTokens(texts);
}

/** Adds a message content's text to `texts`; returns the fixed tokens of its image parts. */
function contentTexts(content: unknown, texts: string[]): number {
  if (typeof content === 'string') {
    texts.push(content);
    return 0;
  }
  if (!Array.isArray(content)) return 0;
  let images = 0;
  for (const part of content as unknown[]) {
    if (!isObject(part)) continue;
    if (part.type === 'image_url') images += IMAGE_TOKENS;
    // Only text is counted: other parts (audio, files) carry base64 payloads whose text token
    // count has nothing to do with what the model is billed for them.
    else if (typeof part.text === 'string') texts.push(part.text);
  }
  return images;
}

/** What the assistant produced, as collected from a response or a stream. */
export interface CompletionParts {
  content?: string;
  reasoning?: string;
  toolCalls?: ReadonlyArray<{ function?: { name?: string; arguments?: string } }>;
}

/** A tool call's function name and arguments; upstream or client JSON may be any shape. */
function toolCallTexts(call: unknown, texts: string[]): void {
  const fn = isObject(call) ? call.function : undefined;
  if (!isObject(fn)) return;
  if (typeof fn.name === 'string') texts.push(fn.name);
  if (typeof fn.arguments === 'string') texts.push(fn.arguments);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Completion tokens for what the assistant produced: content + reasoning + tool call names/arguments. */
export function countCompletionTokens(parts: CompletionParts): number {
  const texts = [parts.content ?? '', parts.reasoning ?? ''];
  for (const call of parts.toolCalls ?? []) toolCallTexts(call, texts);
  return countTextsTokens(texts);
}

export function estimateUsage(messages: readonly ChatMessage[], tools: unknown[] | undefined, completion: CompletionParts): Usage {
  const prompt_tokens = countPromptTokens(messages, tools);
  const completion_tokens = countCompletionTokens(completion);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}
