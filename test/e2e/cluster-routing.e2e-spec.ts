/**
 * Cluster mode: the routing strategy and a provider's weight, changed through one replica's admin
 * API, are what the other replica routes by (told by who answers), and both survive a restart of
 * every replica (they live in Redis, not in a replica's DATA_DIR). Two real gateway processes on
 * one redis-server; DeepInfra and Together both serve the model, the other providers are off.
 */
import type { RoutingSettings } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { emulatorEnv } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const MODEL = 'llama-3.3-70b';
/** The acceptance bound for a change on one replica to take effect on the other. */
const PROPAGATION_MS = 2000;
const TEST_TIMEOUT_MS = 30_000;
/** Enough requests that a provider a change should have ruled out would almost surely show up. */
const REQUESTS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let redis: RedisServer;
let emu: Emulator;
let env: Record<string, string>;
let replicas: GatewayProcess[] = [];
let admin: Record<string, string>;

async function api<T>(gw: GatewayProcess, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, { method, headers: admin, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path} on ${gw.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Who answered each of REQUESTS chat requests sent to `gw`. */
async function answerers(gw: GatewayProcess): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const answers = await Promise.all(
    Array.from({ length: REQUESTS }, async () => {
      const res = await fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      return res.headers.get('x-pool-provider')!;
    }),
  );
  for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
  return counts;
}

/** Polls until `fn` holds. */
async function within(ms: number, what: string, fn: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(25);
  }
}

const routing = (gw: GatewayProcess) => api<RoutingSettings>(gw, 'GET', '/api/routing');
const weightOf = async (gw: GatewayProcess, name: string) => (await api<{ weight: number }>(gw, 'GET', `/api/providers/${name}`)).weight;

async function login(gw: GatewayProcess): Promise<void> {
  const res = await fetch(`${gw.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password: 'admin-test-password' }),
  });
  admin = { authorization: `Bearer ${((await res.json()) as { token: string }).token}`, 'content-type': 'application/json' };
}

beforeAll(async () => {
  redis = await startRedis();
  emu = await startEmulator({ zeroLatency: true });
  env = {
    ...emulatorEnv(emu),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'routing-e2e:',
    SECRET_KEY: 'cluster-routing-e2e-secret',
    HUGGINGFACE_ENABLED: 'false',
    POLLINATIONS_ENABLED: 'false',
    CLOUDFLARE_ENABLED: 'false',
    // Where the environment starts: DeepInfra first, always.
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
  };
  replicas = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
  await login(replicas[0]!);
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((gw) => gw.stop(5000)));
  await emu?.close();
  await redis?.close();
}, 30_000);

it(
  'the strategy and a weight set on A are what B routes by; a strategy set on B is what A routes by',
  async () => {
    const [A, B] = replicas as [GatewayProcess, GatewayProcess];
    for (const gw of [A, B]) expect(await answerers(gw)).toEqual({ DeepInfra: REQUESTS });

    // Weighted random with DeepInfra at weight 0 (a last resort only): Together answers everything.
    // Under the environment's priority, or with the default weights, DeepInfra would answer.
    expect(await api<RoutingSettings>(A, 'PUT', '/api/routing', { strategy: 'random' })).toMatchObject({ strategy: 'random', source: 'console' });
    expect(await api<{ weight: number }>(A, 'PATCH', '/api/providers/deepinfra', { weight: 0 })).toMatchObject({ weight: 0 });
    await within(PROPAGATION_MS, 'the strategy on B', async () => (await routing(B)).strategy === 'random');
    await within(PROPAGATION_MS, 'the weight on B', async () => (await weightOf(B, 'deepinfra')) === 0);
    expect(await routing(B)).toEqual({ strategy: 'random', source: 'console', default: 'priority' });
    expect(await answerers(B)).toEqual({ Together: REQUESTS });

    // The other way round: priority chosen on B puts DeepInfra first on A again, its weight notwithstanding.
    await api(B, 'PUT', '/api/routing', { strategy: 'priority' });
    await within(PROPAGATION_MS, 'the strategy on A', async () => (await routing(A)).strategy === 'priority');
    expect(await answerers(A)).toEqual({ DeepInfra: REQUESTS });

    await api(A, 'PUT', '/api/routing', { strategy: 'random' });
    await within(PROPAGATION_MS, 'random again on B', async () => (await routing(B)).strategy === 'random');
  },
  TEST_TIMEOUT_MS,
);

it(
  'both survive a restart of every replica: the new processes (fresh DATA_DIRs) route by them from the first request',
  async () => {
    await Promise.all(replicas.map((gw) => gw.stop(5000)));
    replicas = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    await login(replicas[1]!);
    for (const gw of replicas) {
      expect(await routing(gw)).toEqual({ strategy: 'random', source: 'console', default: 'priority' });
      expect(await weightOf(gw, 'deepinfra')).toBe(0);
      expect(await answerers(gw)).toEqual({ Together: REQUESTS });
    }
  },
  TEST_TIMEOUT_MS,
);
