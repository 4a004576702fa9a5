/**
 * API_KEY protects /v1 (Bearer or x-api-key, several keys comma-separated); /health stays public;
 * without API_KEY the API is open. Errors use OpenAI's envelope, so SDKs raise AuthenticationError.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import OpenAI, { AuthenticationError } from 'openai';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

let emu: Emulator;
let secured: Gateway;
let open: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  secured = await startGateway(emu, { API_KEY: 'k1, k2' });
  open = await startGateway(emu, { API_KEY: '' });
}, 30_000);

afterAll(async () => {
  await secured?.close();
  await open?.close();
  await emu?.close();
});

type Endpoint = 'models' | 'model' | 'chat';
const ENDPOINTS: Endpoint[] = ['models', 'model', 'chat'];

function call(g: Gateway, endpoint: Endpoint, headers: Record<string, string> = {}): Promise<Response> {
  if (endpoint === 'chat') return postJson(`${g.baseURL}/chat/completions`, CHAT, headers);
  if (endpoint === 'model') return fetch(`${g.baseURL}/models/gpt-4o-mini`, { headers });
  return fetch(`${g.baseURL}/models`, { headers });
}

async function expectAuthError(res: Response, code: 'missing_api_key' | 'invalid_api_key'): Promise<ErrorBody['error']> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status: 401, text: expect.any(String) });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expectSchema('ErrorResponse', body);
  expect(body.error).toEqual({ message: expect.any(String), type: 'authentication_error', param: null, code });
  return body.error;
}

async function expectOk(res: Response, endpoint: Endpoint): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status: 200, text: expect.any(String) });
  expect(res.headers.get('x-request-id')).toBeTruthy();
  const body = JSON.parse(text) as { object: string; id?: string };
  expect(body.object).toBe(endpoint === 'chat' ? 'chat.completion' : endpoint === 'model' ? 'model' : 'list');
}

/** Sends raw header bytes (fetch would normalise them). */
function rawGet(g: Gateway, path: string, headers: OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(g.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port: Number(port), path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('API_KEY="k1, k2"', () => {
  it.each(ENDPOINTS)('%s without a key → 401 missing_api_key', async (endpoint) => {
    const error = await expectAuthError(await call(secured, endpoint), 'missing_api_key');
    expect(error.message).toMatch(/API key/);
    await expectOk(await call(secured, endpoint, { authorization: 'Bearer k1' }), endpoint);
  });

  it.each<[string, Record<string, string>]>([
    ['an empty Bearer', { authorization: 'Bearer ' }],
    ['a non-Bearer scheme', { authorization: 'Basic azE6' }],
    ['a blank x-api-key', { 'x-api-key': '   ' }],
  ])('%s counts as no key → 401 missing_api_key', async (_name, headers) => {
    await expectAuthError(await call(secured, 'models', headers), 'missing_api_key');
  });

  it.each<[string, Record<string, string>]>([
    ['a wrong Bearer key', { authorization: 'Bearer k3' }],
    ['a wrong x-api-key', { 'x-api-key': 'nope' }],
    ['the raw API_KEY list as one key', { authorization: 'Bearer k1, k2' }],
    ['a prefix of a key', { authorization: 'Bearer k' }],
    ['a key with a suffix', { authorization: 'Bearer k11' }],
    ['a key in the wrong case', { authorization: 'Bearer K1' }],
  ])('%s → 401 invalid_api_key on every /v1 endpoint', async (_name, headers) => {
    for (const endpoint of ENDPOINTS) {
      const error = await expectAuthError(await call(secured, endpoint, headers), 'invalid_api_key');
      expect(error.message).toMatch(/Incorrect API key/);
    }
  });

  it.each<[string, Record<string, string>]>([
    ['Authorization: Bearer k2', { authorization: 'Bearer k2' }],
    ['Authorization: Bearer k1', { authorization: 'Bearer k1' }],
    ['x-api-key: k1', { 'x-api-key': 'k1' }],
    ['x-api-key: k2', { 'x-api-key': 'k2' }],
    ['a lower-case bearer scheme', { authorization: 'bearer k2' }],
    ['several spaces after Bearer', { authorization: 'Bearer     k1' }],
  ])('%s → 200 on every /v1 endpoint', async (_name, headers) => {
    for (const endpoint of ENDPOINTS) await expectOk(await call(secured, endpoint, headers), endpoint);
  });

  it('a key with whitespace around it in the header still works', async () => {
    const bearer = await rawGet(secured, '/v1/models', { authorization: '  Bearer \t k2 \t ' });
    expect(bearer.status).toBe(200);
    const x = await rawGet(secured, '/v1/models', { 'x-api-key': '   k1   ' });
    expect(x.status).toBe(200);
    const tabbed = await rawGet(secured, '/v1/models', { authorization: 'Bearer\tk1' });
    expect(tabbed.status).toBe(200);
  });

  it('a wrong key between good requests does not disturb them', async () => {
    await expectOk(await call(secured, 'chat', { authorization: 'Bearer k2' }), 'chat');
    await expectAuthError(await call(secured, 'chat', { authorization: 'Bearer wrong' }), 'invalid_api_key');
    await expectOk(await call(secured, 'chat', { 'x-api-key': 'k1' }), 'chat');
  });

  it('/health stays public', async () => {
    const res = await fetch(`${secured.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    const wrong = await fetch(`${secured.url}/health`, { headers: { authorization: 'Bearer wrong' } });
    expect(wrong.status).toBe(200);
    await wrong.text();
  });

  it('the 401 comes before body validation (no key + invalid body → 401, not 400)', async () => {
    const res = await postJson(`${secured.baseURL}/chat/completions`, { model: 42 });
    await expectAuthError(res, 'missing_api_key');
  });

  describe('official openai SDK', () => {
    it('a wrong key throws AuthenticationError (status 401)', async () => {
      const client = new OpenAI({ apiKey: 'wrong-key', baseURL: secured.baseURL, maxRetries: 0 });
      const err: unknown = await client.models.list().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AuthenticationError);
      const auth = err as AuthenticationError;
      expect(auth.status).toBe(401);
      expect(auth.code).toBe('invalid_api_key');
      expect(auth.type).toBe('authentication_error');
      expect(auth.requestID).toBeTruthy();

      const chatErr: unknown = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(chatErr).toBeInstanceOf(AuthenticationError);
      expect((chatErr as AuthenticationError).status).toBe(401);
    });

    it('the right key works through the SDK', async () => {
      const client = new OpenAI({ apiKey: 'k2', baseURL: secured.baseURL, maxRetries: 0 });
      const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      expect(completion.choices[0]!.message.content).toContain('hi');
      const models = await client.models.list();
      expect(models.data.length).toBeGreaterThan(0);
    });
  });
});

describe('API_KEY unset', () => {
  it.each<[string, Record<string, string>]>([
    ['no key', {}],
    ['any Bearer key', { authorization: 'Bearer whatever' }],
    ['any x-api-key', { 'x-api-key': 'free' }],
    ['a malformed Authorization header', { authorization: 'Basic Zm9v' }],
  ])('%s → 200 on every /v1 endpoint', async (_name, headers) => {
    for (const endpoint of ENDPOINTS) await expectOk(await call(open, endpoint, headers), endpoint);
  });

  it('the SDK works with any key', async () => {
    const client = new OpenAI({ apiKey: 'free', baseURL: open.baseURL, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.object).toBe('chat.completion');
  });

  it('API_KEY made only of commas and spaces leaves the API open', async () => {
    const g = await startGateway(emu, { API_KEY: ' , ,' });
    try {
      await expectOk(await call(g, 'models'), 'models');
    } finally {
      await g.close();
    }
  });
});
