/**
 * Client API keys (`/api/keys`, the console's "API 密钥" page): created with a secret shown
 * once, stored only hashed, accepted on /v1 next to API_KEY, revoked at once, limited per
 * minute, with usage recorded from the request events, and kept across restarts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientKey, ClientKeyList, CreatedClientKey, RequestLogEntry } from '#contracts';
import { CLIENT_KEY_NS, CLIENT_KEY_REVOKED_NS, secretDigest, type StoredClientKey } from '../../apps/api/src/client-keys/client-keys.service.ts';
import { NO_LIMITS, QUOTAS } from '../../apps/api/src/client-keys/key-limits.ts';
import { PoolEvents } from '../../apps/api/src/events/pool-events.service.ts';
import { STORAGE, type Storage } from '../../apps/api/src/storage/storage.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
}, 30_000);

afterAll(async () => {
  await emu?.close();
});

/** A gateway plus its admin headers and small helpers around /api/keys. */
async function start(env: Record<string, string> = {}) {
  const gw = await startGateway(emu, { API_KEY: '', ...env });
  const admin = await adminHeaders(gw);
  const keysUrl = `${gw.url}/api/keys`;
  return {
    gw,
    admin,
    create: async (body: unknown): Promise<CreatedClientKey> => {
      const res = await fetch(keysUrl, { method: 'POST', headers: admin, body: JSON.stringify(body) });
      const text = await res.text();
      expect({ status: res.status, text }).toEqual({ status: 201, text: expect.any(String) });
      return JSON.parse(text) as CreatedClientKey;
    },
    list: async (): Promise<ClientKey[]> => {
      const res = await fetch(keysUrl, { headers: admin });
      expect(res.status).toBe(200);
      return ((await res.json()) as ClientKeyList).data;
    },
    listText: async (): Promise<string> => (await fetch(keysUrl, { headers: admin })).text(),
    patch: (id: string, body: unknown) => fetch(`${keysUrl}/${id}`, { method: 'PATCH', headers: admin, body: JSON.stringify(body) }),
    revoke: (id: string) => fetch(`${keysUrl}/${id}`, { method: 'DELETE', headers: admin }),
    models: (headers: Record<string, string> = {}) => fetch(`${gw.baseURL}/models`, { headers }),
    chat: (headers: Record<string, string> = {}) => postJson(`${gw.baseURL}/chat/completions`, CHAT, headers),
  };
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: expect.any(String) });
  const body = JSON.parse(text) as ErrorBody;
  expectSchema('ErrorResponse', body);
  expect(body.error.code).toBe(code);
  return body.error;
}

async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('client keys without API_KEY', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start();
  }, 30_000);
  afterAll(() => t.gw.close());

  it('before any key exists /v1 is open; once one exists it needs a key', async () => {
    expect((await t.models()).status).toBe(200);
    expect((await t.list()).length).toBe(0);

    const before = Date.now();
    const created = await t.create({ name: 'laptop' });
    expect(created.secret).toMatch(/^sk-g4f-[A-Za-z0-9_-]{32,}$/);
    expect(created).toEqual({
      id: expect.any(String),
      name: 'laptop',
      // Masks show at most the last 4 characters of a secret; `sk-g4f-` is not secret.
      maskedKey: `sk-g4f-…${created.secret.slice(-4)}`,
      createdAt: expect.any(Number),
      lastUsedAt: null,
      requests: 0,
      tokens: 0,
      // No limit unless one is given.
      ...NO_LIMITS,
      revoked: false,
      revokedAt: null,
      quotaUsage: QUOTAS.map((q) => ({ quota: q.name, limit: null, used: 0, remaining: null, resetsAt: q.period === 'total' ? null : expect.any(Number) })),
      secret: created.secret,
    });
    expect(created.createdAt).toBeGreaterThanOrEqual(before);

    await expectError(await t.models(), 401, 'missing_api_key');
    await expectError(await t.models(bearer('sk-g4f-made-up')), 401, 'invalid_api_key');
    expect((await t.models(bearer(created.secret))).status).toBe(200);
    expect((await t.models({ 'x-api-key': created.secret })).status).toBe(200);
    expect((await t.chat(bearer(created.secret))).status).toBe(200);
  });

  it('the secret is shown once: neither the list nor the key record ever contains it', async () => {
    const created = await t.create({ name: 'shown once', rpmLimit: 100 });
    const listText = await t.listText();
    expect(listText).not.toContain(created.secret);
    expect(listText).not.toContain(created.secret.slice(7, 27));
    const one = await fetch(`${t.gw.url}/api/keys/${created.id}`, { headers: t.admin });
    expect(await one.text()).not.toContain(created.secret.slice(7, 27));
    const listed = (await t.list()).find((k) => k.id === created.id)!;
    expect(listed).toEqual({ ...created, secret: undefined });
    expect(Object.keys(listed)).not.toContain('secret');
    expect(listed.maskedKey).toMatch(/^sk-g4f-…[\w-]{4}$/);
  });

  it('a revoked key is refused at once with 401; other keys keep working; /v1 does not reopen', async () => {
    const a = await t.create({ name: 'to revoke' });
    const b = await t.create({ name: 'stays' });
    expect((await t.chat(bearer(a.secret))).status).toBe(200);

    const revoked = await t.revoke(a.id);
    expect(revoked.status).toBe(200);
    expect((await revoked.json()) as ClientKey).toMatchObject({ id: a.id, revoked: true, revokedAt: expect.any(Number) });

    const error = await expectError(await t.chat(bearer(a.secret)), 401, 'invalid_api_key');
    expect(error.type).toBe('authentication_error');
    expect(error.message).toMatch(/revoked/);
    await expectError(await t.models({ 'x-api-key': a.secret }), 401, 'invalid_api_key');
    expect((await t.chat(bearer(b.secret))).status).toBe(200);

    // Revoking again is harmless; the POST form works too; the record stays, marked revoked.
    expect((await fetch(`${t.gw.url}/api/keys/${a.id}/revoke`, { method: 'POST', headers: t.admin })).status).toBe(200);
    expect((await t.list()).find((k) => k.id === a.id)).toMatchObject({ revoked: true, name: 'to revoke' });
    await expectError(await t.models(), 401, 'missing_api_key');
  });

  it('rpmLimit 3: the 4th request in a minute is a 429 with Retry-After in the OpenAI envelope; other keys are unaffected', async () => {
    const limited = await t.create({ name: 'limited', rpmLimit: 3 });
    const other = await t.create({ name: 'other' });
    const otherLimited = await t.create({ name: 'other limited', rpmLimit: 3 });
    expect(limited.rpmLimit).toBe(3);

    for (let i = 0; i < 3; i++) expect((await t.chat(bearer(limited.secret))).status).toBe(200);
    const res = await t.chat(bearer(limited.secret));
    const retryAfter = Number(res.headers.get('retry-after'));
    const error = await expectError(res, 429, 'rate_limit_exceeded');
    expect(error.type).toBe('rate_limit_exceeded');
    expect(error.message).toMatch(/3 requests per minute/);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Every /v1 endpoint counts against the same limit.
    await expectError(await t.models(bearer(limited.secret)), 429, 'rate_limit_exceeded');

    for (let i = 0; i < 5; i++) expect((await t.chat(bearer(other.secret))).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await t.models(bearer(otherLimited.secret))).status).toBe(200);
    await expectError(await t.models(bearer(otherLimited.secret)), 429, 'rate_limit_exceeded');

    // Raising or removing the limit takes effect at once.
    const raised = await t.patch(limited.id, { rpmLimit: 5 });
    expect(raised.status).toBe(200);
    expect(((await raised.json()) as ClientKey).rpmLimit).toBe(5);
    expect((await t.chat(bearer(limited.secret))).status).toBe(200);
    expect((await t.chat(bearer(limited.secret))).status).toBe(200);
    await expectError(await t.chat(bearer(limited.secret)), 429, 'rate_limit_exceeded');
    const removed = await t.patch(limited.id, { rpmLimit: null });
    expect(((await removed.json()) as ClientKey).rpmLimit).toBeNull();
    expect((await t.chat(bearer(limited.secret))).status).toBe(200);
  });

  it('PATCH renames; absent fields stay; an unknown id is a 404', async () => {
    const k = await t.create({ name: 'old name', rpmLimit: 7 });
    const res = await t.patch(k.id, { name: '  new name ' });
    expect(res.status).toBe(200);
    expect((await res.json()) as ClientKey).toMatchObject({ id: k.id, name: 'new name', rpmLimit: 7 });
    expect((await t.list()).find((x) => x.id === k.id)?.name).toBe('new name');
    await expectError(await t.patch('ck_nope', { name: 'x' }), 404, 'client_key_not_found');
    await expectError(await t.revoke('ck_nope'), 404, 'client_key_not_found');
    await expectError(await fetch(`${t.gw.url}/api/keys/ck_nope`, { headers: t.admin }), 404, 'client_key_not_found');
  });

  it('usage (requests, tokens, lastUsedAt) reaches the list from the request events, and the log records the key id', async () => {
    const k = await t.create({ name: 'usage' });
    const seen: RequestLogEntry[] = [];
    const sub = t.gw.app.get(PoolEvents).requests.subscribe((r) => seen.push(r));
    const before = Date.now();
    try {
      for (let i = 0; i < 3; i++) expect((await t.chat(bearer(k.secret))).status).toBe(200);
    } finally {
      sub.unsubscribe();
    }
    expect(seen.map((r) => r.clientKey)).toEqual([k.id, k.id, k.id]);

    const listed = await poll(
      async () => (await t.list()).find((x) => x.id === k.id)!,
      (x) => x.requests >= 3,
    );
    expect(listed.requests).toBe(3);
    expect(listed.tokens).toBeGreaterThan(0);
    expect(listed.lastUsedAt).toBeGreaterThanOrEqual(before);
    expect(listed.lastUsedAt).toBeLessThanOrEqual(Date.now());
  }, 20_000);

  it('follows the store through `changes`, as with another replica: a key it writes works, a revocation it writes is honoured', async () => {
    const storage = t.gw.app.get<Storage>(STORAGE);
    const secret = 'sk-g4f-written-by-another-replica-0123456789abcdef';
    const record: StoredClientKey = {
      id: 'ck_other_replica',
      name: 'from elsewhere',
      hash: secretDigest(secret).toString('base64url'),
      masked: 'sk-g4f-wr…cdef',
      createdAt: Date.now(),
      rpmLimit: null,
    };
    await expectError(await t.models(bearer(secret)), 401, 'invalid_api_key');
    await storage.settings.set(CLIENT_KEY_NS, record.id, record);
    expect(
      (
        await poll(
          () => t.models(bearer(secret)),
          (r) => r.status === 200,
          3_000,
        )
      ).status,
    ).toBe(200);
    // Its record holds the mask of an older release (6 characters of the secret): shown with the last 4 only.
    const listed = (await t.list()).find((k) => k.id === record.id)!;
    expect(listed.maskedKey).toBe('sk-g4f-…cdef');
    expect(await t.listText()).not.toContain('wr…cdef');
    await storage.settings.set(CLIENT_KEY_REVOKED_NS, record.id, { revokedAt: Date.now() });
    const refused = await poll(
      () => t.models(bearer(secret)),
      (r) => r.status === 401,
      3_000,
    );
    await expectError(refused, 401, 'invalid_api_key');
    // A stale rewrite of the record (a rename racing the revocation) does not bring it back.
    await storage.settings.set(CLIENT_KEY_NS, record.id, { ...record, name: 'renamed' });
    await new Promise((r) => setTimeout(r, 100));
    await expectError(await t.models(bearer(secret)), 401, 'invalid_api_key');
  });

  it('every /api/keys endpoint needs the admin token', async () => {
    const k = await t.create({ name: 'guarded' });
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/api/keys'],
      ['POST', '/api/keys', { name: 'x' }],
      ['GET', `/api/keys/${k.id}`],
      ['PATCH', `/api/keys/${k.id}`, { name: 'y' }],
      ['DELETE', `/api/keys/${k.id}`],
      ['POST', `/api/keys/${k.id}/revoke`],
    ];
    for (const [method, path, body] of calls) {
      for (const auth of [{}, { authorization: 'Bearer not-a-session' }, bearer(k.secret)]) {
        const res = await fetch(`${t.gw.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...auth },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
        await res.text();
      }
    }
    // Nothing above took effect.
    expect((await t.list()).find((x) => x.id === k.id)).toMatchObject({ name: 'guarded', revoked: false });
    expect((await t.list()).some((x) => x.name === 'x')).toBe(false);
  });

  it.each<[string, unknown, string]>([
    ['a missing name', {}, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a blank name', { name: '   ' }, 'name'],
    ['a non-string name', { name: 42 }, 'name'],
    ['a too long name', { name: 'n'.repeat(101) }, 'name'],
    ['rpmLimit -1', { name: 'x', rpmLimit: -1 }, 'rpmLimit'],
    ['rpmLimit 0', { name: 'x', rpmLimit: 0 }, 'rpmLimit'],
    ['rpmLimit "x"', { name: 'x', rpmLimit: 'x' }, 'rpmLimit'],
    ['rpmLimit "3"', { name: 'x', rpmLimit: '3' }, 'rpmLimit'],
    ['rpmLimit 1.5', { name: 'x', rpmLimit: 1.5 }, 'rpmLimit'],
  ])('POST with %s → 400 naming the param', async (_name, body, param) => {
    const res = await fetch(`${t.gw.url}/api/keys`, { method: 'POST', headers: t.admin, body: JSON.stringify(body) });
    const error = await expectError(res, 400, 'invalid_value');
    expect(error.param).toBe(param);
    expect(error.type).toBe('invalid_request_error');
  });

  it.each<[string, unknown, string]>([
    ['an empty name', { name: '' }, 'name'],
    ['a null name', { name: null }, 'name'],
    ['rpmLimit -1', { rpmLimit: -1 }, 'rpmLimit'],
    ['rpmLimit "x"', { rpmLimit: 'x' }, 'rpmLimit'],
  ])('PATCH with %s → 400 naming the param, and nothing changes', async (_name, body, param) => {
    const k = await t.create({ name: 'unchanged', rpmLimit: 9 });
    const error = await expectError(await t.patch(k.id, body), 400, 'invalid_value');
    expect(error.param).toBe(param);
    expect((await t.list()).find((x) => x.id === k.id)).toMatchObject({ name: 'unchanged', rpmLimit: 9 });
  });
});

describe('client keys next to API_KEY', () => {
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start({ API_KEY: 'env-key-1,env-key-2' });
  }, 30_000);
  afterAll(() => t.gw.close());

  it('both the env keys and client keys are accepted; the env keys carry no client key id and no limit', async () => {
    expect((await t.models(bearer('env-key-1'))).status).toBe(200);
    await expectError(await t.models(), 401, 'missing_api_key');

    const k = await t.create({ name: 'with env', rpmLimit: 1 });
    const seen: RequestLogEntry[] = [];
    const sub = t.gw.app.get(PoolEvents).requests.subscribe((r) => seen.push(r));
    try {
      expect((await t.chat(bearer(k.secret))).status).toBe(200);
      await expectError(await t.chat(bearer(k.secret)), 429, 'rate_limit_exceeded');
      for (let i = 0; i < 3; i++) expect((await t.chat(bearer('env-key-2'))).status).toBe(200);
    } finally {
      sub.unsubscribe();
    }
    expect(seen.map((r) => r.clientKey)).toEqual([k.id, null, null, null]);
    await expectError(await t.models(bearer('env-key-3')), 401, 'invalid_api_key');

    expect((await t.revoke(k.id)).status).toBe(200);
    await expectError(await t.models(bearer(k.secret)), 401, 'invalid_api_key');
    expect((await t.models({ 'x-api-key': 'env-key-1' })).status).toBe(200);
  });
});

describe('client keys across a restart', () => {
  it('keys, revocations, limits and usage survive a restart with the same DATA_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'g4f-keys-'));
    const first = await start({ DATA_DIR: dataDir });
    let active: CreatedClientKey;
    let revoked: CreatedClientKey;
    try {
      active = await first.create({ name: 'survivor', rpmLimit: 2 });
      revoked = await first.create({ name: 'gone' });
      for (let i = 0; i < 2; i++) expect((await first.chat(bearer(active.secret))).status).toBe(200);
      expect((await first.revoke(revoked.id)).status).toBe(200);
    } finally {
      // Closing flushes the usage that has not been written yet.
      await first.gw.close();
    }

    const second = await start({ DATA_DIR: dataDir });
    try {
      const keys = await second.list();
      expect(keys.map((k) => k.name)).toEqual(['gone', 'survivor']);
      expect(keys.find((k) => k.id === active.id)).toMatchObject({ rpmLimit: 2, revoked: false, requests: 2 });
      expect(keys.find((k) => k.id === revoked.id)).toMatchObject({ revoked: true });
      await expectError(await second.models(), 401, 'missing_api_key');
      expect((await second.models(bearer(active.secret))).status).toBe(200);
      await expectError(await second.models(bearer(revoked.secret)), 401, 'invalid_api_key');
      expect(JSON.stringify(keys)).not.toContain(active.secret.slice(7, 27));
    } finally {
      await second.gw.close();
    }
  }, 30_000);
});
