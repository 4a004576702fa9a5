import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../../../test/support/redis.ts';
import { ApiError } from '../common/api-error.ts';
import { loadConfig } from '../config/app-config.ts';
import { RedisConnection } from '../storage/redis/redis-connection.ts';
import { IMAGE_MEMORY_SHARE, RedisImageStore } from './redis-image-store.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

let redis: RedisServer;
/** One client for looking at the keys (test/support's client() makes a new one per call). */
let look: Redis;
let n = 0;
const connections: RedisConnection[] = [];

async function connect(prefix: string): Promise<RedisConnection> {
  const c = new RedisConnection({ url: redis.url, prefix, startupTimeoutMs: 3000, maxReconnectDelayMs: 100 });
  await c.open();
  connections.push(c);
  return c;
}

/** Two stores on one Redis, as two replicas have. */
async function pair(env: Record<string, string> = {}): Promise<[RedisImageStore, RedisImageStore]> {
  const prefix = `img${++n}:`;
  const config = loadConfig({ IMAGE_URL_TTL_SECONDS: '60', ...env });
  return [new RedisImageStore(await connect(prefix), config), new RedisImageStore(await connect(prefix), config)];
}

beforeAll(async () => {
  redis = await startRedis();
  look = redis.client();
});

beforeEach(() => {
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});

afterEach(async () => {
  jest.restoreAllMocks();
  if (!redis.running) await redis.start();
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await redis?.close();
});

describe('RedisImageStore', () => {
  it('an image saved by one replica is read by another, with its type and the TTL Redis keeps', async () => {
    const [a, b] = await pair();
    const name = await a.save(PNG, 'image/png');
    expect(name).toMatch(/^[A-Za-z0-9_-]{32}\.png$/);
    const read = await b.read(name);
    expect(read?.mime).toBe('image/png');
    expect(read?.data).toEqual(PNG);
    expect(read!.expiresAt).toBeGreaterThan(Date.now() + 55_000);
    expect(read!.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000);
    const ttl = await look.pttl(`img${n}:image:${name}`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('serves nothing outside its own names, and nothing once Redis expired the key', async () => {
    const [a, b] = await pair();
    const name = await a.save(PNG, 'image/png');
    for (const bad of ['../images/' + name, name.replace('.png', '.jpg'), 'short.png', `${name}:x`]) expect(await b.read(bad)).toBeUndefined();
    await look.pexpire(`img${n}:image:${name}`, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await b.read(name)).toBeUndefined();
  });

  it('refuses an image above MEDIA_FETCH_MAX_BYTES without writing it', async () => {
    const [a] = await pair({ MEDIA_FETCH_MAX_BYTES: '1kb' });
    const err = await a.save(Buffer.concat([PNG, Buffer.alloc(2048)]), 'image/png').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 502, code: 'image_too_large' });
    expect(await look.keys(`img${n}:image:*`)).toEqual([]);
    expect(await a.save(PNG, 'image/png')).toMatch(/\.png$/);
  });

  it("leaves Redis to the gateway's state: no image once Redis holds half its maxmemory (503, Retry-After), stored again when there is room", async () => {
    const [a] = await pair();
    const used = Number(/^used_memory:(\d+)/m.exec(await look.info('memory'))![1]);
    try {
      await look.config('SET', 'maxmemory', String(Math.ceil((used + 1024 * 1024) / IMAGE_MEMORY_SHARE)));
      expect(await a.save(PNG, 'image/png')).toMatch(/\.png$/);
      const err = await a.save(Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]), 'image/png').catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 503, code: 'image_store_full', headers: { 'retry-after': '60' } });
      await look.config('SET', 'maxmemory', String(Math.ceil((used + 8 * 1024 * 1024) / IMAGE_MEMORY_SHARE)));
      expect(await a.save(Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]), 'image/png')).toMatch(/\.png$/);
    } finally {
      await look.config('SET', 'maxmemory', '0');
    }
  });

  it('Redis gone: saving and reading fail with 503 and Retry-After, not with a 404 for an image that may exist', async () => {
    const [a] = await pair();
    const name = await a.save(PNG, 'image/png');
    await redis.stop();
    for (const attempt of [a.save(PNG, 'image/png'), a.read(name)]) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 503, code: 'image_store_unavailable', headers: { 'retry-after': '2' } });
    }
    // Back once Redis is (this one keeps no data, so the old image is gone; a new one works).
    await redis.start();
    const deadline = Date.now() + 5000;
    let saved: string | undefined;
    const pause = () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50));
    while (!saved && Date.now() < deadline) saved = await a.save(PNG, 'image/png').catch(pause);
    expect((await a.read(saved!))?.data).toEqual(PNG);
  });
});
