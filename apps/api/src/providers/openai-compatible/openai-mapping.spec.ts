import { readFileSync } from 'node:fs';
import type { ChatMessage } from '#contracts';
import { UpstreamError, type ChatEvent, type ChatRequest } from '../provider-adapter.ts';
import { buildOpenAIChatBody, chunkToEvents, completionToEvents } from './openai-mapping.ts';
import { parseRetryAfter, upstreamErrorMessage } from '../upstream-errors.ts';

function fixture(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}

function jsonFixture(name: string): unknown {
  return JSON.parse(fixture(name)) as unknown;
}

/** The `data:` payloads of an SSE fixture, up to `[DONE]` (the real parser lives in UpstreamHttp). */
function ssePayloads(name: string): unknown[] {
  const payloads: unknown[] = [];
  for (const block of fixture(name).split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data === '') continue;
    if (data === '[DONE]') break;
    payloads.push(JSON.parse(data) as unknown);
  }
  return payloads;
}

function streamEvents(name: string): ChatEvent[] {
  return ssePayloads(name).flatMap((payload) => chunkToEvents(payload));
}

function thrown(fn: () => unknown): UpstreamError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpstreamError) return err;
    throw err;
  }
  throw new Error('expected an UpstreamError, nothing was thrown');
}

function makeRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: false, params: {}, hasImages: false, ...overrides };
}

describe('buildOpenAIChatBody', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"answer":"a cat"}' },
  ];

  it('passes params through, replaces the model and asks for usage when streaming', () => {
    const req = makeRequest({
      model: 'llama-3.3-70b',
      messages,
      stream: true,
      hasImages: true,
      params: {
        temperature: 0.2,
        max_completion_tokens: 256,
        stop: ['\n\n'],
        seed: 7,
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
        tool_choice: 'auto',
        response_format: { type: 'json_object' },
        reasoning_effort: 'low',
        top_p: undefined,
        user: null,
      },
    });

    const body = buildOpenAIChatBody(req, 'meta-llama/Llama-3.3-70B-Instruct-Turbo');

    expect(body).toEqual({
      model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
      messages,
      temperature: 0.2,
      max_completion_tokens: 256,
      stop: ['\n\n'],
      seed: 7,
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      reasoning_effort: 'low',
      user: null,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(Object.keys(body)).not.toContain('top_p');
    expect(body.messages).toBe(messages);
  });

  it('sends no stream_options on a non-stream request', () => {
    const body = buildOpenAIChatBody(makeRequest({ params: { temperature: 1 } }), 'openai');
    expect(body).toEqual({ model: 'openai', messages: [{ role: 'user', content: 'Hi' }], temperature: 1, stream: false });
  });

  it('leaves stream_options out when the upstream rejects it', () => {
    const body = buildOpenAIChatBody(makeRequest({ stream: true }), 'openai', { includeUsageInStream: false });
    expect(body).toEqual({ model: 'openai', messages: [{ role: 'user', content: 'Hi' }], stream: true });
  });

  it('drops the params the upstream does not take', () => {
    const req = makeRequest({ params: { temperature: 0.5, reasoning_effort: 'high', parallel_tool_calls: false } });
    const body = buildOpenAIChatBody(req, 'm', { dropParams: ['reasoning_effort', 'parallel_tool_calls'] });
    expect(body).toEqual({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.5, stream: false });
  });

  it('sends only the non-OpenAI sampling fields the upstream takes, and other unknown fields as they came', () => {
    const req = makeRequest({ params: { temperature: 0.5, top_k: 40, min_p: 0.1, repetition_penalty: 1.1, typical_p: 0.9, logit_bias: { 1: 2 } } });
    expect(buildOpenAIChatBody(req, 'm', { samplingParams: ['top_k', 'repetition_penalty'] })).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.5,
      top_k: 40,
      repetition_penalty: 1.1,
      logit_bias: { 1: 2 },
      stream: false,
    });
    expect(buildOpenAIChatBody(req, 'm')).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0.5,
      logit_bias: { 1: 2 },
      stream: false,
    });
  });

  it('never lets params override the fields the gateway owns', () => {
    const req = makeRequest({
      stream: false,
      params: { model: 'client-model', messages: [], stream: true, stream_options: { include_usage: true }, provider: 'DeepInfra' },
    });
    expect(buildOpenAIChatBody(req, 'upstream-model')).toEqual({
      model: 'upstream-model',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
    });
  });
});

describe('completionToEvents', () => {
  it('maps an OpenAI answer to delta, finish and usage', () => {
    expect(completionToEvents(jsonFixture('openai-completion.json'))).toEqual([
      { type: 'delta', content: 'The capital of France is Paris.' },
      { type: 'finish', reason: 'stop' },
      {
        type: 'usage',
        usage: { prompt_tokens: 14, completion_tokens: 8, total_tokens: 22, completion_tokens_details: { reasoning_tokens: 0 } },
        estimated: false,
      },
    ]);
  });

  it('maps tool calls with their index', () => {
    expect(completionToEvents(jsonFixture('openai-completion-tool-calls.json'))).toEqual([
      {
        type: 'delta',
        toolCalls: [
          {
            index: 0,
            id: 'call_9pQm2xVb7RkLs4TnYw1cHd0e',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' },
          },
          {
            index: 1,
            id: 'call_3ZkJw8NfQe5RtUy6IoPa2sDf',
            type: 'function',
            function: { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}' },
          },
        ],
      },
      { type: 'finish', reason: 'tool_calls' },
      {
        type: 'usage',
        usage: { prompt_tokens: 82, completion_tokens: 51, total_tokens: 133, completion_tokens_details: { reasoning_tokens: 0 } },
        estimated: false,
      },
    ]);
  });

  it('maps reasoning_content to reasoning', () => {
    expect(completionToEvents(jsonFixture('openai-completion-reasoning.json'))).toEqual([
      {
        type: 'delta',
        content: '9.11 is smaller than 9.9.',
        reasoning: 'Compare 9.11 and 9.9: the tenths digit is 1 versus 9, so 9.11 < 9.9.',
      },
      { type: 'finish', reason: 'stop' },
      {
        type: 'usage',
        usage: { prompt_tokens: 18, completion_tokens: 47, total_tokens: 65, completion_tokens_details: { reasoning_tokens: 36 } },
        estimated: false,
      },
    ]);
  });

  it("keeps DeepInfra's usage counts and drops estimated_cost", () => {
    expect(completionToEvents(jsonFixture('deepinfra-completion.json'))).toEqual([
      { type: 'delta', content: 'Hello! How can I help you today?' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 }, estimated: false },
    ]);
  });

  it("reads Together's answer, ignoring prompt/warnings and mapping its 'eos' finish to stop", () => {
    expect(completionToEvents(jsonFixture('together-completion.json'))).toEqual([
      { type: 'delta', content: 'Here are three colors: red, green and blue.' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 41, completion_tokens: 12, total_tokens: 53 }, estimated: false },
    ]);
  });

  it('reads message.reasoning (OpenRouter/vLLM/Groq spelling) and answers that are only reasoning', () => {
    const json = { choices: [{ index: 0, message: { role: 'assistant', content: '', reasoning: 'thinking…' }, finish_reason: 'length' }] };
    expect(completionToEvents(json)).toEqual([
      { type: 'delta', reasoning: 'thinking…' },
      { type: 'finish', reason: 'length' },
    ]);
  });

  it('defaults a missing finish_reason to tool_calls when tools were called, else stop', () => {
    const withTools = {
      choices: [{ message: { content: null, tool_calls: [{ id: 'c1', function: { name: 'f', arguments: { a: 1 } } }] } }],
    };
    expect(completionToEvents(withTools)).toEqual([
      { type: 'delta', toolCalls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { type: 'finish', reason: 'tool_calls' },
    ]);
    expect(completionToEvents({ choices: [{ message: { content: 'ok' } }] })).toEqual([
      { type: 'delta', content: 'ok' },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('names the stop sequence a vLLM-based host reports in stop_reason (not a token id, not on other finishes)', () => {
    const answer = (finish: string, stopReason: unknown) => ({ choices: [{ message: { content: 'ok' }, finish_reason: finish, stop_reason: stopReason }] });
    expect(completionToEvents(answer('stop', 'END'))[1]).toEqual({ type: 'finish', reason: 'stop', stopSequence: 'END' });
    expect(completionToEvents(answer('stop', 128009))[1]).toEqual({ type: 'finish', reason: 'stop' });
    expect(completionToEvents(answer('stop', null))[1]).toEqual({ type: 'finish', reason: 'stop' });
    expect(completionToEvents(answer('length', 'END'))[1]).toEqual({ type: 'finish', reason: 'length' });
    expect(chunkToEvents({ choices: [{ delta: {}, finish_reason: 'stop', stop_reason: 'END' }] })).toEqual([
      { type: 'finish', reason: 'stop', stopSequence: 'END' },
    ]);
  });

  it('keeps completion_tokens_details.reasoning_tokens alone, and only when it is a count', () => {
    const base = { choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' }] };
    const usage = (details: unknown) =>
      completionToEvents({ ...base, usage: { prompt_tokens: 3, completion_tokens: 2, completion_tokens_details: details } })[2];
    expect(usage({ reasoning_tokens: 1, audio_tokens: 0 })).toMatchObject({ usage: { completion_tokens_details: { reasoning_tokens: 1 } } });
    expect(usage({ reasoning_tokens: -1 })).toEqual({ type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }, estimated: false });
    expect(usage('x')).toEqual({ type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }, estimated: false });
  });

  it('emits usage only when it has numbers, and sums a missing total', () => {
    const base = { choices: [{ message: { content: 'ok' }, finish_reason: 'stop' }] };
    expect(completionToEvents({ ...base, usage: { prompt_tokens: '3', completion_tokens: 2 } })).toHaveLength(2);
    expect(completionToEvents({ ...base, usage: null })).toHaveLength(2);
    expect(completionToEvents({ ...base, usage: { prompt_tokens: 3, completion_tokens: 2 } })[2]).toEqual({
      type: 'usage',
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      estimated: false,
    });
  });

  it.each([
    ['null', null, 'body is not a JSON object'],
    ['a string', 'Hello', 'body is not a JSON object'],
    ['an array', [{ choices: [] }], 'body is not a JSON object'],
    ['no choices array', { id: 'x', object: 'chat.completion' }, 'no choices array'],
    ['an empty choices array', { choices: [] }, 'choice without message'],
    ['a choice without message', { choices: [{ index: 0, text: 'hi', finish_reason: 'stop' }] }, 'choice without message'],
    ['an empty answer', { choices: [{ message: { role: 'assistant', content: '' }, finish_reason: 'stop' }] }, 'no content, reasoning or tool calls'],
    ['null content and no tool calls', { choices: [{ message: { content: null, tool_calls: [] } }] }, 'no content, reasoning or tool calls'],
  ])('throws invalid on %s', (_label, json, why) => {
    const err = thrown(() => completionToEvents(json));
    expect(err.kind).toBe('invalid');
    expect(err.message).toContain(why);
  });

  it("throws invalid with the upstream's message when a 2xx body is an error", () => {
    const err = thrown(() => completionToEvents({ error: { message: 'Rate limited', type: 'rate_limit', code: 429 } }));
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe('upstream error in a 2xx answer: Rate limited');
  });
});

describe('chunkToEvents', () => {
  it('maps a Pollinations stream (no usage; Azure filter chunk and empty deltas yield nothing)', () => {
    expect(streamEvents('pollinations-stream.sse')).toEqual([
      { type: 'delta', content: 'Bonjour' },
      { type: 'delta', content: ' le' },
      { type: 'delta', content: ' monde !' },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('maps a DeepInfra stream with usage on the finish chunk', () => {
    const chunks = ssePayloads('deepinfra-stream.sse');
    expect(chunkToEvents(chunks[0])).toEqual([]);
    expect(chunkToEvents(chunks[3])).toEqual([
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27 }, estimated: false },
    ]);
    expect(streamEvents('deepinfra-stream.sse')).toEqual([
      { type: 'delta', content: '1, 2' },
      { type: 'delta', content: ', 3' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27 }, estimated: false },
    ]);
  });

  it('maps tool-call argument deltas split across chunks, then the usage chunk', () => {
    expect(streamEvents('openai-stream-tool-calls.sse')).toEqual([
      {
        type: 'delta',
        toolCalls: [{ index: 0, id: 'call_9pQm2xVb7RkLs4TnYw1cHd0e', type: 'function', function: { name: 'get_weather', arguments: '' } }],
      },
      { type: 'delta', toolCalls: [{ index: 0, function: { arguments: '{"' } }] },
      { type: 'delta', toolCalls: [{ index: 0, function: { arguments: 'location' } }] },
      { type: 'delta', toolCalls: [{ index: 0, function: { arguments: '":"' } }] },
      { type: 'delta', toolCalls: [{ index: 0, function: { arguments: 'Paris' } }] },
      { type: 'delta', toolCalls: [{ index: 0, function: { arguments: '"}' } }] },
      {
        type: 'delta',
        toolCalls: [{ index: 1, id: 'call_3ZkJw8NfQe5RtUy6IoPa2sDf', type: 'function', function: { name: 'get_time', arguments: '' } }],
      },
      { type: 'delta', toolCalls: [{ index: 1, function: { arguments: '{"timezone":"Europe/Paris"}' } }] },
      { type: 'finish', reason: 'tool_calls' },
      {
        type: 'usage',
        usage: { prompt_tokens: 82, completion_tokens: 51, total_tokens: 133, completion_tokens_details: { reasoning_tokens: 0 } },
        estimated: false,
      },
    ]);
  });

  it('maps reasoning_content deltas to reasoning', () => {
    expect(streamEvents('reasoning-stream.sse')).toEqual([
      { type: 'delta', reasoning: 'Compare' },
      { type: 'delta', reasoning: ' the tenths: 1 < 9.' },
      { type: 'delta', content: '9.9' },
      { type: 'delta', content: ' is larger.' },
      { type: 'finish', reason: 'stop' },
      {
        type: 'usage',
        usage: { prompt_tokens: 16, completion_tokens: 21, total_tokens: 37, completion_tokens_details: { reasoning_tokens: 12 } },
        estimated: false,
      },
    ]);
  });

  it('maps a HuggingFace stream whose usage comes in a final `choices: []` chunk', () => {
    expect(streamEvents('huggingface-stream.sse')).toEqual([
      { type: 'delta', content: 'Hi' },
      { type: 'delta', content: ' there' },
      { type: 'delta', content: '!' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 25, completion_tokens: 3, total_tokens: 28 }, estimated: false },
    ]);
  });

  it('reads delta.reasoning and puts content, reasoning and tool calls of one chunk in one delta', () => {
    const chunk = {
      choices: [
        {
          index: 0,
          delta: { content: 'a', reasoning: 'r', tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f' } }] },
          finish_reason: null,
        },
      ],
    };
    expect(chunkToEvents(chunk)).toEqual([
      { type: 'delta', content: 'a', reasoning: 'r', toolCalls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f' } }] },
    ]);
  });

  it.each([
    ['length', 'length'],
    ['content_filter', 'content_filter'],
    ['max_tokens', 'length'],
    ['model_length', 'length'],
    ['tool_use', 'tool_calls'],
    ['end_turn', 'stop'],
    ['constructor', 'stop'],
    ['something_new', 'stop'],
  ])("maps finish_reason '%s' to '%s'", (raw, reason) => {
    expect(chunkToEvents({ choices: [{ index: 0, delta: {}, finish_reason: raw }] })).toEqual([{ type: 'finish', reason }]);
  });

  it("throws invalid with the upstream's message on an error inside a 200 stream", () => {
    const [first, second] = ssePayloads('stream-error.sse');
    expect(chunkToEvents(first)).toEqual([{ type: 'delta', content: 'Sure' }]);
    const err = thrown(() => chunkToEvents(second));
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe('upstream error in the stream: The model is overloaded. Please try again later.');
  });

  it('throws invalid on a string error and on a chunk that is not an object', () => {
    const err = thrown(() => chunkToEvents({ error: 'Internal Server Error' }));
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe('upstream error in the stream: Internal Server Error');
    expect(thrown(() => chunkToEvents('hello')).kind).toBe('invalid');
    expect(thrown(() => chunkToEvents(null)).kind).toBe('invalid');
  });
});

describe('upstreamErrorMessage', () => {
  it.each([
    [
      'the OpenAI envelope',
      '{"error":{"message":"You need positive balance","type":"invalid_request_error","param":null,"code":null}}',
      'You need positive balance',
    ],
    [
      'the Pollinations envelope',
      '{"status":402,"success":false,"error":{"code":"PAYMENT_REQUIRED","message":"Insufficient pollen balance","timestamp":"2026-10-31T10:00:00.000Z"}}',
      'Insufficient pollen balance',
    ],
    [
      'the Cloudflare envelope',
      '{"success":false,"errors":[{"code":5007,"message":"No such model @cf/meta/llama-9"},{"code":7000,"message":"No route for that URI"}],"result":null,"messages":[]}',
      'No such model @cf/meta/llama-9; No route for that URI',
    ],
    ['{message}', '{"message":"Not authenticated"}', 'Not authenticated'],
    ['{detail}', '{"detail":"Model not found"}', 'Model not found'],
    ['a FastAPI validation detail', '{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}', 'field required'],
    ['{error: "string"}', '{"error":"Model is currently loading","estimated_time":20.0}', 'Model is currently loading'],
    ['an error object with only a code', '{"error":{"code":"rate_limited"}}', 'rate_limited'],
    ['plain text', '  Rate limited\n', 'Rate limited'],
    [
      'nginx HTML',
      '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>',
      '502 Bad Gateway 502 Bad Gateway nginx',
    ],
    ['HTML entities', '<p>Tom &amp; Jerry&#39;s &lt;b&gt; &#x263A;</p>', "Tom & Jerry's <b> ☺"],
    ['JSON with no message field', '{"foo":1}', '{"foo":1}'],
    ['broken JSON', '{"error": {"message": "cut o', '{"error": {"message": "cut o'],
    ['an empty body', '', ''],
    ['a blank body', ' \n\t ', ''],
  ])('reads %s', (_label, body, expected) => {
    expect(upstreamErrorMessage(body)).toBe(expected);
  });

  it('reduces an HTML challenge page to its visible text, without scripts or styles', () => {
    expect(upstreamErrorMessage(fixture('cloudflare-challenge.html'))).toBe('Just a moment... Enable JavaScript and cookies to continue');
  });

  it('clips plain text to 200 characters', () => {
    const message = upstreamErrorMessage(`Service unavailable: ${'x'.repeat(500)}`);
    expect(message).toHaveLength(200);
    expect(message.startsWith('Service unavailable: xxx')).toBe(true);
    expect(message.endsWith('…')).toBe(true);
  });

  it('does not throw on pathological input', () => {
    expect(upstreamErrorMessage('['.repeat(100_000))).toHaveLength(200);
    expect(upstreamErrorMessage(JSON.stringify({ error: { error: { error: { error: { error: { error: 'deep' } } } } } }))).toBe(
      '{"error":{"error":{"error":{"error":{"error":{"error":"deep"}}}}}}',
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it.each([
    ['120', 120_000],
    [' 5 ', 5_000],
    ['0', 0],
    ['1.5', 1_500],
  ])('reads delta-seconds %p', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([
    ['Wed, 21 Oct 2015 07:28:30 GMT', 30_000],
    ['Wednesday, 21-Oct-15 07:29:00 GMT', 60_000],
    ['Wed Oct 21 07:28:05 2015', 5_000],
    ['Wed, 21 Oct 2015 07:00:00 GMT', 0],
  ])('reads the HTTP-date %p', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });

  it.each([[undefined], [''], ['soon'], ['-5'], ['1e3'], ['foo 1'], ['Wed, 99 Foo 2015 07:28:30 GMT']])('rejects %p', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it('measures from the current time by default', () => {
    const ms = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString());
    expect(ms).toBeGreaterThan(58_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });
});
