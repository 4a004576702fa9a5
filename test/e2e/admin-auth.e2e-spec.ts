import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectSchema } from '../support/openapi.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { CapturingLogger } from '../support/capturing-logger.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

interface ErrorBody {
  error: { code: string; param: string | null };
}

const login = (gw: Gateway, password: string) => postJson(`${gw.url}/api/auth/login`, { password });
const session = (gw: Gateway, token?: string) => fetch(`${gw.url}/api/auth/session`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('admin auth with ADMIN_PASSWORD', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway(null, { ADMIN_PASSWORD: 's3cret pass' });
  });
  afterAll(() => gw.close());

  it('a wrong password is a 401 in the OpenAI envelope; the right one gives an expiring token', async () => {
    const wrong = await login(gw, 'nope');
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as ErrorBody;
    expectSchema('ErrorResponse', body);
    expect(body.error.code).toBe('invalid_admin_password');

    const before = Date.now();
    const ok = await login(gw, 's3cret pass');
    expect(ok.status).toBe(200);
    const { token, expiresAt } = (await ok.json()) as { token: string; expiresAt: number };
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 24 * 3_600_000 - 1000);
    expect((await session(gw, token)).status).toBe(200);
  });

  it('admin endpoints refuse a missing or made-up token with 401', async () => {
    for (const res of [await session(gw), await session(gw, 'made-up-token')]) {
      expect(res.status).toBe(401);
      const body = (await res.json()) as ErrorBody;
      expectSchema('ErrorResponse', body);
      expect(['admin_auth_required', 'admin_session_expired']).toContain(body.error.code);
    }
  });

  it('logout ends the session', async () => {
    const { token } = (await (await login(gw, 's3cret pass')).json()) as { token: string };
    const out = await fetch(`${gw.url}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(out.status).toBe(204);
    expect((await session(gw, token)).status).toBe(401);
  });

  it('bad login bodies are 400s naming the param', async () => {
    const res = await postJson(`${gw.url}/api/auth/login`, { password: 42 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.param).toBe('password');
  });

  it('/health stays public', async () => {
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('throttles repeated wrong passwords with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login(gw, `wrong-${i}`)).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    const blocked = await login(gw, 's3cret pass');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('admin auth without ADMIN_PASSWORD', () => {
  it('generates a password at first start, prints it once, keeps only its hash, and sessions survive a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-admin-'));
    const firstLog = new CapturingLogger();
    const first = await startGateway(null, { ADMIN_PASSWORD: '', DATA_DIR: dataDir }, { logger: firstLog });
    const line = firstLog.lines.find((l) => l.includes('generated the admin password'));
    const password = /"([^"]+)"/.exec(line ?? '')?.[1];
    expect(password).toBeDefined();
    const { token } = (await (await login(first, password!)).json()) as { token: string };
    await first.close();

    const secondLog = new CapturingLogger();
    const second = await startGateway(null, { ADMIN_PASSWORD: '', DATA_DIR: dataDir }, { logger: secondLog });
    try {
      expect(secondLog.lines.some((l) => l.includes('generated the admin password'))).toBe(false);
      expect(secondLog.lines.join('\n')).not.toContain(password!);
      expect((await session(second, token)).status).toBe(200);
      expect((await login(second, password!)).status).toBe(200);
      expect((await login(second, 'admin-test-password')).status).toBe(401);
    } finally {
      await second.close();
    }
  });

  it('replicas starting together on a fresh Redis agree on one generated password, printed by the one that made it', async () => {
    const redis = await startRedis();
    const logs = [new CapturingLogger(), new CapturingLogger(), new CapturingLogger()];
    const env = { ADMIN_PASSWORD: '', REDIS_URL: redis.url, SECRET_KEY: 'k'.repeat(64) };
    const started = await Promise.allSettled(
      logs.map((logger) => startGateway(null, { ...env, DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-admin-')) }, { logger })),
    );
    const replicas = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(replicas).toHaveLength(3);
      // Nest's logger is process-wide, so the three replicas' lines may land in any of the loggers.
      const lines = logs.flatMap((log) => log.lines);
      const passwords = lines.flatMap((l) => /generated the admin password "([^"]+)"/.exec(l)?.[1] ?? []);
      expect(passwords).toHaveLength(1);
      for (const gw of replicas) expect((await login(gw, passwords[0]!)).status).toBe(200);
    } finally {
      await Promise.all(replicas.map((gw) => gw.close()));
      await redis.stop();
    }
  });
});

describe('login throttle in cluster mode', () => {
  let redis: RedisServer;
  let replicas: Gateway[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    const env = { ADMIN_PASSWORD: 's3cret pass', REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'login-e2e:', SECRET_KEY: 'k'.repeat(64) };
    replicas = [await startGateway(null, env), await startGateway(null, env)];
  }, 30_000);
  afterAll(async () => {
    for (const gw of replicas) await gw.close();
    await redis?.close();
  });

  it('an address gets its ten attempts a minute from all replicas together, not from each', async () => {
    const [a, b] = replicas as [Gateway, Gateway];
    const statuses: number[] = [];
    // Alternating replicas: each sees only five of the ten.
    for (let i = 0; i < 10; i++) statuses.push((await login(i % 2 ? b : a, `wrong-${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    for (const gw of [a, b]) {
      const blocked = await login(gw, 's3cret pass');
      expect(blocked.status).toBe(429);
      const body = (await blocked.json()) as ErrorBody;
      expectSchema('ErrorResponse', body);
      expect(body.error.code).toBe('too_many_logins');
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The counters live in Redis and leave with their window.
    const ttl = await redis.client().pttl('login-e2e:login:client:127.0.0.1');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a success on one replica starts the address over on every replica', async () => {
    const [a, b] = replicas as [Gateway, Gateway];
    // A fresh start: the last test's address window and the account's failures in a row (its backoff).
    await redis.client().del('login-e2e:login:client:127.0.0.1', 'login-e2e:login:account');
    for (let i = 0; i < 9; i++) expect((await login(i % 2 ? b : a, `wrong-${i}`)).status).toBe(401);
    expect((await login(a, 's3cret pass')).status).toBe(200);
    // Nine more on B: allowed, since A's success cleared the count in Redis.
    for (let i = 0; i < 9; i++) expect((await login(b, `wrong-again-${i}`)).status).toBe(401);
  });
});
