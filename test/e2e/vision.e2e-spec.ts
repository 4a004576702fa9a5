/**
 * Vision-aware routing: a request with image_url parts goes only to routes that can take
 * images, arrives there unchanged, and gets a clear 400 when no route of the model (or of the
 * provider the client forced) ever can.
 *
 * `llama-4-scout` (vision) has routes DeepInfra, PollinationsAI (`vision: false` in the
 * catalog), Together and CloudflareAI (whose adapter cannot send images). Priorities put the
 * two that cannot take images first, so a request only reaches a vision route by the filter.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator, type ProviderId, type RecordedRequest } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const MODEL = 'llama-4-scout';
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const IMAGE_MESSAGES = [
  { role: 'system', content: 'You describe images.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'What is in these images?' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
      { type: 'image_url', image_url: { url: PNG } },
    ],
  },
];
const TEXT_MESSAGES = [{ role: 'user', content: 'No pictures here.' }];

const PRIORITY = {
  ROUTING_STRATEGY: 'priority',
  CLOUDFLARE_PRIORITY: '1',
  POLLINATIONS_PRIORITY: '2',
  DEEPINFRA_PRIORITY: '3',
  TOGETHER_PRIORITY: '4',
  HUGGINGFACE_PRIORITY: '5',
};

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

let emu: Emulator;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, PRIORITY);
});

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

const chatCalls = (id: ProviderId): RecordedRequest[] => emu.requests(id).filter((r) => r.method === 'POST');
const messagesOf = (r: RecordedRequest) => (r.body as { messages?: unknown }).messages;

function chat(target: Gateway, body: Record<string, unknown>): Promise<Response> {
  return postJson(`${target.baseURL}/chat/completions`, { model: MODEL, messages: IMAGE_MESSAGES, ...body });
}

async function expectImageError(res: Response, message: RegExp): Promise<ErrorBody> {
  expect(res.status).toBe(400);
  const body = (await res.json()) as ErrorBody;
  expectSchema('ErrorResponse', body);
  expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages', code: 'image_input_not_supported' });
  expect(body.error.message).toMatch(message);
  return body;
}

describe('an image request', () => {
  it('without images, the first route by priority (CloudflareAI) serves', async () => {
    const res = await chat(gw, { messages: TEXT_MESSAGES });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('CloudflareAI');
  });

  it.each([false, true])('lands on the first vision route, never on one that cannot take images (stream: %s)', async (stream) => {
    const res = await chat(gw, { stream });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    if (stream) expect((await readSse(res)).at(-1)).toBe('[DONE]');
    else await res.arrayBuffer();
    expect(chatCalls('cloudflare')).toEqual([]);
    expect(chatCalls('pollinations')).toEqual([]);
    expect(chatCalls('deepinfra')).toHaveLength(1);
  });

  it('reaches the upstream with its image parts unchanged (https and data: URLs)', async () => {
    const res = await chat(gw, {});
    expect(res.status).toBe(200);
    const [sent] = chatCalls('deepinfra');
    expect(messagesOf(sent!)).toEqual(IMAGE_MESSAGES);
  });

  it('fails over only among vision routes', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500 });
    const res = await chat(gw, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    expect(messagesOf(chatCalls('together')[0]!)).toEqual(IMAGE_MESSAGES);
    expect(chatCalls('cloudflare')).toEqual([]);
    expect(chatCalls('pollinations')).toEqual([]);
  });

  it('forced to a provider that cannot take images gets a 400, with no upstream call', async () => {
    await expectImageError(await chat(gw, { provider: 'CloudflareAI' }), /Provider `CloudflareAI` cannot take image input for the model `llama-4-scout`/);
    await expectImageError(await chat(gw, { provider: 'pollinationsai' }), /Provider `PollinationsAI` cannot take image input/);
    expect(emu.requests()).toEqual([]);
    // The same provider serves the same model without images.
    const res = await chat(gw, { provider: 'PollinationsAI', messages: TEXT_MESSAGES });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('PollinationsAI');
  });

  it('forced to a vision route is served there', async () => {
    const res = await chat(gw, { provider: 'Together' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
  });

  it('to a model that does not take images gets a 400, with no upstream call', async () => {
    await expectImageError(await chat(gw, { model: 'llama-3.3-70b' }), /The model `llama-3.3-70b` cannot take image input/);
    await expectImageError(await chat(gw, { model: 'deepseek-r1', stream: true }), /cannot take image input/);
    expect(emu.requests()).toEqual([]);
  });

  it('still reaches a vision model served only by other vision providers (gpt-4o-mini)', async () => {
    const res = await chat(gw, { model: 'gpt-4o-mini' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('PollinationsAI');
    expect(messagesOf(chatCalls('pollinations')[0]!)).toEqual(IMAGE_MESSAGES);
  });
});

describe('when the vision routes are only unavailable', () => {
  let off: Gateway;
  beforeAll(async () => {
    off = await startGateway(emu, { ...PRIORITY, DEEPINFRA_ENABLED: 'false', TOGETHER_ENABLED: 'false' });
  });
  afterAll(() => off?.close());

  it('answers 503 naming why each route was skipped (not a 400: it may work later)', async () => {
    const res = await chat(off, {});
    expect(res.status).toBe(503);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.message).toContain('CloudflareAI: cannot take images');
    expect(body.error.message).toContain('PollinationsAI: cannot take images');
    expect(body.error.message).toContain('DeepInfra: disabled by the operator');
    expect(emu.requests()).toEqual([]);
  });
});

describe('catalog route flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'g4f-vision-'));

  it('a vision model whose every route says `vision: false` gets a 400', async () => {
    const file = join(dir, 'catalog.json');
    writeFileSync(
      file,
      JSON.stringify({
        models: [
          {
            id: 'eyes-closed',
            label: 'Eyes Closed',
            owned_by: 'Test',
            category: 'vision',
            routes: [
              { provider: 'Together', upstream_model: 'meta-llama/Llama-3.2-11B-Vision-Instruct-Turbo', vision: false },
              { provider: 'CloudflareAI', upstream_model: '@cf/meta/llama-3.1-8b-instruct' },
            ],
          },
        ],
      }),
    );
    const custom = await startGateway(emu, { CATALOG_FILE: file });
    try {
      await expectImageError(await chat(custom, { model: 'eyes-closed' }), /None of the providers of `eyes-closed` can take image input/);
      const res = await chat(custom, { model: 'eyes-closed', messages: TEXT_MESSAGES, provider: 'Together' });
      expect(res.status).toBe(200);
    } finally {
      await custom.close();
    }
  });

  it.each([
    ['a route', { provider: 'Together', upstream_model: 'x', vision: 'yes' }, /routes\[0\]\.vision: expected true or false/],
    ['a route pin', { provider: 'Together', upstream_model: 'x', pinned: 1 }, /routes\[0\]\.pinned: expected true or false/],
  ])('a non-boolean flag on %s stops the gateway from starting', async (_name, badRoute, message) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ models: [{ id: 'bad', label: 'Bad', owned_by: 'x', category: 'chat', routes: [badRoute] }] }));
    await expect(startGateway(emu, { CATALOG_FILE: file })).rejects.toThrow(message);
  });
});
