/**
 * The response cache (RESPONSE_CACHE) end to end against the emulators: deterministic requests
 * (temperature 0 or a seed) are answered once upstream and then from the cache, streams as
 * streams; Cache-Control: no-cache asks afresh; errors, cut streams and tool calls are never
 * kept; entries expire and have a size bound; each client key has its own entries; hits are
 * counted in GET /api/cache. DeepInfra answers first (FIXED_ORDER_ENV).
 */
import type { CacheSettings, ChatCompletion, ChatCompletionChunk } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const KEY = 'sk-cache-one';
const OTHER_KEY = 'sk-cache-two';
const ENV = { ...FIXED_ORDER_ENV, RESPONSE_CACHE: 'true', API_KEY: `${KEY},${OTHER_KEY}` };

let emu: Emulator;
let gw: Gateway;
let auth: Record<string, string>;
let prompt = 0;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, ENV);
  auth = await adminHeaders(gw);
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(() => emu.reset());

/** A request body no other test sends (each test starts with an empty cache for it). */
function fresh(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, messages: [{ role: 'user', content: `tell me about cache test ${++prompt}` }], temperature: 0, ...extra };
}

const upstreamCalls = () => emu.requests().filter((r) => r.path.endsWith('/chat/completions')).length;

async function ask(body: Record<string, unknown>, headers: Record<string, string> = {}, on: Gateway = gw): Promise<{ res: Response; json: ChatCompletion }> {
  const res = await postJson(`${on.baseURL}/chat/completions`, body, { authorization: `Bearer ${KEY}`, ...headers });
  return { res, json: (await res.json()) as ChatCompletion };
}

async function askStream(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ res: Response; events: unknown[] }> {
  const res = await postJson(
    `${gw.baseURL}/chat/completions`,
    { ...body, stream: true, stream_options: { include_usage: true } },
    { authorization: `Bearer ${KEY}`, ...headers },
  );
  return { res, events: await readSse(res) };
}

const chunks = (events: unknown[]) => events.filter((e): e is ChatCompletionChunk => typeof e === 'object' && e !== null && !('error' in e));
const streamedText = (events: unknown[]) =>
  chunks(events)
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');

async function cacheView(on: Gateway = gw): Promise<CacheSettings> {
  return (await (await fetch(`${on.url}/api/cache`, { headers: await adminHeaders(on) })).json()) as CacheSettings;
}

describe('non-stream answers', () => {
  it('a second identical request is answered from the cache: same answer and usage, a new id, no upstream call', async () => {
    const body = fresh();
    const first = await ask(body);
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('x-pool-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(1);

    const second = await ask(body);
    expect(second.res.status).toBe(200);
    expect(second.res.headers.get('x-pool-cache')).toBe('hit');
    expect(second.res.headers.get('x-pool-provider')).toBe(first.res.headers.get('x-pool-provider'));
    expect(upstreamCalls()).toBe(1);
    expect(second.json.choices[0]!.message.content).toBe(first.json.choices[0]!.message.content);
    expect(second.json.choices[0]!.finish_reason).toBe(first.json.choices[0]!.finish_reason);
    expect(second.json.usage).toEqual(first.json.usage);
    expect(second.json.object).toBe('chat.completion');
    expect(second.json.id).not.toBe(first.json.id);
  });

  it('keys the request, not its spelling: key order, `user` and `stream` do not matter; another prompt does', async () => {
    const body = fresh();
    await ask(body);
    const reordered = Object.fromEntries(Object.entries({ ...body, user: 'someone' }).reverse());
    expect((await ask(reordered)).res.headers.get('x-pool-cache')).toBe('hit');
    expect((await ask({ ...body, max_tokens: 5 })).res.headers.get('x-pool-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(2);
  });

  it('caches a request with a seed; a sampled request (temperature above 0, no seed) is never cached', async () => {
    const seeded = fresh({ temperature: 0.7, seed: 42 });
    await ask(seeded);
    expect((await ask(seeded)).res.headers.get('x-pool-cache')).toBe('hit');

    const sampled = fresh({ temperature: 0.7 });
    const once = await ask(sampled);
    const twice = await ask(sampled);
    expect(once.res.headers.get('x-pool-cache')).toBeNull();
    expect(twice.res.headers.get('x-pool-cache')).toBeNull();
    expect(upstreamCalls()).toBe(3);
  });

  it('Cache-Control: no-cache asks the upstream again (bypass) and refreshes the entry; no-store leaves the cache alone', async () => {
    const body = fresh();
    await ask(body);
    const bypass = await ask(body, { 'cache-control': 'no-cache' });
    expect(bypass.res.headers.get('x-pool-cache')).toBe('bypass');
    expect(upstreamCalls()).toBe(2);
    const skipped = await ask(body, { 'cache-control': 'no-store' });
    expect(skipped.res.headers.get('x-pool-cache')).toBeNull();
    expect(upstreamCalls()).toBe(3);
    expect((await ask(body)).res.headers.get('x-pool-cache')).toBe('hit');
    expect(upstreamCalls()).toBe(3);
  });

  it('never keeps an error: after a refused request the same request goes upstream again', async () => {
    const body = fresh({ provider: 'DeepInfra' });
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 10 });
    const failed = await ask(body);
    expect(failed.res.status).toBe(502);
    emu.clearFaults();
    const calls = upstreamCalls();
    const next = await ask(body);
    expect(next.res.status).toBe(200);
    expect(next.res.headers.get('x-pool-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(calls + 1);
  });

  it('never keeps a tool call: an answer that calls a tool goes upstream every time', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    const body = fresh({ tools, tool_choice: 'required' });
    const first = await ask(body);
    expect(first.json.choices[0]!.message.tool_calls).toHaveLength(1);
    const second = await ask(body);
    expect(second.res.headers.get('x-pool-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(2);
  });

  it('keeps each client key apart: another key asking the same is a miss', async () => {
    const body = fresh();
    await ask(body);
    const other = await ask(body, { authorization: `Bearer ${OTHER_KEY}` });
    expect(other.res.headers.get('x-pool-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(2);
  });
});

describe('streams', () => {
  it('a stream is replayed as a stream: role, content, finish, usage and [DONE], as the live one was', async () => {
    const body = fresh();
    const live = await askStream(body);
    expect(live.res.headers.get('x-pool-cache')).toBe('miss');
    const cached = await askStream(body);
    expect(cached.res.status).toBe(200);
    expect(cached.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(cached.res.headers.get('x-pool-cache')).toBe('hit');
    expect(upstreamCalls()).toBe(1);

    expect(cached.events.at(-1)).toBe('[DONE]');
    const got = chunks(cached.events);
    const was = chunks(live.events);
    expect(got[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(streamedText(cached.events)).toBe(streamedText(live.events));
    expect(streamedText(cached.events).length).toBeGreaterThan(0);
    expect(got.length).toBe(was.length);
    expect(got.find((c) => c.choices[0]?.finish_reason)?.choices[0]!.finish_reason).toBe('stop');
    expect(got.at(-1)!.usage).toEqual(was.at(-1)!.usage);
    expect(new Set(got.map((c) => c.id)).size).toBe(1);
    expect(got[0]!.id).not.toBe(was[0]!.id);
  });

  it('a stream and a non-stream request of one prompt share the entry', async () => {
    const body = fresh();
    const whole = await ask(body);
    const streamed = await askStream(body);
    expect(streamed.res.headers.get('x-pool-cache')).toBe('hit');
    expect(streamedText(streamed.events)).toBe(whole.json.choices[0]!.message.content);
    expect(upstreamCalls()).toBe(1);
  });

  it('Cache-Control: no-cache bypasses the cache for a stream too', async () => {
    const body = fresh();
    await askStream(body);
    const bypass = await askStream(body, { 'cache-control': 'no-cache' });
    expect(bypass.res.headers.get('x-pool-cache')).toBe('bypass');
    expect(upstreamCalls()).toBe(2);
  });

  it('never keeps a cut stream: the next identical request goes upstream', async () => {
    const body = fresh({ provider: 'DeepInfra' });
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const cut = await askStream(body);
    expect(cut.events.some((e) => typeof e === 'object' && e !== null && 'error' in e)).toBe(true);
    const next = await askStream(body);
    expect(next.res.headers.get('x-pool-cache')).toBe('miss');
    expect(upstreamCalls()).toBe(2);
  });
});

describe('the console', () => {
  it('counts what hits saved, and switches the cache off and back to RESPONSE_CACHE', async () => {
    const before = await cacheView();
    expect(before).toMatchObject({ enabled: true, source: 'config', default: true });
    const body = fresh();
    const first = await ask(body);
    await ask(body);
    await ask(body);
    const after = await cacheView();
    expect(after.saved.requests - before.saved.requests).toBe(2);
    expect(after.saved.promptTokens - before.saved.promptTokens).toBe(2 * first.json.usage!.prompt_tokens);
    expect(after.saved.completionTokens - before.saved.completionTokens).toBe(2 * first.json.usage!.completion_tokens);
    expect(after.entries).toBeGreaterThan(0);

    const put = (payload: unknown) => fetch(`${gw.url}/api/cache`, { method: 'PUT', headers: auth, body: JSON.stringify(payload) });
    expect((await put({ enabled: false })).status).toBe(200);
    expect((await ask(body)).res.headers.get('x-pool-cache')).toBeNull();
    expect((await put({ enabled: 'yes' })).status).toBe(400);
    const back = (await (await put({ enabled: null })).json()) as CacheSettings;
    expect(back).toMatchObject({ enabled: true, source: 'config' });
    expect((await ask(body)).res.headers.get('x-pool-cache')).toBe('hit');
  });

  it('a model the operator forces is cached whatever the temperature', async () => {
    const put = (payload: unknown) => fetch(`${gw.url}/api/cache`, { method: 'PUT', headers: auth, body: JSON.stringify(payload) });
    expect((await put({ models: [MODEL] })).status).toBe(200);
    try {
      const body = fresh({ temperature: 1 });
      await ask(body);
      expect((await ask(body)).res.headers.get('x-pool-cache')).toBe('hit');
      expect(upstreamCalls()).toBe(1);
    } finally {
      await put({ models: [] });
    }
    expect((await put({ models: ['x'.repeat(201)] })).status).toBe(400);
  });

  it('RESPONSE_CACHE_MODELS forces its models from the start, listed apart from the console’s', async () => {
    const forced = await startGateway(emu, { ...ENV, RESPONSE_CACHE_MODELS: MODEL.toUpperCase() });
    try {
      expect(await cacheView(forced)).toMatchObject({ configModels: [MODEL.toUpperCase()], models: [] });
      const body = fresh({ temperature: 1 });
      expect((await ask(body, {}, forced)).res.headers.get('x-pool-cache')).toBe('miss');
      expect((await ask(body, {}, forced)).res.headers.get('x-pool-cache')).toBe('hit');
      expect(upstreamCalls()).toBe(1);
    } finally {
      await forced.close();
    }
  });
});

describe('bounds', () => {
  it('an entry expires after RESPONSE_CACHE_TTL', async () => {
    const short = await startGateway(emu, { ...ENV, RESPONSE_CACHE_TTL: '1s' });
    try {
      const body = fresh();
      await ask(body, {}, short);
      expect((await ask(body, {}, short)).res.headers.get('x-pool-cache')).toBe('hit');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await ask(body, {}, short)).res.headers.get('x-pool-cache')).toBe('miss');
      expect(upstreamCalls()).toBe(2);
    } finally {
      await short.close();
    }
  });

  it('an answer larger than RESPONSE_CACHE_MAX_ENTRY_BYTES is not kept; RESPONSE_CACHE_MAX_BYTES evicts the oldest', async () => {
    const tiny = await startGateway(emu, { ...ENV, RESPONSE_CACHE_MAX_ENTRY_BYTES: '64b' });
    try {
      const body = fresh();
      await ask(body, {}, tiny);
      expect((await ask(body, {}, tiny)).res.headers.get('x-pool-cache')).toBe('miss');
      expect((await cacheView(tiny)).entries).toBe(0);
    } finally {
      await tiny.close();
    }
    // Room for one and a half answers of this size (measured on the main gateway): the second pushes the first out.
    const before = (await cacheView()).bytes;
    await ask(fresh());
    const cap = Math.floor(((await cacheView()).bytes - before) * 1.5);
    const small = await startGateway(emu, { ...ENV, RESPONSE_CACHE_MAX_BYTES: `${cap}b` });
    try {
      const [a, b] = [fresh(), fresh()];
      await ask(a, {}, small);
      await ask(b, {}, small);
      const view = await cacheView(small);
      expect(view.bytes).toBeLessThanOrEqual(cap);
      expect(view.entries).toBe(1);
      expect((await ask(b, {}, small)).res.headers.get('x-pool-cache')).toBe('hit');
      expect((await ask(a, {}, small)).res.headers.get('x-pool-cache')).toBe('miss');
    } finally {
      await small.close();
    }
  });
});

describe('the other front doors', () => {
  it('/v1/responses and /v1/messages answer a repeated request from the cache, each in its own shape and entry', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const input = `responses cache test ${++prompt}`;
    const responses = () => postJson(`${gw.baseURL}/responses`, { model: MODEL, input, temperature: 0 }, auth);
    const first = await responses();
    const firstBody = (await first.json()) as { id: string; output_text?: string; output: { content?: { text: string }[] }[]; usage: unknown };
    const second = await responses();
    const secondBody = (await second.json()) as typeof firstBody;
    expect([first.headers.get('x-pool-cache'), second.headers.get('x-pool-cache')]).toEqual(['miss', 'hit']);
    expect(secondBody.output[0]!.content![0]!.text).toBe(firstBody.output[0]!.content![0]!.text);
    expect(secondBody.usage).toEqual(firstBody.usage);
    expect(secondBody.id).not.toBe(firstBody.id);
    // The hit is a stored response like any other.
    expect((await fetch(`${gw.baseURL}/responses/${secondBody.id}`, { headers: auth })).status).toBe(200);

    const messages = (stream: boolean) =>
      postJson(
        `${gw.baseURL}/messages`,
        { model: MODEL, max_tokens: 200, temperature: 0, stream, messages: [{ role: 'user', content: input }] },
        { 'x-api-key': KEY },
      );
    const live = await messages(false);
    const liveBody = (await live.json()) as { type: string; content: { text: string }[] };
    const streamed = await messages(true);
    const sse = await streamed.text();
    expect([live.headers.get('x-pool-cache'), streamed.headers.get('x-pool-cache')]).toEqual(['miss', 'hit']);
    expect(liveBody.type).toBe('message');
    expect(sse).toContain('event: message_start');
    expect(sse).toContain('event: message_stop');
    expect(upstreamCalls()).toBe(2);
  });
});
