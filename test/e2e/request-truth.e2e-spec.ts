/**
 * The whole truth per request: an attempt in flight when the client went away is in the request
 * log as `aborted`, with how long it waited; a timeout, a 5xx and an HTML page each have their
 * code; and an answer no provider could give says whether retrying can help (`x-should-retry`,
 * honoured by the OpenAI SDKs) and when (`Retry-After`: when the first provider is ready again).
 * DeepInfra alone serves the model (the other providers are off).
 */
import OpenAI from 'openai';
import type { AttemptSummary, RequestLogPage } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const ONLY_DEEPINFRA = {
  TOGETHER_ENABLED: 'false',
  HUGGINGFACE_ENABLED: 'false',
  POLLINATIONS_ENABLED: 'false',
  CLOUDFLARE_ENABLED: 'false',
};

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await emu?.close();
});
afterEach(() => emu.reset());

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const chat = (gw: Gateway, extra: Record<string, unknown> = {}) =>
  postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...extra });

/** The newest request in the log once it has `count` entries (the log is written in batches). */
async function newestEntry(gw: Gateway, auth: Record<string, string>, count: number): Promise<{ status: number; attempts: AttemptSummary[] }> {
  for (let i = 0; i < 100; i++) {
    const page = (await (await fetch(`${gw.url}/api/logs?pageSize=1`, { headers: auth })).json()) as RequestLogPage;
    if (page.total >= count && page.items[0]) return page.items[0];
    await sleep(50);
  }
  throw new Error(`the log never had ${count} requests`);
}

describe('attempts in the request log', () => {
  let gw: Gateway;
  let auth: Record<string, string>;
  let logged = 0;
  beforeAll(async () => {
    gw = await startGateway(emu, { ...ONLY_DEEPINFRA, BREAKER_FAILURE_THRESHOLD: '1000', UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1500' });
    auth = await adminHeaders(gw);
  });
  afterAll(() => gw?.close());

  it.each([false, true])('an attempt in flight when the client went away is logged as aborted, with its elapsed time (stream: %s)', async (stream) => {
    emu.addFault({ provider: 'deepinfra', mode: 'hang', times: 1 });
    const client = new AbortController();
    const sent = fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content: 'hi' }] }),
      signal: client.signal,
    }).catch((err: unknown) => err);
    await sleep(300);
    client.abort();
    await sent;
    const entry = await newestEntry(gw, auth, ++logged);
    expect(entry.attempts).toHaveLength(1);
    expect(entry.attempts[0]).toMatchObject({ provider: 'DeepInfra', status: null, code: 'aborted', reason: expect.stringMatching(/^aborted: /) });
    expect(entry.attempts[0]!.latency_ms).toBeGreaterThanOrEqual(250);
    // Ended by the client, well before the gateway's own first-byte timeout.
    expect(entry.attempts[0]!.latency_ms).toBeLessThan(1400);
  });

  it('a timeout, a 5xx and an answer are each named by their code', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'hang', times: 1 });
    const timedOut = await chat(gw);
    await timedOut.arrayBuffer();
    expect(timedOut.status).toBe(504);
    expect((await newestEntry(gw, auth, ++logged)).attempts.map((a) => [a.code, a.status])).toEqual([['upstream_timeout', null]]);

    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1, message: 'model crashed' });
    const retried = await chat(gw);
    await retried.arrayBuffer();
    expect(retried.status).toBe(200);
    const attempts = (await newestEntry(gw, auth, ++logged)).attempts;
    expect(attempts.map((a) => [a.code, a.status])).toEqual([
      ['upstream_5xx', 500],
      ['ok', 200],
    ]);
    // The upstream's own words are kept beside the code, for the console to show and copy.
    expect(attempts[0]!.reason).toMatch(/model crashed/);
  });
});

describe('retry advice when no provider could answer', () => {
  it('a provider that failed and is not cooling: x-should-retry false, no Retry-After, and the OpenAI SDK does not retry', async () => {
    const gw = await startGateway(emu, { ...ONLY_DEEPINFRA, BREAKER_FAILURE_THRESHOLD: '1000' });
    try {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500 });
      const res = await chat(gw);
      await res.arrayBuffer();
      expect(res.status).toBe(502);
      expect(res.headers.get('x-should-retry')).toBe('false');
      expect(res.headers.get('retry-after')).toBeNull();

      emu.reset();
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500 });
      const sdk = new OpenAI({ baseURL: gw.baseURL, apiKey: 'sk-unused', maxRetries: 3 });
      await expect(sdk.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 502 });
      // One call, one gateway request: the route and its one same-route retry, nothing more.
      expect(emu.requests('deepinfra')).toHaveLength(2);
    } finally {
      await gw.close();
    }
  });

  it('a breaker that opened: Retry-After is when it is ready again, and retrying is worth it when that is soon', async () => {
    const gw = await startGateway(emu, { ...ONLY_DEEPINFRA, BREAKER_FAILURE_THRESHOLD: '1', BREAKER_COOLDOWN_MS: '3000' });
    try {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500 });
      const failed = await chat(gw);
      await failed.arrayBuffer();
      expect(failed.status).toBe(502);
      expect(failed.headers.get('x-should-retry')).toBe('true');
      expect(Number(failed.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);
      expect(Number(failed.headers.get('retry-after'))).toBeLessThanOrEqual(3);

      // While it cools, no provider is left: the 503 says the same.
      const cooling = await chat(gw);
      const body = (await cooling.json()) as { error: { code: string } };
      expect(cooling.status).toBe(503);
      expect(body.error.code).toBe('no_available_provider');
      expect(cooling.headers.get('x-should-retry')).toBe('true');
      expect(Number(cooling.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    } finally {
      await gw.close();
    }
  });

  it('a cooldown longer than a client would wait: Retry-After says when, x-should-retry says not to wait for it', async () => {
    const gw = await startGateway(emu, { ...ONLY_DEEPINFRA, BREAKER_FAILURE_THRESHOLD: '1', BREAKER_COOLDOWN_MS: '600000', BREAKER_MAX_COOLDOWN_MS: '600000' });
    try {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 503 });
      const failed = await chat(gw);
      await failed.arrayBuffer();
      expect(failed.headers.get('x-should-retry')).toBe('false');
      expect(Number(failed.headers.get('retry-after'))).toBeGreaterThan(590);
      const cooling = await chat(gw);
      await cooling.arrayBuffer();
      expect(cooling.status).toBe(503);
      expect(cooling.headers.get('x-should-retry')).toBe('false');
    } finally {
      await gw.close();
    }
  });
});
