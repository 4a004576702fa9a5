import type { AdminModel, AttemptSummary, RequestLogEntry } from '#contracts';
import { model, models, provider } from '../../../testing/fixtures';
import { createHarness, type Harness } from '../../../testing/harness';
import { STORAGE_KEYS } from '../../core/browser';
import { EMBEDDINGS_STORAGE_KEY, EMBEDDINGS_TEST_URL, EmbeddingsStore } from './embeddings.store';
import { PlaygroundStore } from './playground.store';
import { AttemptsLookup, PLAYGROUND_LIMITS_URL, PlaygroundLimitsLoader } from './tab-support';
import { TRANSCRIPTION_STORAGE_KEY, TRANSCRIPTION_TEST_URL, TranscriptionStore } from './transcription.store';

const CATALOG: AdminModel[] = [
  model('llama-3.3-70b', [['DeepInfra']]),
  { ...model('bge-m3', [['DeepInfra'], ['CloudflareAI']], 'embedding'), dimensions: 4 },
  model('whisper-large-v3-turbo', [['DeepInfra'], ['HuggingFace']], 'speech-to-text'),
];
const PROVIDERS = [provider('DeepInfra'), provider('CloudflareAI'), provider('HuggingFace')];
const LIMITS = { transcriptionMaxBytes: 1024, embeddingMaxInputs: 3 };
const attempt = (p: string, status: number | null): AttemptSummary => ({ provider: p, upstream_model: 'x', status, reason: 'r', latency_ms: 5 });

function logEntry(requestId: string, extra: Partial<RequestLogEntry>): RequestLogEntry {
  return {
    requestId,
    endpoint: 'embeddings',
    model: 'bge-m3',
    stream: false,
    startedAt: 0,
    status: 200,
    provider: 'CloudflareAI',
    upstreamModel: 'x',
    latencyMs: 10,
    ttftMs: null,
    usage: null,
    usageEstimated: false,
    attempts: [],
    error: null,
    clientKey: null,
    ...extra,
  } as RequestLogEntry;
}

/** The page's shared pieces, the catalog loaded, the limits answered (or not). */
function setup(stored: Record<string, object> = {}): Harness {
  const h = createHarness([PlaygroundStore, PlaygroundLimitsLoader, AttemptsLookup, EmbeddingsStore, TranscriptionStore]);
  h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
  for (const [key, value] of Object.entries(stored)) h.storage.setItem(key, JSON.stringify(value));
  h.get(PlaygroundStore).load();
  h.http.expectOne('/api/models').flush(models(CATALOG));
  h.http.expectOne('/api/providers').flush(PROVIDERS);
  return h;
}

function answerLimits(h: Harness, limits: object | null = LIMITS): void {
  const req = h.http.expectOne(PLAYGROUND_LIMITS_URL);
  if (limits) req.flush(limits);
  else req.flush({ error: { message: 'Not Found' } }, { status: 404, statusText: 'Not Found' });
}

describe('EmbeddingsStore (嵌入)', () => {
  let h: Harness;
  let store: EmbeddingsStore;
  afterEach(() => h.destroy());

  it('starts with the catalog’s embedding model, sends one input as a string and shows what came back', () => {
    h = setup();
    store = h.get(EmbeddingsStore);
    answerLimits(h);
    expect(store.options().map((o) => o.id)).toEqual(['bge-m3']);
    expect(store.modelId()).toBe('bge-m3');
    store.setText('只有一条\n\n');
    expect(store.send()).toBe(true);
    expect(store.busy()).toBe(true);
    expect(store.send()).toBe(false);

    const req = h.http.expectOne(EMBEDDINGS_TEST_URL);
    expect(req.request.method).toBe('POST');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    expect(req.request.body).toEqual({ model: 'bge-m3', input: '只有一条', encoding_format: 'float' });
    req.flush(
      {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.5, -0.5, 0.5, -0.5] }],
        model: 'bge-m3',
        usage: { prompt_tokens: 3, total_tokens: 3 },
      },
      { headers: { 'x-pool-provider': 'CloudflareAI', 'x-pool-upstream-model': '@cf/baai/bge-m3', 'x-request-id': 'req_1' } },
    );
    const run = store.run()!;
    expect(run).toMatchObject({ status: 'done', provider: 'CloudflareAI', upstreamModel: '@cf/baai/bge-m3', requestId: 'req_1', error: null });
    expect(run.totalMs).toBeGreaterThanOrEqual(0);
    expect(run.summary).toMatchObject({ count: 1, dimensions: 4, promptTokens: 3, pair: null });
    expect(run.summary!.vectors[0]!.preview).toEqual(['0.5000', '-0.5000', '0.5000', '-0.5000']);

    // Failover shows from the request log.
    h.http
      .expectOne((r) => r.url === '/api/logs')
      .flush({ items: [logEntry('req_1', { attempts: [attempt('DeepInfra', 500), attempt('CloudflareAI', 200)] })], total: 1, page: 1, pageSize: 20 });
    expect(store.run()!.attempts!.map((a) => a.provider)).toEqual(['DeepInfra', 'CloudflareAI']);
  });

  it('sends several inputs as the batch, with a pinned provider; the settings are remembered', () => {
    h = setup({ [EMBEDDINGS_STORAGE_KEY]: { model: 'bge-m3', provider: 'CloudflareAI', text: '甲\n乙' } });
    store = h.get(EmbeddingsStore);
    answerLimits(h);
    expect(store.pinned()?.name).toBe('CloudflareAI');
    store.send();
    const req = h.http.expectOne(EMBEDDINGS_TEST_URL);
    expect(req.request.body).toEqual({ model: 'bge-m3', input: ['甲', '乙'], encoding_format: 'float', provider: 'CloudflareAI' });
    req.flush({
      data: [
        { index: 0, embedding: [1, 0, 0, 0] },
        { index: 1, embedding: [1, 1, 0, 0] },
      ],
    });
    expect(store.run()!.summary!.pair).toBeCloseTo(Math.SQRT1_2);

    store.setText('丙');
    store.update({ provider: null });
    expect(JSON.parse(h.storage.getItem(EMBEDDINGS_STORAGE_KEY)!)).toEqual({ model: 'bge-m3', provider: null, text: '丙' });
  });

  it('refuses more inputs than the server takes, before sending', () => {
    h = setup();
    store = h.get(EmbeddingsStore);
    store.setText('1\n2\n3\n4');
    // Limits unknown yet: the server would say.
    expect(store.canSend()).toBe(true);
    answerLimits(h);
    expect(store.inputProblem()).toBe('最多 3 条输入，现在有 4 条。');
    expect(store.send()).toBe(false);
    h.http.expectNone(EMBEDDINGS_TEST_URL);
  });

  it('a request-log lookup still under way is dropped with the tab', () => {
    h = setup();
    store = h.get(EmbeddingsStore);
    answerLimits(h);
    store.setText('x');
    store.send();
    h.http
      .expectOne(EMBEDDINGS_TEST_URL)
      .flush(
        { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [1] }], model: 'bge-m3', usage: { prompt_tokens: 1, total_tokens: 1 } },
        { headers: { 'x-request-id': 'req_9' } },
      );
    const lookup = h.http.expectOne((r) => r.url === '/api/logs');
    h.destroy();
    expect(lookup.cancelled).toBe(true);
    h = createHarness();
  });

  it('all providers failing reads as such, with every attempt; stop() drops a request under way', () => {
    h = setup();
    store = h.get(EmbeddingsStore);
    answerLimits(h, null);
    store.setText('x');
    store.send();
    h.http.expectOne(EMBEDDINGS_TEST_URL).flush(
      {
        error: {
          message: 'All providers failed',
          type: 'upstream_error',
          param: null,
          code: 'all_providers_failed',
          attempts: [attempt('DeepInfra', 500), attempt('CloudflareAI', 503)],
        },
      },
      { status: 502, statusText: 'Bad Gateway', headers: { 'x-request-id': 'req_2' } },
    );
    expect(store.run()).toMatchObject({ status: 'error', requestId: 'req_2' });
    expect(store.run()!.error).toMatchObject({ message: '所有提供商都失败了（HTTP 502），尝试了 2 次。', detail: 'All providers failed' });
    expect(store.run()!.error!.attempts).toHaveLength(2);

    store.send();
    const req = h.http.expectOne(EMBEDDINGS_TEST_URL);
    store.stop();
    expect(req.cancelled).toBe(true);
    expect(store.run()!.status).toBe('stopped');
    expect(store.busy()).toBe(false);
  });
});

describe('TranscriptionStore (语音识别)', () => {
  let h: Harness;
  let store: TranscriptionStore;
  afterEach(() => h.destroy());

  const wav = (size: number) => new File([new Uint8Array(size)], 'clip.wav', { type: 'audio/wav' });

  it('uploads the file with the chosen model, format and language as a form, and shows the transcript', () => {
    h = setup();
    store = h.get(TranscriptionStore);
    answerLimits(h);
    expect(store.modelId()).toBe('whisper-large-v3-turbo');
    expect(store.settings().format).toBe('verbose_json');
    expect(store.canSend()).toBe(false);
    store.setFile(wav(100));
    store.update({ language: 'zh', provider: 'HuggingFace' });
    expect(store.send()).toBe(true);

    const req = h.http.expectOne(TRANSCRIPTION_TEST_URL);
    const form = req.request.body as FormData;
    expect(form.get('model')).toBe('whisper-large-v3-turbo');
    expect(form.get('response_format')).toBe('verbose_json');
    expect(form.get('language')).toBe('zh');
    expect(form.get('provider')).toBe('HuggingFace');
    expect((form.get('file') as File).name).toBe('clip.wav');
    expect(req.request.responseType).toBe('text');
    req.flush(JSON.stringify({ text: '你好', language: 'zh', duration: 1, segments: [{ start: 0, end: 1, text: '你好' }] }), {
      headers: { 'x-pool-provider': 'HuggingFace', 'x-request-id': 'req_3' },
    });
    expect(store.run()).toMatchObject({ status: 'done', provider: 'HuggingFace', fileName: 'clip.wav', fileSize: 100, format: 'verbose_json' });
    expect(store.run()!.transcript).toMatchObject({ text: '你好', language: 'zh', segments: [{ start: 0, end: 1, text: '你好' }] });
    h.http.expectOne((r) => r.url === '/api/logs');
    expect(JSON.parse(h.storage.getItem(TRANSCRIPTION_STORAGE_KEY)!)).toEqual({ model: null, provider: 'HuggingFace', format: 'verbose_json', language: 'zh' });
  });

  it('a subtitle format comes back as text; a stored format that is not one falls back to verbose_json', () => {
    h = setup({ [TRANSCRIPTION_STORAGE_KEY]: { format: 'docx', language: 'en' } });
    store = h.get(TranscriptionStore);
    answerLimits(h);
    expect(store.settings()).toMatchObject({ format: 'verbose_json', language: 'en' });
    store.update({ format: 'srt' });
    store.setFile(wav(10));
    store.send();
    h.http.expectOne(TRANSCRIPTION_TEST_URL).flush('1\n00:00:00,000 --> 00:00:01,000\nhello\n');
    expect(store.run()!.transcript!.text).toBe('1\n00:00:00,000 --> 00:00:01,000\nhello\n');
  });

  it('refuses a file over TRANSCRIPTION_MAX_BYTES and a language that is not a code, before uploading', () => {
    h = setup();
    store = h.get(TranscriptionStore);
    answerLimits(h);
    store.setFile(wav(2048));
    expect(store.fileProblem()).toBe('文件有 2 KB，超过了服务器的上限 1 KB（TRANSCRIPTION_MAX_BYTES）。');
    expect(store.send()).toBe(false);
    store.setFile(wav(10));
    store.update({ language: '中文' });
    expect(store.languageInvalid()).toBe(true);
    expect(store.canSend()).toBe(false);
    h.http.expectNone(TRANSCRIPTION_TEST_URL);
  });

  it('the server’s 413 (limits unknown) names the setting; a 400 keeps the API’s words', () => {
    h = setup();
    store = h.get(TranscriptionStore);
    answerLimits(h, null);
    store.setFile(wav(4096));
    store.send();
    h.http
      .expectOne(TRANSCRIPTION_TEST_URL)
      .flush(JSON.stringify({ error: { message: 'The request body is too large.', type: 'invalid_request_error', param: null, code: 'request_too_large' } }), {
        status: 413,
        statusText: 'Payload Too Large',
      });
    expect(store.run()!.error).toMatchObject({
      message: '文件太大（HTTP 413）：超过了服务器的上限（TRANSCRIPTION_MAX_BYTES）。',
      detail: 'The request body is too large.',
    });

    store.update({ format: 'vtt' });
    store.send();
    h.http.expectOne(TRANSCRIPTION_TEST_URL).flush(
      JSON.stringify({
        error: { message: "response_format 'vtt' needs timed segments", type: 'invalid_request_error', param: 'response_format', code: null },
      }),
      {
        status: 400,
        statusText: 'Bad Request',
      },
    );
    expect(store.run()!.error).toMatchObject({ message: '请求参数有误（HTTP 400），见下方说明。', detail: "response_format 'vtt' needs timed segments" });
  });
});
