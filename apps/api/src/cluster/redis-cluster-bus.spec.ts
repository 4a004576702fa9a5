import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { firstValueFrom, take, toArray, timeout } from 'rxjs';
import { startRedis, type RedisServer } from '../../../../test/support/redis.ts';
import { RedisClusterBus } from './redis-cluster-bus.ts';
import { RedisConnection } from '../storage/redis/redis-connection.ts';

let redis: RedisServer;
let n = 0;
const connections: RedisConnection[] = [];

async function bus(prefix: string): Promise<{ bus: RedisClusterBus; connection: RedisConnection }> {
  const connection = new RedisConnection({ url: redis.url, prefix, startupTimeoutMs: 3000 });
  await connection.open();
  connections.push(connection);
  return { bus: new RedisClusterBus(connection), connection };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  redis = await startRedis();
});

beforeEach(() => {
  for (const level of ['log', 'warn', 'error'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
});

afterEach(() => jest.restoreAllMocks());

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await redis?.close();
});

describe('RedisClusterBus', () => {
  it('delivers to the other processes, not back to the sender', async () => {
    const prefix = `bus${++n}:`;
    const [a, b] = [await bus(prefix), await bus(prefix)];
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.bus.messages('t').subscribe((m) => seenA.push(m));
    b.bus.messages('t').subscribe((m) => seenB.push(m));
    b.bus.messages('other').subscribe((m) => seenB.push(`other:${m}`));
    await sleep(50);
    await a.bus.publish('t', 'hello');
    await a.bus.publish('t', 'kept', { id: 'x', ms: 5000 });
    await sleep(150);
    expect(seenB).toEqual(['hello', 'kept']);
    expect(seenA).toEqual([]);
  });

  it('hands retained messages to a process that subscribes later, until they expire', async () => {
    const prefix = `bus${++n}:`;
    const a = await bus(prefix);
    await a.bus.publish('t', 'first', { id: 'p1', ms: 5000 });
    await a.bus.publish('t', 'replaced', { id: 'p2', ms: 5000 });
    await a.bus.publish('t', 'newer', { id: 'p2', ms: 5000 });
    await a.bus.publish('t', 'short', { id: 'p3', ms: 100 });
    await sleep(150);
    const late = await bus(prefix);
    const got = await firstValueFrom(late.bus.messages('t').pipe(take(2), toArray(), timeout(2000)));
    expect(got.sort()).toEqual(['first', 'newer']);
    // The expired one was removed from the hash.
    expect(await redis.client().hkeys(`${prefix}bus:t`)).toEqual(expect.not.arrayContaining(['p3']));
    // The publisher itself is not handed its own retained messages.
    const own: string[] = [];
    a.bus.messages('t').subscribe((m) => own.push(m));
    await sleep(150);
    expect(own).toEqual([]);
  });

  it('replays retained messages after its subscriber reconnects (what it may have missed)', async () => {
    const prefix = `bus${++n}:`;
    const a = await bus(prefix);
    const b = await bus(prefix);
    const seen: string[] = [];
    b.bus.messages('t').subscribe((m) => seen.push(m));
    await sleep(50);
    await redis.stop({ keepData: true });
    await redis.start();
    // A reconnects first and publishes while B may not be subscribed again yet.
    const deadline = Date.now() + 8000;
    for (;;) {
      try {
        await a.bus.publish('t', 'during', { id: 'd', ms: 10_000 });
        break;
      } catch {
        if (Date.now() > deadline) throw new Error('A never reconnected');
        await sleep(50);
      }
    }
    while (!seen.includes('during')) {
      if (Date.now() > deadline) throw new Error(`B never got the message; saw ${JSON.stringify(seen)}`);
      await sleep(50);
    }
  }, 20_000);
});
