/**
 * `/v1/audio/transcriptions` end to end through the official OpenAI SDK with a real WAV made
 * here: every response format, each provider's native wire (DeepInfra's multipart, HuggingFace's
 * raw bytes, Cloudflare's base64 JSON), failover under faults, srt/vtt only where segments exist,
 * the upload limit (413) and hostile multipart bodies (400, never a crash).
 *
 * The shipped catalog routes whisper-large-v3-turbo to DeepInfra, CloudflareAI and HuggingFace;
 * FIXED_ORDER_ENV tries DeepInfra, then HuggingFace, then CloudflareAI.
 */
import OpenAI, { toFile } from 'openai';
import type { Subscription } from 'rxjs';
import { PoolEvents, type RequestRecord } from '../../apps/api/src/events/pool-events.service.ts';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, FaultMode, ProviderId, RecordedRequest } from '../emulators/emulator.ts';
import { transcriptText } from '../emulators/transcription-wire.ts';
import { makeWav, multipartForm as form, rawPost } from '../support/audio-upload.ts';
import { FIXED_ORDER_ENV, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const MODEL = 'whisper-large-v3-turbo';
const MAX_BYTES = 64 * 1024;

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; attempts?: { provider: string; status: number | null; reason: string }[] };
}

const WAV = makeWav(1.5);

let emu: Emulator;
let gw: Gateway;
let client: OpenAI;
let records: RequestRecord[] = [];
let subscription: Subscription;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, { ...FIXED_ORDER_ENV, TRANSCRIPTION_MAX_BYTES: String(MAX_BYTES) });
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

afterEach(() => {
  emu.reset();
});

const calls = (provider?: ProviderId): RecordedRequest[] => emu.requests(provider).filter((r) => /transcriptions$|whisper/.test(r.path));

async function post(
  fields: Record<string, string>,
  file: Buffer | null = WAV,
  filename = 'clip.wav',
): Promise<{ status: number; headers: Headers; text: string }> {
  const form = new FormData();
  if (file) form.set('file', new Blob([file], { type: 'audio/wav' }), filename);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await fetch(`${gw.baseURL}/audio/transcriptions`, { method: 'POST', body: form });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const errorOf = (text: string): ErrorBody => JSON.parse(text) as ErrorBody;

const raw = (headers: Record<string, string>, body: string | Buffer) => rawPost(`${gw.baseURL}/audio/transcriptions`, headers, body);

describe('POST /v1/audio/transcriptions', () => {
  it('transcribes a WAV through the SDK (json), sending DeepInfra the file whole in its multipart form', async () => {
    const res = await client.audio.transcriptions.create({ file: await toFile(WAV, 'clip.wav', { type: 'audio/wav' }), model: MODEL });
    expectSchema('CreateTranscriptionResponseJson', res);
    expect(res.text).toBe(transcriptText('deepinfra', 'openai/whisper-large-v3-turbo', 1.5));
    const [call] = calls('deepinfra');
    expect(call!.path).toBe('/deepinfra/v1/openai/audio/transcriptions');
    expect(String(call!.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(call!.bytes).toBeGreaterThan(WAV.length);
    expect(String(call!.body)).toContain('verbose_json');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ endpoint: 'transcriptions', model: MODEL, status: 200, provider: 'DeepInfra' });
  });

  it('answers text, verbose_json (with segments), srt and vtt', async () => {
    const expected = transcriptText('deepinfra', 'openai/whisper-large-v3-turbo', 1.5);
    const text = await post({ model: MODEL, response_format: 'text' });
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text.text).toBe(expected);

    const verbose = await post({ model: MODEL, response_format: 'verbose_json', language: 'en' });
    const body = JSON.parse(verbose.text) as { text: string; duration: number; language: string; segments: { start: number; end: number; text: string }[] };
    expectSchema('CreateTranscriptionResponseVerboseJson', body);
    expect(body).toMatchObject({ text: expected, duration: 1.5, language: 'en' });
    expect(body.segments.map((s) => s.text).join(' ')).toBe(expected);

    const srt = await post({ model: MODEL, response_format: 'srt' });
    expect(srt.text).toMatch(/^1\n00:00:00,000 --> 00:00:00,750\n\S/);
    const vtt = await post({ model: MODEL, response_format: 'vtt' });
    expect(vtt.headers.get('content-type')).toMatch(/^text\/vtt/);
    expect(vtt.text).toMatch(/^WEBVTT\n\n00:00:00\.000 --> 00:00:00\.750\n/);
  });

  it('sends HuggingFace the raw bytes and Cloudflare base64 JSON, chosen with the `provider` form field', async () => {
    const hf = await post({ model: MODEL, provider: 'HuggingFace' });
    expect(JSON.parse(hf.text)).toEqual({ text: transcriptText('huggingface', 'openai/whisper-large-v3-turbo', 1.5) });
    const [hfCall] = calls('huggingface');
    expect(hfCall!.path).toBe('/huggingface/hf-inference/models/openai/whisper-large-v3-turbo');
    expect(hfCall!.headers['content-type']).toBe('audio/wav');
    expect(hfCall!.bytes).toBe(WAV.length);

    const cf = await post({ model: MODEL, provider: 'CloudflareAI', response_format: 'vtt', language: 'de', prompt: 'names: Ada' });
    expect(cf.status).toBe(200);
    expect(cf.text).toMatch(/^WEBVTT/);
    const cfBody = calls('cloudflare')[0]!.body as { audio: string; language: string; initial_prompt: string };
    expect(Buffer.from(cfBody.audio, 'base64').equals(WAV)).toBe(true);
    expect(cfBody).toMatchObject({ language: 'de', initial_prompt: 'names: Ada' });
  });

  it('srt or vtt where no route gives segments: 400 naming response_format', async () => {
    const res = await post({ model: MODEL, provider: 'HuggingFace', response_format: 'srt' });
    expect(res.status).toBe(400);
    expectSchema('ErrorResponse', errorOf(res.text));
    expect(errorOf(res.text).error.param).toBe('response_format');
    expect(calls()).toEqual([]);
  });

  it.each<[FaultMode, number | undefined]>([
    ['status', 500],
    ['status', 402],
    ['garbage200', undefined],
    ['empty200', undefined],
  ])('fails over past DeepInfra on %s %s', async (mode, status) => {
    emu.addFault({ provider: 'deepinfra', path: 'transcription', mode, status });
    const res = await post({ model: MODEL });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('HuggingFace');
    // srt skips HuggingFace (no segments) and lands on Cloudflare.
    emu.addFault({ provider: 'deepinfra', path: 'transcription', mode, status });
    const srt = await post({ model: MODEL, response_format: 'srt' });
    expect(srt.headers.get('x-pool-provider')).toBe('CloudflareAI');
  });

  it('every route failing: 502 in OpenAI’s envelope listing the attempts', async () => {
    for (const provider of ['deepinfra', 'huggingface', 'cloudflare'] as const) emu.addFault({ provider, path: 'transcription', mode: 'status', status: 503 });
    const res = await post({ model: MODEL });
    expect(res.status).toBe(502);
    const error = errorOf(res.text).error;
    expectSchema('ErrorResponse', errorOf(res.text));
    expect(new Set(error.attempts!.map((a) => a.provider))).toEqual(new Set(['DeepInfra', 'HuggingFace', 'CloudflareAI']));
    expect(records[0]).toMatchObject({ endpoint: 'transcriptions', status: 502 });
  });

  it('a file over TRANSCRIPTION_MAX_BYTES: 413 in OpenAI’s envelope, whether announced or streamed', async () => {
    // Announced: refused before the body is read, naming the setting.
    // (On a fresh connection: the refusal closes it, and a client still writing on a reused one may see the reset first.)
    const big = form({ model: MODEL }, makeWav(6)); // ~190 KB, over 64 KB and the room for fields
    const announced = await raw({ 'content-type': big.type, 'content-length': String(big.body.length) }, big.body);
    expect(announced.status).toBe(413);
    expectSchema('ErrorResponse', errorOf(announced.text));
    expect(errorOf(announced.text).error.message).toMatch(/TRANSCRIPTION_MAX_BYTES/);
    // Streamed without a length: multer cuts the file at the limit.
    const { body, type } = form({ model: MODEL }, makeWav(3)); // ~96 KB
    const streamed = await raw({ 'content-type': type, 'transfer-encoding': 'chunked' }, body);
    expect(streamed.status).toBe(413);
    expect(errorOf(streamed.text).error.code).toBe('request_too_large');
    expect(calls()).toEqual([]);
    expect((await post({ model: MODEL })).status).toBe(200);
  });

  it('refuses bad forms with a 400 naming the field, and survives hostile multipart bodies', async () => {
    const cases: [Record<string, string>, Buffer | null, string][] = [
      [{ model: MODEL }, null, 'file'],
      [{ model: MODEL }, Buffer.from('this is not audio at all, just text'), 'file'],
      [{ model: 'gpt-4o-mini' }, WAV, 'model'],
      [{ model: MODEL, response_format: 'docx' }, WAV, 'response_format'],
      [{ model: MODEL, temperature: 'hot' }, WAV, 'temperature'],
      [{ model: MODEL, language: 'english!' }, WAV, 'language'],
    ];
    for (const [fields, file, param] of cases) {
      const res = await post(fields, file);
      expect({ param, status: res.status }).toEqual({ param, status: 400 });
      expect(errorOf(res.text).error.param).toBe(param);
    }
    // No boundary; a form cut off mid-part; a part header that never ends; a JSON body.
    const status = async (headers: Record<string, string>, body: string) => (await raw(headers, body)).status;
    expect(await status({ 'content-type': 'multipart/form-data' }, 'x')).toBe(400);
    expect(
      await status({ 'content-type': 'multipart/form-data; boundary=zz' }, '--zz\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF'),
    ).toBe(400);
    expect(await status({ 'content-type': 'multipart/form-data; boundary=zz' }, `--zz\r\n${'x'.repeat(100_000)}`)).toBe(400);
    expect(await status({ 'content-type': 'application/json' }, JSON.stringify({ model: MODEL }))).toBe(400);
    expect(calls()).toEqual([]);
    // Still serving.
    expect((await post({ model: MODEL })).status).toBe(200);
  });
});

describe('POST /v1/audio/transcriptions: uploads at once', () => {
  let one: Gateway;
  beforeAll(async () => {
    one = await startGateway(emu, { ...FIXED_ORDER_ENV, TRANSCRIPTION_MAX_CONCURRENT: '1' });
  });
  afterAll(() => one?.close());

  const upload = async () => {
    const form = new FormData();
    form.set('file', new Blob([WAV], { type: 'audio/wav' }), 'clip.wav');
    form.set('model', MODEL);
    const res = await fetch(`${one.baseURL}/audio/transcriptions`, { method: 'POST', body: form });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
  };

  it('takes TRANSCRIPTION_MAX_CONCURRENT at a time: one more is a 429 that reads nothing, and the slot comes back', async () => {
    // The first upload waits on a hanging DeepInfra (then fails over), holding the only slot meanwhile.
    emu.addFault({ provider: 'deepinfra', path: 'transcription', mode: 'hang', times: 1 });
    const first = upload();
    for (let i = 0; i < 100 && calls().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(calls()).toHaveLength(1);
    const refused = await upload();
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expectSchema('ErrorResponse', errorOf(refused.text));
    expect(errorOf(refused.text).error).toMatchObject({ code: 'too_many_uploads', type: 'rate_limit_exceeded' });
    expect(errorOf(refused.text).error.message).toMatch(/TRANSCRIPTION_MAX_CONCURRENT/);
    expect(calls()).toHaveLength(1);
    expect((await first).status).toBe(200);
    expect((await upload()).status).toBe(200);
  });
});
