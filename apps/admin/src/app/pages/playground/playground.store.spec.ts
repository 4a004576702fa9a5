import type { AdminModel, RequestLogEntry } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { model, models, provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { FETCH } from './chat-stream';
import type { AnswerTurn } from './playground-view';
import { PLAYGROUND_STORAGE_KEY, PlaygroundStore, imageDataUrl } from './playground.store';
import { FakeFetch, chunk, flush, usageChunk } from './playground.testing';

const NETWORK_ERROR = { type: 'error' } as ProgressEvent;
const CATALOG: AdminModel[] = [
  model('llama-3.3-70b', [['DeepInfra'], ['Together']]),
  model('gpt-4o-mini', [['PollinationsAI']]),
  model('flux', [['Together']], 'image'),
];
// PollinationsAI cooling down: gpt-4o-mini (otherwise the preferred start) cannot be served now.
const PROVIDERS = [provider('DeepInfra'), provider('Together'), provider('PollinationsAI', 'cooling-down')];
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function logEntry(requestId: string, extra: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    requestId,
    endpoint: 'chat',
    model: 'llama-3.3-70b',
    stream: true,
    startedAt: 0,
    status: 200,
    provider: 'DeepInfra',
    upstreamModel: 'x',
    latencyMs: 10,
    ttftMs: 5,
    usage: null,
    usageEstimated: false,
    attempts: [],
    error: null,
    clientKey: null,
    ...extra,
  };
}

describe('PlaygroundStore', () => {
  let h: Harness;
  let fake: FakeFetch;
  let store: PlaygroundStore;

  function setup(stored?: object): void {
    fake = new FakeFetch();
    h = createHarness([PlaygroundStore, { provide: FETCH, useValue: fake.fn }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    if (stored) h.storage.setItem(PLAYGROUND_STORAGE_KEY, JSON.stringify(stored));
    store = h.get(PlaygroundStore);
  }

  /** The one pending, not cancelled, request to `url` (a failed load leaves a cancelled sibling behind). */
  function live(url: string) {
    const reqs = h.http.match((r) => r.url === url).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }

  function load(list = CATALOG, providers = PROVIDERS): void {
    store.load();
    live('/api/models').flush(models(list));
    live('/api/providers').flush(providers);
  }

  const answers = () => store.turns().filter((t): t is AnswerTurn => t.kind === 'answer');
  const last = () => answers().at(-1)!;

  afterEach(() => {
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
  });

  it('loads models and providers, and starts with a servable chat model', () => {
    setup();
    expect(store.status()).toBe('loading');
    load();
    expect(store.status()).toBe('ready');
    expect(store.settings().model).toBe('llama-3.3-70b');
    expect(store.mode()).toBe('chat');
    expect(store.providerChoices().map((p) => p.name)).toEqual(['DeepInfra', 'Together']);
    expect(store.groups('').map((g) => g.category)).toEqual(['chat', 'image']);
  });

  it('remembers the settings (not the conversation) between visits', () => {
    setup({ model: 'flux', provider: 'Together', temperature: 0.3, system: 'Be brief.' });
    load();
    expect(store.settings()).toMatchObject({ model: 'flux', provider: 'Together', temperature: 0.3, system: 'Be brief.', maxTokens: null });
    expect(store.mode()).toBe('image');
    expect(store.pinned()?.name).toBe('Together');
    store.update({ maxTokens: 256 });
    expect(JSON.parse(h.storage.getItem(PLAYGROUND_STORAGE_KEY)!)).toMatchObject({ model: 'flux', maxTokens: 256 });
  });

  it('a pinned provider the next model does not have goes back to 自动', () => {
    setup();
    load();
    store.update({ provider: 'Together' });
    store.setModel('flux');
    expect(store.settings().provider).toBe('Together');
    store.setModel('gpt-4o-mini');
    expect(store.settings().provider).toBeNull();
    expect(store.pinned()).toBeNull();
  });

  it('empty catalog, unreachable server, error answer; load() retries', () => {
    setup();
    load([model('tts', [['PollinationsAI']], 'audio')]);
    expect(store.status()).toBe('empty');
    store.load();
    live('/api/models').error(NETWORK_ERROR, { status: 0, statusText: 'Unknown Error' });
    // forkJoin cancels the sibling request.
    expect(store.status()).toBe('empty');
    store.catalog.set(null);
    expect(store.status()).toBe('unreachable');
    store.load();
    live('/api/models').flush({ error: { message: 'boom', type: 'server_error', param: null, code: null } }, { status: 500, statusText: 'x' });
    expect(store.status()).toBe('error');
    expect(store.loadFailure()?.message).toContain('500');
    load();
    expect(store.status()).toBe('ready');
  });

  it('streams a chat answer in: provider, growing text, first-token time, usage, then the attempts from the request log', async () => {
    setup({ system: 'Be brief.', temperature: 0.5, maxTokens: 64 });
    load();
    expect(store.send('  你好  ')).toBe(true);
    expect(store.busy()).toBe(true);
    expect(store.send('again')).toBe(false);
    expect(store.turns().map((t) => t.kind)).toEqual(['user', 'answer']);
    expect(last()).toMatchObject({ status: 'pending', model: 'llama-3.3-70b', pinned: null });
    await flush();
    expect(fake.calls[0]!.body).toEqual({
      model: 'llama-3.3-70b',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '你好' },
      ],
      temperature: 0.5,
      max_tokens: 64,
      stream: true,
      stream_options: { include_usage: true },
    });

    const s = fake.stream({ 'x-pool-provider': 'Together', 'x-pool-upstream-model': 'meta/llama', 'x-request-id': 'req_42' });
    await flush();
    expect(last()).toMatchObject({ status: 'streaming', provider: 'Together', requestId: 'req_42', ttftMs: null });
    s.send(chunk('Hello'));
    await flush();
    expect(last().content).toBe('Hello');
    expect(last().ttftMs).toEqual(expect.any(Number));
    s.send(chunk(' there', { reasoning: '…' }));
    s.send(chunk('', { finish: 'stop' }));
    s.send(usageChunk({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }));
    s.send('[DONE]');
    await flush();
    expect(last()).toMatchObject({ status: 'done', content: 'Hello there', reasoning: '…', finishReason: 'stop', usage: { total_tokens: 10 } });
    expect(last().totalMs).toEqual(expect.any(Number));
    expect(store.busy()).toBe(false);

    const logs = h.http.expectOne((r) => r.url === '/api/logs');
    expect(logs.request.params.get('model')).toBe('llama-3.3-70b');
    const attempts = [
      { provider: 'DeepInfra', upstream_model: 'a', status: 429, reason: 'rate limited', latency_ms: 20 },
      { provider: 'Together', upstream_model: 'b', status: 200, reason: 'ok', latency_ms: 300 },
    ];
    logs.flush({ page: 1, pageSize: 20, total: 2, items: [logEntry('req_other'), logEntry('req_42', { attempts })] });
    expect(last().attempts).toEqual(attempts);

    // The next turn carries the conversation.
    store.send('再说一遍');
    await flush();
    expect((fake.calls[1]!.body['messages'] as unknown[]).slice(1)).toEqual([
      { role: 'user', content: '你好' },
      { role: 'assistant', content: 'Hello there' },
      { role: 'user', content: '再说一遍' },
    ]);
    store.clear();
    expect(store.turns()).toEqual([]);
    expect(store.busy()).toBe(false);
  });

  it('pins the chosen provider', async () => {
    setup({ provider: 'DeepInfra' });
    load();
    store.send('hi');
    await flush();
    expect(fake.calls[0]!.body['provider']).toBe('DeepInfra');
    expect(last().pinned).toBe('DeepInfra');
    fake.stream().close();
    await flush();
    h.http.match(() => true).forEach((r) => r.flush({ page: 1, pageSize: 20, total: 0, items: [] }));
  });

  it('stop() ends the stream at once and keeps the partial answer, marked as stopped', async () => {
    setup();
    load();
    store.send('long story');
    await flush();
    const s = fake.stream({ 'x-pool-provider': 'DeepInfra' });
    s.send(chunk('Once upon'));
    await flush();
    store.stop();
    expect(last().status).toBe('stopped');
    expect(store.busy()).toBe(false);
    await flush();
    expect(last()).toMatchObject({ status: 'stopped', content: 'Once upon', error: null });
    expect(last().totalMs).toEqual(expect.any(Number));
    h.http.expectNone('/api/logs');
    // A stopped answer's words stay in the conversation.
    store.send('go on');
    await flush();
    expect(fake.calls[1]!.body['messages']).toEqual([
      { role: 'user', content: 'long story' },
      { role: 'assistant', content: 'Once upon' },
      { role: 'user', content: 'go on' },
    ]);
    store.clear();
  });

  it('an upstream failure shows in the conversation with every attempt; retry sends the question again', async () => {
    setup();
    load();
    store.send('hi');
    await flush();
    const attempts = [{ provider: 'DeepInfra', upstream_model: 'm', status: 500, reason: 'upstream error', latency_ms: 9 }];
    fake.json(502, { error: { message: 'All providers failed', type: 'upstream_error', param: null, code: 'all_providers_failed', attempts } });
    await flush();
    expect(last()).toMatchObject({
      status: 'error',
      attempts,
      error: { kind: 'server', message: '所有提供商都失败了（HTTP 502），尝试了 1 次。', detail: 'All providers failed', code: 'all_providers_failed' },
    });
    store.retry(last().id);
    expect(store.turns().map((t) => (t.kind === 'user' ? t.text : t.status))).toEqual(['hi', 'pending']);
    await flush();
    fake.networkError();
    await flush();
    expect(last().error).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('无法连接到服务器') });
  });

  it('a stream that breaks midway keeps its text and says it is incomplete', async () => {
    setup();
    load();
    store.send('hi');
    await flush();
    const s = fake.stream();
    s.send(chunk('half'));
    s.send({ error: { message: 'The upstream provider DeepInfra failed mid-stream: reset', type: 'upstream_error', param: null, code: 'stream_interrupted' } });
    s.send('[DONE]');
    await flush();
    expect(last()).toMatchObject({ status: 'error', content: 'half', error: { kind: 'stream', code: 'stream_interrupted' } });
    h.http.match('/api/logs').forEach((r) => r.flush({ page: 1, pageSize: 20, total: 0, items: [] }));

    store.send('again');
    await flush();
    fake.stream().fail();
    await flush();
    expect(last()).toMatchObject({ status: 'error', error: { kind: 'unreachable', message: '连接中断，回答不完整。' } });
  });

  it('image models generate through /api/images/test and show the images', () => {
    setup({ model: 'flux', imageSize: '512x512', imageCount: 2, provider: 'Together' });
    load();
    expect(store.send('a red kite')).toBe(true);
    const req = h.http.expectOne('/api/images/test');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    expect(req.request.body).toEqual({ model: 'flux', prompt: 'a red kite', n: 2, size: '512x512', response_format: 'b64_json', provider: 'Together' });
    req.flush(
      { created: 1, data: [{ b64_json: PNG_B64 }, { b64_json: '/9j/4AAQ', revised_prompt: 'A red kite over hills' }] },
      { headers: { 'x-pool-provider': 'Together', 'x-pool-upstream-model': 'black-forest-labs/FLUX', 'x-request-id': 'req_img' } },
    );
    expect(last()).toMatchObject({
      mode: 'image',
      status: 'done',
      provider: 'Together',
      requestId: 'req_img',
      revisedPrompt: 'A red kite over hills',
      images: [`data:image/png;base64,${PNG_B64}`, 'data:image/jpeg;base64,/9j/4AAQ'],
    });
    h.http.expectOne((r) => r.url === '/api/logs').flush({ page: 1, pageSize: 20, total: 0, items: [] });
    // Image turns are not chat history.
    store.setModel('llama-3.3-70b');
    expect(store.turns()).toHaveLength(2);
  });

  it('an image request can be stopped, and its failure lists the attempts', () => {
    setup({ model: 'flux' });
    load();
    store.send('slow');
    const req = h.http.expectOne('/api/images/test');
    store.stop();
    expect(req.cancelled).toBe(true);
    expect(last().status).toBe('stopped');
    store.send('fails');
    const attempts = [{ provider: 'Together', upstream_model: 'f', status: 503, reason: 'upstream error', latency_ms: 4 }];
    h.http
      .expectOne('/api/images/test')
      .flush(
        { error: { message: 'All providers failed', type: 'upstream_error', param: null, code: null, attempts } },
        { status: 502, statusText: 'Bad Gateway' },
      );
    expect(last()).toMatchObject({ status: 'error', attempts, error: { detail: 'All providers failed' } });
  });

  it('sends nothing without a model or text', () => {
    setup();
    expect(store.send('hi')).toBe(false);
    load();
    expect(store.send('   ')).toBe(false);
    expect(store.turns()).toEqual([]);
  });
});

describe('imageDataUrl', () => {
  it('knows image types by their first bytes', () => {
    expect(imageDataUrl('UklGRxxxx')).toBe('data:image/webp;base64,UklGRxxxx');
    expect(imageDataUrl('R0lGODlh')).toBe('data:image/gif;base64,R0lGODlh');
    expect(imageDataUrl('AAAA')).toBe('data:image/png;base64,AAAA');
  });
});
