/**
 * `POST /api/embeddings/test` and `POST /api/audio/transcriptions/test`, the console playground's
 * 嵌入 and 语音识别 tabs: the same request and answer as `/v1/embeddings` and
 * `/v1/audio/transcriptions`, behind the admin session instead of a client key, with the same
 * upload limit (TRANSCRIPTION_MAX_BYTES, 413 beyond), recorded in the request log.
 */
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { embedText } from '../emulators/embedding-wire.ts';
import { adminHeaders } from '../support/admin.ts';
import { makeWav, multipartForm, rawPost } from '../support/audio-upload.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const API_KEY = 'sk-playground-embeddings-test';
const MAX_BYTES = 64 * 1024;

interface ErrorBody {
  error: { message: string; code: string | null; param: string | null; attempts?: Array<{ provider: string; status: number | null }> };
}

let emu: Emulator;
let gw: Gateway;
let h: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  // A client key is configured: /v1 is closed to anyone without it, the playground is not.
  gw = await startGateway(emu, { ...FIXED_ORDER_ENV, API_KEY, TRANSCRIPTION_MAX_BYTES: String(MAX_BYTES) });
  h = await adminHeaders(gw);
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(() => emu.reset());

const embed = (body: unknown, headers = h) => postJson(`${gw.url}/api/embeddings/test`, body, headers);

function transcribe(fields: Record<string, string>, file: Buffer, headers: Record<string, string> = { authorization: h.authorization! }): Promise<Response> {
  const form = new FormData();
  form.set('file', new Blob([file], { type: 'audio/wav' }), 'clip.wav');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return fetch(`${gw.url}/api/audio/transcriptions/test`, { method: 'POST', body: form, headers });
}

/** Posted on a fresh connection: the early refusal closes it. */
function rawUpload(file: Buffer): Promise<{ status: number; text: string }> {
  const { body, type } = multipartForm({ model: 'whisper-large-v3-turbo' }, file);
  return rawPost(
    `${gw.url}/api/audio/transcriptions/test`,
    { authorization: h.authorization!, 'content-type': type, 'content-length': String(body.length) },
    body,
  );
}

async function logged(model: string, requestId: string | null) {
  const logs = (await (await fetch(`${gw.url}/api/logs?model=${model}`, { headers: h })).json()) as {
    items: Array<{ requestId: string; endpoint: string; status: number; provider: string | null }>;
  };
  return logs.items.find((e) => e.requestId === requestId);
}

describe('POST /api/embeddings/test (the console playground)', () => {
  it('answers like /v1/embeddings, says who answered, and is in the request log', async () => {
    const res = await embed({ model: 'bge-m3', input: ['你好，世界', 'Hello, world'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = (await res.json()) as { data: Array<{ index: number; embedding: number[] }>; model: string; usage: { prompt_tokens: number } };
    expectSchema('CreateEmbeddingResponse', body);
    expect(body.model).toBe('bge-m3');
    expect(body.data.map((d) => d.index)).toEqual([0, 1]);
    expect(body.data[1]!.embedding).toEqual(embedText('Hello, world', 1024));
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(await logged('bge-m3', res.headers.get('x-request-id'))).toMatchObject({ endpoint: 'embeddings', status: 200, provider: 'DeepInfra' });
  });

  it('needs the admin session, while /v1 needs a client key', async () => {
    const body = { model: 'bge-m3', input: 'hi' };
    expect((await embed(body, { 'content-type': 'application/json' })).status).toBe(401);
    expect((await embed(body, { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` })).status).toBe(401);
    expect((await postJson(`${gw.baseURL}/embeddings`, body, h)).status).toBe(401);
  });

  it('reports every attempt when all providers fail', async () => {
    for (const provider of ['deepinfra', 'huggingface', 'cloudflare'] as const) emu.addFault({ provider, mode: 'status', status: 500, path: 'embedding' });
    const res = await embed({ model: 'bge-m3', input: 'hi' });
    expect(res.status).toBe(502);
    const error = ((await res.json()) as ErrorBody).error;
    expect(new Set(error.attempts!.map((a) => a.provider))).toEqual(new Set(['DeepInfra', 'HuggingFace', 'CloudflareAI']));
  });
});

describe('POST /api/audio/transcriptions/test (the console playground)', () => {
  it('answers like /v1/audio/transcriptions in each format, and is in the request log', async () => {
    const json = await transcribe({ model: 'whisper-large-v3-turbo' }, makeWav(1));
    expect(json.status).toBe(200);
    expect(json.headers.get('x-pool-provider')).toBe('DeepInfra');
    const body = (await json.json()) as { text: string };
    expect(body.text).toContain('deepinfra');
    expect(await logged('whisper-large-v3-turbo', json.headers.get('x-request-id'))).toMatchObject({ endpoint: 'transcriptions', status: 200 });

    const verbose = await transcribe({ model: 'whisper-large-v3-turbo', response_format: 'verbose_json', provider: 'CloudflareAI' }, makeWav(1));
    expect(verbose.headers.get('x-pool-provider')).toBe('CloudflareAI');
    expect(((await verbose.json()) as { segments: unknown[] }).segments.length).toBeGreaterThan(0);

    const vtt = await transcribe({ model: 'whisper-large-v3-turbo', response_format: 'vtt' }, makeWav(1));
    expect(vtt.headers.get('content-type')).toMatch(/^text\/vtt/);
    expect(await vtt.text()).toMatch(/^WEBVTT/);
  });

  it('needs the admin session before it reads the upload', async () => {
    expect((await transcribe({ model: 'whisper-large-v3-turbo' }, makeWav(0.2), {})).status).toBe(401);
    expect((await transcribe({ model: 'whisper-large-v3-turbo' }, makeWav(0.2), { authorization: `Bearer ${API_KEY}` })).status).toBe(401);
  });

  it('holds the upload to TRANSCRIPTION_MAX_BYTES (413 in OpenAI’s envelope), as /v1 does', async () => {
    // Announced (~190 KB, over 64 KB and the room for fields): refused before the body is read, naming the setting.
    const announced = await rawUpload(makeWav(6));
    expect(announced.status).toBe(413);
    expect((JSON.parse(announced.text) as ErrorBody).error.message).toMatch(/TRANSCRIPTION_MAX_BYTES/);
    // Within the room for fields but over the file limit (~96 KB): multer cuts it, with the playground's bounds too.
    const cut = await transcribe({ model: 'whisper-large-v3-turbo' }, makeWav(3));
    expect(cut.status).toBe(413);
    expect(((await cut.json()) as ErrorBody).error.code).toBe('request_too_large');
    expect(emu.requests().length).toBe(0);
  });

  it('GET /api/playground/limits tells the console the upload limit before it sends, behind the admin session', async () => {
    const res = await fetch(`${gw.url}/api/playground/limits`, { headers: h });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ transcriptionMaxBytes: MAX_BYTES, embeddingMaxInputs: 2048 });
    expect((await fetch(`${gw.url}/api/playground/limits`)).status).toBe(401);
  });
});
