/**
 * The quota ledger across two gateway processes sharing one redis-server (cluster mode): use
 * counted on replica A is in B's `/api/quotas` and moves B's routing, a key rested on A is not
 * sent by B, and both survive the replicas' restart (a new process reads them from Redis).
 *
 * Routing is fixed (DeepInfra first, Together next), so who answered says what B knew of
 * DeepInfra's key. The tests run in order on the same processes and counters.
 */
import type { ProviderQuotaView } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { emulatorEnv, FIXED_ORDER_ENV, postJson } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const MODEL = 'llama-3.3-70b';
const TEST_TIMEOUT_MS = 30_000;
/** DeepInfra's key: ten requests a day; a refused payment rests it until the next day. */
const LIMIT = 10;

let redis: RedisServer;
let emu: Emulator;
let env: Record<string, string>;
let A: GatewayProcess;
let B: GatewayProcess;
const started: GatewayProcess[] = [];

async function start(): Promise<GatewayProcess> {
  const gw = await startGatewayProcess(env);
  started.push(gw);
  return gw;
}

beforeAll(async () => {
  redis = await startRedis();
  emu = await startEmulator({ zeroLatency: true });
  env = {
    ...emulatorEnv(emu),
    ...FIXED_ORDER_ENV,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'quota-proc-e2e:',
    SECRET_KEY: 'cluster-quota-e2e-secret',
    QUOTA_SYNC_MS: '100',
    QUOTA_LIMITS: JSON.stringify({ deepinfra: { 'requests/day': LIMIT, creditWindow: 'day' } }),
  };
  [A, B] = await Promise.all([start(), start()]);
}, 60_000);

afterAll(async () => {
  await Promise.all(started.map((gw) => gw.stop(5000)));
  await emu?.close();
  await redis?.close();
}, 30_000);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const deepinfraChats = () => emu.requests('deepinfra').filter((r) => r.path.endsWith('/chat/completions')).length;

/** Who served one chat request (x-pool-provider); `provider` forces one. */
async function served(gw: GatewayProcess, provider?: string): Promise<{ status: number; provider: string | null }> {
  const res = await postJson(`${gw.baseURL}/chat/completions`, {
    model: MODEL,
    messages: [{ role: 'user', content: 'hi' }],
    ...(provider ? { provider } : {}),
  });
  await res.text();
  return { status: res.status, provider: res.headers.get('x-pool-provider') };
}

async function adminHeaders(gw: GatewayProcess): Promise<Record<string, string>> {
  const login = await postJson(`${gw.url}/api/auth/login`, { password: 'admin-test-password' });
  return { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
}

/** DeepInfra's key as a replica's `/api/quotas` shows it. */
async function deepinfraKey(gw: GatewayProcess): Promise<ProviderQuotaView['keys'][number]> {
  const res = await fetch(`${gw.url}/api/quotas`, { headers: await adminHeaders(gw) });
  const { providers } = (await res.json()) as { providers: ProviderQuotaView[] };
  return providers.find((p) => p.provider === 'deepinfra')!.keys[0]!;
}

const requestsToday = (key: ProviderQuotaView['keys'][number]) => key.quota.usage.find((u) => u.limit === 'requests/day')?.used;

/** Polls until `fn` holds. */
async function until(ms: number, what: string, fn: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

it(
  'use counted on A is in B’s /api/quotas, and B sends the low key’s traffic elsewhere',
  async () => {
    for (let i = 0; i < LIMIT - 1; i++) expect(await served(A)).toEqual({ status: 200, provider: 'DeepInfra' });
    await until(5000, 'B seeing what A counted', async () => requestsToday(await deepinfraKey(B)) === LIMIT - 1);
    // One request left of ten: below the low-water mark, so B (which served none) prefers Together.
    expect(await served(B)).toEqual({ status: 200, provider: 'Together' });
    const key = await deepinfraKey(B);
    expect(key.quota.restingUntil).toBeNull();
    expect(key.quota.headroom).toBeCloseTo(1 / LIMIT, 5);
    expect(deepinfraChats()).toBe(LIMIT - 1);
  },
  TEST_TIMEOUT_MS,
);

it(
  'a key rested on A (its credit spent) is not sent by B',
  async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 402, times: 1 });
    // Forced to DeepInfra, A has no other route: the 402 is the answer, and the key rests until tomorrow.
    expect((await served(A, 'DeepInfra')).status).not.toBe(200);
    expect(deepinfraChats()).toBe(LIMIT);
    const now = new Date();
    const nextUtcMidnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
    await until(5000, 'B seeing the rest A decided', async () => (await deepinfraKey(B)).quota.restingUntil === nextUtcMidnight);
    // B does not send the resting key even when asked for DeepInfra alone, and serves the rest elsewhere.
    expect((await served(B, 'DeepInfra')).status).not.toBe(200);
    expect(await served(B)).toEqual({ status: 200, provider: 'Together' });
    expect(deepinfraChats()).toBe(LIMIT);
  },
  TEST_TIMEOUT_MS,
);

it(
  'the counts and the rest survive a restart of both replicas',
  async () => {
    await Promise.all([A.stop(5000), B.stop(5000)]);
    const C = await start();
    const key = await deepinfraKey(C);
    // The 402 was refused, so not counted: the nine A sent.
    expect(requestsToday(key)).toBe(LIMIT - 1);
    expect(key.quota.restingUntil).toBeGreaterThan(Date.now());
    expect(key.quota.restReason).toContain('credit');
    expect(await served(C)).toEqual({ status: 200, provider: 'Together' });
    expect(deepinfraChats()).toBe(LIMIT);
  },
  TEST_TIMEOUT_MS,
);
