/**
 * The response cache in its SQLite file (RESPONSE_CACHE_STORE's default on a single machine),
 * across restarts of the built gateway: a non-stream and a stream answer cached by one process
 * are hits on the next, replayed as they were, and what the hits saved is still counted; a
 * lower RESPONSE_CACHE_MAX_BYTES evicts the oldest of what the file kept, a short
 * RESPONSE_CACHE_TTL expires entries; a corrupt file is begun anew, never a gateway that will not
 * start; RESPONSE_CACHE_STORE=memory keeps nothing over a restart. DeepInfra answers first.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheSettings, ChatCompletion, ChatCompletionChunk } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { FIXED_ORDER_ENV, emulatorEnv, postJson, readSse } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const KEY = 'sk-cache-restart';
const CACHE_FILE = 'gpt4free-pool-cache.db';
const TEST_TIMEOUT_MS = 60_000;

let emu: Emulator;
const running: GatewayProcess[] = [];
let prompt = 0;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await Promise.all(running.map((g) => g.stop(5000)));
  await emu?.close();
}, 30_000);
afterEach(() => emu.reset());

const env = (dataDir: string, extra: Record<string, string> = {}) => ({
  ...emulatorEnv(emu),
  ...FIXED_ORDER_ENV,
  RESPONSE_CACHE: 'true',
  API_KEY: KEY,
  DATA_DIR: dataDir,
  ...extra,
});

async function start(dataDir: string, extra: Record<string, string> = {}): Promise<GatewayProcess> {
  const gw = await startGatewayProcess(env(dataDir, extra));
  running.push(gw);
  return gw;
}

const upstreamCalls = () => emu.requests().filter((r) => r.path.endsWith('/chat/completions')).length;
const fresh = () => ({ model: MODEL, messages: [{ role: 'user', content: `restart cache test ${++prompt}` }], temperature: 0 });

async function ask(gw: GatewayProcess, body: Record<string, unknown>) {
  const res = await postJson(`${gw.baseURL}/chat/completions`, body, { authorization: `Bearer ${KEY}` });
  const json = (await res.json()) as ChatCompletion;
  return { status: res.status, cache: res.headers.get('x-pool-cache'), content: json.choices?.[0]?.message.content, usage: json.usage };
}

async function askStream(gw: GatewayProcess, body: Record<string, unknown>) {
  const res = await postJson(
    `${gw.baseURL}/chat/completions`,
    { ...body, stream: true, stream_options: { include_usage: true } },
    { authorization: `Bearer ${KEY}` },
  );
  const chunks = (await readSse(res)).filter((e): e is ChatCompletionChunk => typeof e === 'object' && e !== null && 'choices' in e);
  return {
    cache: res.headers.get('x-pool-cache'),
    type: res.headers.get('content-type'),
    text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''),
    count: chunks.length,
    usage: chunks.at(-1)?.usage,
  };
}

async function view(gw: GatewayProcess): Promise<CacheSettings> {
  const login = await postJson(`${gw.url}/api/auth/login`, { password: 'admin-test-password' });
  const { token } = (await login.json()) as { token: string };
  return (await (await fetch(`${gw.url}/api/cache`, { headers: { authorization: `Bearer ${token}` } })).json()) as CacheSettings;
}

/** Entries are written from a thread moments after the answer: the console counts them once they are. */
async function entriesReach(gw: GatewayProcess, n: number): Promise<CacheSettings> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = await view(gw);
    if (v.entries >= n || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

it(
  'a hit survives a restart, stream and non-stream, and so do the savings; a lower cap and a short TTL evict from the kept file',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-cache-restart-'));
    const whole = fresh();
    const streamed = fresh();

    const first = await start(dataDir);
    const live = await ask(first, whole);
    const liveStream = await askStream(first, streamed);
    expect([live.cache, liveStream.cache]).toEqual(['miss', 'miss']);
    expect((await ask(first, whole)).cache).toBe('hit');
    expect((await entriesReach(first, 2)).entries).toBe(2);
    const firstBytes = (await view(first)).bytes;
    expect(await first.stop()).toBe(0);
    expect(existsSync(join(dataDir, CACHE_FILE))).toBe(true);
    expect(upstreamCalls()).toBe(2);

    const second = await start(dataDir);
    const again = await ask(second, whole);
    expect(again).toMatchObject({ status: 200, cache: 'hit', content: live.content, usage: live.usage });
    const replayed = await askStream(second, streamed);
    expect(replayed).toMatchObject({ cache: 'hit', text: liveStream.text, count: liveStream.count, usage: liveStream.usage });
    expect(replayed.type).toMatch(/^text\/event-stream/);
    expect(replayed.text.length).toBeGreaterThan(0);
    expect(upstreamCalls()).toBe(2);
    const after = await view(second);
    expect(after).toMatchObject({ entries: 2, bytes: firstBytes });
    expect(after.saved.requests).toBe(3);
    expect(after.saved.completionTokens).toBe(2 * live.usage!.completion_tokens + liveStream.usage!.completion_tokens);
    expect(await second.stop()).toBe(0);

    // Room for one and a half of the answers kept: the next answer pushes both older ones out.
    const cap = Math.floor((firstBytes / 2) * 1.5);
    const third = await start(dataDir, { RESPONSE_CACHE_MAX_BYTES: `${cap}b`, RESPONSE_CACHE_TTL: '1s' });
    const newest = fresh();
    expect((await ask(third, newest)).cache).toBe('miss');
    expect((await ask(third, newest)).cache).toBe('hit');
    const capped = await view(third);
    expect(capped.entries).toBe(1);
    expect(capped.bytes).toBeLessThanOrEqual(cap);
    expect((await ask(third, whole)).cache).toBe('miss');
    // Its TTL, a second, runs out: a miss, and the console counts only what is alive.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await ask(third, newest)).cache).toBe('miss');
    expect(upstreamCalls()).toBe(5);
  },
  TEST_TIMEOUT_MS,
);

it(
  'a corrupt cache file never stops the gateway: it starts with an empty cache, says so, and caches again',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-cache-corrupt-'));
    writeFileSync(join(dataDir, CACHE_FILE), 'not a database at all; '.repeat(500));
    const gw = await start(dataDir);
    expect(gw.output()).toContain('deleted and begun anew');
    const body = fresh();
    expect((await ask(gw, body)).cache).toBe('miss');
    expect((await ask(gw, body)).cache).toBe('hit');
    expect((await entriesReach(gw, 1)).entries).toBe(1);
  },
  TEST_TIMEOUT_MS,
);

it(
  'RESPONSE_CACHE_STORE=memory keeps its entries in the process alone: nothing survives the restart, and no file is made',
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-cache-memory-'));
    const body = fresh();
    const first = await start(dataDir, { RESPONSE_CACHE_STORE: 'memory' });
    await ask(first, body);
    expect((await ask(first, body)).cache).toBe('hit');
    await first.stop();
    const second = await start(dataDir, { RESPONSE_CACHE_STORE: 'memory' });
    expect((await ask(second, body)).cache).toBe('miss');
    expect(existsSync(join(dataDir, CACHE_FILE))).toBe(false);
  },
  TEST_TIMEOUT_MS,
);
