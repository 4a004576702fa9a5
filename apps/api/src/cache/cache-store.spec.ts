import { Logger } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../../../../test/support/redis.ts';
import { RedisConnection } from '../storage/redis/redis-connection.ts';
import { FailOpen, MemoryCacheStore, type CacheStore } from './cache-store.ts';
import { RedisCacheStore } from './redis-cache-store.ts';
import { SqliteCacheStore } from './sqlite-cache-store.ts';

/** Now: Redis expires its keys by its own clock. */
const T0 = Date.now();
const HOUR = 3_600_000;
/** 100 bytes of JSON text. */
const entry = (tag: string) => JSON.stringify({ tag, pad: 'x'.repeat(100 - 19 - tag.length) });

let redis: RedisServer;
let n = 0;
const connections: RedisConnection[] = [];
const files: SqliteCacheStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all([...connections.map((c) => c.close()), ...files.map((f) => f.close())]);
  await redis?.close();
});

async function redisStore(maxBytes: number): Promise<CacheStore> {
  const c = new RedisConnection({ url: redis.url, prefix: `cache${++n}:`, startupTimeoutMs: 3000 });
  await c.open();
  connections.push(c);
  return new RedisCacheStore(c, maxBytes);
}

function sqliteStore(maxBytes: number): Promise<CacheStore> {
  const store = new SqliteCacheStore(join(mkdtempSync(join(tmpdir(), 'g4f-cache-')), 'cache.db'), maxBytes, new Logger('test'));
  files.push(store);
  return Promise.resolve(store);
}

describe.each([
  ['in memory', (maxBytes: number) => Promise.resolve(new MemoryCacheStore(maxBytes))],
  ['in Redis', redisStore],
  ['in SQLite', sqliteStore],
])('the cache store %s', (_, make) => {
  it('returns what was put until it expires', async () => {
    expect(entry('a')).toHaveLength(100);
    const store = await make(1000);
    await store.put('a', entry('a'), T0 + HOUR, T0);
    expect(await store.get('a', T0)).toBe(entry('a'));
    expect(await store.get('b', T0)).toBeUndefined();
    expect(await store.size(T0)).toEqual({ entries: 1, bytes: 100 });
    if (!(store instanceof RedisCacheStore)) expect(await store.get('a', T0 + HOUR)).toBeUndefined();
  });

  it('keeps its total under the cap, evicting the oldest first; an entry over the cap is not kept', async () => {
    const store = await make(250);
    await store.put('a', entry('a'), T0 + HOUR, T0);
    await store.put('b', entry('b'), T0 + HOUR + 1, T0 + 1);
    await store.put('c', entry('c'), T0 + HOUR + 2, T0 + 2);
    expect(await store.get('a', T0 + 3)).toBeUndefined();
    expect(await store.get('b', T0 + 3)).toBe(entry('b'));
    expect(await store.get('c', T0 + 3)).toBe(entry('c'));
    expect(await store.size(T0 + 3)).toEqual({ entries: 2, bytes: 200 });
    await store.put('big', 'y'.repeat(251), T0 + HOUR, T0 + 4);
    expect(await store.get('big', T0 + 5)).toBeUndefined();
    expect((await store.size(T0 + 5)).bytes).toBeLessThanOrEqual(250);
  });

  it('replacing an entry counts its bytes once', async () => {
    const store = await make(250);
    for (let i = 0; i < 5; i++) await store.put('a', entry(`a${i}`), T0 + HOUR, T0 + i);
    expect(await store.size(T0 + 5)).toEqual({ entries: 1, bytes: 100 });
  });
});

describe('FailOpen', () => {
  const logger = new Logger('test');
  beforeAll(() => Logger.overrideLogger(false));

  it('gives the fallback for a call that fails or is slower than its bound', async () => {
    const open = new FailOpen(logger, 'the store', 50);
    expect(await open.run(() => Promise.resolve('v'), 'fallback')).toBe('v');
    expect(await open.run(() => Promise.reject(new Error('down')), 'fallback')).toBe('fallback');
    expect(await open.run(() => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 500)), 'fallback')).toBe('fallback');
  });
});
