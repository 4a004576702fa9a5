// The emulator upstream and the gateway, each in its own process, so that neither shares an
// event loop with the load generator (nor with each other).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFilesLimit } from './proc.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = join(ROOT, 'bench/out');
const SNAPSHOT_DIR = join(OUT_DIR, 'app');
const EMULATOR_CLI = join(ROOT, 'test/emulators/cli.ts');

/** Open files every benchmark process may need: 2,000 streams are 2,000 sockets on each side of the gateway. */
export const WANTED_OPEN_FILES = 65_536;

export interface Child {
  pid: number;
  url: string;
  child: ChildProcess;
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `ms`. */
  stop(ms?: number): Promise<number | string>;
}

/** The soft open-files limit to give children: what we want, as far as the hard limit allows. */
export function childOpenFiles(): number {
  const limit = openFilesLimit();
  if (!limit) return WANTED_OPEN_FILES;
  return Math.min(WANTED_OPEN_FILES, limit.hard);
}

/** Runs `node …args` with its soft open-files limit raised (through bash's ulimit, then exec). */
function spawnNode(args: string[], env: NodeJS.ProcessEnv, stdio: ['ignore', 'pipe' | number, 'pipe' | number]): ChildProcess {
  const files = childOpenFiles();
  return spawn('bash', ['-c', `ulimit -n ${files} 2>/dev/null || true; exec "$@"`, 'bench-child', process.execPath, ...args], { env, stdio, cwd: ROOT });
}

function exitOf(child: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

function stopper(child: ChildProcess, exited: Promise<number | string>): (ms?: number) => Promise<number | string> {
  let gone = false;
  void exited.then(() => (gone = true));
  return async (ms = 10_000) => {
    if (gone) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };
}

export interface EmulatorStart {
  chunks: number;
}

/** The in-repo provider emulator in zero-latency mode (test/emulators/cli.ts), on a port the OS picks. */
export function startEmulatorProcess({ chunks }: EmulatorStart): Promise<Child> {
  // A short request log: the upstream's heap stays flat over millions of requests (see the emulator's DEFAULT_RECORD_LIMIT).
  return startListeningProcess('emulator', [EMULATOR_CLI, '--port', '0', '--zero-latency', '--chunks', String(chunks), '--record-limit', '1000']);
}

/**
 * A server script (`node <args>`) that prints "listening on <url>" once it accepts connections
 * (the emulator, bench/minimal-upstream.ts, bench/bare-hop.ts), on a port of its own choosing.
 */
export async function startListeningProcess(name: string, args: string[]): Promise<Child> {
  const child = spawnNode(args, { PATH: process.env.PATH, HOME: process.env.HOME }, ['ignore', 'pipe', 'pipe']);
  const exited = exitOf(child);
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s:\n${out}`)), 15_000);
    const onData = (d: Buffer): void => {
      // Only the start-up lines are kept: a bounded buffer however chatty the child is.
      if (out.length < 8192) out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      if (out.length < 8192) out += d.toString();
    });
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${out}`)));
  });
  return { pid: child.pid!, url, child, exited, stop: stopper(child, exited) };
}

/** POST to the emulator's control API (pacing, reset). */
export async function controlEmulator(emulatorUrl: string, action: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${emulatorUrl}/__emulator/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`emulator control ${action} answered ${res.status}: ${await res.text()}`);
}

/** Every file under `dir` with its size and mtime: equal manifests mean nothing changed in between. */
function manifest(dir: string): { text: string; newestMs: number } {
  let newestMs = 0;
  const lines: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const st = statSync(file);
    newestMs = Math.max(newestMs, st.mtimeMs);
    lines.push(`${file} ${st.size} ${st.mtimeMs}`);
  }
  return { text: lines.sort().join('\n'), newestMs };
}

/**
 * The copy's package.json: module type and "imports" (#contracts) only. No "name", so Jest's module
 * map sees no second gpt4free-pool, and code looking for the package's own package.json walks on
 * up to the repo's.
 */
function snapshotPackageJson(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { type?: string; imports?: unknown };
  return `${JSON.stringify({ private: true, type: pkg.type, imports: pkg.imports }, null, 2)}\n`;
}

/**
 * Copies the built gateway (dist/, catalog/, the "imports" of package.json) to bench/out/app and
 * returns its entry point. Other people rebuild dist/ (`nest build` deletes it first) while a
 * benchmark runs; the copy keeps every gateway of one run on one whole build. It is taken only
 * when dist/ has been quiet for a few seconds and did not change during the copy. Packages still
 * resolve from the repo's node_modules.
 */
export async function snapshotGateway(timeoutMs = 180_000): Promise<string> {
  const dist = join(ROOT, 'dist');
  const main = join(dist, 'apps/api/src/main.js');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(main)) {
      try {
        const before = manifest(dist);
        if (Date.now() - before.newestMs > 3000) {
          rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
          for (const part of ['dist', 'catalog']) cpSync(join(ROOT, part), join(SNAPSHOT_DIR, part), { recursive: true });
          writeFileSync(join(SNAPSHOT_DIR, 'package.json'), snapshotPackageJson());
          if (manifest(dist).text === before.text && existsSync(main)) return join(SNAPSHOT_DIR, 'dist/apps/api/src/main.js');
        }
      } catch {
        // dist/ changed under us (a file vanished mid-copy): try again
      }
    }
    if (Date.now() > deadline) throw new Error('dist/ did not hold still long enough to copy (is a build running?); run `npm run build` and try again');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface GatewayStart {
  /** Entry point, from snapshotGateway(). */
  main: string;
  env: Record<string, string>;
  port: number;
  /** Appended to (and truncating) this file: the gateway's stdout and stderr. */
  logFile: string;
  /** Extra node options before the entry point, e.g. ['--import', 'bench/cpu-profiler.ts']. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

/** The built gateway (dist/, as `npm start` runs it), waiting until /health/ready answers 200. */
export async function startGatewayProcess(start: GatewayStart): Promise<Child> {
  const fd = openSync(start.logFile, 'w');
  const child = spawnNode(
    [...(start.nodeArgs ?? []), start.main],
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-bench-')),
      ...start.env,
      PORT: String(start.port),
      HOST: '127.0.0.1',
    },
    ['ignore', fd, fd],
  );
  closeSync(fd);
  const exited = exitOf(child);
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${start.port}`;
  const deadline = Date.now() + (start.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (gone) throw new Error(`gateway exited (${await exited}) before it was ready; see ${start.logFile}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway not ready in time; see ${start.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, url, child, exited, stop: stopper(child, exited) };
}

/** A free loopback port (the OS picks one; it is released before the gateway binds it). */
export { freePort, startNodeArgs } from '../test/support/gateway-process.ts';

export interface PolledStart {
  name: string;
  /** node options and script with its arguments. */
  args: string[];
  env: Record<string, string>;
  /** The child's stdout and stderr go here (truncated first). */
  logFile: string;
  /** Answers 200 once the server is ready. */
  readyUrl: string;
  readyTimeoutMs?: number;
}

/** A third-party server (`node <args>`), ready once GET readyUrl answers 200. */
export async function startPolledProcess(start: PolledStart): Promise<Child> {
  const fd = openSync(start.logFile, 'w');
  const child = spawnNode(start.args, { PATH: process.env.PATH, HOME: process.env.HOME, ...start.env }, ['ignore', fd, fd]);
  closeSync(fd);
  const exited = exitOf(child);
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + (start.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (gone) throw new Error(`${start.name} exited (${await exited}) before it was ready; see ${start.logFile}`);
    try {
      if ((await fetch(start.readyUrl)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${start.name} not ready in time; see ${start.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, url: new URL(start.readyUrl).origin, child, exited, stop: stopper(child, exited) };
}
