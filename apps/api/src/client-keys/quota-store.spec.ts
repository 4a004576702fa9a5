import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Subject } from 'rxjs';
import { startRedis, type RedisServer } from '../../../../test/support/redis.ts';
import { RedisConnection } from '../storage/redis/redis-connection.ts';
import { applyCounterChange, type CounterChange, type Storage } from '../storage/storage.ts';
import { QUOTAS, quotaPeriods, type QuotaDefinition } from './key-limits.ts';
import { CLIENT_KEY_QUOTA_NS, InMemoryQuotaStore, type QuotaStore } from './quota-store.ts';
import { RedisQuotaStore } from './redis-quota-store.ts';

const DAY1 = quotaPeriods(Date.UTC(2030, 0, 31, 12), 'UTC');
const DAY2 = quotaPeriods(Date.UTC(2030, 1, 1, 12), 'UTC');
const quota = (name: QuotaDefinition['name']) => QUOTAS.find((q) => q.name === name)!;

/** Just enough of a settings store: documents in a map, increments as the stores do them. */
function fakeStorage(): { storage: Storage; docs: Map<string, unknown> } {
  const docs = new Map<string, unknown>();
  const settings = {
    list: (ns: string) => Promise.resolve(Object.fromEntries([...docs].filter(([k]) => k.startsWith(`${ns}/`)).map(([k, v]) => [k.slice(ns.length + 1), v]))),
    increment: (ns: string, key: string, change: CounterChange) => {
      docs.set(`${ns}/${key}`, applyCounterChange(docs.get(`${ns}/${key}`), change));
      return Promise.resolve();
    },
    delete: (ns: string, key: string) => Promise.resolve(docs.delete(`${ns}/${key}`)),
    changes: new Subject(),
  };
  return { storage: { settings } as unknown as Storage, docs };
}

/** What every quota store must do; `pair` gives two stores sharing their counters (two replicas, or one process twice). */
function behavesAsAQuotaStore(pair: () => Promise<[QuotaStore, QuotaStore]>): void {
  it('admits up to a request quota, exactly, under many simultaneous requests from both', async () => {
    const [a, b] = await pair();
    const checks = [{ quota: quota('requestsPerDay'), limit: 7 }];
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).admit('k', DAY1, checks)));
    expect(results.filter((r) => r === null)).toHaveLength(7);
    expect(results.find((r) => r !== null)?.name).toBe('requestsPerDay');
    expect(await a.used('k', DAY1)).toEqual({ day: { requests: 7, tokens: 0 }, month: { requests: 7, tokens: 0 }, total: { requests: 7, tokens: 0 } });
  });

  it('a new day starts from 0, the month and the total go on; refused requests count nowhere', async () => {
    const [a, b] = await pair();
    const checks = [
      { quota: quota('requestsPerDay'), limit: 1 },
      { quota: quota('requestsTotal'), limit: 3 },
    ];
    expect(await a.admit('k', DAY1, checks)).toBeNull();
    expect((await b.admit('k', DAY1, checks))?.name).toBe('requestsPerDay');
    // DAY2 is also a new month.
    expect(await b.admit('k', DAY2, checks)).toBeNull();
    expect(await b.used('k', DAY2)).toEqual({ day: { requests: 1, tokens: 0 }, month: { requests: 1, tokens: 0 }, total: { requests: 2, tokens: 0 } });
    expect(await a.admit('other', DAY2, checks)).toBeNull();
  });

  it('tokens are added after the fact: a token quota refuses once used reaches the limit', async () => {
    const [a, b] = await pair();
    const checks = [{ quota: quota('tokensPerMonth'), limit: 100 }];
    expect(await a.admit('k', DAY1, checks)).toBeNull();
    await b.addTokens('k', DAY1, 60);
    expect(await a.admit('k', DAY1, checks)).toBeNull();
    await a.addTokens('k', DAY1, 60);
    expect((await b.admit('k', DAY1, checks))?.name).toBe('tokensPerMonth');
    expect((await a.used('k', DAY1)).month).toEqual({ requests: 2, tokens: 120 });
  });

  it('concurrency slots: at most `limit` held at once, across both; released ones are free again', async () => {
    const [a, b] = await pair();
    const now = Date.now();
    expect(await a.acquire('k', 2, 'l1', now)).toBe(true);
    expect(await b.acquire('k', 2, 'l2', now)).toBe(true);
    expect(await a.acquire('k', 2, 'l3', now)).toBe(false);
    await b.release('k', 'l1');
    await b.release('k', 'l1');
    expect(await b.acquire('k', 2, 'l4', now)).toBe(true);
    expect(await a.acquire('k', 2, 'l5', now)).toBe(false);
    expect(await a.acquire('k2', 1, 'l6', now)).toBe(true);
  });
}

describe('InMemoryQuotaStore', () => {
  behavesAsAQuotaStore(() => {
    const store = new InMemoryQuotaStore(null, () => DAY1);
    return Promise.resolve([store, store]);
  });

  it('writes its counters to the settings store and reads them back after a restart, dropping past days', async () => {
    const { storage, docs } = fakeStorage();
    const first = new InMemoryQuotaStore(storage, () => DAY1);
    await first.onModuleInit();
    expect(await first.admit('k', DAY1, [])).toBeNull();
    await first.addTokens('k', DAY1, 42);
    await first.beforeApplicationShutdown();
    expect(docs.get(`${CLIENT_KEY_QUOTA_NS}/k:d2030-01-31`)).toEqual({ requests: 1, tokens: 42 });

    const sameDay = new InMemoryQuotaStore(storage, () => DAY1);
    await sameDay.onModuleInit();
    expect(await sameDay.used('k', DAY1)).toEqual({ day: { requests: 1, tokens: 42 }, month: { requests: 1, tokens: 42 }, total: { requests: 1, tokens: 42 } });
    await sameDay.beforeApplicationShutdown();

    const nextDay = new InMemoryQuotaStore(storage, () => DAY2);
    await nextDay.onModuleInit();
    expect(await nextDay.used('k', DAY2)).toEqual({ day: { requests: 0, tokens: 0 }, month: { requests: 0, tokens: 0 }, total: { requests: 1, tokens: 42 } });
    expect([...docs.keys()]).toEqual([`${CLIENT_KEY_QUOTA_NS}/k:total`]);
    await nextDay.beforeApplicationShutdown();
  });

  it('keeps counts it could not write and writes them with the next batch', async () => {
    const { storage, docs } = fakeStorage();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = new InMemoryQuotaStore(storage, () => DAY1);
    await store.onModuleInit();
    const increment = jest.spyOn(storage.settings, 'increment').mockRejectedValueOnce(new Error('disk full'));
    expect(await store.admit('k', DAY1, [])).toBeNull();
    await store.flush();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(await store.admit('k', DAY1, [])).toBeNull();
    await store.beforeApplicationShutdown();
    expect(docs.get(`${CLIENT_KEY_QUOTA_NS}/k:total`)).toEqual({ requests: 2, tokens: 0 });
    increment.mockRestore();
    warn.mockRestore();
  });
});

describe('RedisQuotaStore', () => {
  let redis: RedisServer;
  let n = 0;
  const connections: RedisConnection[] = [];

  async function connect(prefix: string): Promise<RedisConnection> {
    const c = new RedisConnection({ url: redis.url, prefix, startupTimeoutMs: 3000 });
    await c.open();
    connections.push(c);
    return c;
  }

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await redis?.close();
  });

  behavesAsAQuotaStore(async () => {
    const prefix = `q${++n}:`;
    return [new RedisQuotaStore(await connect(prefix)), new RedisQuotaStore(await connect(prefix))];
  });

  it('day and month counters expire after their period; the total does not', async () => {
    const prefix = `q${++n}:`;
    const store = new RedisQuotaStore(await connect(prefix));
    const before = Date.now();
    const periods = quotaPeriods(before, 'UTC');
    expect(await store.admit('k', periods, [])).toBeNull();
    const ttl = (id: string) => redis.client().pttl(`${prefix}quota:k:${id}`);
    const dayTtl = await ttl(`d${periods.day}`);
    expect(dayTtl).toBeGreaterThan(0);
    expect(dayTtl).toBeLessThanOrEqual(periods.dayEndsAt - before + 60_000);
    expect(await ttl(`m${periods.month}`)).toBeGreaterThanOrEqual(dayTtl);
    expect(await ttl('total')).toBe(-1);
  });

  it('fails open when Redis is gone: requests are admitted uncounted, with one warning', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const store = new RedisQuotaStore(await connect(`q${++n}:`));
    await redis.stop();
    try {
      const checks = [{ quota: quota('requestsTotal'), limit: 1 }];
      const t = Date.now();
      expect(await store.admit('k', DAY1, checks)).toBeNull();
      expect(await store.admit('k', DAY1, checks)).toBeNull();
      expect(await store.acquire('k', 1, 'a', Date.now())).toBe(true);
      expect(Date.now() - t).toBeLessThan(3000);
      expect(warn.mock.calls.filter(([m]) => String(m).includes('not enforced'))).toHaveLength(1);
    } finally {
      warn.mockRestore();
      await redis.start();
      // Closed only once reconnected: a connection closed while it retries leaves its timer behind.
      const deadline = Date.now() + 8000;
      while (!connections.every((c) => c.ready) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
  }, 15_000);
});
