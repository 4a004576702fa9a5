/**
 * `/v1/images/generations` end to end, through the official OpenAI SDK, against the provider
 * emulators: every image provider forced and unforced in both response formats, every catalog
 * image model over each provider that serves it, `n` across one-image-per-call providers,
 * failover on every fault mode, the gateway's own image URLs (content type, expiry, forwarded
 * origin) and the error envelope.
 *
 * ROUTING_STRATEGY=priority makes the order deterministic for `flux-schnell`, which the test
 * catalog (fixtures/media-catalog.yaml) routes to all five providers:
 * PollinationsAI (1) → Together (2) → HuggingFace (3) → DeepInfra (4) → CloudflareAI (5).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import OpenAI from 'openai';
import type { ImageGenerateParamsNonStreaming, ImagesResponse } from 'openai/resources/images';
import type { Subscription } from 'rxjs';
import { PoolEvents, type RequestRecord } from '../../apps/api/src/events/pool-events.service.ts';
import { hexColor, imageColor, inspectImage, startEmulator } from '../emulators/emulator.ts';
import type { Emulator, Fault, FaultMode, ImageInfo, ProviderId, RecordedRequest } from '../emulators/emulator.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

jest.setTimeout(30_000);

const CATALOG_FILE = fileURLToPath(new URL('./fixtures/media-catalog.yaml', import.meta.url));
const MODEL = 'flux-schnell';
const PROMPT = 'a lighthouse at dusk';

interface ProviderCase {
  name: string;
  id: ProviderId;
  upstream: string;
  format: ImageInfo['format'];
  /** Whether the upstream takes width/height (Cloudflare's flux-1-schnell always makes 1024x1024). */
  sized: boolean;
  /** Whether the upstream takes a seed (DeepInfra's OpenAI endpoint does not). */
  seeded: boolean;
}

const PROVIDERS: readonly ProviderCase[] = [
  { name: 'PollinationsAI', id: 'pollinations', upstream: 'flux-schnell', format: 'jpeg', sized: true, seeded: true },
  { name: 'Together', id: 'together', upstream: 'black-forest-labs/FLUX.1-schnell', format: 'png', sized: true, seeded: true },
  { name: 'HuggingFace', id: 'huggingface', upstream: 'black-forest-labs/FLUX.1-schnell', format: 'png', sized: true, seeded: true },
  { name: 'DeepInfra', id: 'deepinfra', upstream: 'black-forest-labs/FLUX-1-schnell', format: 'png', sized: true, seeded: false },
  { name: 'CloudflareAI', id: 'cloudflare', upstream: '@cf/black-forest-labs/flux-1-schnell', format: 'jpeg', sized: false, seeded: true },
];
const [POLLINATIONS, TOGETHER, HUGGINGFACE] = PROVIDERS as [ProviderCase, ProviderCase, ProviderCase, ...ProviderCase[]];

const PRIORITIES = { POLLINATIONS_PRIORITY: '1', TOGETHER_PRIORITY: '2', HUGGINGFACE_PRIORITY: '3', DEEPINFRA_PRIORITY: '4', CLOUDFLARE_PRIORITY: '5' };
const QUIET_BREAKERS = { BREAKER_FAILURE_THRESHOLD: '1000', BREAKER_COOLDOWN_MS: '1', BREAKER_MAX_COOLDOWN_MS: '5', KEY_AUTH_COOLDOWN_MS: '1' };

/** The SDK's params plus the gateway's extensions. */
type ImageParams = ImageGenerateParamsNonStreaming & { provider?: string; seed?: number };

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; attempts?: { provider: string; status: number | null; reason: string }[] };
}

interface CatalogModel {
  id: string;
  category: string;
  routes: { provider: string; upstream_model: string }[];
}

const shippedImageModels = (
  JSON.parse(readFileSync(new URL('../../catalog/models.json', import.meta.url), 'utf8')) as { models: CatalogModel[] }
).models.filter((m) => m.category === 'image' && m.id !== MODEL);

const color = (prompt: string, seed?: number, index = 0) => hexColor(imageColor(prompt, seed, index));

let emu: Emulator;
let gw: Gateway;
let client: OpenAI;
let records: RequestRecord[] = [];
let subscription: Subscription;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, {
    CATALOG_FILE,
    ROUTING_STRATEGY: 'priority',
    ...PRIORITIES,
    ...QUIET_BREAKERS,
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1000',
    UPSTREAM_IDLE_TIMEOUT_MS: '1000',
    UPSTREAM_TIMEOUT_MS: '3000',
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 });
  subscription = gw.app.get(PoolEvents).requests.subscribe((r) => records.push(r));
});

afterAll(async () => {
  subscription?.unsubscribe();
  await gw?.close();
  await emu?.close();
});

beforeEach(() => {
  records = [];
});

afterEach(async () => {
  emu.reset();
  // Lets the 1 ms breaker cooldowns of a failing test run out before the next one.
  await new Promise((r) => setTimeout(r, 10));
});

async function generate(params: ImageParams, c: OpenAI = client) {
  const { data, response } = await c.images.generate(params).withResponse();
  expectSchema('ImagesResponse', data);
  return { data, headers: response.headers };
}

/** The bytes of one returned image: decoded, or downloaded from the gateway's own URL (checking its headers). */
async function bytesOf(image: NonNullable<ImagesResponse['data']>[number], base: string = gw.url): Promise<Buffer> {
  if (image.b64_json !== undefined) {
    expect(image.url).toBeUndefined();
    return Buffer.from(image.b64_json, 'base64');
  }
  expect(image.url).toMatch(new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/v1/images/files/[A-Za-z0-9_-]{32}\\.(png|jpg)$`));
  const res = await fetch(image.url!.replace(base, gw.url));
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const info = inspectImage(bytes);
  expect(res.headers.get('content-type')).toBe(info?.format === 'png' ? 'image/png' : 'image/jpeg');
  expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
  expect(image.url!.endsWith(info?.format === 'png' ? '.png' : '.jpg')).toBe(true);
  return bytes;
}

const imageRequests = (id: ProviderId): RecordedRequest[] =>
  emu.requests(id).filter((r) => (id === 'pollinations' ? r.path.startsWith('/pollinations/image/') : r.method === 'POST'));

async function errorOf(body: unknown, c: Gateway = gw, headers: Record<string, string> = {}): Promise<{ status: number; body: ErrorBody; headers: Headers }> {
  const res = await postJson(`${c.baseURL}/images/generations`, body, headers);
  const json = (await res.json()) as ErrorBody;
  expectSchema('ErrorResponse', json);
  return { status: res.status, body: json, headers: res.headers };
}

// ---------------------------------------------------------------------------------------

describe.each(PROVIDERS)('$name, forced', (p) => {
  it.each(['url', 'b64_json'] as const)('response_format %s: an image of the asked size, mapped to the upstream API', async (format) => {
    const { data, headers } = await generate({ model: MODEL, prompt: PROMPT, size: '512x256', response_format: format, provider: p.name, seed: 42 });
    expect(headers.get('x-pool-provider')).toBe(p.name);
    expect(headers.get('x-pool-upstream-model')).toBe(p.upstream);
    expect(headers.get('x-request-id')).toMatch(/^req_/);
    expect(data.created).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(data.data).toHaveLength(1);

    const info = inspectImage(await bytesOf(data.data![0]!));
    expect(info).toMatchObject({ format: p.format, width: p.sized ? 512 : 1024, height: p.sized ? 256 : 1024 });
    expect(info?.color).toBe(p.seeded ? color(PROMPT, 42) : color(PROMPT, undefined, 0));

    const sent = imageRequests(p.id);
    expect(sent).toHaveLength(1);
    const req = sent[0]!;
    switch (p.id) {
      case 'pollinations': {
        const url = new URL(req.path, 'http://x');
        expect(decodeURIComponent(url.pathname.slice('/pollinations/image/'.length))).toBe(PROMPT);
        expect(Object.fromEntries(url.searchParams)).toEqual({ model: p.upstream, width: '512', height: '256', seed: '42', nologo: 'true' });
        break;
      }
      case 'together':
        expect(req.body).toEqual({ model: p.upstream, prompt: PROMPT, width: 512, height: 256, n: 1, seed: 42, response_format: format });
        expect(req.headers.authorization).toBe('Bearer tg-good-key-0001');
        break;
      case 'huggingface':
        expect(req.path).toBe('/huggingface/hf-inference/models/black-forest-labs/FLUX.1-schnell');
        expect(req.body).toEqual({ inputs: PROMPT, parameters: { width: 512, height: 256, seed: 42 } });
        break;
      case 'deepinfra':
        expect(req.body).toEqual({ model: p.upstream, prompt: PROMPT, size: '512x256', n: 1 });
        break;
      case 'cloudflare':
        expect(req.path).toBe('/cloudflare/client/v4/accounts/acct-123/ai/run/@cf/black-forest-labs/flux-1-schnell');
        expect(req.body).toEqual({ prompt: PROMPT, steps: 4, seed: 42 });
        break;
      default:
        throw new Error(`unexpected provider ${p.id}`);
    }

    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      endpoint: 'images',
      model: MODEL,
      stream: false,
      status: 200,
      provider: p.name,
      upstreamModel: p.upstream,
      usage: null,
      error: null,
    });
    expect(records[0]!.attempts).toEqual([expect.objectContaining({ provider: p.name, status: 200, reason: 'ok' })]);
  });
});

describe('unforced', () => {
  it.each(['url', 'b64_json'] as const)('the first provider by priority answers (%s), defaults n=1 and 1024x1024', async (format) => {
    const { data, headers } = await generate({ model: MODEL, prompt: PROMPT, response_format: format });
    expect(headers.get('x-pool-provider')).toBe('PollinationsAI');
    expect(data.data).toHaveLength(1);
    expect(inspectImage(await bytesOf(data.data![0]!))).toMatchObject({ format: 'jpeg', width: 1024, height: 1024 });
  });

  it('response_format defaults to url, as OpenAI', async () => {
    const { data } = await generate({ model: MODEL, prompt: PROMPT });
    expect(data.data![0]!.url).toBeDefined();
    expect(data.data![0]!.b64_json).toBeUndefined();
  });

  it('a Together URL answer is re-hosted: the client only ever sees the gateway’s URL', async () => {
    const { data } = await generate({ model: MODEL, prompt: PROMPT, provider: 'together', size: '256x256' });
    expect(data.data![0]!.url!.startsWith(`${gw.url}/v1/images/files/`)).toBe(true);
    expect(JSON.stringify(data)).not.toContain(emu.url);
    expect(inspectImage(await bytesOf(data.data![0]!))).toMatchObject({ format: 'png', width: 256, height: 256 });
  });
});

describe('every catalog image model over each provider that serves it', () => {
  const cases = shippedImageModels.flatMap((m) => m.routes.map((r) => ({ model: m.id, provider: r.provider, upstream: r.upstream_model })));

  it('covers all image models of the catalog', () => {
    expect(shippedImageModels.length).toBeGreaterThanOrEqual(12);
    expect(cases.length).toBeGreaterThanOrEqual(19);
  });

  it.each(cases)('$model via $provider', async ({ model, provider, upstream }) => {
    const { data, headers } = await generate({ model, prompt: 'a fox', size: '256x256', response_format: 'b64_json', provider });
    expect(headers.get('x-pool-provider')).toBe(provider);
    expect(headers.get('x-pool-upstream-model')).toBe(upstream);
    expect(inspectImage(await bytesOf(data.data![0]!))).toMatchObject({ width: 256, height: 256 });
  });

  it.each(shippedImageModels)('$id unforced', async (m) => {
    const { data, headers } = await generate({ model: m.id, prompt: 'a fox', size: '256x256', response_format: 'b64_json' });
    expect(m.routes.map((r) => r.provider)).toContain(headers.get('x-pool-provider'));
    expect(inspectImage(await bytesOf(data.data![0]!))).toBeDefined();
  });
});

describe('n', () => {
  it('one-image-per-call providers are called n times, each with its own seed', async () => {
    const { data, headers } = await generate({ model: MODEL, prompt: PROMPT, n: 3, seed: 7, provider: 'PollinationsAI', size: '256x256' });
    expect(headers.get('x-pool-provider')).toBe('PollinationsAI');
    expect(data.data).toHaveLength(3);
    const colors = await Promise.all(data.data!.map(async (img) => inspectImage(await bytesOf(img))?.color));
    expect(colors).toEqual([color(PROMPT, 7), color(PROMPT, 8), color(PROMPT, 9)]);
    expect(new Set(data.data!.map((d) => d.url)).size).toBe(3);
    const seeds = imageRequests('pollinations').map((r) => new URL(r.path, 'http://x').searchParams.get('seed'));
    expect(seeds.sort()).toEqual(['7', '8', '9']);
    expect(records[0]!.attempts.filter((a) => a.status === 200)).toHaveLength(3);
  });

  it('without a seed, n images still differ', async () => {
    const { data } = await generate({ model: MODEL, prompt: PROMPT, n: 4, provider: 'huggingface', size: '256x256', response_format: 'b64_json' });
    const colors = await Promise.all(data.data!.map(async (img) => inspectImage(await bytesOf(img))?.color));
    expect(new Set(colors).size).toBe(4);
    expect(imageRequests('huggingface')).toHaveLength(4);
  });

  it('Together makes up to 4 per call: n=6 is one call for 4 and one for 2', async () => {
    const { data } = await generate({ model: MODEL, prompt: PROMPT, n: 6, seed: 100, provider: 'Together', size: '256x256', response_format: 'b64_json' });
    expect(data.data).toHaveLength(6);
    expect(imageRequests('together').map((r) => (r.body as { n: number; seed: number }).n)).toEqual([4, 2]);
    expect(imageRequests('together').map((r) => (r.body as { n: number; seed: number }).seed)).toEqual([100, 104]);
    const colors = await Promise.all(data.data!.map(async (img) => inspectImage(await bytesOf(img))?.color));
    expect(colors).toEqual([0, 1, 2, 3].map((i) => color(PROMPT, 100, i)).concat([0, 1].map((i) => color(PROMPT, 104, i))));
  });

  it('DeepInfra answers n=2 in one call; Cloudflare needs two', async () => {
    const di = await generate({ model: MODEL, prompt: PROMPT, n: 2, provider: 'DeepInfra', size: '256x256' });
    expect(di.data.data).toHaveLength(2);
    expect(imageRequests('deepinfra')).toHaveLength(1);
    const cf = await generate({ model: MODEL, prompt: PROMPT, n: 2, provider: 'CloudflareAI', response_format: 'b64_json' });
    expect(cf.data.data).toHaveLength(2);
    expect(imageRequests('cloudflare')).toHaveLength(2);
    for (const img of [...di.data.data!, ...cf.data.data!]) expect(inspectImage(await bytesOf(img))).toBeDefined();
  });
});

describe('failover before the answer', () => {
  const faults: Array<{ label: string; mode: FaultMode; status?: number }> = [
    { label: 'HTTP 500', mode: 'status', status: 500 },
    { label: 'HTTP 503', mode: 'status', status: 503 },
    { label: 'HTTP 429', mode: 'status', status: 429 },
    { label: 'HTTP 402', mode: 'status', status: 402 },
    { label: 'an HTML page with 200', mode: 'html200' },
    { label: 'garbage bytes with 200', mode: 'garbage200' },
    { label: 'an empty 200', mode: 'empty200' },
    { label: 'a connection reset', mode: 'reset' },
    { label: 'no answer (timeout)', mode: 'hang' },
    { label: 'a body cut in half', mode: 'midStreamCut' },
  ];

  it.each(faults)('the first provider sends $label: the next one answers', async ({ mode, status }) => {
    emu.addFault({ provider: 'pollinations', mode, status, path: 'image' });
    const { data, headers } = await generate({ model: MODEL, prompt: PROMPT, size: '256x256', response_format: 'b64_json' });
    expect(headers.get('x-pool-provider')).toBe('Together');
    expect(inspectImage(await bytesOf(data.data![0]!))).toMatchObject({ format: 'png', width: 256 });
    const attempts = records[0]!.attempts;
    expect(attempts.map((a) => a.provider)).toEqual(['PollinationsAI', 'Together']);
    expect(attempts[0]!.status).toBe(status ?? null);
    expect(attempts[1]!.status).toBe(200);
  });

  it('Together and DeepInfra sending no image in a 200 fail over too', async () => {
    for (const p of [POLLINATIONS, TOGETHER, HUGGINGFACE]) emu.addFault({ provider: p.id, mode: 'empty200', path: 'image' });
    emu.addFault({ provider: 'deepinfra', mode: 'garbage200', path: 'image' });
    const { headers } = await generate({ model: MODEL, prompt: PROMPT, response_format: 'b64_json' });
    expect(headers.get('x-pool-provider')).toBe('CloudflareAI');
    expect(records[0]!.attempts.map((a) => `${a.provider}:${a.status ?? '-'}`)).toEqual([
      'PollinationsAI:-',
      'Together:-',
      'HuggingFace:-',
      'DeepInfra:-',
      'CloudflareAI:200',
    ]);
  });

  it('a chat fault leaves images alone', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 500 });
    const { headers } = await generate({ model: MODEL, prompt: PROMPT, response_format: 'b64_json' });
    expect(headers.get('x-pool-provider')).toBe('PollinationsAI');
  });

  it('a forced provider that fails is not replaced by another', async () => {
    emu.addFault({ provider: 'huggingface', mode: 'status', status: 500, path: 'image' });
    const { status, body } = await errorOf({ model: MODEL, prompt: PROMPT, provider: 'HuggingFace' });
    expect(status).toBe(502);
    expect(body.error.code).toBe('all_providers_failed');
    // Tried twice: a 500 on the only route left is retried once.
    expect(body.error.attempts!.map((a) => a.provider)).toEqual(['HuggingFace', 'HuggingFace']);
    expect(imageRequests('together')).toHaveLength(0);
  });
});

describe('when every provider fails', () => {
  const everywhere = (fault: Omit<Fault, 'provider'>) => {
    for (const p of PROVIDERS) emu.addFault({ ...fault, provider: p.id, path: 'image' });
  };

  it('502 lists every attempt', async () => {
    everywhere({ mode: 'status', status: 500, message: 'GPU on fire' });
    const { status, body } = await errorOf({ model: MODEL, prompt: PROMPT });
    expect(status).toBe(502);
    expect(body.error).toMatchObject({ type: 'upstream_error', code: 'all_providers_failed' });
    // The last one twice: a 500 on the only route left is retried once.
    expect(body.error.attempts!.map((a) => a.provider)).toEqual([...PROVIDERS.map((p) => p.name), PROVIDERS.at(-1)!.name]);
    for (const p of PROVIDERS) expect(body.error.message).toContain(p.name);
    expect(body.error.message).toContain('GPU on fire');
    expect(records[0]).toMatchObject({ endpoint: 'images', status: 502, provider: null });
    expect(records[0]!.attempts).toHaveLength(PROVIDERS.length + 1);
  });

  it('429 with the soonest Retry-After when all are rate-limited', async () => {
    // Retry-After cools every key for real, so this runs on a gateway of its own.
    const own = await startGateway(emu, { CATALOG_FILE });
    try {
      everywhere({ mode: 'status', status: 429, retryAfter: 7 });
      const { status, body, headers } = await errorOf({ model: MODEL, prompt: PROMPT }, own);
      expect(status).toBe(429);
      expect(body.error.code).toBe('rate_limit_exceeded');
      expect(body.error.attempts).toHaveLength(5);
      expect(headers.get('retry-after')).toBe('7');
      // Until then, the pool says when to come back instead of calling anyone.
      const again = await errorOf({ model: MODEL, prompt: PROMPT }, own);
      expect(again.status).toBe(503);
      expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await own.close();
    }
  });

  it('504 when all time out', async () => {
    everywhere({ mode: 'hang' });
    const { status, body } = await errorOf({ model: MODEL, prompt: PROMPT, response_format: 'b64_json' });
    expect(status).toBe(504);
    expect(body.error.code).toBe('upstream_timeout');
  });

  it('the SDK raises an APIError with the status', async () => {
    everywhere({ mode: 'html200' });
    const err: unknown = await client.images.generate({ model: MODEL, prompt: PROMPT }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });
});

describe('bad requests', () => {
  const cases: Array<{ label: string; body: Record<string, unknown>; status: number; param: string | null; code: string }> = [
    { label: 'no prompt', body: { model: MODEL }, status: 400, param: 'prompt', code: 'invalid_value' },
    { label: 'an empty prompt', body: { model: MODEL, prompt: '' }, status: 400, param: 'prompt', code: 'invalid_value' },
    { label: 'n = 0', body: { model: MODEL, prompt: PROMPT, n: 0 }, status: 400, param: 'n', code: 'invalid_value' },
    { label: 'n = 11', body: { model: MODEL, prompt: PROMPT, n: 11 }, status: 400, param: 'n', code: 'invalid_value' },
    { label: 'n = 1.5', body: { model: MODEL, prompt: PROMPT, n: 1.5 }, status: 400, param: 'n', code: 'invalid_value' },
    { label: 'size = "big"', body: { model: MODEL, prompt: PROMPT, size: 'big' }, status: 400, param: 'size', code: 'invalid_value' },
    { label: 'size = "9000x9000"', body: { model: MODEL, prompt: PROMPT, size: '9000x9000' }, status: 400, param: 'size', code: 'invalid_value' },
    {
      label: 'response_format = "png"',
      body: { model: MODEL, prompt: PROMPT, response_format: 'png' },
      status: 400,
      param: 'response_format',
      code: 'invalid_value',
    },
    { label: 'quality = "ultra"', body: { model: MODEL, prompt: PROMPT, quality: 'ultra' }, status: 400, param: 'quality', code: 'invalid_value' },
    { label: 'an unknown model', body: { model: 'dall-e-9', prompt: PROMPT }, status: 404, param: 'model', code: 'model_not_found' },
    { label: 'a chat model', body: { model: 'gpt-4o-mini', prompt: PROMPT }, status: 400, param: 'model', code: 'model_not_supported' },
    { label: 'a speech model', body: { model: 'gpt-4o-mini-tts', prompt: PROMPT }, status: 400, param: 'model', code: 'model_not_supported' },
    { label: 'an unknown provider', body: { model: MODEL, prompt: PROMPT, provider: 'Nope' }, status: 400, param: 'provider', code: 'unknown_provider' },
    {
      label: 'a provider that does not serve the model',
      body: { model: 'sd-3.5-large', prompt: PROMPT, provider: 'Together' },
      status: 400,
      param: 'provider',
      code: 'provider_model_mismatch',
    },
  ];

  it.each(cases)('$label → $status naming `$param`', async ({ body, status, param, code }) => {
    const res = await errorOf(body);
    expect(res.status).toBe(status);
    expect(res.body.error.param).toBe(param);
    expect(res.body.error.code).toBe(code);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    // Refused before any provider was called.
    expect(PROVIDERS.flatMap((p) => imageRequests(p.id))).toHaveLength(0);
  });

  it('the SDK raises BadRequestError for a bad size', async () => {
    const err: unknown = await client.images.generate({ model: MODEL, prompt: PROMPT, size: '12x12' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('chat refuses an image model', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.param).toBe('model');
  });

  it('an unknown or malformed image file is a 404 in the error envelope', async () => {
    for (const name of ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.png', 'nope.png', '..%2F..%2Fetc%2Fpasswd']) {
      const res = await fetch(`${gw.baseURL}/images/files/${name}`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as ErrorBody;
      expectSchema('ErrorResponse', body);
      expect(body.error.code).toBe('image_not_found');
    }
  });
});

describe('a later call of an n-image request fails over on its own', () => {
  let gw2: Gateway;
  beforeAll(async () => {
    gw2 = await startGateway(emu, {
      CATALOG_FILE,
      ROUTING_STRATEGY: 'priority',
      ...PRIORITIES,
      ...QUIET_BREAKERS,
      TOGETHER_API_KEY: 'tg-key-a,tg-key-b',
    });
  });
  afterAll(() => gw2?.close());

  it('Together makes the first 4, fails on its second key, HuggingFace and Together make the rest', async () => {
    emu.addFault({ provider: 'together', mode: 'status', status: 500, key: 'tg-key-b', path: 'image', times: 1 });
    const c = new OpenAI({ baseURL: gw2.baseURL, apiKey: 'x', maxRetries: 0 });
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 500, path: 'image' });
    const { data, headers } = await generate({ model: MODEL, prompt: PROMPT, n: 6, size: '256x256', response_format: 'b64_json' }, c);
    expect(data.data).toHaveLength(6);
    expect(headers.get('x-pool-provider')).toBe('Together, HuggingFace');
    expect(headers.get('x-pool-upstream-model')).toBe('black-forest-labs/FLUX.1-schnell, black-forest-labs/FLUX.1-schnell');
    const together = imageRequests('together');
    expect(together.map((r) => [r.headers.authorization, (r.body as { n: number }).n])).toEqual([
      ['Bearer tg-key-a', 4],
      ['Bearer tg-key-b', 2],
      ['Bearer tg-key-a', 1],
    ]);
    expect(imageRequests('huggingface')).toHaveLength(1);
    for (const img of data.data!) expect(inspectImage(await bytesOf(img, gw2.url))).toMatchObject({ width: 256 });
  });
});

describe('image URLs: API key, expiry and origin', () => {
  let secured: Gateway;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'g4f-images-'));
    // TRUST_PROXY: the test's requests come from loopback, as from a reverse proxy on this machine.
    secured = await startGateway(emu, { DATA_DIR: dataDir, API_KEY: 'sk-pool', IMAGE_URL_TTL_SECONDS: '1', TRUST_PROXY: 'loopback' });
  });
  afterAll(() => secured?.close());

  it('generating needs the key; the image URL does not; it expires and the file is deleted', async () => {
    const anonymous = await errorOf({ model: MODEL, prompt: PROMPT }, secured);
    expect(anonymous.status).toBe(401);

    const c = new OpenAI({ baseURL: secured.baseURL, apiKey: 'sk-pool', maxRetries: 0 });
    const { data } = await generate({ model: MODEL, prompt: PROMPT, provider: 'pollinations', size: '256x256' }, c);
    const url = data.data![0]!.url!;
    expect(url.startsWith(`${secured.url}/v1/images/files/`)).toBe(true);
    const name = url.slice(url.lastIndexOf('/') + 1);
    expect(existsSync(join(dataDir, 'images', name))).toBe(true);

    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(Number(/max-age=(\d+)/.exec(served.headers.get('cache-control') ?? '')?.[1])).toBeLessThanOrEqual(1);
    expect(inspectImage(Buffer.from(await served.arrayBuffer()))).toMatchObject({ format: 'jpeg', width: 256 });

    await new Promise((r) => setTimeout(r, 1100));
    const expired = await fetch(url);
    expect(expired.status).toBe(404);
    expectSchema('ErrorResponse', await expired.json());

    // The sweeper removes files nobody asks for again.
    const second = await generate({ model: MODEL, prompt: 'another', provider: 'pollinations', size: '256x256' }, c);
    const other = second.data.data![0]!.url!.split('/').pop()!;
    expect(existsSync(join(dataDir, 'images', other))).toBe(true);
    const deadline = Date.now() + 4000;
    while (existsSync(join(dataDir, 'images', other)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(join(dataDir, 'images'))).toEqual([]);
  });

  it('URLs use the origin a trusted reverse proxy forwards (TRUST_PROXY)', async () => {
    const res = await postJson(
      `${secured.baseURL}/images/generations`,
      { model: MODEL, prompt: PROMPT, provider: 'pollinations', size: '256x256' },
      { authorization: 'Bearer sk-pool', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'images.example.com' },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as ImagesResponse;
    expectSchema('ImagesResponse', body);
    const url = body.data![0]!.url!;
    expect(url).toMatch(/^https:\/\/images\.example\.com\/v1\/images\/files\/[A-Za-z0-9_-]{32}\.jpg$/);
    expect((await fetch(url.replace('https://images.example.com', secured.url))).status).toBe(200);
  });

  it('PUBLIC_BASE_URL wins over the request origin', async () => {
    const pub = await startGateway(emu, { PUBLIC_BASE_URL: 'https://cdn.example.com/pool/' });
    try {
      const res = await postJson(
        `${pub.baseURL}/images/generations`,
        { model: MODEL, prompt: PROMPT, provider: 'pollinations' },
        { 'x-forwarded-host': 'other.example.com' },
      );
      const body = (await res.json()) as ImagesResponse;
      expect(body.data![0]!.url).toMatch(/^https:\/\/cdn\.example\.com\/pool\/v1\/images\/files\/[A-Za-z0-9_-]{32}\.jpg$/);
    } finally {
      await pub.close();
    }
  });
});
