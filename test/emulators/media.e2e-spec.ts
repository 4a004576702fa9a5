import { crc32, inflateSync } from 'node:zlib';
import { hexColor, imageColor, inspectImage, sniffAudio, SPEECH_VOICES, startEmulator } from './emulator.ts';
import type { Emulator } from './emulator.ts';
import { encodeImage } from './image-codec.ts';
import { decodeFlatJpeg } from './jpeg-check.ts';

const ACCOUNT = 'acc123';
const CF_FLUX = '@cf/black-forest-labs/flux-1-schnell';
const CF_CHAT = '@cf/meta/llama-3.3-70b-instruct-fp8-fast';
const IMAGE_MODELS = {
  pollinations: 'flux',
  together: 'black-forest-labs/FLUX.1-schnell',
  deepinfra: 'black-forest-labs/FLUX-1-schnell',
  huggingface: 'black-forest-labs/FLUX.1-schnell',
  cloudflare: CF_FLUX,
} as const;
type ImageProvider = keyof typeof IMAGE_MODELS;

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterAll(async () => {
  await emu.close();
});
afterEach(() => emu.reset());

// Fixed lists keep these tests independent of the editable catalog; one test checks the defaults.
beforeEach(() => {
  emu.setModels('pollinations', ['openai', 'openai-audio', 'flux', 'gptimage']);
  emu.setModels('together', ['meta-llama/Llama-3.3-70B-Instruct-Turbo', IMAGE_MODELS.together]);
  emu.setModels('deepinfra', ['meta-llama/Llama-3.3-70B-Instruct-Turbo', IMAGE_MODELS.deepinfra]);
  emu.setModels('huggingface', ['meta-llama/Llama-3.3-70B-Instruct', IMAGE_MODELS.huggingface]);
  emu.setModels('cloudflare', [CF_CHAT, CF_FLUX]);
});

interface Auth {
  key?: string | null;
  signal?: AbortSignal;
}

function headers(key: string | null | undefined): Record<string, string> {
  const k = key === undefined ? 'good-key' : key;
  return { 'content-type': 'application/json', ...(k === null ? {} : { authorization: `Bearer ${k}` }) };
}

function post(url: string, body: unknown, auth: Auth = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: headers(auth.key), body: JSON.stringify(body), signal: auth.signal });
}

function pollinationsImage(prompt: string, query: Record<string, string> = {}, auth: Auth = {}): Promise<Response> {
  const qs = new URLSearchParams({ model: 'flux', width: '64', height: '48', nologo: 'true', ...query });
  return fetch(`${emu.baseUrl('pollinations')}/image/${encodeURIComponent(prompt)}?${qs}`, {
    headers: auth.key ? { authorization: `Bearer ${auth.key}` } : {},
    signal: auth.signal,
  });
}

const togetherImages = (body: Record<string, unknown>, auth?: Auth): Promise<Response> =>
  post(`${emu.baseUrl('together')}/images/generations`, { model: IMAGE_MODELS.together, prompt: 'a red fox', ...body }, auth);

const deepinfraImages = (body: Record<string, unknown>, auth?: Auth): Promise<Response> =>
  post(`${emu.baseUrl('deepinfra')}/images/generations`, { model: IMAGE_MODELS.deepinfra, prompt: 'a red fox', ...body }, auth);

const hfImage = (body: Record<string, unknown>, model: string = IMAGE_MODELS.huggingface, auth?: Auth): Promise<Response> =>
  post(`${emu.baseUrl('huggingface')}/hf-inference/models/${model}`, { inputs: 'a red fox', ...body }, auth);

const cfRun = (model: string, body: Record<string, unknown>, auth?: Auth): Promise<Response> =>
  post(`${emu.baseUrl('cloudflare')}/accounts/${ACCOUNT}/ai/run/${model}`, body, auth);

const speech = (body: Record<string, unknown>, auth?: Auth): Promise<Response> =>
  post(`${emu.baseUrl('pollinations')}/v1/audio/speech`, { model: 'openai-audio', input: 'Hello there', voice: 'alloy', ...body }, auth);

/** One request per provider's image endpoint, for tests that treat them alike. */
function imageRequest(provider: ImageProvider, auth?: Auth): Promise<Response> {
  switch (provider) {
    case 'pollinations':
      return pollinationsImage('a red fox', {}, auth);
    case 'together':
      return togetherImages({}, auth);
    case 'deepinfra':
      return deepinfraImages({}, auth);
    case 'huggingface':
      return hfImage({}, undefined, auth);
    case 'cloudflare':
      return cfRun(CF_FLUX, { prompt: 'a red fox' }, auth);
  }
}

async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

/** Checks a PNG the hard way: signature, every chunk's CRC, and an IDAT that inflates to the rows IHDR promises. */
function decodePng(png: Buffer): { width: number; height: number; palette: string } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  const chunks: { type: string; data: Buffer }[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    expect(png.readUInt32BE(offset + 8 + length)).toBe(crc32(png.subarray(offset + 4, offset + 8 + length)));
    chunks.push({ type, data });
    offset += 12 + length;
  }
  expect(chunks[0].type).toBe('IHDR');
  expect(chunks.at(-1)?.type).toBe('IEND');
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  expect([ihdr[8], ihdr[9]]).toEqual([1, 3]); // 1-bit palette
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  expect(raw.length).toBe(height * (1 + Math.ceil(width / 8)));
  const plte = chunks.find((c) => c.type === 'PLTE')?.data ?? Buffer.alloc(3);
  return { width, height, palette: hexColor([plte[0], plte[1], plte[2]]) };
}

/** Walks a JPEG's marker segments from SOI to SOS and checks it ends in EOI; returns the SOF size. */
function decodeJpegHeader(jpeg: Buffer): { width: number; height: number } {
  expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
  expect([jpeg.at(-2), jpeg.at(-1)]).toEqual([0xff, 0xd9]);
  let offset = 2;
  const markers: number[] = [];
  let size = { width: 0, height: 0 };
  for (;;) {
    expect(jpeg[offset]).toBe(0xff);
    const marker = jpeg[offset + 1];
    markers.push(marker);
    if (marker === 0xc0) size = { height: jpeg.readUInt16BE(offset + 5), width: jpeg.readUInt16BE(offset + 7) };
    if (marker === 0xda) break;
    offset += 2 + jpeg.readUInt16BE(offset + 2);
  }
  expect(markers).toEqual(expect.arrayContaining([0xdb, 0xc0, 0xc4, 0xda]));
  return size;
}

/** Decodes every block and checks the picture is the one flat colour expected (JPEG rounding allows ±2). */
function expectFlatJpeg(jpeg: Buffer, width: number, height: number, rgb: readonly number[]): void {
  const decoded = decodeFlatJpeg(jpeg);
  expect([decoded.width, decoded.height, decoded.blocks]).toEqual([width, height, Math.ceil(width / 8) * Math.ceil(height / 8)]);
  expect(decoded.colors).toHaveLength(1);
  const got = [1, 3, 5].map((i) => parseInt(decoded.colors[0].slice(i, i + 2), 16));
  got.forEach((channel, i) => expect(Math.abs(channel - rgb[i])).toBeLessThanOrEqual(2));
}

describe('image encoders', () => {
  // [0, 65, 60] puts a 0xFF byte in the entropy data, which must be stuffed.
  const colors = [
    [0, 0, 0],
    [255, 255, 255],
    [255, 0, 0],
    [0, 65, 60],
    [18, 178, 50],
  ] as const;
  const sizes = [
    [1, 1],
    [13, 7],
    [8, 8],
    [33, 65],
  ] as const;

  it.each(colors)('JPEG and PNG of rgb(%i, %i, %i) decode to that flat colour at every size', (r, g, b) => {
    for (const [w, h] of sizes) {
      expectFlatJpeg(encodeImage('jpeg', w, h, [r, g, b]), w, h, [r, g, b]);
      expect(decodePng(encodeImage('png', w, h, [r, g, b]))).toEqual({ width: w, height: h, palette: hexColor([r, g, b]) });
    }
  });
});

describe('images: wire shapes', () => {
  it('pollinations: GET /image/{prompt} answers raw JPEG of the asked size, anonymously, colour from the prompt', async () => {
    const res = await pollinationsImage('a red cat / on a mat', { seed: '7' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = await bytes(res);
    expect(Number(res.headers.get('content-length'))).toBe(jpeg.length);
    expect(decodeJpegHeader(jpeg)).toEqual({ width: 64, height: 48 });
    expectFlatJpeg(jpeg, 64, 48, imageColor('a red cat / on a mat', 7));
    expect(inspectImage(jpeg)).toEqual({ format: 'jpeg', width: 64, height: 48, color: hexColor(imageColor('a red cat / on a mat', 7)) });

    const other = inspectImage(await bytes(await pollinationsImage('a blue dog', { seed: '7' })));
    expect(other?.color).not.toBe(hexColor(imageColor('a red cat / on a mat', 7)));

    const [recorded] = emu.requests('pollinations');
    expect(recorded.method).toBe('GET');
    expect(recorded.path).toBe('/pollinations/image/a%20red%20cat%20%2F%20on%20a%20mat?model=flux&width=64&height=48&nologo=true&seed=7');
  });

  it('pollinations: defaults to flux at 1024x1024 and checks the model and its parameters', async () => {
    const res = await fetch(`${emu.baseUrl('pollinations')}/image/hello`);
    expect(inspectImage(await bytes(res))).toMatchObject({ width: 1024, height: 1024 });

    const unknown = await pollinationsImage('x', { model: 'no-such-model' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ status: 404, success: false, error: { code: 'NOT_FOUND', message: 'Model not found: no-such-model' } });
    const chatModel = await pollinationsImage('x', { model: 'openai' });
    expect(chatModel.status).toBe(400);
    expect(((await chatModel.json()) as { error: { message: string } }).error.message).toBe('Model openai does not support image generation');
    expect((await pollinationsImage('x', { width: 'wide' })).status).toBe(400);
  });

  it('together: b64_json answers n PNGs in {id, model, object, data:[{index, b64_json}]}', async () => {
    const res = await togetherImages({ width: 32, height: 16, steps: 4, n: 2, seed: 5, response_format: 'b64_json' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; model: string; object: string; data: { index: number; b64_json: string }[] };
    expect(Object.keys(body).sort()).toEqual(['data', 'id', 'model', 'object']);
    expect(body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{24}$/), model: IMAGE_MODELS.together, object: 'list' });
    expect(body.data.map((d) => Object.keys(d).sort())).toEqual([
      ['b64_json', 'index'],
      ['b64_json', 'index'],
    ]);
    expect(body.data.map((d) => d.index)).toEqual([0, 1]);
    const decoded = body.data.map((d) => decodePng(Buffer.from(d.b64_json, 'base64')));
    expect(decoded.map((d) => [d.width, d.height])).toEqual([
      [32, 16],
      [32, 16],
    ]);
    expect(decoded.map((d) => d.palette)).toEqual([hexColor(imageColor('a red fox', 5, 0)), hexColor(imageColor('a red fox', 5, 1))]);
  });

  it('together: url answers point at the emulator, fetchable without a key, gone after reset()', async () => {
    const res = await togetherImages({ width: 24, height: 24 });
    const body = (await res.json()) as { data: { index: number; url: string }[] };
    expect(body.data).toEqual([{ index: 0, url: expect.stringMatching(new RegExp(`^${emu.url}/together/files/[0-9a-f]{24}\\.png$`)) }]);
    const file = await fetch(body.data[0].url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(decodePng(await bytes(file))).toMatchObject({ width: 24, height: 24, palette: hexColor(imageColor('a red fox')) });
    // The CDN fetch is not an API call.
    expect(emu.requests('together')).toHaveLength(1);

    emu.reset();
    expect((await fetch(body.data[0].url)).status).toBe(404);
  });

  it('together: validates n, response_format and the model', async () => {
    expect((await togetherImages({ n: 5 })).status).toBe(400);
    expect((await togetherImages({ response_format: 'png' })).status).toBe(400);
    expect((await togetherImages({ prompt: '' })).status).toBe(400);
    const unknown = await togetherImages({ model: 'black-forest-labs/FLUX.1-nope' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string; code: string } }).error).toMatchObject({
      message: expect.stringContaining('Unable to access model black-forest-labs/FLUX.1-nope'),
      code: 'model_not_found',
    });
    expect((await togetherImages({ model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' })).status).toBe(400);
  });

  it('deepinfra: answers {created, data:[{b64_json}]} with n images of `size`, b64 by default', async () => {
    const res = await deepinfraImages({ size: '40x20', n: 3 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { created: number; data: { b64_json: string }[] };
    expect(Object.keys(body).sort()).toEqual(['created', 'data']);
    expect(body.created).toBeGreaterThan(1_700_000_000);
    expect(body.data).toHaveLength(3);
    expect(body.data.every((d) => Object.keys(d).join() === 'b64_json')).toBe(true);
    for (const d of body.data) expect(decodePng(Buffer.from(d.b64_json, 'base64'))).toMatchObject({ width: 40, height: 20 });

    const url = (await (await deepinfraImages({ response_format: 'url' })).json()) as { data: { url: string }[] };
    expect(url.data[0].url).toMatch(/^data:image\/png;base64,/);
    expect(inspectImage(Buffer.from(url.data[0].url.split(',')[1], 'base64'))).toMatchObject({ format: 'png', width: 1024, height: 1024 });

    expect((await deepinfraImages({ size: 'big' })).status).toBe(400);
  });

  it('huggingface: hf-inference answers raw PNG sized by parameters, the model from the path', async () => {
    const res = await hfImage({ parameters: { width: 48, height: 32, seed: 9, num_inference_steps: 4 } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(decodePng(await bytes(res))).toEqual({ width: 48, height: 32, palette: hexColor(imageColor('a red fox', 9)) });
    expect(emu.requests('huggingface')[0]).toMatchObject({
      path: `/huggingface/hf-inference/models/${IMAGE_MODELS.huggingface}`,
      body: { inputs: 'a red fox', parameters: { width: 48, height: 32, seed: 9, num_inference_steps: 4 } },
    });

    const unknown = await hfImage({}, 'stabilityai/nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'Model stabilityai/nope is not supported by any provider you have enabled.' });
    expect((await hfImage({ inputs: 42 })).status).toBe(400);
  });

  it('cloudflare: an image model on /ai/run answers base64 JPEG in the Workers AI envelope; chat still works there', async () => {
    const res = await cfRun(CF_FLUX, { prompt: 'a red fox', steps: 4 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { image: string }; success: boolean; errors: unknown[]; messages: unknown[] };
    expect(Object.keys(body).sort()).toEqual(['errors', 'messages', 'result', 'success']);
    expect(Object.keys(body.result)).toEqual(['image']);
    expect(body).toMatchObject({ success: true, errors: [], messages: [] });
    const jpeg = Buffer.from(body.result.image, 'base64');
    expect(decodeJpegHeader(jpeg)).toEqual({ width: 1024, height: 1024 });
    expectFlatJpeg(jpeg, 1024, 1024, imageColor('a red fox'));

    const chatRes = await cfRun(CF_CHAT, { messages: [{ role: 'user', content: 'hi' }] });
    expect(((await chatRes.json()) as { result: { response: string } }).result.response).toContain('Hello from cloudflare');
  });

  it('cloudflare: rejects bad input with 5006 and an unknown image model with 5007', async () => {
    const steps = await cfRun(CF_FLUX, { prompt: 'x', steps: 9 });
    expect(steps.status).toBe(400);
    expect(((await steps.json()) as { errors: { code: number }[] }).errors[0].code).toBe(5006);
    expect(((await (await cfRun(CF_FLUX, { steps: 4 })).json()) as { errors: { code: number }[] }).errors[0].code).toBe(5006);
    const unknown = await cfRun('@cf/black-forest-labs/flux-9', { prompt: 'x' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({
      success: false,
      errors: [{ code: 5007, message: 'No such model @cf/black-forest-labs/flux-9 or task' }],
      result: null,
    });
  });
});

describe('images: auth', () => {
  it.each(['together', 'deepinfra', 'huggingface', 'cloudflare'] as const)('%s needs a key', async (provider) => {
    const res = await imageRequest(provider, { key: null });
    expect(res.status).toBe(401);
    expect(emu.requests(provider)).toHaveLength(1);
  });

  it('answers 401 in each provider shape, and pollinations takes an optional key', async () => {
    expect(await (await imageRequest('huggingface', { key: null })).json()).toEqual({ error: 'Invalid credentials in Authorization header' });
    expect(await (await imageRequest('cloudflare', { key: null })).json()).toMatchObject({ success: false, errors: [{ code: 10000 }] });
    expect((await imageRequest('pollinations', { key: 'sk_live' })).status).toBe(200);
    const bad = await imageRequest('pollinations', { key: 'bad-key' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
    expect((await imageRequest('together', { key: 'broke-1' })).status).toBe(402);
  });
});

describe('speech (pollinations)', () => {
  const FORMATS: [string, string, (b: Buffer) => boolean][] = [
    ['mp3', 'audio/mpeg', (b) => b[0] === 0xff && b[1] === 0xfb && b.length % 96 === 0],
    ['opus', 'audio/opus', (b) => b.toString('latin1', 0, 4) === 'OggS' && b.toString('latin1', 28, 36) === 'OpusHead'],
    ['aac', 'audio/aac', (b) => b[0] === 0xff && b[1] === 0xf1 && ((b[3] & 3) << 11) + (b[4] << 3) + (b[5] >> 5) === 11],
    ['flac', 'audio/flac', (b) => b.toString('latin1', 0, 4) === 'fLaC' && b[4] === 0x80 && b[7] === 34],
    ['wav', 'audio/wav', (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 16) === 'WAVEfmt ' && b.readUInt32LE(40) === b.length - 44],
    ['pcm', 'audio/pcm', (b) => b.length % 2 === 0 && b.length > 0],
  ];

  it.each(FORMATS)('%s comes back as %s with that container', async (format, contentType, check) => {
    const res = await speech({ response_format: format });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(contentType);
    const audio = await bytes(res);
    expect(Number(res.headers.get('content-length'))).toBe(audio.length);
    expect(check(audio)).toBe(true);
    expect(sniffAudio(audio)).toBe(format === 'pcm' ? undefined : format);
  });

  it('defaults to mp3, grows with the input and shrinks with speed', async () => {
    const short = await speech({});
    expect(short.headers.get('content-type')).toBe('audio/mpeg');
    const sizes = async (body: Record<string, unknown>): Promise<number> => (await bytes(await speech({ response_format: 'wav', ...body }))).length;
    const one = await sizes({ input: 'Hello' });
    const two = await sizes({ input: 'Hello!' });
    const long = await sizes({ input: 'Hello there, how are you doing today?' });
    expect(two).toBeGreaterThan(one);
    expect(long).toBeGreaterThan(two);
    expect(await sizes({ input: 'Hello there, how are you doing today?', speed: 2 })).toBeLessThan(long);
    expect(emu.requests('pollinations').at(-1)?.body).toEqual({
      model: 'openai-audio',
      input: 'Hello there, how are you doing today?',
      voice: 'alloy',
      response_format: 'wav',
      speed: 2,
    });
  });

  it('accepts every documented voice and rejects others in the Pollinations shape', async () => {
    expect(SPEECH_VOICES).toEqual(['alloy', 'echo', 'fable', 'onyx', 'nova', 'shimmer', 'ash', 'ballad', 'coral', 'sage', 'verse']);
    const statuses = await Promise.all(SPEECH_VOICES.map(async (voice) => (await speech({ voice })).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const bad = await speech({ voice: 'robot' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      status: 400,
      success: false,
      error: { code: 'BAD_REQUEST', message: `Invalid voice: robot. Supported voices: ${SPEECH_VOICES.join(', ')}` },
    });
  });

  it('validates input, format, speed and model; the key is optional', async () => {
    expect((await speech({ input: '' })).status).toBe(400);
    expect((await speech({ input: 'x'.repeat(4097) })).status).toBe(400);
    expect((await speech({ response_format: 'ogg' })).status).toBe(400);
    expect((await speech({ speed: 5 })).status).toBe(400);
    expect((await speech({ model: 'tts-9' })).status).toBe(404);
    expect((await speech({ model: 'flux' })).status).toBe(400);
    expect((await speech({}, { key: null })).status).toBe(200);
    expect((await speech({}, { key: 'broke-9' })).status).toBe(402);
  });
});

describe('model lists and setModels', () => {
  it('lists each provider image model by default, Together typed "image" and Cloudflare as Text-to-Image', async () => {
    emu.reset();
    const auth = { headers: { authorization: 'Bearer k' } };
    const ids = async (url: string, pick: (body: unknown) => string[]): Promise<string[]> => pick(await (await fetch(url, auth)).json());
    const data = (b: unknown): string[] => (b as { data: { id: string }[] }).data.map((m) => m.id);
    expect(await ids(`${emu.baseUrl('pollinations')}/v1/models`, data)).toEqual(
      expect.arrayContaining(['flux', 'kontext', 'gptimage', 'turbo', 'openai-audio']),
    );
    expect(await ids(`${emu.baseUrl('deepinfra')}/models`, data)).toContain(IMAGE_MODELS.deepinfra);
    expect(await ids(`${emu.baseUrl('huggingface')}/v1/models`, data)).toContain(IMAGE_MODELS.huggingface);

    const together = (await (await fetch(`${emu.baseUrl('together')}/models`, auth)).json()) as { id: string; type: string }[];
    expect(together.find((m) => m.id === IMAGE_MODELS.together)?.type).toBe('image');
    const cf = (await (await fetch(`${emu.baseUrl('cloudflare')}/accounts/${ACCOUNT}/ai/models/search`, auth)).json()) as {
      result: { name: string; task: { name: string } }[];
    };
    expect(cf.result.find((m) => m.name === CF_FLUX)?.task.name).toBe('Text-to-Image');

    // The defaults are not just listed but served.
    for (const provider of Object.keys(IMAGE_MODELS) as ImageProvider[]) expect([provider, (await imageRequest(provider)).status]).toEqual([provider, 200]);
  });

  it.each(Object.keys(IMAGE_MODELS) as ImageProvider[])('%s: an image model removed by setModels is an unknown model', async (provider) => {
    expect((await imageRequest(provider)).status).toBe(200);
    emu.setModels(provider, ['something/else']);
    const res = await imageRequest(provider);
    expect(res.status).toBe(provider === 'cloudflare' ? 400 : 404);
    expect(JSON.stringify(await res.json())).toContain(IMAGE_MODELS[provider]);
  });

  it('setModels governs the speech endpoint too', async () => {
    emu.setModels('pollinations', ['openai']);
    expect((await speech({})).status).toBe(404);
    expect((await speech({ model: 'openai' })).status).toBe(200);
  });
});

describe('faults on image and speech', () => {
  it('status with Retry-After hits only the endpoint kind it names', async () => {
    emu.addFault({ provider: 'together', mode: 'status', status: 429, retryAfter: 3, path: 'image', times: 1 });
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 503 });
    const chatRes = await post(`${emu.baseUrl('together')}/chat/completions`, {
      model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chatRes.status).toBe(200);
    const limited = await imageRequest('together');
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '3']);
    expect(await limited.json()).toEqual({ error: { message: 'Rate limit exceeded', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
    expect((await imageRequest('together')).status).toBe(200);
    // A fault without a path stays on chat.
    expect((await imageRequest('deepinfra')).status).toBe(200);
  });

  it('matches image faults by the model in the query or path', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 500, path: 'image', model: 'gptimage' });
    emu.addFault({ provider: 'cloudflare', mode: 'status', status: 429, path: 'image', model: CF_FLUX });
    expect((await pollinationsImage('x')).status).toBe(200);
    expect((await pollinationsImage('x', { model: 'gptimage' })).status).toBe(500);
    expect(((await (await imageRequest('cloudflare')).json()) as { errors: { code: number }[] }).errors[0].code).toBe(3036);
    expect((await cfRun(CF_CHAT, { messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
  });

  it('hang and reset apply to speech and images', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'hang', path: 'speech', times: 1 });
    emu.addFault({ provider: 'huggingface', mode: 'reset', path: 'image', times: 1 });
    await expect(speech({}, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    await expect(imageRequest('huggingface')).rejects.toThrow();
    expect((await speech({})).status).toBe(200);
    expect((await imageRequest('huggingface')).status).toBe(200);
  });

  it('html200, garbage200 and empty200 imitate each endpoint with useless 200s', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'html200', path: 'image', times: 1 });
    emu.addFault({ provider: 'huggingface', mode: 'garbage200', path: 'image', times: 1 });
    emu.addFault({ provider: 'deepinfra', mode: 'garbage200', path: 'image', times: 1 });
    emu.addFault({ provider: 'together', mode: 'empty200', path: 'image', times: 1 });
    emu.addFault({ provider: 'pollinations', mode: 'empty200', path: 'speech', times: 1 });

    const html = await imageRequest('pollinations');
    expect([html.status, html.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const garbage = await imageRequest('huggingface');
    expect([garbage.status, garbage.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(inspectImage(await bytes(garbage))).toBeUndefined();
    const garbageJson = await imageRequest('deepinfra');
    await expect(garbageJson.json()).rejects.toThrow();
    expect(await (await imageRequest('together')).json()).toEqual({ object: 'list', data: [] });
    const empty = await speech({ response_format: 'flac' });
    expect([empty.status, empty.headers.get('content-type'), (await bytes(empty)).length]).toEqual([200, 'audio/flac', 0]);
  });

  it('slowFirstByte delays an image, midStreamCut cuts it half way', async () => {
    emu.addFault({ provider: 'cloudflare', mode: 'slowFirstByte', delayMs: 120, path: 'image', times: 1 });
    const started = Date.now();
    const slow = await imageRequest('cloudflare');
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(((await slow.json()) as { success: boolean }).success).toBe(true);

    emu.addFault({ provider: 'pollinations', mode: 'midStreamCut', path: 'image', times: 1 });
    const cut = await imageRequest('pollinations');
    expect(cut.status).toBe(200);
    await expect(cut.arrayBuffer()).rejects.toThrow();
    expect((await imageRequest('pollinations')).status).toBe(200);
  });
});

describe('control API for image and speech', () => {
  const control = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${emu.url}/__emulator${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('takes image and speech fault paths, rejects unknown ones, and steers models', async () => {
    expect((await control('POST', '/faults', { provider: 'pollinations', mode: 'status', status: 402, path: 'speech' })).status).toBe(200);
    const bad = await control('POST', '/faults', { provider: 'pollinations', mode: 'status', status: 402, path: 'video' });
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'unknown path: video' }]);
    expect((await speech({})).status).toBe(402);
    expect((await imageRequest('pollinations')).status).toBe(200);

    await control('POST', '/models', { provider: 'together', ids: ['black-forest-labs/FLUX.1-dev'] });
    expect((await imageRequest('together')).status).toBe(404);
    expect((await togetherImages({ model: 'black-forest-labs/FLUX.1-dev' })).status).toBe(200);

    const listed = (await (await control('GET', '/requests?provider=together')).json()) as { path: string; body: { model: string } }[];
    expect(listed.map((r) => [r.path, r.body.model])).toEqual([
      ['/together/v1/images/generations', IMAGE_MODELS.together],
      ['/together/v1/images/generations', 'black-forest-labs/FLUX.1-dev'],
    ]);
  });

  it('POST /reset drops hosted images along with faults and models', async () => {
    const { data } = (await (await togetherImages({})).json()) as { data: { url: string }[] };
    expect((await fetch(data[0].url)).status).toBe(200);
    await control('POST', '/reset');
    expect((await fetch(data[0].url)).status).toBe(404);
  });
});
