import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { startRedis, type RedisServer } from '../../../../test/support/redis.ts';
import { RATE_WINDOW_MS } from './rate-limiter.ts';
import { RedisConnection } from '../storage/redis/redis-connection.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

const T0 = 1_700_000_000_000;

let redis: RedisServer;
let n = 0;
const connections: RedisConnection[] = [];

async function connect(prefix: string): Promise<RedisConnection> {
  const c = new RedisConnection({ url: redis.url, prefix, startupTimeoutMs: 3000 });
  await c.open();
  connections.push(c);
  return c;
}

/** Two limiters on one Redis, as two replicas have. */
async function pair(): Promise<[RedisRateLimiter, RedisRateLimiter]> {
  const prefix = `rl${++n}:`;
  return [new RedisRateLimiter(await connect(prefix)), new RedisRateLimiter(await connect(prefix))];
}

let warn: jest.SpiedFunction<Logger['warn']>;
let log: jest.SpiedFunction<Logger['log']>;

beforeAll(async () => {
  redis = await startRedis();
});

beforeEach(() => {
  warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});

afterEach(async () => {
  jest.restoreAllMocks();
  if (!redis.running) await redis.start();
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await redis?.close();
});

describe('RedisRateLimiter', () => {
  it('one limit across replicas: `limit` hits in a window whichever replica counts them, then Retry-After from the oldest', async () => {
    const [a, b] = await pair();
    expect(await a.hit('k', 3, T0)).toEqual({ allowed: true, retryAfterSec: 0 });
    expect(await b.hit('k', 3, T0 + 10_000)).toEqual({ allowed: true, retryAfterSec: 0 });
    expect(await a.hit('k', 3, T0 + 20_000)).toEqual({ allowed: true, retryAfterSec: 0 });
    expect(await b.hit('k', 3, T0 + 30_000)).toEqual({ allowed: false, retryAfterSec: 30 });
    expect(await a.hit('k', 3, T0 + 30_500)).toEqual({ allowed: false, retryAfterSec: 30 });
    // Sliding: the first hit leaves the window exactly a minute later.
    expect((await b.hit('k', 3, T0 + RATE_WINDOW_MS - 1)).allowed).toBe(false);
    expect((await a.hit('k', 3, T0 + RATE_WINDOW_MS)).allowed).toBe(true);
    expect(await b.hit('k', 3, T0 + RATE_WINDOW_MS + 1)).toEqual({ allowed: false, retryAfterSec: 10 });
  });

  it('does not count refused hits, keeps keys apart, and honours a lowered limit', async () => {
    const [a, b] = await pair();
    expect((await a.hit('x', 2, T0)).allowed).toBe(true);
    expect((await b.hit('x', 2, T0 + 1)).allowed).toBe(true);
    for (let i = 0; i < 20; i++) expect((await (i % 2 ? a : b).hit('x', 2, T0 + 1000 + i)).allowed).toBe(false);
    expect((await a.hit('y', 2, T0 + 2000)).allowed).toBe(true);
    expect((await b.hit('x', 2, T0 + RATE_WINDOW_MS + 1)).allowed).toBe(true);
    // Two counted now (T0 + 1 and the last); with the limit lowered to 1 both must expire.
    expect(await a.hit('x', 1, T0 + RATE_WINDOW_MS + 2)).toEqual({ allowed: false, retryAfterSec: 60 });
    expect((await a.hit('z', 0, T0)).allowed).toBe(false);
  });

  it('holds under concurrency: exactly `limit` of many simultaneous hits from two replicas pass', async () => {
    const [a, b] = await pair();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).hit('c', 7, T0 + i)));
    expect(results.filter((r) => r.allowed)).toHaveLength(7);
  });

  it('fails open when Redis is gone: answers at once, limits per replica meanwhile, and shares again once Redis is back', async () => {
    const [a, b] = await pair();
    await redis.stop();
    const t = Date.now();
    const during = [];
    for (let i = 0; i < 4; i++) during.push(await a.hit('k', 3, T0 + i));
    expect(Date.now() - t).toBeLessThan(1000);
    // Per replica: the in-memory fallback still refuses the fourth.
    expect(during.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect((await b.hit('k', 3, T0 + 10)).allowed).toBe(true);
    // Said once per limiter and outage, not once per request.
    const degraded = warn.mock.calls.filter(([m]) => String(m).includes('limiting per replica'));
    expect(degraded).toHaveLength(2);

    await redis.start();
    const deadline = Date.now() + 8000;
    while (
      !(await connections
        .at(-1)!
        .client.ping()
        .then(
          () => true,
          () => false,
        ))
    ) {
      if (Date.now() > deadline) throw new Error('no reconnect');
      await new Promise((r) => setTimeout(r, 50));
    }
    while (!connections.at(-2)!.ready) await new Promise((r) => setTimeout(r, 50));
    // Shared again: the fresh Redis counts from zero, across both replicas.
    const later = T0 + 5 * RATE_WINDOW_MS;
    expect((await a.hit('k', 2, later)).allowed).toBe(true);
    expect((await b.hit('k', 2, later + 1)).allowed).toBe(true);
    expect((await a.hit('k', 2, later + 2)).allowed).toBe(false);
    expect(log.mock.calls.filter(([m]) => String(m).includes('shared through Redis again'))).toHaveLength(2);
  }, 20_000);

  it('a Redis that does not answer costs at most the timeout', async () => {
    const c = await connect(`rl${++n}:`);
    const limiter = new RedisRateLimiter(c, 200);
    const pid = Number(/process_id:(\d+)/.exec(await redis.client().info('server'))![1]);
    process.kill(pid, 'SIGSTOP');
    try {
      const t = Date.now();
      expect((await limiter.hit('k', 5, T0)).allowed).toBe(true);
      expect(Date.now() - t).toBeLessThan(600);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
