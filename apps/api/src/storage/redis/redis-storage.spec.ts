import { jest } from '@jest/globals';
import { Global, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom, filter, take, toArray, timeout } from 'rxjs';
import { startRedis, type RedisServer } from '../../../../../test/support/redis.ts';
import { APP_CONFIG, loadConfig } from '../../config/app-config.ts';
import { describeStorageContract, hist, increment, logEntry } from '../storage.contract.ts';
import { StorageModule } from '../storage.module.ts';
import { STORAGE, type Storage } from '../storage.ts';
import { StorageError } from '../storage-errors.ts';
import { RESPONSES_MEMORY_SHARE, RedisStorage } from './redis-storage.ts';

const T0 = Date.UTC(2030, 0, 1);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let redis: RedisServer;
let prefixCounter = 0;
const freshPrefix = (): string => `t${++prefixCounter}:`;

beforeAll(async () => {
  redis = await startRedis();
});

beforeEach(() => {
  for (const level of ['log', 'warn', 'error'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
});

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  await redis?.close();
});

async function open(prefix = freshPrefix(), extra: Partial<ConstructorParameters<typeof RedisStorage>[0]> = {}): Promise<RedisStorage> {
  const storage = new RedisStorage({ url: redis.url, prefix, startupTimeoutMs: 3000, ...extra });
  await storage.init();
  return storage;
}

async function keysWithPrefix(prefix: string): Promise<string[]> {
  return (await redis.client().keys(`${prefix}*`)).sort();
}

/** Until `fn` holds, or fails after `ms`. */
async function eventually(fn: () => Promise<boolean> | boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await sleep(25);
  }
}

// Each test gets its own key prefix: a fresh, empty store on the same server.
describeStorageContract('RedisStorage', () => open());

describe('RedisStorage', () => {
  it('keeps every key under its prefix, and two prefixes apart', async () => {
    const a = await open('pa:');
    const b = await open('pb:');
    await a.settings.set('ns', 'k', 1);
    await a.log.append([logEntry({ clientKey: 'ck' })]);
    await a.stats.add([increment()]);
    await a.health.append([{ provider: 'Together', checkedAt: T0, ok: true, latencyMs: 1, probe: 'models', model: null, error: null }]);
    expect(await b.settings.get('ns', 'k')).toBeUndefined();
    expect((await b.log.query({}, { offset: 0, limit: 1 })).total).toBe(0);
    const all = await redis.client().keys('*');
    expect(all.filter((k) => !k.startsWith('pa:') && !k.startsWith('pb:') && !/^t\d+:/.test(k))).toEqual([]);
    expect(await keysWithPrefix('pa:')).toEqual(
      expect.arrayContaining([
        'pa:settings:ns',
        'pa:settings',
        'pa:log:entries',
        'pa:log:time',
        'pa:log:by:key:ck',
        'pa:stats:minute:all',
        'pa:health:Together',
      ]),
    );
    await a.close();
    await b.close();
  });

  describe('two processes on one Redis', () => {
    let a: RedisStorage;
    let b: RedisStorage;

    beforeEach(async () => {
      const prefix = freshPrefix();
      a = await open(prefix);
      b = await open(prefix);
    });

    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it("see each other's changes through `changes`, each once, and not their own echo", async () => {
      const seenA: string[] = [];
      const seenB: string[] = [];
      a.settings.changes.subscribe((c) => seenA.push(`${c.namespace}/${c.key}`));
      b.settings.changes.subscribe((c) => seenB.push(`${c.namespace}/${c.key}`));
      const t = Date.now();
      await a.settings.set('client-key', 'ck_1', { name: 'x' });
      await eventually(() => seenB.length === 1, 2000, 'the change reaching B');
      expect(Date.now() - t).toBeLessThan(2000);
      expect(await b.settings.get('client-key', 'ck_1')).toEqual({ name: 'x' });
      await b.settings.delete('client-key', 'ck_1');
      await b.settings.delete('client-key', 'missing');
      await eventually(() => seenA.length === 2, 2000, 'the delete reaching A');
      await sleep(100);
      expect(seenA).toEqual(['client-key/ck_1', 'client-key/ck_1']);
      expect(seenB).toEqual(['client-key/ck_1', 'client-key/ck_1']);
    });

    it('add up each other’s stats and request log', async () => {
      for (let round = 0; round < 10; round++) {
        await Promise.all([
          a.log.append([logEntry({ requestId: `a${round}`, startedAt: T0 + round })]),
          b.log.append([logEntry({ requestId: `b${round}`, startedAt: T0 + round })]),
          a.stats.add([increment()]),
          b.stats.add([increment(), increment({ dimension: 'provider', value: 'DeepInfra' })]),
        ]);
      }
      expect((await a.log.query({}, { offset: 0, limit: 1 })).total).toBe(20);
      const [row] = await a.stats.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 });
      expect(row).toMatchObject({ requests: 20, latencySumMs: 8000, latencyHist: hist([4, 20]) });
      expect(await b.stats.query({ granularity: 'minute', dimension: 'provider', from: T0, to: T0 + 1 })).toEqual([
        increment({
          dimension: 'provider',
          value: 'DeepInfra',
          requests: 10,
          successes: 10,
          promptTokens: 100,
          completionTokens: 200,
          latencySumMs: 4000,
          ttftSumMs: 1500,
          ttftCount: 10,
          latencyHist: hist([4, 10]),
          ttftHist: hist([2, 10]),
        }),
      ]);
    });
  });

  it('refuses use before init and after close; close is idempotent and completes the change stream', async () => {
    const storage = new RedisStorage({ url: redis.url, prefix: freshPrefix(), startupTimeoutMs: 3000 });
    await expect(storage.settings.get('a', 'b')).rejects.toThrow();
    await storage.init();
    await storage.init();
    let completed = false;
    storage.settings.changes.subscribe({ complete: () => (completed = true) });
    await storage.close();
    await storage.close();
    expect(completed).toBe(true);
    await expect(storage.log.query({}, { offset: 0, limit: 1 })).rejects.toThrow();
    await expect(storage.init()).rejects.toThrow(/closed/);
  });

  it('rejects what it cannot store faithfully, writing nothing of a bad batch', async () => {
    const storage = await open();
    await expect(storage.settings.set('a', 'b', undefined)).rejects.toThrow(/JSON/);
    const circular: { self?: unknown } = {};
    circular.self = circular;
    const broken = logEntry({ requestId: 'broken', attempts: [circular as never] });
    await expect(storage.log.append([logEntry({ requestId: 'fine' }), broken])).rejects.toThrow();
    expect((await storage.log.query({}, { offset: 0, limit: 10 })).total).toBe(0);
    await expect(storage.stats.add([increment({ requests: 1.5 })])).rejects.toThrow(RangeError);
    expect(await storage.stats.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 })).toEqual([]);
    await expect(storage.log.query({}, { offset: -1, limit: 10 })).rejects.toThrow(RangeError);
    await storage.close();
  });

  it('caps the request log at about maxLogEntries, dropping the oldest, indexes included', async () => {
    const prefix = freshPrefix();
    const storage = await open(prefix, { maxLogEntries: 100 });
    for (let round = 0; round < 5; round++) {
      await storage.log.append(
        Array.from({ length: 50 }, (_, i) => logEntry({ requestId: `r${round * 50 + i}`, startedAt: T0 + round * 50 + i, model: i % 2 ? 'odd' : 'even' })),
      );
    }
    const { total, items } = await storage.log.query({}, { offset: 0, limit: 1000 });
    expect(total).toBeGreaterThanOrEqual(100);
    expect(total).toBeLessThanOrEqual(105);
    expect(items[0]!.requestId).toBe('r249');
    expect(items.at(-1)!.startedAt).toBe(T0 + 250 - total);
    const odd = await storage.log.query({ model: 'odd' }, { offset: 0, limit: 1000 });
    expect(odd.total).toBe(items.filter((e) => e.model === 'odd').length);
    expect(await redis.client().hlen(`${prefix}log:entries`)).toBe(total);
    await storage.close();
  });

  it('a filtered query leaves no temporary keys behind, and an emptied index is forgotten', async () => {
    const prefix = freshPrefix();
    const storage = await open(prefix);
    await storage.log.append([logEntry({ startedAt: T0, clientKey: 'ck_1' }), logEntry({ requestId: 'r2', startedAt: T0 + 5, model: 'm2' })]);
    expect((await storage.log.query({ model: 'llama-3.3-70b', status: 'success', provider: 'DeepInfra' }, { offset: 0, limit: 5 })).total).toBe(1);
    expect((await keysWithPrefix(prefix)).filter((k) => k.includes(':tmp:'))).toEqual([]);
    expect(await storage.log.purgeBefore(T0 + 1)).toBe(1);
    const keys = await keysWithPrefix(prefix);
    expect(keys).not.toContain(`${prefix}log:by:key:ck_1`);
    expect(await redis.client().sismember(`${prefix}log:indexes`, `${prefix}log:by:key:ck_1`)).toBe(0);
    expect(await redis.client().sismember(`${prefix}log:indexes`, `${prefix}log:by:model:m2`)).toBe(1);
    await storage.close();
  });

  it('does not start when Redis cannot be reached', async () => {
    const storage = new RedisStorage({ url: 'redis://127.0.0.1:1', prefix: 'x:', startupTimeoutMs: 500 });
    const t = Date.now();
    const failure = await storage.init().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(StorageError);
    expect((failure as Error).message).toMatch(
      /^Redis at redis:\/\/127\.0\.0\.1:1\/? is not reachable within 500 ms .*: check REDIS_URL, and that Redis is running/,
    );
    expect(Date.now() - t).toBeLessThan(2000);
  });

  describe('when Redis goes away and comes back', () => {
    afterEach(async () => {
      if (!redis.running) await redis.start();
    });

    it('fails fast while it is gone, then reconnects, resyncs every namespace and sees new changes again', async () => {
      const prefix = freshPrefix();
      const a = await open(prefix);
      const b = await open(prefix);
      await a.settings.set('client-key', 'k1', 1);
      await a.settings.set('provider-override', 'deepinfra', { enabled: false });
      const seenB: string[] = [];
      b.settings.changes.subscribe((c) => seenB.push(`${c.namespace}/${c.key}`));

      await redis.stop({ keepData: true });
      const t = Date.now();
      await expect(b.settings.get('client-key', 'k1')).rejects.toThrow();
      await expect(b.stats.add([increment()])).rejects.toThrow();
      expect(Date.now() - t).toBeLessThan(1000);

      await redis.start();
      // B's subscriber missed whatever happened meanwhile: it tells its caches to reload everything.
      await eventually(() => seenB.includes('client-key/') && seenB.includes('provider-override/'), 8000, 'the resync');
      expect(await b.settings.get('client-key', 'k1')).toBe(1);
      // A reconnects too and its changes reach B again.
      await eventually(async () => a.connection.ready, 8000, 'A reconnecting');
      await a.settings.set('client-key', 'k2', 2);
      await eventually(() => seenB.includes('client-key/k2'), 2000, 'a new change reaching B');
      await a.close();
      await b.close();
    }, 30_000);

    it('commands against a paused Redis time out instead of hanging', async () => {
      const storage = await open(freshPrefix(), { commandTimeoutMs: 300 });
      const pid = await redis
        .client()
        .info('server')
        .then((s) => Number(/process_id:(\d+)/.exec(s)![1]));
      process.kill(pid, 'SIGSTOP');
      try {
        const t = Date.now();
        await expect(storage.settings.get('a', 'b')).rejects.toThrow(/timed out/i);
        expect(Date.now() - t).toBeLessThan(1500);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await eventually(async () => (await storage.settings.get('a', 'b').catch(() => 'err')) === undefined, 5000, 'commands working again');
      await storage.close();
    });
  });

  it('the change stream emits only on the store that made the change or from other processes, in order', async () => {
    const prefix = freshPrefix();
    const a = await open(prefix);
    const b = await open(prefix);
    const arrived = firstValueFrom(
      b.settings.changes.pipe(
        filter((c) => c.namespace === 'order'),
        take(5),
        toArray(),
        timeout(3000),
      ),
    );
    for (let i = 0; i < 5; i++) await a.settings.set('order', `k${i}`, i);
    expect((await arrived).map((c) => c.key)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    await a.close();
    await b.close();
  });
});

describe('RedisStorage stored responses and memory', () => {
  it('refuses to store responses while Redis holds half its maxmemory, and stores them again once there is room', async () => {
    const storage = await open();
    const look = redis.client();
    const used = Number(/^used_memory:(\d+)/m.exec(await look.info('memory'))![1]);
    const big = (id: string) => ({ id, owner: 'open', expiresAt: Date.now() + 60_000, json: JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) }) });
    try {
      await look.config('SET', 'maxmemory', String(Math.ceil((used + 1024 * 1024) / RESPONSES_MEMORY_SHARE)));
      await expect(storage.responses.put([big('resp_full')])).rejects.toThrow(/maxmemory/);
      expect(await storage.responses.get('resp_full', Date.now())).toBeUndefined();
      await look.config('SET', 'maxmemory', String(Math.ceil((used + 16 * 1024 * 1024) / RESPONSES_MEMORY_SHARE)));
      // A reading of INFO memory serves for a second.
      await sleep(1100);
      await storage.responses.put([big('resp_room')]);
      expect((await storage.responses.get('resp_room', Date.now()))?.owner).toBe('open');
    } finally {
      await look.config('SET', 'maxmemory', '0');
      look.disconnect();
      await storage.close();
    }
  });
});

describe('StorageModule with REDIS_URL', () => {
  it('provides an initialised RedisStorage and closes it on shutdown', async () => {
    const config = loadConfig({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: freshPrefix(), SECRET_KEY: 'k', DATA_DIR: '/nonexistent/never-created' });
    @Global()
    @Module({ providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] })
    class TestConfigModule {}

    const app = await Test.createTestingModule({ imports: [TestConfigModule, StorageModule] }).compile();
    await app.init();
    const storage = app.get<Storage>(STORAGE);
    expect(storage).toBeInstanceOf(RedisStorage);
    expect(storage.kind).toBe('redis');
    await storage.settings.set('ns', 'k', 'v');
    expect(await redis.client().hget(`${config.redis!.keyPrefix}settings:ns`, 'k')).toBe('"v"');
    await app.close();
    await expect(storage.settings.get('ns', 'k')).rejects.toThrow();
  });
});
