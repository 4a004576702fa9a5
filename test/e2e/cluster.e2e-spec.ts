/**
 * Cluster mode: three real gateway processes (the built dist/, as `npm start` runs it) sharing
 * one redis-server, with every upstream played by the emulator running in this process.
 *
 * Routing is deterministic (ROUTING_STRATEGY=priority): for `llama-3.3-70b` DeepInfra goes
 * first and Together answers when DeepInfra is skipped or fails. The tests run in order and
 * build on each other: the last ones kill a replica and then Redis itself.
 */
import type { CreatedClientKey, StatsResponse } from '#contracts';
import type { Emulator } from '../emulators/emulator.ts';
import { startCluster, type Cluster } from '../support/cluster.ts';
import type { GatewayProcess } from '../support/gateway-process.ts';
import type { RedisServer } from '../support/redis.ts';

const MODEL = 'llama-3.3-70b';
/** The acceptance bound for a change on one replica to take effect on the others. */
const PROPAGATION_MS = 2000;
const TEST_TIMEOUT_MS = 20_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let cluster: Cluster;
let redis: RedisServer;
let emu: Emulator;
/** The replicas still running (the kill test takes A away). */
let replicas: GatewayProcess[] = [];
let A: GatewayProcess;
let B: GatewayProcess;
let C: GatewayProcess;
/** Admin session made on A; valid on every replica (sessions live in Redis). */
let admin: Record<string, string>;
/** A client key without a limit, made in beforeAll: from then on /v1 needs a key on every replica. */
let clientKey: string;

interface Served {
  status: number;
  provider: string | null;
  requestId: string | null;
}

async function ask(gw: GatewayProcess, key = clientKey, stream = false): Promise<Served> {
  const res = await fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream }),
  });
  await res.arrayBuffer();
  return { status: res.status, provider: res.headers.get('x-pool-provider'), requestId: res.headers.get('x-request-id') };
}

async function api<T>(gw: GatewayProcess, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, {
    method: init.method ?? 'GET',
    headers: admin,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} on ${gw.url}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Polls until `fn` holds; returns how long that took. */
async function within(ms: number, what: string, fn: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(25);
  }
}

const providerOn = async (gw: GatewayProcess, name: string) => api<{ enabled: boolean; status: string }>(gw, `/api/providers/${name}`);
const totals = async (gw: GatewayProcess) => (await api<StatsResponse>(gw, '/api/stats?range=1h')).totals.requests;
const logTotal = async (gw: GatewayProcess, query = '') => (await api<{ total: number }>(gw, `/api/logs?pageSize=1${query}`)).total;
/** Waits until every replica has written what it buffered (they all report the same); returns [stats, log] totals. */
async function settled(): Promise<[number, number]> {
  let result: [number, number] = [0, 0];
  await within(5000, 'the replicas agreeing on the totals', async () => {
    const seen = await Promise.all(replicas.map(async (gw) => `${await totals(gw)}/${await logTotal(gw)}`));
    result = seen[0]!.split('/').map(Number) as [number, number];
    return seen.every((s) => s === seen[0]);
  });
  return result;
}
const deepinfraCalls = () => emu.requests('deepinfra').filter((r) => r.path.endsWith('/chat/completions')).length;

beforeAll(async () => {
  cluster = await startCluster(3, {
    REDIS_KEY_PREFIX: 'e2e:',
    SECRET_KEY: 'cluster-e2e-secret',
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
    HUGGINGFACE_PRIORITY: '3',
    POLLINATIONS_PRIORITY: '4',
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_COOLDOWN_MS: '60000',
    STATS_FLUSH_MS: '200',
  });
  ({ redis, emu, admin } = cluster);
  replicas = [...cluster.replicas];
  [A, B, C] = replicas as [GatewayProcess, GatewayProcess, GatewayProcess];
  clientKey = (await api<CreatedClientKey>(A, '/api/keys', { method: 'POST', body: { name: 'cluster tests' } })).secret;
  for (const gw of replicas) await within(PROPAGATION_MS, 'the client key on every replica', async () => (await ask(gw)).status === 200);
}, 60_000);

afterAll(() => cluster?.close(), 30_000);

describe('three gateway processes on one Redis', () => {
  it(
    'share admin sessions: a login on A is accepted by B and C, a logout on A ends it everywhere',
    async () => {
      for (const gw of [B, C]) expect((await fetch(`${gw.url}/api/providers`, { headers: admin })).status).toBe(200);
      const res = await fetch(`${B.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"password":"admin-test-password"}',
      });
      const other = { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
      expect((await fetch(`${C.url}/api/providers`, { headers: other })).status).toBe(200);
      expect((await fetch(`${A.url}/api/auth/logout`, { method: 'POST', headers: other })).status).toBeLessThan(300);
      for (const gw of [B, C])
        await within(PROPAGATION_MS, 'the logout', async () => (await fetch(`${gw.url}/api/providers`, { headers: other })).status === 401);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'an image link made by replica A is served by B and C (images live in Redis, with their TTL), and a bad name is a 404 everywhere',
    async () => {
      const res = await fetch(`${A.baseURL}/images/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${clientKey}` },
        body: JSON.stringify({ model: 'flux-schnell', prompt: 'a lighthouse at dusk', size: '256x256', response_format: 'url' }),
      });
      expect(res.status).toBe(200);
      const url = ((await res.json()) as { data: { url: string }[] }).data[0]!.url;
      const path = new URL(url).pathname;
      expect(path).toMatch(/^\/v1\/images\/files\/[A-Za-z0-9_-]{32}\.(png|jpg)$/);
      const served: Buffer[] = [];
      for (const gw of [B, C, A]) {
        const image = await fetch(`${gw.url}${path}`);
        expect({ on: gw.url, status: image.status }).toEqual({ on: gw.url, status: 200 });
        expect(image.headers.get('content-type')).toMatch(/^image\/(png|jpeg)$/);
        expect(Number(/max-age=(\d+)/.exec(image.headers.get('cache-control') ?? '')?.[1])).toBeGreaterThan(3000);
        served.push(Buffer.from(await image.arrayBuffer()));
      }
      expect(served[0]!.length).toBeGreaterThan(0);
      expect(served[1]).toEqual(served[0]);
      expect(served[2]).toEqual(served[0]);
      // Stored once, in Redis, expiring by itself (IMAGE_URL_TTL_SECONDS, 3600 s by default).
      const name = path.split('/').at(-1)!;
      const ttl = await redis.client().pttl(`e2e:image:${name}`);
      expect(ttl).toBeGreaterThan(3_500_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      const missing = await fetch(`${B.url}${path.replace(/[A-Za-z0-9_-]{32}/, 'x'.repeat(32))}`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('image_not_found');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a provider toggled off through replica A stops being used by B and C within 2 s',
    async () => {
      expect(await ask(B)).toMatchObject({ status: 200, provider: 'DeepInfra' });
      expect((await api<{ enabled: boolean }>(A, '/api/providers/deepinfra/toggle', { method: 'POST' })).enabled).toBe(false);
      for (const gw of [B, C]) {
        const took = await within(PROPAGATION_MS, 'the toggle', async () => (await providerOn(gw, 'deepinfra')).enabled === false);
        expect(took).toBeLessThan(PROPAGATION_MS);
      }
      const before = deepinfraCalls();
      for (const gw of [B, C, B, C]) expect(await ask(gw)).toMatchObject({ status: 200, provider: 'Together' });
      expect(deepinfraCalls()).toBe(before);

      // And back on, from another replica.
      await api(C, '/api/providers/deepinfra/toggle', { method: 'POST' });
      for (const gw of [A, B]) await within(PROPAGATION_MS, 'the toggle back', async () => (await providerOn(gw, 'deepinfra')).enabled);
      for (const gw of replicas) expect(await ask(gw)).toMatchObject({ status: 200, provider: 'DeepInfra' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stats and the request log from all three add up in /api/stats and /api/logs on any replica',
    async () => {
      const [stats0, log0] = await settled();
      const ids: string[] = [];
      for (const gw of replicas) {
        for (let i = 0; i < 3; i++) {
          const served = await ask(gw, clientKey, i === 1);
          expect(served.status).toBe(200);
          ids.push(served.requestId!);
        }
      }
      for (const gw of replicas) {
        await within(5000, `the stats on ${gw.url}`, async () => (await totals(gw)) === stats0 + 9 && (await logTotal(gw)) === log0 + 9);
      }
      const page = await api<{ items: Array<{ requestId: string }> }>(C, '/api/logs?pageSize=20');
      expect(page.items.map((e) => e.requestId)).toEqual(expect.arrayContaining(ids));
      // The log's filters work on the shared log too.
      expect(await logTotal(B, '&provider=DeepInfra&status=success')).toBeGreaterThanOrEqual(9);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a client key's usage counts every request from every replica, however their flushes overlap",
    async () => {
      const key = await api<CreatedClientKey>(B, '/api/keys', { method: 'POST', body: { name: 'usage across replicas' } });
      for (const gw of replicas) await within(PROPAGATION_MS, 'the new key', async () => (await ask(gw, key.secret)).status === 200);
      // Three waves of concurrent requests on all three replicas: each replica flushes its usage every
      // 2 s, so their writes to the one usage record overlap; none may be lost.
      for (let wave = 0; wave < 3; wave++) {
        const answers = await Promise.all(replicas.flatMap((gw) => Array.from({ length: 8 }, () => ask(gw, key.secret))));
        expect(answers.every((a) => a.status === 200)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
      const expected = 3 + 3 * 3 * 8;
      for (const gw of replicas) {
        await within(8000, `the usage on ${gw.url}`, async () => (await api<{ requests: number }>(gw, `/api/keys/${key.id}`)).requests === expected);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a provider cooling down after failures seen by A is skipped by B and C',
    async () => {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 2 });
      for (let i = 0; i < 2; i++) expect(await ask(A)).toMatchObject({ status: 200, provider: 'Together' });
      expect((await providerOn(A, 'deepinfra')).status).toBe('cooling-down');
      for (const gw of [B, C]) await within(PROPAGATION_MS, 'the cooldown', async () => (await providerOn(gw, 'deepinfra')).status === 'cooling-down');
      const before = deepinfraCalls();
      for (const gw of [B, C, B, C]) expect(await ask(gw)).toMatchObject({ status: 200, provider: 'Together' });
      // Skipped without a request: B and C never saw DeepInfra fail themselves.
      expect(deepinfraCalls()).toBe(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a client key created on A works on C within 2 s; revoked on B, it stops working everywhere',
    async () => {
      const created = await api<CreatedClientKey>(A, '/api/keys', { method: 'POST', body: { name: 'made on A' } });
      const took = await within(PROPAGATION_MS, 'the new key on C', async () => (await ask(C, created.secret)).status === 200);
      expect(took).toBeLessThan(PROPAGATION_MS);
      await api(B, `/api/keys/${created.id}/revoke`, { method: 'POST' });
      for (const gw of [A, C]) await within(PROPAGATION_MS, 'the revocation', async () => (await ask(gw, created.secret)).status === 401);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a rate limit holds across replicas',
    async () => {
      const limited = await api<CreatedClientKey>(A, '/api/keys', { method: 'POST', body: { name: 'limited', rpmLimit: 4 } });
      // One counted request per replica, as soon as each knows the key (an unknown key is a 401, not counted).
      for (const gw of replicas) await within(PROPAGATION_MS, 'the limited key', async () => (await ask(gw, limited.secret)).status === 200);
      // 3 of 4 used, spread over three replicas: one more fits, wherever it lands; each replica alone would still allow 3.
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await ask(replicas[(i + 1) % 3]!, limited.secret)).status);
      expect(statuses).toEqual([200, 429, 429, 429, 429, 429]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'killing one replica under load: every request sent to the others succeeds',
    async () => {
      emu.setPacing({ chunkDelayMs: 15 });
      const results: Served[] = [];
      let stop = false;
      const worker = async (gw: GatewayProcess, stream: boolean) => {
        while (!stop) results.push(await ask(gw, clientKey, stream));
      };
      const load = [worker(B, false), worker(B, true), worker(C, false), worker(C, true), worker(B, true), worker(C, false)];
      await sleep(400);
      A.kill('SIGKILL');
      expect(await A.exited).toBe('SIGKILL');
      await sleep(800);
      stop = true;
      await Promise.all(load);
      emu.setPacing({ chunkDelayMs: 0 });
      expect(results.length).toBeGreaterThan(20);
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      replicas = [B, C];
    },
    TEST_TIMEOUT_MS,
  );

  it('Redis going away and coming back: /v1 keeps answering throughout, then the replicas reconnect and share again', async () => {
    const limited = await api<CreatedClientKey>(B, '/api/keys', { method: 'POST', body: { name: 'limited during outage', rpmLimit: 100 } });
    await within(PROPAGATION_MS, 'the key on C', async () => (await ask(C, limited.secret)).status === 200);
    const stats0 = await totals(B);

    await redis.stop({ keepData: true });
    const during: Served[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 2500) {
      for (const gw of [B, C]) {
        during.push(await ask(gw));
        during.push(await ask(gw, limited.secret, true));
      }
      // Paced to stay under the key's limit, which each replica now enforces on its own.
      await sleep(100);
    }
    expect(during.length).toBeGreaterThan(8);
    expect(during.filter((r) => r.status !== 200)).toEqual([]);
    // The admin session is still known (cached), and a read from Redis fails fast rather than hanging.
    const statsDuringOutage = await fetch(`${B.url}/api/stats?range=1h`, { headers: admin, signal: AbortSignal.timeout(6000) });
    expect(statsDuringOutage.status).toBeGreaterThanOrEqual(500);

    await redis.start();
    // Reconnected: a change made on B reaches C again, within the usual bound once both are back.
    await within(10_000, 'B writing to Redis again', async () => (await fetch(`${B.url}/api/stats?range=1h`, { headers: admin })).ok);
    await within(10_000, 'C writing to Redis again', async () => (await fetch(`${C.url}/api/stats?range=1h`, { headers: admin })).ok);
    await sleep(1000); // both subscribers back too
    await api(B, '/api/providers/huggingface/toggle', { method: 'POST' });
    const took = await within(PROPAGATION_MS, 'a toggle after the outage', async () => (await providerOn(C, 'huggingface')).enabled === false);
    expect(took).toBeLessThan(PROPAGATION_MS);
    // The stats of the requests served during the outage were kept and written once Redis was back.
    const expected = stats0 + during.length;
    await within(5000, `the outage’s stats (${expected} requests)`, async () => (await totals(C)) >= expected && (await totals(B)) >= expected);
    for (const gw of [B, C]) expect(await ask(gw)).toMatchObject({ status: 200 });
  }, 40_000);
});
