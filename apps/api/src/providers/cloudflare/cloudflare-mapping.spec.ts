import { readFileSync } from 'node:fs';
import { UpstreamError, type ChatEvent, type ChatRequest } from '../provider-adapter.ts';
import {
  buildCloudflareChatBody,
  cloudflareChunkToEvents,
  cloudflareHonours,
  cloudflareModelPath,
  cloudflareNeedsWholeAnswer,
  cloudflareResultToEvents,
} from './cloudflare-mapping.ts';

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
  return { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'Hi' }], stream: false, params: {}, hasImages: false, ...overrides };
}

describe('buildCloudflareChatBody', () => {
  it('flattens content parts to text, maps developer to system and passes the supported params', () => {
    const req = makeRequest({
      stream: true,
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'First line' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            { type: 'text', text: 'Second line' },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: '42' },
      ],
      params: {
        temperature: 0.6,
        top_p: 0.9,
        seed: 11,
        frequency_penalty: 0.1,
        presence_penalty: 0.2,
        max_tokens: 300,
        max_completion_tokens: 999,
        stop: ['END'],
        user: 'u-1',
        tools: [],
        response_format: { type: 'json_object' },
      },
    });

    expect(buildCloudflareChatBody(req)).toEqual({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'First line\nSecond line' },
        { role: 'assistant', content: '[{"name":"f","arguments":{}}]' },
        { role: 'tool', content: '42' },
      ],
      // JSON mode does not stream on Workers AI: the whole answer is fetched and replayed.
      stream: false,
      response_format: { type: 'json_object' },
      max_tokens: 300,
      temperature: 0.6,
      top_p: 0.9,
      seed: 11,
      frequency_penalty: 0.1,
      presence_penalty: 0.2,
    });
  });

  it('takes max_tokens from max_completion_tokens and drops undefined and null values', () => {
    const req = makeRequest({ params: { max_completion_tokens: 128, temperature: undefined, top_p: null, seed: 0 } });
    const body = buildCloudflareChatBody(req);
    expect(body).toEqual({ messages: [{ role: 'user', content: 'Hi' }], stream: false, max_tokens: 128, seed: 0 });
    expect(Object.keys(body)).toEqual(['messages', 'stream', 'max_tokens', 'seed']);
  });

  it('sends the sampling fields beyond OpenAI’s that it is given, and no others', () => {
    const req = makeRequest({ params: { top_k: 40, repetition_penalty: 1.1, min_p: 0.05 } });
    expect(buildCloudflareChatBody(req, ['top_k', 'repetition_penalty'])).toEqual({
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
      top_k: 40,
      repetition_penalty: 1.1,
    });
    expect(buildCloudflareChatBody(req)).toEqual({ messages: [{ role: 'user', content: 'Hi' }], stream: false });
  });
});

describe('Cloudflare tools and JSON mode', () => {
  const weather = {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  };

  it('sends tools in the native shape, asks for the whole answer, and offers none for tool_choice "none"', () => {
    const req = makeRequest({ stream: true, params: { tools: [weather, { type: 'function', function: { name: 'bare' } }], tool_choice: 'auto' } });
    expect(cloudflareNeedsWholeAnswer(req)).toBe(true);
    expect(buildCloudflareChatBody(req)).toEqual({
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
      tools: [
        { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        { name: 'bare', parameters: { type: 'object', properties: {} } },
      ],
    });
    const none = makeRequest({ stream: true, params: { tools: [weather], tool_choice: 'none' } });
    expect(cloudflareNeedsWholeAnswer(none)).toBe(false);
    expect(buildCloudflareChatBody(none)).toEqual({ messages: [{ role: 'user', content: 'Hi' }], stream: true });
  });

  it("unwraps OpenAI's json_schema to the schema itself", () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const body = buildCloudflareChatBody(
      makeRequest({ params: { response_format: { type: 'json_schema', json_schema: { name: 'c', strict: true, schema } } } }),
    );
    expect(body.response_format).toEqual({ type: 'json_schema', json_schema: schema });
    expect(buildCloudflareChatBody(makeRequest({ params: { response_format: { type: 'text' } } })).response_format).toBeUndefined();
  });

  it('honours tools and JSON mode only on the models documented for them, and never stop, tool_choice or reasoning', () => {
    expect(cloudflareHonours('tools', '@cf/meta/llama-3.3-70b-instruct-fp8-fast')).toBe(true);
    expect(cloudflareHonours('tools', '@cf/meta/llama-4-scout-17b-16e-instruct')).toBe(true);
    expect(cloudflareHonours('tools', '@hf/mistral/mistral-7b-instruct-v0.2')).toBe(false);
    expect(cloudflareHonours('tools', '@cf/meta/llama-3.1-8b-instruct')).toBe(false);
    expect(cloudflareHonours('json_schema', '@cf/meta/llama-3.1-8b-instruct')).toBe(true);
    expect(cloudflareHonours('json_object', '@cf/qwen/qwen-1.5-7b-chat-awq')).toBe(false);
    for (const f of ['stop', 'tool_choice', 'reasoning'] as const) expect(cloudflareHonours(f, '@cf/meta/llama-3.3-70b-instruct-fp8-fast')).toBe(false);
  });
});

describe('cloudflareResultToEvents', () => {
  it('maps a native answer to delta, finish and usage', () => {
    expect(cloudflareResultToEvents(jsonFixture('cloudflare-result.json'))).toEqual([
      { type: 'delta', content: "Workers AI runs models on Cloudflare's global network." },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 38, completion_tokens: 12, total_tokens: 50 }, estimated: false },
    ]);
  });

  it('maps native tool calls with generated ids and JSON-string arguments', () => {
    const events = cloudflareResultToEvents(jsonFixture('cloudflare-result-tool-calls.json'));
    const ids = (events[0] as { toolCalls: Array<{ id: string }> }).toolCalls.map((c) => c.id);
    expect(ids).toEqual([expect.stringMatching(/^call_[0-9a-f]{24}$/), expect.stringMatching(/^call_[0-9a-f]{24}$/)]);
    expect(
      new Set([
        ...ids,
        ...(cloudflareResultToEvents(jsonFixture('cloudflare-result-tool-calls.json'))[0] as { toolCalls: Array<{ id: string }> }).toolCalls.map((c) => c.id),
      ]).size,
    ).toBe(4);
    expect(events).toEqual([
      {
        type: 'delta',
        toolCalls: [
          { index: 0, id: ids[0], type: 'function', function: { name: 'get_weather', arguments: '{"location":"Lisbon","unit":"celsius"}' } },
          { index: 1, id: ids[1], type: 'function', function: { name: 'get_time', arguments: '{"timezone":"Europe/Lisbon"}' } },
        ],
      },
      { type: 'finish', reason: 'tool_calls' },
      { type: 'usage', usage: { prompt_tokens: 311, completion_tokens: 44, total_tokens: 355 }, estimated: false },
    ]);
  });

  it('serializes a JSON-mode object response', () => {
    expect(cloudflareResultToEvents(jsonFixture('cloudflare-result-json-mode.json'))).toEqual([
      { type: 'delta', content: '{"city":"Lisbon","population":545923}' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 64, completion_tokens: 17, total_tokens: 81 }, estimated: false },
    ]);
  });

  it('emits no usage when Cloudflare gives none', () => {
    const events: ChatEvent[] = cloudflareResultToEvents({ result: { response: 'ok' }, success: true });
    expect(events).toEqual([
      { type: 'delta', content: 'ok' },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it("throws invalid with Cloudflare's message when success is false", () => {
    const err = thrown(() => cloudflareResultToEvents(jsonFixture('cloudflare-error.json')));
    expect(err.kind).toBe('invalid');
    expect(err.message).toMatch(/^Cloudflare reported failure: AiError: AiError: You have used up your daily free allocation of 10,000 neurons/);
    expect(thrown(() => cloudflareResultToEvents({ success: false, errors: [], result: null })).message).toBe('Cloudflare reported failure: no message');
  });

  it.each([
    ['null', null, 'body is not a JSON object'],
    ['an array', [], 'body is not a JSON object'],
    ['a missing result', { success: true, errors: [] }, 'no result object'],
    ['a null result', { result: null, success: true }, 'no result object'],
    ['a missing response', { result: { usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } }, success: true }, 'no response text'],
    ['an empty response', { result: { response: '', tool_calls: [] }, success: true }, 'no response text'],
  ])('throws invalid on %s', (_label, json, why) => {
    const err = thrown(() => cloudflareResultToEvents(json));
    expect(err.kind).toBe('invalid');
    expect(err.message).toContain(why);
  });
});

describe('cloudflareChunkToEvents', () => {
  it('maps a native stream, ignoring padding, with usage from the last event', () => {
    expect(ssePayloads('cloudflare-stream.sse').flatMap((payload) => cloudflareChunkToEvents(payload))).toEqual([
      { type: 'delta', content: 'Hello' },
      { type: 'delta', content: ' from' },
      { type: 'delta', content: ' the edge.' },
      { type: 'usage', usage: { prompt_tokens: 23, completion_tokens: 4, total_tokens: 27 }, estimated: false },
    ]);
  });

  it('yields nothing for padding-only and empty events', () => {
    expect(cloudflareChunkToEvents({ p: 'abcdefghij' })).toEqual([]);
    expect(cloudflareChunkToEvents({ response: '' })).toEqual([]);
  });

  it('throws invalid on an error event and on a payload that is not an object', () => {
    const err = thrown(() => cloudflareChunkToEvents({ success: false, errors: [{ code: 3040, message: 'Capacity temporarily exceeded' }] }));
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe('Cloudflare error in the stream: Capacity temporarily exceeded');
    expect(thrown(() => cloudflareChunkToEvents('Hello')).kind).toBe('invalid');
  });
});

describe('cloudflareModelPath', () => {
  it.each([
    ['@cf/meta/llama-3.3-70b-instruct-fp8-fast', '@cf/meta/llama-3.3-70b-instruct-fp8-fast'],
    ['@hf/nousresearch/hermes-2-pro-mistral-7b', '@hf/nousresearch/hermes-2-pro-mistral-7b'],
    ['@cf/acme/model name?v=1#x', '@cf/acme/model%20name%3Fv%3D1%23x'],
    ['@cf/acme/100%', '@cf/acme/100%25'],
  ])('keeps @ and / literal in %p', (model, path) => {
    expect(cloudflareModelPath(model)).toBe(path);
  });

  it('stays under /ai/run/ once put in a URL', () => {
    const url = new URL(`https://api.cloudflare.com/client/v4/accounts/abc/ai/run/${cloudflareModelPath('@cf/meta/llama-3.1-8b-instruct')}`);
    expect(url.pathname).toBe('/client/v4/accounts/abc/ai/run/@cf/meta/llama-3.1-8b-instruct');
  });

  it.each([[''], ['../tokens'], ['@cf/../../user/tokens'], ['@cf//llama'], ['@cf/meta/.']])('refuses %p', (model) => {
    expect(thrown(() => cloudflareModelPath(model)).kind).toBe('invalid');
  });
});
