import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './gateway-process.ts';

const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT */
  url: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  /**
   * Kills the server with SIGKILL, like a crash. With `keepData` it shuts down saving a snapshot
   * instead, so that start() brings the data back, as a Redis with persistence would.
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** A client for looking at what the gateway stored (closed by close()). */
  client(): Redis;
  /** Stops the server for good and removes its directory. */
  close(): Promise<void>;
}

/** Every server any test started, killed when the test process exits however it exits. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * A throwaway redis-server (Debian's, /usr/bin/redis-server; REDIS_SERVER overrides) on a free
 * loopback port, without persistence of its own. Call close() in afterAll.
 */
export async function startRedis(): Promise<RedisServer> {
  installExitHook();
  let port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'g4f-redis-'));
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];

  const start = async (): Promise<void> => {
    if (child) return;
    const proc = spawn(
      REDIS_SERVER,
      ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    live.add(proc);
    child = proc;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${out}`)), 10_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        if (child === proc) child = undefined;
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${out}`));
      });
    });
  };

  const stop = async ({ keepData = false } = {}): Promise<void> => {
    const proc = child;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (keepData) {
      // SHUTDOWN SAVE writes the snapshot and exits in one step: no write acknowledged after the
      // snapshot can be lost, as with a Redis that persists every write.
      const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.call('SHUTDOWN', 'SAVE', 'NOW').catch(() => undefined);
      } finally {
        c.disconnect();
      }
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      return;
    }
    proc.kill('SIGKILL');
    await exited;
  };

  // The free port is released before redis-server binds it: another process (a parallel test) may
  // take it in between, and then another port is tried.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/i.test(String(err))) throw err;
      port = await freePort();
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    client() {
      const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
