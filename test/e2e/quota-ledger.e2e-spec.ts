/**
 * The providers' quota ledger end to end: the gateway against the emulator, whose providers
 * announce per-key budgets in `x-ratelimit-*` headers and refuse requests over them.
 *
 * Routing is fixed (DeepInfra first, Together next) so that who answered says whether DeepInfra's
 * key was resting. Windows are a few seconds long and aligned to the epoch, as the emulator's and
 * the ledger's fixed windows are, so "the window resets" happens within the test.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProviderDetail, ProviderKeyView, ProviderQuotaView } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const MODEL = 'llama-3.3-70b';
const WINDOW_MS = 6000;
/** Time enough, on a busy machine, for the requests a test makes within one window. */
const NEEDED_MS = 4500;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let emu: Emulator;
const open: Gateway[] = [];

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((gw) => gw.close()));
  emu.reset();
});

afterAll(async () => {
  await emu?.close();
});

async function gateway(env: Record<string, string>): Promise<Gateway> {
  const gw = await startGateway(emu, { ...FIXED_ORDER_ENV, QUOTA_SYNC_MS: '100', ...env });
  open.push(gw);
  return gw;
}

/** Who served one chat request (x-pool-provider), after checking it was served. */
async function served(gw: Gateway, stream = false): Promise<string> {
  const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`chat answered ${res.status}: ${text.slice(0, 300)}`);
  return res.headers.get('x-pool-provider') ?? '(none)';
}

const deepinfraChats = () => emu.requests('deepinfra').filter((r) => r.path.endsWith('/chat/completions'));
const statuses = async (gw: Gateway) => {
  const h = await adminHeaders(gw);
  const res = await fetch(`${gw.url}/api/logs?pageSize=50&provider=DeepInfra`, { headers: h });
  const page = (await res.json()) as { items: Array<{ attempts: Array<{ provider: string; status: number | null }> }> };
  return page.items.flatMap((i) => i.attempts.filter((a) => a.provider === 'DeepInfra').map((a) => a.status));
};

async function deepinfraKey(gw: Gateway): Promise<ProviderKeyView> {
  const res = await fetch(`${gw.url}/api/providers/deepinfra`, { headers: await adminHeaders(gw) });
  const detail = (await res.json()) as ProviderDetail;
  return detail.keys[0]!;
}

const used = (key: ProviderKeyView, limit: string) => key.quota?.usage.find((u) => u.limit === limit)?.used;

/**
 * The window a test's requests fall in (its start): the current one when most of it is left, else
 * the next. The emulator's and the ledger's windows are both aligned to the epoch.
 */
async function windowStart(): Promise<number> {
  const start = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
  if (start + WINDOW_MS - Date.now() >= NEEDED_MS) return start;
  await sleep(start + WINDOW_MS - Date.now() + 20);
  return start + WINDOW_MS;
}

/** Polls until `fn` holds. */
async function until(ms: number, what: string, fn: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(25);
  }
}

describe('a key rests before its budget runs out and comes back when its window resets', () => {
  it.each<{ how: string; env: Record<string, string>; headers: boolean }>([
    {
      how: 'the upstream says nothing is left (x-ratelimit-remaining-requests: 0)',
      env: {},
      headers: true,
    },
    {
      how: 'the ledger counted the key up to its configured limit (no headers)',
      env: { QUOTA_LIMITS: JSON.stringify({ deepinfra: { [`requests/${WINDOW_MS / 1000}s`]: 2 } }) },
      headers: false,
    },
  ])(
    '$how',
    async ({ env, headers }) => {
      emu.setRateLimit({ provider: 'deepinfra', requests: 2, windowMs: WINDOW_MS, headers });
      const gw = await gateway(env);
      const start = await windowStart();

      expect([await served(gw), await served(gw, true)]).toEqual(['DeepInfra', 'DeepInfra']);
      // The budget is spent: the next requests go elsewhere without asking DeepInfra to refuse them.
      expect([await served(gw), await served(gw, true)]).toEqual(['Together', 'Together']);
      expect(Date.now()).toBeLessThan(start + WINDOW_MS);
      expect(deepinfraChats()).toHaveLength(2);
      const resting = await deepinfraKey(gw);
      const until = resting.quota?.restingUntil ?? 0;
      expect(until).toBeGreaterThan(Date.now());
      // Until the window's end, not some default rest. Headers give the reset relative to when the
      // upstream answered, and the gateway dates it on arrival: a busy machine's transit adds to it.
      expect(until).toBeLessThanOrEqual(start + WINDOW_MS + 1000);

      // The rest ends: the key serves again by itself.
      await sleep(until - Date.now() + 50);
      expect(await served(gw)).toBe('DeepInfra');
      expect(deepinfraChats()).toHaveLength(3);
      expect(await statuses(gw)).not.toContain(429);
      expect((await deepinfraKey(gw)).quota?.restingUntil).toBeNull();
    },
    20_000,
  );
});

describe('a provider low on headroom goes behind the others until its window resets', () => {
  it.each<{ how: string; env: Record<string, string>; headers: boolean }>([
    { how: 'the upstream’s headers say little is left', env: {}, headers: true },
    {
      how: 'the ledger counted the key near its configured limit',
      env: { QUOTA_LIMITS: JSON.stringify({ deepinfra: { [`requests/${WINDOW_MS / 1000}s`]: 6 } }) },
      headers: false,
    },
  ])(
    '$how',
    async ({ env, headers }) => {
      // Six a window: after five, a sixth of the budget is left, below the low-water mark (a fifth).
      emu.setRateLimit({ provider: 'deepinfra', requests: 6, windowMs: WINDOW_MS, headers });
      const gw = await gateway(env);
      const start = await windowStart();

      const first = [];
      for (let i = 0; i < 5; i++) first.push(await served(gw, i % 2 === 1));
      expect(first).toEqual(Array(5).fill('DeepInfra'));
      // DeepInfra still has room for one, but its share moves to Together, which serves everything now.
      expect([await served(gw), await served(gw, true), await served(gw)]).toEqual(['Together', 'Together', 'Together']);
      expect(Date.now()).toBeLessThan(start + WINDOW_MS);
      expect(deepinfraChats()).toHaveLength(5);
      const low = await deepinfraKey(gw);
      expect(low.quota?.restingUntil).toBeNull();
      expect(low.quota?.headroom).toBeCloseTo(1 / 6, 5);

      // The window ends: DeepInfra has its whole budget again and comes first again.
      await sleep(start + WINDOW_MS - Date.now() + 50);
      expect([await served(gw), await served(gw)]).toEqual(['DeepInfra', 'DeepInfra']);
      expect(deepinfraChats()).toHaveLength(7);
    },
    20_000,
  );
});

it('counts tokens from the answers’ usage against the key', async () => {
  const gw = await gateway({});
  await served(gw);
  await served(gw, true);
  const key = await deepinfraKey(gw);
  expect(used(key, 'requests/day')).toBe(2);
  // The emulator reports usage on both (the stream's last chunk carries it).
  expect(used(key, 'tokens/day')).toBeGreaterThan(0);
});

it('counts embeddings’ usage against the key like chat tokens', async () => {
  const gw = await gateway({});
  const embed = async (input: string[]) => {
    const res = await postJson(`${gw.baseURL}/embeddings`, { model: 'bge-base-en-v1.5', input });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    return ((await res.json()) as { usage: { prompt_tokens: number; total_tokens: number } }).usage;
  };
  const one = await embed(['the first text to embed']);
  const two = await embed(['a second, longer batch of text', 'with two inputs in it']);
  expect(one.total_tokens).toBeGreaterThan(0);
  const key = await deepinfraKey(gw);
  expect(used(key, 'requests/day')).toBe(2);
  expect(used(key, 'tokens/day')).toBe(one.total_tokens + two.total_tokens);
});

it('estimates Workers AI’s neurons from the tokens of its answers, and says they are estimated', async () => {
  const gw = await gateway({});
  // Ten texts of about 500 words (few vectors, so a quick answer): thousands of tokens, tens of neurons at bge-base's rate.
  const input = Array.from({ length: 10 }, (_, i) => `text ${i}: ${'a fairly ordinary sentence about clouds and llamas, '.repeat(60)}`);
  const res = await postJson(`${gw.baseURL}/embeddings`, { model: 'bge-base-en-v1.5', input, provider: 'CloudflareAI' });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe('CloudflareAI');
  // Workers AI does not report usage: these are the gateway's own count, and the neurons follow from them.
  const { usage } = (await res.json()) as { usage: { prompt_tokens: number } };
  const h = await adminHeaders(gw);
  const quotas = (await (await fetch(`${gw.url}/api/quotas`, { headers: h })).json()) as { providers: ProviderQuotaView[] };
  const cloudflare = quotas.providers.find((p) => p.provider === 'cloudflare')!;
  const neurons = cloudflare.keys[0]!.quota.usage.find((u) => u.limit === 'neurons/day')!;
  // bge-base-en-v1.5: 6,058 neurons per million input tokens (Workers AI's pricing page).
  expect(neurons).toMatchObject({ used: Math.floor((usage.prompt_tokens * 6058) / 1e6), max: 10_000, estimated: true });
  expect(neurons.used).toBeGreaterThan(10);
  expect(cloudflare.usage.find((u) => u.limit === 'neurons/day')).toMatchObject({ used: neurons.used, estimated: true });
  // The tokens are counted as chat's are, the gateway's estimate where the upstream gives none.
  expect(cloudflare.keys[0]!.quota.usage.find((u) => u.limit === 'tokens/day')?.used).toBe(usage.prompt_tokens);
});

it('re-tests a key that failed authentication and revives it when it works again', async () => {
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 401, key: 'di-flaky-key-0001', times: 3 });
  const gw = await gateway({ DEEPINFRA_API_KEY: 'di-flaky-key-0001', KEY_RETEST_FIRST_MS: '1000', KEY_RETEST_MS: '600000' });

  for (let i = 0; i < 3; i++) expect(await served(gw)).toBe('Together');
  const dead = await deepinfraKey(gw);
  expect(dead).toMatchObject({ invalid: true });
  expect(dead.retestAt).toBeGreaterThan(Date.now());
  // Marked invalid, it is not sent until its retest is due.
  expect(await served(gw)).toBe('Together');
  expect(deepinfraChats()).toHaveLength(3);

  await sleep(dead.retestAt! - Date.now() + 50);
  // The retest is a real request: the key works again, so DeepInfra answers it.
  expect(await served(gw)).toBe('DeepInfra');
  expect(await deepinfraKey(gw)).toMatchObject({ invalid: false, retestAt: null });
  expect(await served(gw)).toBe('DeepInfra');
});

it('a key whose retest fails again waits for the later schedule', async () => {
  const gw = await gateway({ DEEPINFRA_API_KEY: 'bad-key-0001', KEY_RETEST_FIRST_MS: '1000', KEY_RETEST_MS: '600000' });
  for (let i = 0; i < 3; i++) expect(await served(gw)).toBe('Together');
  const dead = await deepinfraKey(gw);
  await sleep(dead.retestAt! - Date.now() + 50);
  expect(await served(gw)).toBe('Together');
  expect(deepinfraChats()).toHaveLength(4);
  const still = await deepinfraKey(gw);
  expect(still.invalid).toBe(true);
  expect(still.retestAt).toBeGreaterThan(Date.now() + 500_000);
  expect(await served(gw)).toBe('Together');
  expect(deepinfraChats()).toHaveLength(4);
});

it('a 402 rests the key until its documented credit reset, not just for a cooldown', async () => {
  const gw = await gateway({ DEEPINFRA_API_KEY: 'broke-key-0001', QUOTA_LIMITS: JSON.stringify({ deepinfra: { creditWindow: 'day' } }) });
  expect(await served(gw)).toBe('Together');
  expect(await served(gw)).toBe('Together');
  expect(deepinfraChats()).toHaveLength(1);
  const key = await deepinfraKey(gw);
  const now = new Date();
  const nextUtcMidnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  expect(key.quota).toMatchObject({ restingUntil: nextUtcMidnight, restReason: expect.stringContaining('credit') });
  expect(key.invalid).toBe(false);
});

it('keeps the day’s counts across a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'g4f-quota-'));
  const env = { DATA_DIR: dataDir, QUOTA_LIMITS: JSON.stringify({ deepinfra: { 'requests/day': 3 } }) };
  const first = await gateway(env);
  expect([await served(first), await served(first)]).toEqual(['DeepInfra', 'DeepInfra']);
  await first.close();
  open.splice(open.indexOf(first), 1);

  const second = await gateway(env);
  expect(used(await deepinfraKey(second), 'requests/day')).toBe(2);
  expect([await served(second), await served(second)]).toEqual(['DeepInfra', 'Together']);
  expect(deepinfraChats()).toHaveLength(3);
});

it('sets limits per provider and per key from the console, and shows them', async () => {
  const gw = await gateway({ DEEPINFRA_API_KEY: 'di-key-a-0001,di-key-b-0002' });
  const h = await adminHeaders(gw);
  const put = (path: string, body: unknown) => fetch(`${gw.url}${path}`, { method: 'PUT', headers: h, body: JSON.stringify(body) });
  const list = async () => ((await (await fetch(`${gw.url}/api/quotas`, { headers: h })).json()) as { providers: ProviderQuotaView[] }).providers;

  const cloudflare = (await list()).find((p) => p.provider === 'cloudflare')!;
  // Documented: Workers AI's daily neurons. Unknown limits are simply absent.
  expect(cloudflare.limits).toEqual({ 'neurons/day': 10_000 });
  expect((await list()).find((p) => p.provider === 'together')!.limits).toEqual({});

  const bad = await put('/api/quotas/deepinfra', { 'requests/fortnight': 3 });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/unknown field "requests\/fortnight"/);

  expect((await put('/api/quotas/deepinfra', { 'requests/day': 1 })).status).toBe(200);
  const [a, b] = (await list()).find((p) => p.provider === 'deepinfra')!.keys;
  expect((await put(`/api/quotas/deepinfra/keys/${b!.id}`, { 'requests/day': 2 })).status).toBe(200);

  // Key a: 1 a day; key b: 2 a day; then DeepInfra has no headroom left and Together serves.
  const who = [];
  for (let i = 0; i < 4; i++) who.push(await served(gw));
  expect(who).toEqual(['DeepInfra', 'DeepInfra', 'DeepInfra', 'Together']);
  const deepinfra = (await list()).find((p) => p.provider === 'deepinfra')!;
  expect(deepinfra.keys.map((k) => [k.id, k.quota.usage.find((u) => u.limit === 'requests/day')?.used])).toEqual([
    [a!.id, 1],
    [b!.id, 2],
  ]);
  expect(deepinfra.usage.find((u) => u.limit === 'requests/day')).toMatchObject({ used: 3, max: 3, remaining: 0 });
  expect(deepinfra.override).toEqual({ 'requests/day': 1 });
  // The providers' own view carries the same total, for the console's 提供商管理 and dashboard.
  const detail = (await (await fetch(`${gw.url}/api/providers/deepinfra`, { headers: h })).json()) as ProviderDetail;
  expect(detail.quota?.find((u) => u.limit === 'requests/day')).toMatchObject({ used: 3, max: 3, remaining: 0 });
  expect(deepinfra.keys[1]!.override).toEqual({ 'requests/day': 2 });

  // Cleared: the documented (unknown) limits apply again and DeepInfra serves.
  expect((await fetch(`${gw.url}/api/quotas/deepinfra`, { method: 'DELETE', headers: h })).status).toBe(200);
  expect((await fetch(`${gw.url}/api/quotas/deepinfra/keys/${b!.id}`, { method: 'DELETE', headers: h })).status).toBe(200);
  expect(await served(gw)).toBe('DeepInfra');
});

it('skips the health probe of a key without headroom', async () => {
  const gw = await gateway({ HEALTH_PROBE: 'chat', QUOTA_PROBE_MIN_HEADROOM: '0.6', QUOTA_LIMITS: JSON.stringify({ deepinfra: { 'requests/day': 2 } }) });
  const h = await adminHeaders(gw);
  const check = async () =>
    (await (await fetch(`${gw.url}/api/health/check`, { method: 'POST', headers: h })).json()) as {
      results: Array<{ provider: string; ok: boolean; error: string | null }>;
    };
  const deepinfra = async () => (await check()).results.find((r) => r.provider === 'DeepInfra')!;

  // The probe is use like any other: it counts against the key.
  expect(await deepinfra()).toMatchObject({ ok: true });
  expect(used(await deepinfraKey(gw), 'requests/day')).toBe(1);
  // With half the day's budget left the probe would spend what clients need: skipped, nothing sent.
  const before = deepinfraChats().length;
  expect(await deepinfra()).toMatchObject({ ok: false, error: expect.stringContaining('headroom') });
  expect(deepinfraChats()).toHaveLength(before);
  expect(await served(gw)).toBe('DeepInfra');
});

describe('cluster mode', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  it('two replicas share a key’s counts through Redis and stop together at its limit', async () => {
    const env = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'quota-e2e:',
      SECRET_KEY: 'quota-e2e-secret',
      QUOTA_LIMITS: JSON.stringify({ deepinfra: { 'requests/day': 4 } }),
    };
    const [A, B] = [await gateway(env), await gateway(env)];
    expect([await served(A!), await served(A!)]).toEqual(['DeepInfra', 'DeepInfra']);
    await until(2000, 'B seeing what A counted', async () => used(await deepinfraKey(B!), 'requests/day') === 2);
    expect([await served(B!), await served(B!)]).toEqual(['DeepInfra', 'DeepInfra']);
    await until(2000, 'A seeing what B counted', async () => used(await deepinfraKey(A!), 'requests/day') === 4);
    expect([await served(A!), await served(B!)]).toEqual(['Together', 'Together']);
    expect(deepinfraChats()).toHaveLength(4);
  }, 20_000);
});
