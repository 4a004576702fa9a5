/**
 * The console's 读取模型列表 and 测试 for a custom upstream (POST /api/upstreams/models and
 * /api/upstreams/test), against the emulator acting as that upstream: a good key, a bad key, an
 * upstream that hangs and one that answers HTML; keys go only to their own host and never come back.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import apiSchemasFile from '../../apps/api/src/openapi/api-schemas.json' with { type: 'json' };
import type { ProviderDetail, UpstreamModelsResult, UpstreamTestResult } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';

const GOOD_KEY = 'sk-trial-good-key-1234';
/** Not key-shaped: only the trial's own masking hides it when the upstream echoes it. */
const BAD_KEY = 'lab-bad-key-9876';
const SAVED_KEY = 'sk-trial-saved-key-5555';
const IDS = ['llama3.2', 'qwen2.5:7b', 'mistral-small'];

/** The answer as the API document states it (api-schemas.json). */
const apiAjv = new Ajv2020({ allErrors: true, strict: false }).addSchema({ $id: 'api', components: apiSchemasFile });
function expectApiSchema(name: string, value: unknown): void {
  const validate = apiAjv.compile({ $ref: `api#/components/schemas/${name}` });
  expect(validate(value) ? [] : validate.errors).toEqual([]);
}

let emu: Emulator;
let gw: Gateway;
let auth: Record<string, string>;
let upstreamUrl: string;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu);
  auth = await adminHeaders(gw);
  upstreamUrl = emu.baseUrl('custom');
}, 30_000);

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

beforeEach(() => {
  emu.reset();
  emu.setModels('custom', IDS);
});

async function trial<T>(path: 'models' | 'test', body: Record<string, unknown>): Promise<{ status: number; body: T; text: string }> {
  const res = await postJson(`${gw.url}/api/upstreams/${path}`, body, auth);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as T, text };
}

const bearers = () => emu.requests('custom').map((r) => r.headers.authorization ?? null);

describe('POST /api/upstreams/models (读取模型列表)', () => {
  it('reads the /models of an upstream not saved yet with the typed key, and answers the ids', async () => {
    const { status, body, text } = await trial<UpstreamModelsResult>('models', { baseUrl: `${upstreamUrl}/`, key: GOOD_KEY });
    expect(status).toBe(200);
    expectApiSchema('UpstreamModelsResult', body);
    expect(body).toMatchObject({ ok: true, status: 200, code: null, error: null, models: IDS, total: 3, key: '****1234' });
    expect(body.latencyMs).toBeGreaterThanOrEqual(0);
    expect(emu.requests('custom').map((r) => r.path)).toEqual(['/custom/v1/models']);
    expect(bearers()).toEqual([`Bearer ${GOOD_KEY}`]);
    expect(text).not.toContain(GOOD_KEY);
  });

  it('a bad key: the upstream’s status and words, the key masked even where the upstream echoes it', async () => {
    emu.addFault({ provider: 'custom', mode: 'status', status: 401, key: BAD_KEY, path: 'models', message: `Incorrect API key provided: ${BAD_KEY}` });
    const { status, body, text } = await trial<UpstreamModelsResult>('models', { baseUrl: upstreamUrl, key: BAD_KEY });
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, status: 401, code: 'auth_failed', models: [], total: 0, key: '****9876' });
    expect(body.error).toBe('HTTP 401: Incorrect API key provided: ****9876');
    expect(text).not.toContain(BAD_KEY);
  });

  it('an upstream that hangs: a timeout within the gateway’s first-byte bound, not a hung request', async () => {
    emu.addFault({ provider: 'custom', mode: 'hang', path: 'models' });
    const t0 = Date.now();
    const { body } = await trial<UpstreamModelsResult>('models', { baseUrl: upstreamUrl });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(body).toMatchObject({ ok: false, status: null, code: 'upstream_timeout', key: null });
    expect(body.latencyMs).toBeGreaterThanOrEqual(1000);
  });

  it('an upstream that answers an HTML page is named as such', async () => {
    emu.addFault({ provider: 'custom', mode: 'html200', path: 'models' });
    const { body } = await trial<UpstreamModelsResult>('models', { baseUrl: upstreamUrl, key: GOOD_KEY });
    expect(body).toMatchObject({ ok: false, code: 'upstream_html', models: [] });
    expect(body.error).toMatch(/HTML/);
  });

  it('refuses a URL that is not http(s), and a saved upstream that does not exist, in the OpenAI envelope', async () => {
    const bad = await trial<{ error: { param: string | null } }>('models', { baseUrl: 'file:///etc/passwd' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('baseUrl');
    const missing = await trial<{ error: { code: string } }>('models', { name: 'nobody-here', baseUrl: upstreamUrl });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('provider_not_found');
    expect(emu.requests('custom')).toEqual([]);
  });
});

describe('POST /api/upstreams/test (测试)', () => {
  let saved: ProviderDetail;

  beforeAll(async () => {
    const res = await postJson(
      `${gw.url}/api/upstreams`,
      { name: 'trial-lab', baseUrl: upstreamUrl, models: { 'trial-llama': 'llama3.2' }, key: SAVED_KEY },
      auth,
    );
    expect(res.status).toBe(201);
    saved = (await res.json()) as ProviderDetail;
  });

  it('a one-token chat per key, typed and saved: status, latency and the upstream’s text each, keys masked', async () => {
    emu.addFault({ provider: 'custom', mode: 'status', status: 401, key: BAD_KEY, message: `Incorrect API key provided: ${BAD_KEY}` });
    const { status, body, text } = await trial<UpstreamTestResult>('test', { name: saved.name, baseUrl: saved.baseUrl, key: BAD_KEY, model: 'llama3.2' });
    expect(status).toBe(200);
    expectApiSchema('UpstreamTestResult', body);
    expect(body.model).toBe('llama3.2');
    expect(body.results).toEqual([
      {
        key: '****9876',
        source: 'entered',
        ok: false,
        status: 401,
        code: 'auth_failed',
        error: expect.stringMatching(/^HTTP 401: Incorrect API key/),
        latencyMs: expect.any(Number),
      },
      { key: '****5555', source: 'console', ok: true, status: 200, code: null, error: null, latencyMs: expect.any(Number) },
    ]);
    expect(text).not.toContain(BAD_KEY);
    expect(text).not.toContain(SAVED_KEY);
    const sent = emu.requests('custom');
    expect(sent.map((r) => r.path)).toEqual(['/custom/v1/chat/completions', '/custom/v1/chat/completions']);
    expect(sent.map((r) => r.body)).toEqual([
      expect.objectContaining({ model: 'llama3.2', max_tokens: 1 }),
      expect.objectContaining({ model: 'llama3.2', max_tokens: 1 }),
    ]);
    expect(new Set(bearers())).toEqual(new Set([`Bearer ${BAD_KEY}`, `Bearer ${SAVED_KEY}`]));
    // A trial leaves the saved key's state alone.
    const after = (await (await fetch(`${gw.url}/api/providers/trial-lab`, { headers: auth })).json()) as ProviderDetail;
    expect(after.keys.map((k) => k.breaker.state)).toEqual(['closed']);
  });

  it('the saved keys never go to another host: with the address moved, only the typed key is sent', async () => {
    // localhost and 127.0.0.1 are two origins for the same emulator.
    const elsewhere = upstreamUrl.replace('127.0.0.1', 'localhost');
    const { body } = await trial<UpstreamTestResult>('test', { name: saved.name, baseUrl: elsewhere, key: GOOD_KEY, model: 'llama3.2' });
    expect(body.results.map((r) => [r.source, r.key, r.ok])).toEqual([['entered', '****1234', true]]);
    expect(bearers()).toEqual([`Bearer ${GOOD_KEY}`]);

    const models = await trial<UpstreamModelsResult>('models', { name: saved.name, baseUrl: elsewhere });
    expect(models.body).toMatchObject({ ok: true, key: null, models: IDS });
    expect(bearers()).toEqual([`Bearer ${GOOD_KEY}`, null]);
  });

  it('after saving, 读取模型列表 uses the saved key on its own host', async () => {
    const { body } = await trial<UpstreamModelsResult>('models', { name: 'TRIAL-LAB', baseUrl: saved.baseUrl });
    expect(body).toMatchObject({ ok: true, key: '****5555', models: IDS });
    expect(bearers()).toEqual([`Bearer ${SAVED_KEY}`]);
  });

  it('an upstream that hangs or answers HTML to the chat: a timeout and an HTML answer, per key', async () => {
    emu.addFault({ provider: 'custom', mode: 'hang', key: GOOD_KEY });
    emu.addFault({ provider: 'custom', mode: 'html200', key: SAVED_KEY });
    const t0 = Date.now();
    const { body } = await trial<UpstreamTestResult>('test', { name: saved.name, baseUrl: saved.baseUrl, key: GOOD_KEY, model: 'llama3.2' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(body.results).toEqual([
      expect.objectContaining({ source: 'entered', ok: false, status: null, code: 'upstream_timeout' }),
      expect.objectContaining({ source: 'console', ok: false, code: 'upstream_html' }),
    ]);
  });

  it('an upstream without a key is tried once without one; a model the upstream lacks is its 404', async () => {
    const { body } = await trial<UpstreamTestResult>('test', { baseUrl: upstreamUrl, model: 'no-such-model' });
    expect(body.results).toEqual([expect.objectContaining({ key: '(anonymous)', source: 'none', ok: false, status: 404, code: 'upstream_4xx' })]);
    expect(bearers()).toEqual([null]);
    const missing = await trial<{ error: { param: string | null } }>('test', { baseUrl: upstreamUrl });
    expect(missing.status).toBe(400);
    expect(missing.body.error.param).toBe('model');
  });
});
