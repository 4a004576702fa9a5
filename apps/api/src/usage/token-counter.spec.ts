import type { ChatMessage } from '#contracts';
import {
  COUNT_CACHE_MAX_CHARS,
  COUNT_CACHE_MAX_ENTRIES,
  countCacheSize,
  countCompletionTokens,
  countPromptTokens,
  countTextTokens,
  countTextsTokens,
  estimateUsage,
} from './token-counter.ts';
import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import { cpuMs } from '../../../../test/support/cpu-time.ts';

/** 3 tokens of per-message overhead plus the role, which is one token for every OpenAI role. */
const MESSAGE_OVERHEAD = 3 + 1;
const REPLY_PRIMING = 3;

describe('countTextTokens', () => {
  it.each([
    // "Hello" + " world"
    ['Hello world', 2],
    // "Hello" "," " world" "!"
    ['Hello, world!', 4],
    ['The quick brown fox jumps over the lazy dog.', 10],
    // 我 / 爱 / 北京 / 天 / 安 / 门 / 。: common characters are single tokens, 北京 one merged token
    ['我爱北京天安门。', 7],
    ['今天天气很好，我们去公园散步吧。', 12],
    ['🙂', 1],
    [' ', 1],
    ['', 0],
  ])('counts %j as %i o200k_base tokens', (text, expected) => {
    expect(countTextTokens(text)).toBe(expected);
  });

  it('counts special-token text as plain text instead of throwing', () => {
    // "<", "|", "endo", "ftext", "|", ">" and more: plain characters, not the one special token.
    expect(countTextTokens('<|endoftext|>')).toBe(7);
    expect(countTextTokens('a <|im_start|> b')).toBeGreaterThan(3);
  });

  // Unsliced, gpt-tokenizer needs ~5 s per 100k-character run: Jest's timeout guards that.
  it('counts long runs exactly where slicing cannot matter', () => {
    // 8 "a"s per token and 128 spaces per token divide the runs evenly.
    expect(countTextTokens('a'.repeat(100_000))).toBe(12_500);
    expect(countTextTokens(`x${' '.repeat(100_000)}y`)).toBe(countTextTokens(`x${' '.repeat(128)}y`) + 781);
    // CJK without punctuation and symbol runs are single pre-tokenizer pieces too.
    const cjk = countTextTokens('北京天安门'.repeat(10_000));
    expect(cjk).toBeGreaterThan(20_000);
    expect(cjk).toBeLessThan(50_000);
    expect(countTextTokens('🙂'.repeat(30_000))).toBe(30_000);
    expect(countTextTokens('='.repeat(100_000))).toBeGreaterThan(1_000);
  });

  it('matches the unsliced count exactly for ordinary text, long URLs and minified JSON', () => {
    const texts = [
      'Visit https://example.com/a/very/long/path/with/many/segments/and?query=string&more=params&even=more&and=more&still=going&done=yes today.',
      JSON.stringify({
        tools: Array.from({ length: 20 }, (_, i) => ({
          name: `tool_${i}`,
          description: 'Does things',
        })),
      }),
      'Zeile eins\n\n\tEingerückt: Donaudampfschifffahrtsgesellschaftskapitänsmütze — 12345678 🙂🙂',
    ];
    for (const text of texts) expect(countTextTokens(text)).toBe(o200k.countTokens(text));
  });

  it('stays within about a token per cut of the unsliced count for long runs', () => {
    for (const run of ['supercalifragilistic'.repeat(7), '北京天安门'.repeat(60), '-'.repeat(500)]) {
      const text = `Say ${run} twice`;
      const cuts = Math.floor(run.length / 128);
      expect(Math.abs(countTextTokens(text) - o200k.countTokens(text))).toBeLessThanOrEqual(cuts + 1);
    }
  });
  // A backtracking long-run regex overflowed the stack from ~5.6 M characters without whitespace.
  it('counts megabytes without whitespace without overflowing the stack', () => {
    expect(countTextTokens('7'.repeat(6_000_000))).toBe(2_000_000);
    expect(countTextTokens('x'.repeat(6_000_000))).toBe(750_000);
  });
});

/** Random lower-case words of `length` letters: the costliest text per character for BPE. */
function adversarial(chars: number, length = 127): string {
  const words: string[] = [];
  let seed = 42;
  for (let size = 0; size < chars; size += length + 1) {
    let word = '';
    for (let i = 0; i < length; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      word += String.fromCharCode(97 + (seed % 26));
    }
    words.push(word);
  }
  return words.join(' ');
}

describe('countTextsTokens', () => {
  const prose = 'The committee met on Tuesday to discuss the budget, and after a long debate it approved 3 of the 5 proposals. ';
  const code = 'export function add(a: number, b: number): number {\n  return a + b; // sum\n}\n\n';
  const cjk = '今天天气很好，我们去公园散步吧。我爱北京天安门。';

  it('is exact up to 8 KiB of text in all', () => {
    const texts = [prose.repeat(30), code.repeat(20), cjk.repeat(10)];
    expect(texts.join('').length).toBeLessThanOrEqual(8_192);
    expect(countTextsTokens(texts)).toBe(texts.reduce((sum, t) => sum + countTextTokens(t), 0));
    expect(countTextsTokens([])).toBe(0);
    expect(countTextsTokens(['', ''])).toBe(0);
  });

  it.each([
    ['prose', prose.repeat(5_000)],
    ['code', code.repeat(6_000)],
    ['CJK', cjk.repeat(10_000)],
    ['half prose, half CJK', prose.repeat(2_500) + cjk.repeat(5_000)],
    ['random long words', adversarial(500_000)],
  ])('estimates long %s within 3%% of the exact count', (_name, text) => {
    const exact = countTextTokens(text);
    expect(Math.abs(countTextsTokens([text]) - exact) / exact).toBeLessThan(0.03);
  });

  it('samples across many strings as across one', () => {
    const texts = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? prose : cjk));
    const exact = texts.reduce((sum, t) => sum + countTextTokens(t), 0);
    expect(Math.abs(countTextsTokens(texts) - exact) / exact).toBeLessThan(0.03);
  });

  // Exact counting of this text costs ~1 µs per character: 2 MB would block the event loop ~2 s.
  it('costs the same for 2 MB of the costliest text as for 16 KiB', () => {
    const text = adversarial(2_000_000);
    countTextsTokens([adversarial(20_000)]);
    let tokens = 0;
    expect(cpuMs(() => (tokens = countTextsTokens([text])))).toBeLessThan(100);
    expect(tokens).toBeGreaterThan(500_000);
  });
});

describe('countPromptTokens', () => {
  it('matches the OpenAI cookbook example, which the OpenAI API counts as 124 tokens for gpt-4o', () => {
    // From openai-cookbook "How to count tokens with tiktoken": both the formula and the API
    // report 124 prompt tokens for gpt-4o / gpt-4o-mini.
    const messages: ChatMessage[] = [
      {
        role: 'system',
        content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
      },
      {
        role: 'system',
        name: 'example_user',
        content: 'New synergies will help drive top-line growth.',
      },
      {
        role: 'system',
        name: 'example_assistant',
        content: 'Things working well together will increase revenue.',
      },
      {
        role: 'system',
        name: 'example_user',
        content: "Let's circle back when we have more time to touch base on opportunities for increased leverage.",
      },
      {
        role: 'system',
        name: 'example_assistant',
        content: "Let's talk later when we're less busy about how to do better.",
      },
      {
        role: 'user',
        content: "This late pivot means we don't have time to boil the ocean for the client deliverable.",
      },
    ];
    expect(countPromptTokens(messages)).toBe(124);
  });

  it('adds 3 per message, the role, and 3 for the reply priming', () => {
    expect(countPromptTokens([])).toBe(REPLY_PRIMING);
    expect(countPromptTokens([{ role: 'user', content: 'Hello world' }])).toBe(REPLY_PRIMING + MESSAGE_OVERHEAD + 2);
    expect(
      countPromptTokens([
        { role: 'system', content: 'Hello world' },
        { role: 'user', content: '我爱北京天安门。' },
      ]),
    ).toBe(REPLY_PRIMING + 2 * MESSAGE_OVERHEAD + 2 + 7);
  });

  it('adds the name and 1 more token when a name is set', () => {
    const without = countPromptTokens([{ role: 'user', content: 'Hello world' }]);
    const named = countPromptTokens([{ role: 'user', content: 'Hello world', name: 'bob' }]);
    expect(named).toBe(without + 1 + countTextTokens('bob'));
    expect(countPromptTokens([{ role: 'user', content: 'Hello world', name: '' }])).toBe(without);
  });

  it('counts text parts and a fixed 85 tokens per image part', () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hello world' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(50_000)}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
          { type: 'text', text: '我爱北京天安门。' },
        ],
      },
    ];
    expect(countPromptTokens(messages)).toBe(REPLY_PRIMING + MESSAGE_OVERHEAD + 2 + 85 + 85 + 7);
  });

  it('ignores non-text, non-image parts such as base64 audio', () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [{ type: 'input_audio', input_audio: { data: 'UklGR'.repeat(1000), format: 'wav' } }],
      },
    ];
    expect(countPromptTokens(messages)).toBe(REPLY_PRIMING + MESSAGE_OVERHEAD);
  });

  it('counts null or missing content as nothing', () => {
    expect(countPromptTokens([{ role: 'assistant', content: null }])).toBe(REPLY_PRIMING + MESSAGE_OVERHEAD);
    expect(countPromptTokens([{ role: 'assistant' }])).toBe(REPLY_PRIMING + MESSAGE_OVERHEAD);
  });

  it("counts assistant tool calls' function names and arguments", () => {
    const args = '{"city":"Paris"}';
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
    ];
    expect(countPromptTokens(messages)).toBe(
      REPLY_PRIMING +
        2 * MESSAGE_OVERHEAD +
        countTextTokens('get_weather') +
        countTextTokens(args) +
        countTextTokens('get_time') +
        countTextTokens('{}') +
        countTextTokens('18°C'),
    );
  });

  // A client's `tool_calls: [null]` passes validation of older gateways and killed the process here.
  it('counts messages, parts and tool calls of any other shape as nothing instead of throwing', () => {
    const garbage = [
      { role: 'assistant', content: 'a', tool_calls: [null, 1, 'x', {}, { function: null }, { function: { name: 7, arguments: {} } }] },
      { role: 'user', content: [null, 3, { type: 'text', text: null }, { type: 'text', text: 'Hello world' }] },
      null,
    ] as unknown as ChatMessage[];
    expect(countPromptTokens(garbage)).toBe(REPLY_PRIMING + 3 * 3 + 2 + countTextTokens('a') + 2);
    expect(countCompletionTokens({ toolCalls: [null, { function: null }] as never })).toBe(0);
  });

  it('counts the tools definitions as JSON', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const messages: ChatMessage[] = [{ role: 'user', content: 'Weather in Paris?' }];
    expect(countPromptTokens(messages, tools)).toBe(countPromptTokens(messages) + countTextTokens(JSON.stringify(tools)));
    expect(countPromptTokens(messages, [])).toBe(countPromptTokens(messages));
  });
});

describe('countCompletionTokens', () => {
  it('counts content, reasoning and tool call names and arguments', () => {
    expect(countCompletionTokens({ content: 'Hello world' })).toBe(2);
    expect(countCompletionTokens({ content: 'Hello world', reasoning: '我爱北京天安门。' })).toBe(9);
    expect(
      countCompletionTokens({
        toolCalls: [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { function: { name: 'get_time' } }, {}],
      }),
    ).toBe(countTextTokens('get_weather') + countTextTokens('{"city":"Paris"}') + countTextTokens('get_time'));
  });

  it('is zero only for an empty completion', () => {
    expect(countCompletionTokens({})).toBe(0);
    expect(countCompletionTokens({ content: '', reasoning: '', toolCalls: [] })).toBe(0);
    expect(countCompletionTokens({ content: ' ' })).toBeGreaterThan(0);
  });
});

describe('estimateUsage', () => {
  it('adds prompt and completion tokens', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Hello world' }];
    expect(estimateUsage(messages, undefined, { content: '我爱北京天安门。' })).toEqual({
      prompt_tokens: REPLY_PRIMING + MESSAGE_OVERHEAD + 2,
      completion_tokens: 7,
      total_tokens: REPLY_PRIMING + MESSAGE_OVERHEAD + 2 + 7,
    });
  });

  it('never reports zero for a non-empty exchange', () => {
    const exchanges: Array<[ChatMessage[], Parameters<typeof estimateUsage>[2]]> = [
      [[{ role: 'user', content: 'hi' }], { content: 'x' }],
      [[{ role: 'user', content: '' }], { content: '.' }],
      [[{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }], { reasoning: '…' }],
      [[{ role: 'user', content: 'call it' }], { toolCalls: [{ function: { name: 'f' } }] }],
    ];
    for (const [messages, completion] of exchanges) {
      const usage = estimateUsage(messages, undefined, completion);
      expect(usage.prompt_tokens).toBeGreaterThan(0);
      expect(usage.completion_tokens).toBeGreaterThan(0);
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    }
  });
});

describe('the count cache', () => {
  it('gives a text seen again the same count, without tokenizing it again', () => {
    const text = `${adversarial(6_000)} tail`;
    const first = countTextTokens(text);
    const { hits, entries } = countCacheSize();
    // The same text in a new string (as the next request's body parses it): answered by the cache.
    const second = countTextTokens(`${text.slice(0, 100)}${text.slice(100)}`);
    expect(second).toBe(first);
    expect(second).toBe(o200k.countTokens(text));
    expect(countCacheSize()).toMatchObject({ hits: hits + 1, entries });
    // Another text is counted, not answered.
    countTextTokens(`${text} and more`);
    expect(countCacheSize()).toMatchObject({ hits: hits + 1, entries: entries + 1 });
  });

  it('keeps at most its entries and characters', () => {
    for (let i = 0; i < COUNT_CACHE_MAX_ENTRIES + 50; i++) countTextTokens(`filler number ${i} of the cache bound test`);
    expect(countCacheSize().entries).toBe(COUNT_CACHE_MAX_ENTRIES);
    for (let i = 0; i < 300; i++) countTextTokens(`${i} ${'long filler text '.repeat(480)}`);
    const size = countCacheSize();
    expect(size.entries).toBeLessThanOrEqual(COUNT_CACHE_MAX_ENTRIES);
    expect(size.chars).toBeLessThanOrEqual(COUNT_CACHE_MAX_CHARS);
    expect(size.chars).toBeGreaterThan(COUNT_CACHE_MAX_CHARS - 10_000);
  });

  it('does not keep texts longer than the exact-count limit', () => {
    const before = countCacheSize();
    countTextTokens(adversarial(50_000));
    expect(countCacheSize().chars - before.chars).toBeLessThanOrEqual(0);
  });
});
