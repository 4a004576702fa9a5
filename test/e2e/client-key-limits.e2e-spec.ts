/**
 * Client keys as one-api tokens (issue 16): quotas per day / month / total in requests and
 * tokens, expiry, allowed models and client addresses, concurrency; each refusal in the door's
 * own envelope; the key holder's `/v1/key` and one-api's billing endpoints; counters kept
 * across restarts and exact across two Redis replicas.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import apiSchemasFile from '../../apps/api/src/openapi/api-schemas.json' with { type: 'json' };
import type { BillingSubscription, BillingUsage, ClientKey, ClientKeyInfo, CreatedClientKey } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { PROVIDER_IDS } from '../emulators/types.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema, validateSchema } from '../support/openapi.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const MODEL = 'gpt-4o-mini';
const CHAT = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
const ALIASES = { 'house-model': MODEL, 'other-*': 'llama-3.3-70b' };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

let emu: Emulator;

/** The gateway's own answer schemas (api-schemas.json), checked as the API document states them. */
const apiAjv = new Ajv2020({ allErrors: true, strict: false });
apiAjv.addSchema({ $id: 'api', components: apiSchemasFile }, undefined, undefined, false);
const apiValidators = new Map<string, ValidateFunction>();
function expectApiSchema(name: string, value: unknown): void {
  let validate = apiValidators.get(name);
  if (!validate) {
    validate = apiAjv.compile({ $ref: `api#/components/schemas/${name}` });
    apiValidators.set(name, validate);
  }
  expect(validate(value) ? [] : validate.errors).toEqual([]);
}

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  // Compiling the spec's validators takes seconds: once here, not while a test's requests are in flight.
  validateSchema('ErrorResponse', {});
}, 60_000);

afterAll(async () => {
  await emu?.close();
});

afterEach(() => emu.clearFaults());

/** Admin helpers around one gateway. */
async function adminOf(gw: Gateway) {
  const admin = await adminHeaders(gw);
  const keysUrl = `${gw.url}/api/keys`;
  return {
    create: async (body: unknown): Promise<CreatedClientKey> => {
      const res = await fetch(keysUrl, { method: 'POST', headers: admin, body: JSON.stringify(body) });
      const text = await res.text();
      expect({ status: res.status, text }).toEqual({ status: 201, text: expect.any(String) });
      return JSON.parse(text) as CreatedClientKey;
    },
    post: (body: unknown) => fetch(keysUrl, { method: 'POST', headers: admin, body: JSON.stringify(body) }),
    patch: (id: string, body: unknown) => fetch(`${keysUrl}/${id}`, { method: 'PATCH', headers: admin, body: JSON.stringify(body) }),
    get: async (id: string): Promise<ClientKey> => (await fetch(`${keysUrl}/${id}`, { headers: admin })).json() as Promise<ClientKey>,
  };
}

const chat = (gw: Gateway, secret: string, body: unknown = CHAT, headers: Record<string, string> = {}) =>
  postJson(`${gw.baseURL}/chat/completions`, body, { ...bearer(secret), ...headers });

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: expect.any(String) });
  const body = JSON.parse(text) as ErrorBody;
  expectSchema('ErrorResponse', body);
  expect(body.error.code).toBe(code);
  return body.error;
}

async function expectOk(res: Response): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status: 200, text: expect.any(String) });
}

async function keyInfo(gw: Gateway, secret: string): Promise<ClientKeyInfo> {
  const res = await fetch(`${gw.baseURL}/key`, { headers: bearer(secret) });
  expect(res.status).toBe(200);
  const info = (await res.json()) as ClientKeyInfo;
  expectApiSchema('ClientKeyInfo', info);
  return info;
}

const usedOf = (info: ClientKeyInfo | ClientKey, quota: string) => info.quotaUsage.find((q) => q.quota === quota)!;

async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every provider waits `ms` before answering, so requests overlap. */
function slowUpstreams(ms: number): void {
  for (const provider of PROVIDER_IDS) emu.addFault({ provider, mode: 'slowFirstByte', delayMs: ms });
}

/** Until an upstream has received one more request than `before`: the gateway holds that request's slot. */
async function upstreamReached(before: number): Promise<void> {
  for (let i = 0; i < 200 && emu.requests().length <= before; i++) await new Promise((r) => setTimeout(r, 10));
  expect(emu.requests().length).toBeGreaterThan(before);
}

describe('client key limits on one gateway', () => {
  let gw: Gateway;
  let admin: Awaited<ReturnType<typeof adminOf>>;

  beforeAll(async () => {
    gw = await startGateway(emu, { API_KEY: '', ...FIXED_ORDER_ENV, MODEL_ALIASES: JSON.stringify(ALIASES), TRUST_PROXY: 'loopback' });
    admin = await adminOf(gw);
  }, 30_000);

  afterAll(async () => {
    await gw?.close();
  });

  it('the admin API stores every limit, changes only what a PATCH names, and removes a limit with null or []', async () => {
    const expiresAt = Date.now() + 86_400_000;
    const key = await admin.create({
      name: 'all limits',
      rpmLimit: 60,
      requestsPerDay: 10,
      requestsPerMonth: 100,
      requestsTotal: 1000,
      tokensPerDay: 2000,
      tokensPerMonth: 20_000,
      tokensTotal: 200_000,
      expiresAt,
      allowedModels: [' gpt-4o* ', 'house-model', 'gpt-4o*'],
      allowedIps: ['127.0.0.1', '10.0.0.0/8', '2001:db8::/32'],
      concurrencyLimit: 3,
    });
    expectApiSchema('CreatedClientKey', key);
    expect(key).toMatchObject({ requestsPerDay: 10, tokensTotal: 200_000, expiresAt, concurrencyLimit: 3, allowedModels: ['gpt-4o*', 'house-model'] });
    expect(usedOf(key, 'requestsPerDay')).toEqual({ quota: 'requestsPerDay', limit: 10, used: 0, remaining: 10, resetsAt: expect.any(Number) });

    const res = await admin.patch(key.id, { requestsPerDay: null, allowedIps: [], tokensPerMonth: 5 });
    expect(res.status).toBe(200);
    const after = await admin.get(key.id);
    expectApiSchema('ClientKey', after);
    expect(after).toMatchObject({
      requestsPerDay: null,
      allowedIps: [],
      tokensPerMonth: 5,
      requestsPerMonth: 100,
      rpmLimit: 60,
      expiresAt,
      name: 'all limits',
    });
    expect((await admin.patch(key.id, { allowedModels: null })).status).toBe(200);
    expect((await admin.get(key.id)).allowedModels).toEqual([]);
  });

  it.each([
    [{ requestsPerDay: 0 }, 'requestsPerDay'],
    [{ tokensTotal: -5 }, 'tokensTotal'],
    [{ requestsPerMonth: 1.5 }, 'requestsPerMonth'],
    [{ tokensPerDay: '100' }, 'tokensPerDay'],
    [{ tokensTotal: 1e13 }, 'tokensTotal'],
    [{ expiresAt: 'tomorrow' }, 'expiresAt'],
    [{ concurrencyLimit: 0 }, 'concurrencyLimit'],
    [{ allowedModels: 'gpt-4o' }, 'allowedModels'],
    [{ allowedModels: ['has space'] }, 'allowedModels'],
    [{ allowedModels: ['x'.repeat(129)] }, 'allowedModels'],
    [{ allowedModels: Array.from({ length: 101 }, (_, i) => `m${i}`) }, 'allowedModels'],
    [{ allowedIps: ['10.0.0.0/33'] }, 'allowedIps'],
    [{ allowedIps: ['not-an-ip'] }, 'allowedIps'],
    [{ allowedIps: [42] }, 'allowedIps'],
    [{ allowedIps: ['2001:db8::/129'] }, 'allowedIps'],
  ])('refuses bad input %j with 400 naming the field, on create and on update', async (body, field) => {
    const created = await admin.post({ name: 'bad', ...body });
    const text = await created.text();
    expect({ status: created.status, text }).toEqual({ status: 400, text: expect.stringContaining(field) });
    const key = await admin.create({ name: 'good' });
    const patched = await admin.patch(key.id, body);
    expect({ status: patched.status, text: await patched.text() }).toEqual({ status: 400, text: expect.stringContaining(field) });
  });

  it('an expired key is refused on every /v1 door with 401 key_expired (Anthropic envelope on /v1/messages)', async () => {
    const key = await admin.create({ name: 'expiring', expiresAt: Date.now() + 60_000 });
    await expectOk(await chat(gw, key.secret));
    expect((await admin.patch(key.id, { expiresAt: Date.now() - 1000 })).status).toBe(200);
    const auth = bearer(key.secret);
    const error = await expectError(await chat(gw, key.secret), 401, 'key_expired');
    expect(error.type).toBe('authentication_error');
    expect(error.message).toMatch(/expired at \d{4}-/);
    await expectError(await fetch(`${gw.baseURL}/models`, { headers: auth }), 401, 'key_expired');
    await expectError(await postJson(`${gw.baseURL}/responses`, { model: MODEL, input: 'hi' }, auth), 401, 'key_expired');
    await expectError(await postJson(`${gw.baseURL}/images/generations`, { model: 'flux', prompt: 'a cat' }, auth), 401, 'key_expired');
    await expectError(await postJson(`${gw.baseURL}/audio/speech`, { model: 'tts-1', input: 'hi', voice: 'alloy' }, auth), 401, 'key_expired');
    await expectError(await fetch(`${gw.baseURL}/dashboard/billing/subscription`, { headers: auth }), 401, 'key_expired');
    const messages = await postJson(
      `${gw.baseURL}/messages`,
      { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
      { 'x-api-key': key.secret },
    );
    expect(messages.status).toBe(401);
    expect(await messages.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: expect.stringContaining('expired') },
      request_id: expect.any(String),
    });
    // Back to life when the expiry is removed.
    expect((await admin.patch(key.id, { expiresAt: null })).status).toBe(200);
    await expectOk(await chat(gw, key.secret));
  });

  it('allowed models: globs, and an alias passes when either the requested id or the model it names is allowed', async () => {
    const byModel = await admin.create({ name: 'model only', allowedModels: ['GPT-4o-*'] });
    await expectOk(await chat(gw, byModel.secret));
    // house-model is an alias of gpt-4o-mini: its target is allowed.
    await expectOk(await chat(gw, byModel.secret, { ...CHAT, model: 'house-model' }));
    const refused = await expectError(await chat(gw, byModel.secret, { ...CHAT, model: 'llama-3.3-70b' }), 403, 'model_not_allowed');
    expect(refused).toMatchObject({ type: 'permission_error', param: 'model' });
    expect(refused.message).toContain('llama-3.3-70b');
    await expectError(await chat(gw, byModel.secret, { ...CHAT, model: 'other-thing' }), 403, 'model_not_allowed');
    await expectError(await fetch(`${gw.baseURL}/models/llama-3.3-70b`, { headers: bearer(byModel.secret) }), 403, 'model_not_allowed');
    expect((await fetch(`${gw.baseURL}/models/${MODEL}`, { headers: bearer(byModel.secret) })).status).toBe(200);
    // The list shows only the allowed models.
    const listed = (await (await fetch(`${gw.baseURL}/models`, { headers: bearer(byModel.secret) })).json()) as { data: { id: string }[] };
    expect(listed.data.length).toBeGreaterThan(0);
    expect(listed.data.every((m) => m.id.toLowerCase().startsWith('gpt-4o-'))).toBe(true);
    const everything = (await (await fetch(`${gw.baseURL}/models?all=true`, { headers: bearer(byModel.secret) })).json()) as { data: { id: string }[] };
    expect(everything.data.map((m) => m.id).sort()).toEqual(expect.arrayContaining(listed.data.map((m) => m.id).sort()));
    expect(everything.data.every((m) => m.id.toLowerCase().startsWith('gpt-4o-'))).toBe(true);
    const messages = await postJson(
      `${gw.baseURL}/messages`,
      { model: 'llama-3.3-70b', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
      { 'x-api-key': byModel.secret },
    );
    expect(messages.status).toBe(403);
    expect(((await messages.json()) as { error: { type: string } }).error.type).toBe('permission_error');

    // A multipart body is read after the guard: the transcription door checks the model itself.
    const form = (model: string) => {
      const data = new FormData();
      data.append('model', model);
      data.append('file', new Blob([Buffer.from('RIFF\0\0\0\0WAVEfmt ')], { type: 'audio/wav' }), 'clip.wav');
      return fetch(`${gw.baseURL}/audio/transcriptions`, { method: 'POST', headers: bearer(byModel.secret), body: data });
    };
    const transcription = await expectError(await form('whisper-large-v3-turbo'), 403, 'model_not_allowed');
    expect(transcription.message).toContain('whisper-large-v3-turbo');

    const byAlias = await admin.create({ name: 'alias only', allowedModels: ['house-model'] });
    await expectOk(await chat(gw, byAlias.secret, { ...CHAT, model: 'house-model' }));
    await expectError(await chat(gw, byAlias.secret), 403, 'model_not_allowed');
  });

  it('allowed client addresses: IPv4 and IPv6 CIDRs, the client address as TRUST_PROXY reports it', async () => {
    const elsewhere = await admin.create({ name: 'office only', allowedIps: ['10.0.0.0/8'] });
    const error = await expectError(await chat(gw, elsewhere.secret), 403, 'ip_not_allowed');
    expect(error.type).toBe('permission_error');
    await expectError(await fetch(`${gw.baseURL}/models`, { headers: bearer(elsewhere.secret) }), 403, 'ip_not_allowed');
    // This gateway trusts loopback proxies: the forwarded address is the client's.
    await expectOk(await chat(gw, elsewhere.secret, CHAT, { 'x-forwarded-for': '10.1.2.3' }));

    const v6 = await admin.create({ name: 'v6', allowedIps: ['2001:db8::/32', '127.0.0.1'] });
    await expectOk(await chat(gw, v6.secret, CHAT, { 'x-forwarded-for': '2001:db8:0:1::7' }));
    await expectError(await chat(gw, v6.secret, CHAT, { 'x-forwarded-for': '2001:db9::7' }), 403, 'ip_not_allowed');
    await expectOk(await chat(gw, v6.secret));
  });

  it('a daily request quota: answered up to the limit, then 429 insufficient_quota naming it and when it resets; reading the key is not metered', async () => {
    const key = await admin.create({ name: 'two a day', requestsPerDay: 2 });
    await expectOk(await chat(gw, key.secret));
    await expectOk(await chat(gw, key.secret));
    for (let i = 0; i < 3; i++) expect((await fetch(`${gw.baseURL}/models`, { headers: bearer(key.secret) })).status).toBe(200);
    const count = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
    for (let i = 0; i < 3; i++) expect((await postJson(`${gw.baseURL}/messages/count_tokens`, count, { 'x-api-key': key.secret })).status).toBe(200);
    const res = await chat(gw, key.secret);
    const retryAfter = Number(res.headers.get('retry-after'));
    const error = await expectError(res, 429, 'insufficient_quota');
    expect(error.type).toBe('insufficient_quota');
    expect(error.message).toMatch(/requestsPerDay \(2 requests per day\)\. It resets at \d{4}-\d{2}-\d{2}T00:00:00\.000Z\./);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const messages = await postJson(
      `${gw.baseURL}/messages`,
      { model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
      { 'x-api-key': key.secret },
    );
    expect(messages.status).toBe(429);
    expect(((await messages.json()) as { error: { type: string; message: string } }).error).toEqual({
      type: 'rate_limit_error',
      message: expect.stringContaining('requestsPerDay'),
    });
    const info = await keyInfo(gw, key.secret);
    expect(usedOf(info, 'requestsPerDay')).toEqual({ quota: 'requestsPerDay', limit: 2, used: 2, remaining: 0, resetsAt: expect.any(Number) });
    expect(usedOf(info, 'requestsTotal')).toEqual({ quota: 'requestsTotal', limit: null, used: 2, remaining: null, resetsAt: null });
    // Raising the quota lets the key go on.
    expect((await admin.patch(key.id, { requestsPerDay: 3 })).status).toBe(200);
    await expectOk(await chat(gw, key.secret));
  });

  it('a token quota counts answered tokens after the fact: the request that crosses it is answered, the next is refused for good', async () => {
    const key = await admin.create({ name: 'tokens', tokensTotal: 5 });
    await expectOk(await chat(gw, key.secret));
    const info = await poll(
      () => keyInfo(gw, key.secret),
      (i) => usedOf(i, 'tokensTotal').used > 0,
    );
    const used = usedOf(info, 'tokensTotal');
    expect(used.used).toBeGreaterThan(5);
    expect(used.remaining).toBe(0);
    const error = await expectError(await chat(gw, key.secret), 429, 'insufficient_quota');
    expect(error.message).toMatch(/tokensTotal \(5 tokens in total\)\. It does not reset/);
    expect(usedOf(await keyInfo(gw, key.secret), 'tokensPerDay').used).toBe(used.used);
  });

  it('concurrency: beyond the limit 429 concurrency_limit_exceeded; the slot is free again once an answer ends', async () => {
    const key = await admin.create({ name: 'one at a time', concurrencyLimit: 1 });
    // Slow enough (under the 1.5 s first-byte timeout) that the first is still at the upstream when the second arrives.
    slowUpstreams(1000);
    const before = emu.requests().length;
    const first = chat(gw, key.secret);
    await upstreamReached(before);
    const error = await expectError(await chat(gw, key.secret), 429, 'concurrency_limit_exceeded');
    expect(error.type).toBe('rate_limit_exceeded');
    await expectOk(await first);
    await expectOk(await chat(gw, key.secret));
    emu.clearFaults();
    // A client that goes away gives its slot back at once, though the upstream has not answered.
    slowUpstreams(1000);
    const sent = emu.requests().length;
    const controller = new AbortController();
    const abandoned = fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(key.secret) },
      body: JSON.stringify(CHAT),
      signal: controller.signal,
    }).catch(() => undefined);
    await upstreamReached(sent);
    controller.abort();
    await abandoned;
    emu.clearFaults();
    const status = await poll(
      () => chat(gw, key.secret).then((r) => r.status),
      (s) => s === 200,
      3000,
    );
    expect(status).toBe(200);
  });

  it('billing endpoints in one-api shapes: a token quota as the balance, used tokens × 100 as usage, expiry as access_until', async () => {
    const expiresAt = Date.UTC(2099, 0, 1, 12, 30, 45, 500);
    const key = await admin.create({ name: 'chatbox', tokensPerMonth: 100_000, tokensPerDay: 10_000, expiresAt });
    await expectOk(await chat(gw, key.secret));
    const info = await poll(
      () => keyInfo(gw, key.secret),
      (i) => usedOf(i, 'tokensPerMonth').used > 0,
    );
    const used = usedOf(info, 'tokensPerMonth').used;
    expect(info).toMatchObject({ object: 'client_key', id: key.id, name: 'chatbox', quotaTimeZone: 'UTC', tokensPerMonth: 100_000, expiresAt });
    expect(JSON.stringify(info)).not.toContain(key.secret);

    const sub = await fetch(`${gw.baseURL}/dashboard/billing/subscription`, { headers: bearer(key.secret) });
    expect(sub.status).toBe(200);
    const subscription = (await sub.json()) as BillingSubscription;
    expectApiSchema('BillingSubscription', subscription);
    expect(subscription).toEqual({
      object: 'billing_subscription',
      has_payment_method: true,
      soft_limit_usd: 100_000,
      hard_limit_usd: 100_000,
      system_hard_limit_usd: 100_000,
      access_until: Math.floor(expiresAt / 1000),
    });
    const usageRes = await fetch(`${gw.baseURL}/dashboard/billing/usage?start_date=2026-01-01&end_date=2026-12-31`, { headers: bearer(key.secret) });
    expect(usageRes.status).toBe(200);
    const usage = (await usageRes.json()) as BillingUsage;
    expectApiSchema('BillingUsage', usage);
    expect(usage).toEqual({ object: 'list', total_usage: used * 100 });

    await expectError(await fetch(`${gw.baseURL}/dashboard/billing/usage?start_date=yesterday`, { headers: bearer(key.secret) }), 400, 'invalid_value');
    // Without a token quota: one-api's "unlimited" amount, and the key's lifetime tokens.
    const open = await admin.create({ name: 'no quota' });
    const plain = (await (await fetch(`${gw.baseURL}/dashboard/billing/subscription`, { headers: bearer(open.secret) })).json()) as BillingSubscription;
    expect(plain).toMatchObject({ hard_limit_usd: 100_000_000, system_hard_limit_usd: 100_000_000, access_until: 0 });
    expect(await (await fetch(`${gw.baseURL}/dashboard/billing/usage`, { headers: bearer(open.secret) })).json()).toEqual({ object: 'list', total_usage: 0 });
  });
});

describe('without a client key', () => {
  it('/v1/key and the billing endpoints answer 404 client_key_required to API_KEY', async () => {
    const gw = await startGateway(emu, { API_KEY: 'sk-env-key' });
    try {
      for (const path of ['key', 'dashboard/billing/subscription', 'dashboard/billing/usage']) {
        await expectError(await fetch(`${gw.baseURL}/${path}`, { headers: bearer('sk-env-key') }), 404, 'client_key_required');
      }
    } finally {
      await gw.close();
    }
  });
});

describe('quota counters survive a restart (SQLite)', () => {
  it('what was counted before the restart still counts after it', async () => {
    const env = { API_KEY: '', DATA_DIR: mkdtempSync(join(tmpdir(), 'g4f-quota-')) };
    const first = await startGateway(emu, env);
    const key = await (await adminOf(first)).create({ name: 'restart', requestsTotal: 2 });
    await expectOk(await chat(first, key.secret));
    await first.close();
    const second = await startGateway(emu, env);
    try {
      expect(usedOf(await keyInfo(second, key.secret), 'requestsTotal')).toMatchObject({ used: 1, remaining: 1 });
      await expectOk(await chat(second, key.secret));
      await expectError(await chat(second, key.secret), 429, 'insufficient_quota');
    } finally {
      await second.close();
    }
  });
});

describe('two replicas on one Redis', () => {
  let redis: RedisServer;
  let replicas: Gateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const env = { API_KEY: '', ...FIXED_ORDER_ENV, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'quota-e2e:', SECRET_KEY: 'quota-cluster-secret' };
    replicas = [await startGateway(emu, env), await startGateway(emu, env)];
  }, 30_000);

  afterAll(async () => {
    for (const r of replicas) await r.close();
    await redis?.close();
  });

  it('a request quota holds exactly across replicas, under concurrency', async () => {
    const [a, b] = replicas as [Gateway, Gateway];
    const key = await (await adminOf(a)).create({ name: 'shared quota', requestsPerMonth: 5 });
    // The other replica learns of the key through Redis.
    await poll(
      () => fetch(`${b.baseURL}/models`, { headers: bearer(key.secret) }).then((r) => r.status),
      (s) => s === 200,
    );
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(i % 2 ? a : b, key.secret)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const refused = results.find((r) => r.status === 429)!;
    expect(((await refused.json()) as ErrorBody).error.message).toContain('requestsPerMonth (5 requests per month)');
    expect(usedOf(await keyInfo(b, key.secret), 'requestsPerMonth')).toMatchObject({ used: 5, remaining: 0 });
    // Tokens counted on either replica are seen on both.
    await poll(
      () => keyInfo(a, key.secret),
      (i) => usedOf(i, 'tokensTotal').used > 0,
    );
    expect(usedOf(await keyInfo(b, key.secret), 'tokensTotal').used).toBe(usedOf(await keyInfo(a, key.secret), 'tokensTotal').used);
  });

  it('a concurrency limit holds across replicas and frees its slots when answers end', async () => {
    const [a, b] = replicas as [Gateway, Gateway];
    const key = await (await adminOf(a)).create({ name: 'shared concurrency', concurrencyLimit: 2 });
    await poll(
      () => fetch(`${b.baseURL}/models`, { headers: bearer(key.secret) }).then((r) => r.status),
      (s) => s === 200,
    );
    slowUpstreams(500);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => chat(i % 2 ? a : b, key.secret)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429]);
    const refused = results.find((r) => r.status === 429)!;
    expect(((await refused.json()) as ErrorBody).error.code).toBe('concurrency_limit_exceeded');
    emu.clearFaults();
    const after = await poll(
      () => Promise.all([chat(a, key.secret), chat(b, key.secret)]).then((rs) => rs.map((r) => r.status)),
      (s) => s.every((x) => x === 200),
      3000,
    );
    expect(after).toEqual([200, 200]);
  });
});
