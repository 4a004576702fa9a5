/**
 * `/v1/audio/speech` end to end through the official OpenAI SDK: audio bytes and content type
 * for every format, the upstream body, key failover, routing past providers that cannot speak,
 * all-fail errors and bad input, each error in OpenAI's envelope.
 *
 * The test catalog (fixtures/media-catalog.yaml) routes `gpt-4o-mini-tts` to DeepInfra first
 * (by priority) and then PollinationsAI: DeepInfra has no speech API, so it must be skipped.
 */
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import type { SpeechCreateParams } from 'openai/resources/audio/speech';
import type { Subscription } from 'rxjs';
import { PoolEvents, type RequestRecord } from '../../apps/api/src/events/pool-events.service.ts';
import { AUDIO_CONTENT_TYPES, sniffAudio, speechDurationMs, startEmulator } from '../emulators/emulator.ts';
import type { AudioFormat, Emulator, FaultMode, RecordedRequest } from '../emulators/emulator.ts';
import { postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const CATALOG_FILE = fileURLToPath(new URL('./fixtures/media-catalog.yaml', import.meta.url));
const MODEL = 'gpt-4o-mini-tts';
const UPSTREAM = 'openai-audio';
const INPUT = 'The quick brown fox jumps over the lazy dog.';

type SpeechParams = SpeechCreateParams & { provider?: string };

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; attempts?: { provider: string; status: number | null; reason: string }[] };
}

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
    DEEPINFRA_PRIORITY: '1',
    POLLINATIONS_PRIORITY: '2',
    // Two keys: a key the upstream refuses is replaced by the other one.
    POLLINATIONS_API_KEY: 'pk-first-0001,pk-second-0002',
    BREAKER_FAILURE_THRESHOLD: '1000',
    BREAKER_COOLDOWN_MS: '1',
    BREAKER_MAX_COOLDOWN_MS: '5',
    KEY_AUTH_COOLDOWN_MS: '1',
    // Short enough for the hang test, long enough for a first mp3 on a loaded CI machine (300 ms was not).
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '1500',
    UPSTREAM_IDLE_TIMEOUT_MS: '1500',
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
  await new Promise((r) => setTimeout(r, 10));
});

const speechRequests = (): RecordedRequest[] => emu.requests('pollinations').filter((r) => r.path === '/pollinations/v1/audio/speech');

async function speak(params: SpeechParams): Promise<{ bytes: Buffer; headers: Headers }> {
  const response = await client.audio.speech.create(params);
  return { bytes: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

async function errorOf(body: unknown, c: Gateway = gw): Promise<{ status: number; body: ErrorBody; headers: Headers }> {
  const res = await postJson(`${c.baseURL}/audio/speech`, body);
  const json = (await res.json()) as ErrorBody;
  expectSchema('ErrorResponse', json);
  return { status: res.status, body: json, headers: res.headers };
}

describe('audio for every format', () => {
  const formats: AudioFormat[] = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'];

  it.each(formats)('%s: the bytes, with the content type OpenAI sends', async (format) => {
    const { bytes, headers } = await speak({ model: MODEL, input: INPUT, voice: 'nova', response_format: format });
    expect(headers.get('content-type')).toBe(AUDIO_CONTENT_TYPES[format]);
    expect(Number(headers.get('content-length'))).toBe(bytes.length);
    expect(headers.get('x-pool-provider')).toBe('PollinationsAI');
    expect(headers.get('x-pool-upstream-model')).toBe(UPSTREAM);
    expect(headers.get('x-request-id')).toMatch(/^req_/);
    if (format === 'pcm') {
      // 24 kHz, 16-bit mono: the length is the duration.
      expect(bytes.length).toBe(2 * Math.round((speechDurationMs(INPUT) * 24_000) / 1000));
    } else {
      expect(sniffAudio(bytes)).toBe(format);
    }
    const sent = speechRequests();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ model: UPSTREAM, input: INPUT, voice: 'nova', response_format: format });
    // DeepInfra comes first by priority but cannot speak: it is never called.
    expect(emu.requests('deepinfra').filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('mp3 is the default; speed and instructions reach the upstream', async () => {
    const plain = await speak({ model: MODEL, input: INPUT, voice: 'alloy' });
    expect(plain.headers.get('content-type')).toBe('audio/mpeg');
    expect(sniffAudio(plain.bytes)).toBe('mp3');

    const fast = await speak({ model: MODEL, input: INPUT, voice: 'alloy', response_format: 'pcm', speed: 2, instructions: 'Speak cheerfully.' });
    expect(fast.bytes.length).toBe(2 * Math.round((speechDurationMs(INPUT, 2) * 24_000) / 1000));
    expect(speechRequests()[1]!.body).toEqual({
      model: UPSTREAM,
      input: INPUT,
      voice: 'alloy',
      response_format: 'pcm',
      speed: 2,
      instructions: 'Speak cheerfully.',
    });
  });

  it('is recorded as a speech request', async () => {
    await speak({ model: MODEL, input: INPUT, voice: 'echo' });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      endpoint: 'speech',
      model: MODEL,
      stream: false,
      status: 200,
      provider: 'PollinationsAI',
      upstreamModel: UPSTREAM,
      usage: null,
      error: null,
    });
    // The route that cannot speak is not an attempt: it was filtered out before.
    expect(records[0]!.attempts.map((a) => a.provider)).toEqual(['PollinationsAI']);
  });
});

describe('failover and failures', () => {
  it('a key the upstream refuses is replaced by the next key', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 401, path: 'speech', times: 1 });
    const { bytes } = await speak({ model: MODEL, input: INPUT, voice: 'onyx', response_format: 'wav' });
    expect(sniffAudio(bytes)).toBe('wav');
    const keys = speechRequests().map((r) => r.headers.authorization);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    expect(records[0]!.attempts.map((a) => a.status)).toEqual([401, 200]);
  });

  const modes: Array<{ mode: FaultMode; status?: number; expected: number; code: string }> = [
    { mode: 'status', status: 500, expected: 502, code: 'all_providers_failed' },
    { mode: 'html200', expected: 502, code: 'all_providers_failed' },
    { mode: 'garbage200', expected: 502, code: 'all_providers_failed' },
    { mode: 'empty200', expected: 502, code: 'all_providers_failed' },
    { mode: 'reset', expected: 502, code: 'all_providers_failed' },
    { mode: 'hang', expected: 504, code: 'upstream_timeout' },
    { mode: 'status', status: 400, expected: 400, code: 'upstream_bad_request' },
  ];

  it.each(modes)('every try answering $mode $status → $expected $code, attempts listed', async ({ mode, status, expected, code }) => {
    emu.addFault({ provider: 'pollinations', mode, status, path: 'speech', message: status === 400 ? 'voice not available' : undefined });
    const res = await errorOf({ model: MODEL, input: INPUT, voice: 'nova' });
    expect(res.status).toBe(expected);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.attempts!.length).toBeGreaterThanOrEqual(1);
    expect(res.body.error.attempts!.every((a) => a.provider === 'PollinationsAI')).toBe(true);
    if (status === 400) expect(res.body.error.message).toContain('voice not available');
    expect(records[0]).toMatchObject({ endpoint: 'speech', status: expected, provider: null });
  });

  it('a chat fault does not touch speech', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 500 });
    const { headers } = await speak({ model: MODEL, input: INPUT, voice: 'nova' });
    expect(headers.get('content-type')).toBe('audio/mpeg');
  });

  it('forcing a provider that cannot speak is a 503 that says why', async () => {
    const res = await errorOf({ model: MODEL, input: INPUT, voice: 'nova', provider: 'DeepInfra' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('no_available_provider');
    expect(res.body.error.message).toContain('cannot synthesize speech');
  });

  it('the SDK raises APIError on failure', async () => {
    emu.addFault({ provider: 'pollinations', mode: 'status', status: 503, path: 'speech' });
    const err: unknown = await client.audio.speech.create({ model: MODEL, input: INPUT, voice: 'nova' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });
});

describe('bad input', () => {
  const long = 'a'.repeat(4097);
  const cases: Array<{ label: string; body: Record<string, unknown>; status: number; param: string | null; code: string }> = [
    { label: 'empty input', body: { model: MODEL, input: '', voice: 'nova' }, status: 400, param: 'input', code: 'invalid_value' },
    { label: 'no input', body: { model: MODEL, voice: 'nova' }, status: 400, param: 'input', code: 'invalid_value' },
    { label: 'input over 4096 characters', body: { model: MODEL, input: long, voice: 'nova' }, status: 400, param: 'input', code: 'invalid_value' },
    { label: 'an unknown voice', body: { model: MODEL, input: INPUT, voice: 'darth' }, status: 400, param: 'voice', code: 'invalid_value' },
    { label: 'no voice', body: { model: MODEL, input: INPUT }, status: 400, param: 'voice', code: 'invalid_value' },
    {
      label: 'an unknown format',
      body: { model: MODEL, input: INPUT, voice: 'nova', response_format: 'ogg' },
      status: 400,
      param: 'response_format',
      code: 'invalid_value',
    },
    { label: 'speed 5', body: { model: MODEL, input: INPUT, voice: 'nova', speed: 5 }, status: 400, param: 'speed', code: 'invalid_value' },
    { label: 'speed 0.1', body: { model: MODEL, input: INPUT, voice: 'nova', speed: 0.1 }, status: 400, param: 'speed', code: 'invalid_value' },
    {
      label: 'SSE streaming',
      body: { model: MODEL, input: INPUT, voice: 'nova', stream_format: 'sse' },
      status: 400,
      param: 'stream_format',
      code: 'invalid_value',
    },
    { label: 'no model', body: { input: INPUT, voice: 'nova' }, status: 400, param: 'model', code: 'invalid_value' },
    { label: 'an unknown model', body: { model: 'tts-9', input: INPUT, voice: 'nova' }, status: 404, param: 'model', code: 'model_not_found' },
    { label: 'a chat model', body: { model: 'gpt-4o-mini', input: INPUT, voice: 'nova' }, status: 400, param: 'model', code: 'model_not_supported' },
    { label: 'an image model', body: { model: 'flux', input: INPUT, voice: 'nova' }, status: 400, param: 'model', code: 'model_not_supported' },
    {
      label: 'an unknown provider',
      body: { model: MODEL, input: INPUT, voice: 'nova', provider: 'Nope' },
      status: 400,
      param: 'provider',
      code: 'unknown_provider',
    },
  ];

  it.each(cases)('$label → $status naming `$param`', async ({ body, status, param, code }) => {
    const res = await errorOf(body);
    expect(res.status).toBe(status);
    expect(res.body.error.param).toBe(param);
    expect(res.body.error.code).toBe(code);
    expect(speechRequests()).toHaveLength(0);
  });

  it('exactly 4096 characters is accepted', async () => {
    const { bytes } = await speak({ model: MODEL, input: 'b'.repeat(4096), voice: 'shimmer', response_format: 'flac' });
    expect(sniffAudio(bytes)).toBe('flac');
  });

  it('the SDK raises BadRequestError for an empty input', async () => {
    const err: unknown = await client.audio.speech.create({ model: MODEL, input: '', voice: 'nova' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');
  });

  it('chat refuses the speech model', async () => {
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.param).toBe('model');
  });
});

describe('API key', () => {
  it('speech needs the key when API_KEY is set', async () => {
    const secured = await startGateway(emu, { CATALOG_FILE, API_KEY: 'sk-pool' });
    try {
      const res = await errorOf({ model: MODEL, input: INPUT, voice: 'nova' }, secured);
      expect(res.status).toBe(401);
      const ok = await new OpenAI({ baseURL: secured.baseURL, apiKey: 'sk-pool', maxRetries: 0 }).audio.speech.create({
        model: MODEL,
        input: INPUT,
        voice: 'nova',
      });
      expect(ok.headers.get('content-type')).toBe('audio/mpeg');
    } finally {
      await secured.close();
    }
  });
});
