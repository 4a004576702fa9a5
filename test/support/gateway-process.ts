import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../dist/apps/api/src/main.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };

/**
 * The node options of `npm start` ("node [options…] dist/apps/api/src/main.js" in package.json),
 * so that tests and benchmarks run the gateway as users do.
 */
export function startNodeArgs(): string[] {
  return pkg.scripts.start.trim().split(/\s+/).slice(1, -1);
}

export interface GatewayProcess {
  url: string;
  baseURL: string;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends a signal; SIGKILL simulates a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it has not exited within `ms`. */
  stop(ms?: number): Promise<number | string>;
}

/** A free loopback port (the OS picks one; it is released before the gateway binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** What the gateway prints when PORT is taken (apps/api/src/common/port-check.ts). */
const PORT_TAKEN = /^Port \d+ is already in use/m;

export interface StartOptions {
  readyTimeoutMs?: number;
  /** More Node options, after those of `npm start` (for a V8 flag, the later one wins). */
  nodeArgs?: string[];
}

/**
 * Runs the built gateway (dist/, built by the Jest global setup) as a child process, the way
 * `npm start` does, and waits until /health/ready answers 200. The free port is released before
 * the gateway binds it; when another process (a parallel test) took it in between, the gateway
 * gives up at once, and is started again on another.
 */
export async function startGatewayProcess(env: Record<string, string>, options: StartOptions = {}): Promise<GatewayProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, options);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortTaken)) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(env: Record<string, string>, { readyTimeoutMs = 60_000, nodeArgs = [] }: StartOptions = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...startNodeArgs(), ...nodeArgs, main], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-proc-')),
      ADMIN_PASSWORD: 'admin-test-password',
      HEALTH_CHECK_INTERVAL: '0',
      DISCOVERY_INTERVAL_MINUTES: '0',
      // The emulators' image URLs are on loopback, which media fetches refuse unless allowed.
      MEDIA_FETCH_ALLOW_HOSTS: '127.0.0.1',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new (PORT_TAKEN.test(out) ? PortTaken : Error)(`gateway exited before it was ready:\n${out}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway not ready within ${readyTimeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    baseURL: `${url}/v1`,
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    async stop(ms = 10_000) {
      if (gone) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/**
 * Runs the built gateway when it is expected to give up (a bad configuration or data directory, a
 * busy PORT): resolves with its exit code (or signal) and everything it printed; killed after
 * `timeoutMs`. A free port unless `env` names one.
 */
export async function runGatewayToExit(env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | string; output: string }> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, [...startNodeArgs(), main], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ADMIN_PASSWORD: 'admin-test-password',
      HEALTH_CHECK_INTERVAL: '0',
      DISCOVERY_INTERVAL_MINUTES: '0',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | string>((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal ?? -1)));
  clearTimeout(timer);
  return { code, output };
}
