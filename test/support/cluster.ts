import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from './admin.ts';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { emulatorEnv } from './gateway.ts';
import { startRedis, type RedisServer } from './redis.ts';
import { startSlowLink, type SlowLink } from './slow-link.ts';

/** Gateway processes in cluster mode: one redis-server, one emulator for every upstream. */
export interface Cluster {
  redis: RedisServer;
  emu: Emulator;
  /** The replicas, in start order. */
  replicas: GatewayProcess[];
  /** Admin headers of a session made on the first replica: valid on every one (sessions live in Redis). */
  admin: Record<string, string>;
  /** Stops every replica (one a test killed is skipped), then the emulator and Redis. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** Per replica (by start order): how long what it sends Redis takes to arrive, in ms (see startSlowLink). */
  slowRedisMs?: (number | undefined)[];
}

/**
 * Starts `count` built gateways (dist/, as `npm start` runs them) sharing a throwaway redis-server,
 * with every provider pointed at an in-process zero-latency emulator. `env` adds to emulatorEnv
 * and REDIS_URL; give each suite its own REDIS_KEY_PREFIX and SECRET_KEY.
 * CLUSTER_E2E_LOGS=1 prints what each replica logged on close (for a failure that needs explaining).
 */
export async function startCluster(count: number, env: Record<string, string>, options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedis();
  const emu = await startEmulator({ zeroLatency: true });
  const replicas: GatewayProcess[] = [];
  const links: SlowLink[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(replicas.map((gw) => gw.stop(5000)));
    await Promise.all(links.map((l) => l.close()));
    if (process.env.CLUSTER_E2E_LOGS) for (const gw of replicas) console.log(`--- ${gw.url}\n${gw.output()}`);
    await emu.close();
    await redis.close();
  };
  try {
    const merged = { ...emulatorEnv(emu), REDIS_URL: redis.url, ...env };
    const started = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        const delay = options.slowRedisMs?.[i];
        if (delay === undefined) return startGatewayProcess(merged);
        const link = await startSlowLink(redis.port, delay);
        links.push(link);
        return startGatewayProcess({ ...merged, REDIS_URL: `redis://127.0.0.1:${link.port}` });
      }),
    );
    for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return { redis, emu, replicas, admin: await adminHeaders(replicas[0]!), close };
  } catch (err) {
    await close();
    throw err;
  }
}
