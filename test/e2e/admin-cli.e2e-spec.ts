/**
 * `npm run admin -- reset-password`: the way back into the console when the generated admin
 * password is lost, against the built gateway's own data directory, while it runs and while it is
 * stopped.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `npm run admin -- <args>` as an operator would, with only the variables given (and PATH, HOME). */
function runAdmin(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'admin', '--', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const login = (gw: GatewayProcess, password: string) =>
  fetch(`${gw.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password }) });

async function token(gw: GatewayProcess, password: string): Promise<string> {
  const res = await login(gw, password);
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

const session = (gw: GatewayProcess, bearer: string) => fetch(`${gw.url}/api/auth/session`, { headers: { authorization: `Bearer ${bearer}` } });

/** The generated password the command printed. */
const printed = (stdout: string) => /now "([^"]+)" \(shown only this once\)/.exec(stdout)?.[1];

describe('npm run admin -- reset-password (embedded SQLite store)', () => {
  it('resets the password of a running gateway: the new one logs in; the old one and its sessions no longer do; it works while stopped too', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-admin-cli-'));
    const env = { DATA_DIR: dataDir, ADMIN_PASSWORD: '' };
    let gw = await startGatewayProcess(env);
    try {
      const first = /generated the admin password "([^"]+)"/.exec(gw.output())?.[1];
      expect(first).toBeDefined();
      const oldSession = await token(gw, first!);
      expect((await session(gw, oldSession)).status).toBe(200);

      const reset = await runAdmin(['reset-password'], { DATA_DIR: dataDir });
      expect([reset.code, reset.stderr]).toEqual([0, '']);
      expect(reset.stdout).toContain('1 admin session(s) logged out');
      const second = printed(reset.stdout)!;
      expect(second).toMatch(/^[\w-]{16}$/);
      expect(second).not.toBe(first);

      expect((await login(gw, first!)).status).toBe(401);
      await token(gw, second);
      // The running service reads a session again within a second of verifying it from memory.
      const deadline = Date.now() + 5000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        status = (await session(gw, oldSession)).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(401);

      // A password of one's own is taken and not echoed.
      const chosen = await runAdmin(['reset-password', '--password', 'correct horse battery'], { DATA_DIR: dataDir });
      expect(chosen.code).toBe(0);
      expect(chosen.stdout).toContain('set to the one given');
      expect(chosen.stdout).not.toContain('correct horse battery');
      await token(gw, 'correct horse battery');
      expect((await login(gw, second)).status).toBe(401);
      expect(await gw.stop()).toBe(0);

      // With the service stopped: the next start takes the new password and generates none.
      const offline = await runAdmin(['reset-password'], { DATA_DIR: dataDir });
      expect(offline.code).toBe(0);
      const third = printed(offline.stdout)!;
      gw = await startGatewayProcess(env);
      expect(gw.output()).not.toContain('generated the admin password');
      await token(gw, third);
      expect((await login(gw, 'correct horse battery')).status).toBe(401);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('refuses while ADMIN_PASSWORD is set (it would win), and answers bad usage with the usage, writing nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-admin-cli-'));
    const withEnv = await runAdmin(['reset-password'], { DATA_DIR: dataDir, ADMIN_PASSWORD: 'from-the-env' });
    expect(withEnv.code).toBe(1);
    expect(withEnv.stderr.trim().split('\n')).toHaveLength(1);
    expect(withEnv.stderr).toContain('ADMIN_PASSWORD is set');

    const unknown = await runAdmin(['reset'], { DATA_DIR: dataDir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "reset"');
    expect(unknown.stderr).toContain('Usage: npm run admin -- reset-password');

    const short = await runAdmin(['reset-password', '--password', 'short'], { DATA_DIR: dataDir });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/8 to 1024 characters/);

    expect(readdirSync(dataDir)).toEqual([]);
  }, 30_000);
});

describe('npm run admin -- reset-password (cluster mode, Redis)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.close());

  it('resets the password every replica uses, in the Redis of REDIS_URL', async () => {
    const env = { REDIS_URL: redis.url, SECRET_KEY: 'cluster-secret-key-for-tests', REDIS_KEY_PREFIX: 'cli-test:' };
    const gw = await startGatewayProcess({ ...env, ADMIN_PASSWORD: '' });
    try {
      const first = /generated the admin password "([^"]+)"/.exec(gw.output())?.[1];
      const oldSession = await token(gw, first!);
      const reset = await runAdmin(['reset-password'], env);
      expect([reset.code, reset.stderr]).toEqual([0, '']);
      expect(reset.stdout).toContain('Admin password reset in Redis (REDIS_URL)');
      expect((await login(gw, first!)).status).toBe(401);
      await token(gw, printed(reset.stdout)!);
      expect((await session(gw, oldSession)).status).toBe(401);
    } finally {
      await gw.stop();
    }
  }, 40_000);
});
