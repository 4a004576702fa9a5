import type { Usage } from '#contracts';
import { createHarness, type Harness } from '../../../testing/harness';
import { AuthService } from '../../core/auth.service';
import { STORAGE_KEYS } from '../../core/browser';
import { CHAT_TEST_URL, ChatRequestError, ChatStreamClient, type ChatStreamEvent, FETCH } from './chat-stream';
import { FakeFetch, chunk, flush, usageChunk } from './playground.testing';

const USAGE: Usage = { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 };
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: '你好' }] };

describe('ChatStreamClient', () => {
  let h: Harness;
  let fake: FakeFetch;
  let client: ChatStreamClient;
  let events: ChatStreamEvent[];

  beforeEach(() => {
    fake = new FakeFetch();
    h = createHarness([{ provide: FETCH, useValue: fake.fn }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok-pg', expiresAt: Date.UTC(2100, 0, 1) }));
    client = h.get(ChatStreamClient);
    events = [];
  });
  afterEach(() => h.destroy());

  const start = (signal = new AbortController().signal) => {
    const done = client.stream(body, signal, (e) => events.push(e));
    done.catch(() => undefined);
    return done;
  };

  it('posts to the playground with the session token, asking for a stream with usage, and reports events as they arrive', async () => {
    const done = start();
    await flush();
    expect(fake.calls).toHaveLength(1);
    const call = fake.calls[0]!;
    expect(call.url).toBe(CHAT_TEST_URL);
    expect(call.init.method).toBe('POST');
    expect(call.headers['authorization']).toBe('Bearer tok-pg');
    expect(call.body).toEqual({ ...body, stream: true, stream_options: { include_usage: true } });

    const s = fake.stream({ 'x-pool-provider': 'DeepInfra', 'x-pool-upstream-model': 'meta-llama/Llama', 'x-request-id': 'req_1' });
    s.send({ ...chunk(''), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
    await flush();
    expect(events).toEqual([{ type: 'open', provider: 'DeepInfra', upstreamModel: 'meta-llama/Llama', requestId: 'req_1' }]);

    s.send(chunk('Hel'));
    await flush();
    expect(events.at(-1)).toEqual({ type: 'delta', content: 'Hel', reasoning: '' });
    // An event split across network packets, and a multi-byte character split in two.
    const bytes = new TextEncoder().encode(`data: ${JSON.stringify(chunk('lo 世界'))}\n\n`);
    s.raw(new TextDecoder().decode(bytes.slice(0, 40)));
    await flush();
    expect(events).toHaveLength(2);
    s.raw(new TextDecoder().decode(bytes.slice(40)));
    s.send(chunk('', { reasoning: 'hmm' }));
    s.send(chunk('', { finish: 'stop' }));
    s.send(usageChunk(USAGE));
    s.send('[DONE]');
    await done;
    expect(events.slice(2)).toEqual([
      { type: 'delta', content: 'lo 世界', reasoning: '' },
      { type: 'delta', content: '', reasoning: 'hmm' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: USAGE },
    ]);
  });

  it('reports an error event that breaks a stream after it started', async () => {
    const done = start();
    await flush();
    const s = fake.stream();
    s.send(chunk('partial'));
    s.send({ error: { message: 'The upstream provider X failed mid-stream', type: 'upstream_error', param: null, code: 'stream_interrupted' } });
    s.send('[DONE]');
    await done;
    expect(events.at(-1)).toEqual({ type: 'error', message: 'The upstream provider X failed mid-stream', code: 'stream_interrupted' });
  });

  it('an error answer becomes a ChatRequestError with the failure, the attempts and the request id', async () => {
    const done = start();
    await flush();
    const attempts = [
      { provider: 'DeepInfra', upstream_model: 'm', status: 500, reason: 'upstream error', latency_ms: 12 },
      { provider: 'Together', upstream_model: 'm', status: 503, reason: 'upstream error', latency_ms: 30 },
    ];
    fake.json(
      502,
      { error: { message: 'All providers failed', type: 'upstream_error', param: null, code: 'all_providers_failed', attempts } },
      { 'x-request-id': 'req_9' },
    );
    const err = (await done.then(
      () => null,
      (e: unknown) => e,
    )) as ChatRequestError;
    expect(err).toBeInstanceOf(ChatRequestError);
    expect(err.failure).toMatchObject({ kind: 'server', status: 502, detail: 'All providers failed', code: 'all_providers_failed' });
    expect(err.attempts).toEqual(attempts);
    expect(err.requestId).toBe('req_9');
    expect(events).toEqual([]);
  });

  it('a 401 ends the session like the interceptor does (back to 登录)', async () => {
    h.router.url = '/playground';
    const done = start();
    await flush();
    fake.json(401, { error: { message: 'expired', type: 'authentication_error', param: null, code: 'admin_session_expired' } });
    const err = (await done.then(
      () => null,
      (e: unknown) => e,
    )) as ChatRequestError;
    expect(err.failure.kind).toBe('unauthorized');
    expect(h.get(AuthService).isLoggedIn()).toBe(false);
    expect(h.router.navigations).toEqual([{ commands: ['/login'], extras: { queryParams: { returnUrl: '/playground' } } }]);
  });

  it('without a session it does not even ask', async () => {
    h.storage.removeItem(STORAGE_KEYS.session);
    h.destroy();
    fake = new FakeFetch();
    h = createHarness([{ provide: FETCH, useValue: fake.fn }]);
    client = h.get(ChatStreamClient);
    const err = (await start().then(
      () => null,
      (e: unknown) => e,
    )) as ChatRequestError;
    expect(err.failure.kind).toBe('unauthorized');
    expect(fake.calls).toEqual([]);
    expect(h.router.navigations).toHaveLength(1);
  });

  it('no answer at all is "unreachable"', async () => {
    const done = start();
    await flush();
    fake.networkError();
    const err = (await done.then(
      () => null,
      (e: unknown) => e,
    )) as ChatRequestError;
    expect(err.failure.kind).toBe('unreachable');
  });

  it('aborting rejects with an AbortError and stops reading', async () => {
    const controller = new AbortController();
    const done = start(controller.signal);
    await flush();
    const s = fake.stream();
    s.send(chunk('one'));
    await flush();
    controller.abort();
    const err = (await done.then(
      () => null,
      (e: unknown) => e,
    )) as DOMException;
    expect(err.name).toBe('AbortError');
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(1);
  });

  it('takes a plain JSON completion too (a proxy that does not stream)', async () => {
    const done = start();
    await flush();
    fake.json(
      200,
      {
        id: 'c',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'whole', refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: USAGE,
      },
      { 'x-pool-provider': 'PollinationsAI' },
    );
    await done;
    expect(events.map((e) => e.type)).toEqual(['open', 'delta', 'finish', 'usage']);
    expect(events[1]).toEqual({ type: 'delta', content: 'whole', reasoning: '' });
  });
});
