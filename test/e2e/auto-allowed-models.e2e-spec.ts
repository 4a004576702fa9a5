/**
 * A client key limited to some models (`allowedModels`) is served only by those, also when the
 * gateway picks the model itself: `auto` ranks only the models the key may use (unless its list
 * says `*`), falls back only among them, and a key allowed `auto` but none of its models gets the
 * 403 model_not_allowed of a forbidden model. The same for `auto-image`, the default image model
 * and a move to a larger-context model. Providers in a fixed order (DeepInfra first).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreatedClientKey } from '#contracts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema, validateSchema } from '../support/openapi.ts';

const CATALOG = `
models: []
auto_models:
  - id: auto-key-test
    models: [deepseek-v3, llama-3.3-70b]
  - id: auto-image-key-test
    kind: image
    models: [gpt-image, flux-schnell]
`;
const DEEPSEEK = 'deepseek-ai/DeepSeek-V3';
const LLAMA = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';

let emu: Emulator;
let gw: Gateway;
let admin: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  const dir = mkdtempSync(join(tmpdir(), 'g4f-auto-keys-'));
  writeFileSync(join(dir, 'catalog.yaml'), CATALOG);
  gw = await startGateway(emu, { ...FIXED_ORDER_ENV, API_KEY: '', CATALOG_FILE: join(dir, 'catalog.yaml') });
  admin = await adminHeaders(gw);
  // Compiling the spec's validators takes seconds: once here, not inside a test.
  validateSchema('ErrorResponse', {});
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

async function keyFor(allowedModels: string[]): Promise<string> {
  const res = await fetch(`${gw.url}/api/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: allowedModels.join(' '), allowedModels }) });
  expect(res.status).toBe(201);
  return ((await res.json()) as CreatedClientKey).secret;
}

const chat = (secret: string, body: Record<string, unknown>) =>
  postJson(`${gw.baseURL}/chat/completions`, { messages: [{ role: 'user', content: 'hi' }], ...body }, { authorization: `Bearer ${secret}` });
const image = (secret: string, body: Record<string, unknown>) =>
  postJson(`${gw.baseURL}/images/generations`, { prompt: 'a cat', response_format: 'b64_json', ...body }, { authorization: `Bearer ${secret}` });
const upstreamModels = () => emu.requests().map((r) => (r.body as { model?: string }).model ?? r.path);

async function expectNotAllowed(res: Response, model: string): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status: 403, text: expect.any(String) });
  const body = JSON.parse(text) as { error: { message: string; type: string; code: string; param: string } };
  expectSchema('ErrorResponse', body);
  expect(body.error).toMatchObject({ type: 'permission_error', code: 'model_not_allowed', param: 'model' });
  expect(body.error.message).toContain(model);
}

describe('auto chat models', () => {
  it('a key allowed every model (`*`) gets auto’s first choice', async () => {
    const res = await chat(await keyFor(['*']), { model: 'auto-key-test' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-upstream-model')).toBe(DEEPSEEK);
  });

  it.each([false, true])('auto picks only among the models the key may use (stream: %s)', async (stream) => {
    const secret = await keyFor(['auto*', 'llama-3.3-70b']);
    const res = await chat(secret, { model: 'auto-key-test', stream });
    expect(res.status).toBe(200);
    await res.text();
    expect(res.headers.get('x-pool-upstream-model')).toBe(LLAMA);
    // The shipped `auto` (every chat model of the catalog after its list) too.
    const any = await chat(secret, { model: 'auto', stream });
    expect(any.status).toBe(200);
    await any.text();
    expect(upstreamModels()).toEqual([LLAMA, LLAMA]);
  });

  it('falls back only to models the key may use', async () => {
    const secret = await keyFor(['auto-key-test', 'deepseek-v3']);
    for (const provider of ['deepinfra', 'together', 'huggingface', 'pollinations', 'cloudflare'] as const) {
      emu.addFault({ provider, mode: 'status', status: 500, model: DEEPSEEK });
    }
    const res = await chat(secret, { model: 'auto-key-test' });
    expect(res.status).toBe(502);
    expect(new Set(upstreamModels())).toEqual(new Set([DEEPSEEK]));
  });

  it('a key allowed auto but none of its models gets 403 model_not_allowed, and no upstream is asked', async () => {
    await expectNotAllowed(await chat(await keyFor(['auto*']), { model: 'auto-key-test' }), 'auto-key-test');
    await expectNotAllowed(await chat(await keyFor(['auto', 'flux-*']), { model: 'auto' }), 'auto');
    expect(emu.requests()).toHaveLength(0);
  });
});

describe('image models', () => {
  it('lists auto to a key only when one of the models it may use can serve', async () => {
    const ids = async (secret: string): Promise<string[]> => {
      const res = await fetch(`${gw.baseURL}/models`, { headers: { authorization: `Bearer ${secret}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    };
    expect(await ids(await keyFor(['auto-key-test', 'llama-*']))).toContain('auto-key-test');
    expect(await ids(await keyFor(['auto-key-test']))).not.toContain('auto-key-test');
    const all = await fetch(`${gw.baseURL}/models?all=true`, { headers: { authorization: `Bearer ${await keyFor(['auto-key-test'])}` } });
    const entry = ((await all.json()) as { data: Array<{ id: string; available: boolean; reason: string | null }> }).data.find((m) => m.id === 'auto-key-test');
    expect(entry).toMatchObject({ available: false, reason: 'none of its models is allowed for this key' });
  });

  it('auto-image picks only among the key’s image models', async () => {
    const all = await image(await keyFor(['*']), { model: 'auto-image-key-test' });
    expect(all.status).toBe(200);
    expect(all.headers.get('x-pool-upstream-model')).toBe('gptimage');
    emu.reset();
    const res = await image(await keyFor(['auto-image-key-test', 'flux-schnell']), { model: 'auto-image-key-test' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-upstream-model')).not.toBe('gptimage');
    expect(emu.requests().some((r) => r.path.includes('gptimage'))).toBe(false);
    await expectNotAllowed(await image(await keyFor(['auto-image*', 'llama-*']), { model: 'auto-image-key-test' }), 'auto-image-key-test');
  });

  it('a request naming no model is checked against the key as the default image model', async () => {
    await expectNotAllowed(await image(await keyFor(['llama-*']), {}), 'flux');
    expect(emu.requests()).toHaveLength(0);
    expect((await image(await keyFor(['flux']), {})).status).toBe(200);
  });
});

describe('a request too long for its model', () => {
  const CONTEXT_MESSAGE = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";
  const SMALL = 'meta-llama/Llama-3-8B-Instruct-Turbo';

  it('moves to a larger-context model only when the key may use it', async () => {
    emu.addFault({ provider: 'together', mode: 'status', status: 400, message: CONTEXT_MESSAGE, model: SMALL });
    const moved = await chat(await keyFor(['llama-3*']), { model: 'llama-3-8b' });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('x-pool-upstream-model')).toBe('meta-llama/Llama-3.1-8B-Instruct');

    emu.reset();
    emu.addFault({ provider: 'together', mode: 'status', status: 400, message: CONTEXT_MESSAGE, model: SMALL });
    const kept = await chat(await keyFor(['llama-3-8b']), { model: 'llama-3-8b' });
    expect(kept.status).toBe(400);
    expect(((await kept.json()) as { error: { code: string } }).error.code).toBe('context_length_exceeded');
    expect(upstreamModels()).toEqual([SMALL]);
  });
});
