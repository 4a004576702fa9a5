/**
 * Hostile input against what the gateway keeps: client-chosen model names must not grow
 * /metrics, the request log or the SQLite file, and a bad DATA_DIR or an unreachable store must
 * be a clear error (one line naming the path and the fix at startup, 503 on admin calls),
 * never a raw stack or a 500.
 *
 * The read-only and full volumes are tmpfs mounts (the tests run as root, for whom chmod does
 * not make a directory read-only).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestLogPage } from '#contracts';
import { SQLITE_FILE_NAME } from '../../../apps/api/src/storage/storage.module.ts';
import { startEmulator, type Emulator } from '../../emulators/emulator.ts';
import { adminHeaders } from '../../support/admin.ts';
import { runGatewayToExit, startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.ts';
import { emulatorEnv, postJson, startGateway, type Gateway } from '../../support/gateway.ts';
import { startRedis, type RedisServer } from '../../support/redis.ts';

const MB = 1024 * 1024;

let emu: Emulator;
let root: string;
const mounts: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  root = mkdtempSync(join(tmpdir(), 'g4f-hostile-storage-'));
});

afterAll(async () => {
  for (const dir of mounts.reverse()) spawnSync('umount', ['-l', dir]);
  rmSync(root, { recursive: true, force: true });
  await emu?.close();
});

/** A fresh tmpfs of `size` (e.g. "256k"), read-only with `ro`; unmounted in afterAll. */
function tmpfs(size: string, ro = false): string {
  const dir = mkdtempSync(join(root, 'mnt-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${ro ? ',ro' : ''}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`these tests mount a tmpfs (as root) to get a read-only or full volume: ${r.stderr}`);
  mounts.push(dir);
  return dir;
}

/** Fills the volume holding `dir` up to its last block. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024);
  writeFileSync(file, '');
  for (let i = 0; i < 10_000; i++) {
    try {
      writeFileSync(file, chunk, { flag: 'a' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return file;
      throw err;
    }
  }
  throw new Error(`${dir} did not fill up`);
}

function dataFilesSize(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.startsWith(SQLITE_FILE_NAME))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** The one "Storage error: …" line, after checking that nothing else looks like a stack. */
function storageErrorLine(output: string): string {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/\[cause\]|node:internal/);
  const lines = output.split('\n').filter((l) => l.startsWith('Storage error: '));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** The resident memory of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

describe('1 MB model names against the built gateway', () => {
  const COUNT = 30;
  let gw: GatewayProcess;
  let dataDir: string;
  let admin: Record<string, string>;
  const huge = (i: number) => `${String(i).padStart(2, '0')}-${'z'.repeat(MB)}`;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(root, 'data-'));
    gw = await startGatewayProcess({ ...emulatorEnv(emu), DATA_DIR: dataDir });
    admin = await adminHeaders(gw as unknown as Gateway);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('are answered 404, and leave /metrics, /api/logs, the SQLite file and the memory small', async () => {
    const rss0 = rssBytes(gw.child.pid!);
    for (let i = 0; i < COUNT; i++) {
      const res = await postJson(`${gw.baseURL}/chat/completions`, { model: huge(i), messages: [{ role: 'user', content: 'hi' }] });
      const text = await res.text();
      // The answer names the model, but does not echo a megabyte back.
      expect(text.length).toBeLessThan(8 * 1024);
      const body = JSON.parse(text) as { error: { code: string; type: string; message: string } };
      expect(body.error.message).toMatch(new RegExp(`^The model \`${String(i).padStart(2, '0')}-zzzz`));
      expect({ status: res.status, code: body.error.code, type: body.error.type }).toEqual({
        status: 404,
        code: 'model_not_found',
        type: 'invalid_request_error',
      });
    }
    // A known model in another case is counted under its catalog id.
    const known = await postJson(`${gw.baseURL}/chat/completions`, { model: 'LLAMA-3.3-70B', messages: [{ role: 'user', content: 'hi' }] });
    expect(known.status).toBe(200);
    await known.text();

    const logsRes = await fetch(`${gw.url}/api/logs?pageSize=100`, { headers: admin });
    expect(logsRes.status).toBe(200);
    const logsText = await logsRes.text();
    // Was 60 MB: now at most ~200 characters of model and 2,000 of error per entry.
    expect(logsText.length).toBeLessThan(256 * 1024);
    const logs = JSON.parse(logsText) as RequestLogPage;
    expect(logs.total).toBe(COUNT + 1);
    const unknown = logs.items.filter((e) => e.status === 404);
    expect(unknown).toHaveLength(COUNT);
    for (const e of unknown) {
      // Still logged, recognisably, but cut short.
      expect(e.model).toMatch(/^\d\d-zzzz/);
      expect(e.model.length).toBeLessThanOrEqual(200);
      expect((e.error ?? '').length).toBeLessThanOrEqual(2000);
    }

    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics.length).toBeLessThan(256 * 1024);
    expect(metrics).not.toContain('zzzz');
    expect(metrics).toMatch(new RegExp(`^g4f_requests_total\\{endpoint="chat",model="unknown",status_class="4xx"\\} ${COUNT}$`, 'm'));
    expect(metrics).toMatch(/^g4f_requests_total\{endpoint="chat",model="llama-3.3-70b",status_class="2xx"\} 1$/m);

    const stats = (await (await fetch(`${gw.url}/api/stats?range=1h`, { headers: admin })).json()) as { models: Array<{ value: string; requests: number }> };
    expect(stats.models.map((m) => [m.value, m.requests]).sort()).toEqual([
      ['llama-3.3-70b', 1],
      ['unknown', COUNT],
    ]);

    // The request log page above flushed everything: 30 MB of names became a few kilobytes.
    expect(dataFilesSize(dataDir)).toBeLessThan(2 * MB);
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
    // It once grew by ~380 MB here; what is left is garbage the next collection takes.
    expect(rssBytes(gw.child.pid!) - rss0).toBeLessThan(150 * MB);
  });
});

describe('a bad DATA_DIR stops the built gateway with one line naming the path and the fix', () => {
  it('a file instead of a directory', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    const { code, output } = await runGatewayToExit({ DATA_DIR: file });
    expect(code).toBe(1);
    expect(storageErrorLine(output)).toBe(`Storage error: ${file} is not a directory: point DATA_DIR at a directory (or move the file away)`);
  });

  it('a corrupt database file', async () => {
    const dir = mkdtempSync(join(root, 'corrupt-'));
    const file = join(dir, SQLITE_FILE_NAME);
    writeFileSync(file, Buffer.alloc(64 * 1024, 'not a database '));
    const { code, output } = await runGatewayToExit({ DATA_DIR: dir });
    expect(code).toBe(1);
    expect(storageErrorLine(output)).toMatch(
      new RegExp(`^Storage error: ${file} is not a usable SQLite database .*restore it from a backup, or move it .* aside`),
    );
  });

  it('a read-only volume', async () => {
    const dir = tmpfs('1m', true);
    const { code, output } = await runGatewayToExit({ DATA_DIR: dir });
    expect(code).toBe(1);
    expect(storageErrorLine(output)).toBe(
      `Storage error: ${dir} is on a read-only file system: make DATA_DIR a writable directory (check the volume, its mount options and its owner)`,
    );
  });

  it('a full volume', async () => {
    const dir = tmpfs('256k');
    fill(dir);
    const { code, output } = await runGatewayToExit({ DATA_DIR: dir });
    expect(code).toBe(1);
    expect(storageErrorLine(output)).toMatch(
      new RegExp(`^Storage error: no space left to write ${dir}/.*: free space on that volume or point DATA_DIR at a larger one$`),
    );
  });
});

describe('a store that cannot take writes at runtime', () => {
  it('/health/ready and /health report it as degraded (still 200: /v1 keeps serving), and recover with the space', async () => {
    const dir = tmpfs('16m');
    mkdirSync(join(dir, 'data'));
    const gw = await startGateway(emu, { DATA_DIR: join(dir, 'data') });
    try {
      type Ready = { status: string; details: Record<string, { status: string; writable?: boolean; message?: string }> };
      const before = (await (await fetch(`${gw.url}/health/ready`)).json()) as Ready;
      expect(before.status).toBe('ok');
      expect(before.details.storage).toMatchObject({ status: 'up', writable: true });

      const filler = fill(dir);
      expect(Number(statfsSync(dir).bavail)).toBe(0);
      const res = await fetch(`${gw.url}/health/ready`);
      expect(res.status).toBe(200);
      const during = (await res.json()) as Ready;
      expect(during.status).toBe('degraded');
      expect(during.details.storage).toMatchObject({ status: 'degraded', writable: false });
      expect(during.details.storage!.message).toMatch(/cannot take writes/);
      const overall = await fetch(`${gw.url}/health`);
      expect(overall.status).toBe(200);
      expect(((await overall.json()) as Ready).details.storage).toMatchObject({ status: 'degraded', writable: false });
      const chat = await postJson(`${gw.baseURL}/chat/completions`, { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] });
      expect(chat.status).toBe(200);
      await chat.text();

      rmSync(filler);
      const after = (await (await fetch(`${gw.url}/health/ready`)).json()) as Ready;
      expect(after.status).toBe('ok');
    } finally {
      await gw.close();
    }
  });
});

describe('Redis mode: an outage', () => {
  let redis: RedisServer;
  let gw: Gateway;

  beforeAll(async () => {
    redis = await startRedis();
    gw = await startGateway(emu, { REDIS_URL: redis.url, SECRET_KEY: 'hostile-storage-secret', REDIS_KEY_PREFIX: 'hostile:' });
  });
  afterAll(async () => {
    await gw?.close();
    await redis?.close();
  });

  it('admin calls answer 503 in the OpenAI envelope, not 500; they work again once Redis is back', async () => {
    const admin = await adminHeaders(gw);
    expect((await fetch(`${gw.url}/api/stats?range=1h`, { headers: admin })).status).toBe(200);
    await redis.stop({ keepData: true });
    for (const [path, init] of [
      ['/api/stats?range=1h', {}],
      ['/api/logs', {}],
      ['/api/keys', { method: 'POST', body: JSON.stringify({ name: 'during the outage' }) }],
    ] as const) {
      // Fails fast rather than hanging on the dead Redis; a timer cleared at once, so nothing outlives the test.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 8000);
      const res = await fetch(`${gw.url}${path}`, { headers: admin, signal: abort.signal, ...init }).finally(() => clearTimeout(timer));
      const body = (await res.json()) as { error: { message: string; type: string; param: unknown; code: string } };
      expect({ path, status: res.status, code: body.error.code, type: body.error.type }).toEqual({
        path,
        status: 503,
        code: 'storage_unavailable',
        type: 'server_error',
      });
      expect(body.error.message).toMatch(/Redis.*unreachable/);
      expect(res.headers.get('retry-after')).toBe('5');
    }
    await redis.start();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await fetch(`${gw.url}/api/stats?range=1h`, { headers: admin })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
  });
});
