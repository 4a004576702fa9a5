import { Observable, of } from 'rxjs';
import { loadConfig, type AppConfig } from '../config/app-config.ts';
import {
  UpstreamError,
  type ChatEvent,
  type ChatRequest,
  type ProviderAdapter,
  type UpstreamContext,
  type UpstreamModel,
} from '../providers/provider-adapter.ts';
import { ProviderState } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { probeProvider, type ProbeModel, type ProbeOptions } from './provider-probe.ts';

type ModelsHandler = (ctx: UpstreamContext) => Promise<UpstreamModel[]>;
type ChatHandler = (req: ChatRequest, ctx: UpstreamContext) => Observable<ChatEvent>;

/** An adapter whose answers the test decides; it records what it was asked. */
class FakeAdapter implements ProviderAdapter {
  readonly id = 'fake';
  readonly name = 'Fake';
  readonly defaultBaseUrl = 'http://127.0.0.1:9/fake';
  readonly modelCalls: UpstreamContext[] = [];
  readonly chatCalls: Array<{ req: ChatRequest; ctx: UpstreamContext }> = [];
  listModels?: (ctx: UpstreamContext) => Promise<UpstreamModel[]>;

  constructor(
    readonly requiresKey: boolean,
    models: ModelsHandler | null,
    private readonly chatHandler: ChatHandler = () => of<ChatEvent[]>({ type: 'delta', content: 'p' }, { type: 'finish', reason: 'length' }),
  ) {
    if (models) {
      this.listModels = (ctx) => {
        this.modelCalls.push(ctx);
        return models(ctx);
      };
    }
  }

  chat(req: ChatRequest, ctx: UpstreamContext): Observable<ChatEvent> {
    this.chatCalls.push({ req, ctx });
    return this.chatHandler(req, ctx);
  }
}

const ok: ModelsHandler = async () => [{ id: 'm1' }];
const failWith =
  (err: UpstreamError): ModelsHandler =>
  async () => {
    throw err;
  };
/** Never answers; rejects as UpstreamHttp does when the request's signal aborts. */
const hang: ModelsHandler = (ctx) =>
  new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new UpstreamError('aborted', 'request aborted')), { once: true }));

const CHAT_MODEL: ProbeModel = { id: 'gateway-model', upstreamModel: 'upstream/model-1' };

function setup(
  opts: { keys?: string[]; requiresKey?: boolean; models?: ModelsHandler | null; chat?: ChatHandler; chatModel?: ProbeModel; mode?: ProbeOptions['mode'] } = {},
) {
  const config: AppConfig = loadConfig({});
  const adapter = new FakeAdapter(opts.requiresKey ?? true, opts.models === undefined ? ok : opts.models, opts.chat);
  const provider = new ProviderState(adapter, false, { enabled: true, apiKeys: opts.keys ?? ['sk-key-one-0001'], extra: {} }, config);
  const options: ProbeOptions = {
    http: new UpstreamHttp(config),
    timeoutMs: 2_000,
    authCooldownMs: 600_000,
    mode: opts.mode ?? 'models',
    chatModel: () => opts.chatModel,
  };
  return { adapter, provider, options };
}

describe('probeProvider', () => {
  it('reads the model list with a key from the pool and reports success', async () => {
    const { adapter, provider, options } = setup({ keys: ['sk-key-one-0001'] });
    const result = await probeProvider(provider, options);
    expect(result).toMatchObject({ provider: 'Fake', ok: true, probe: 'models', error: null, key: '****' });
    expect(result.keyProblems).toBeUndefined();
    expect(adapter.modelCalls.map((c) => c.apiKey)).toEqual(['sk-key-one-0001']);
    expect(adapter.chatCalls).toHaveLength(0);
  });

  it('a provider that needs a key it does not have is not probed, and the result says so', async () => {
    const { adapter, provider, options } = setup({ keys: [] });
    const result = await probeProvider(provider, options);
    expect(result).toMatchObject({ ok: false, probe: 'none', inconclusive: true });
    expect(result.error).toMatch(/^not configured: needs an API key/);
    expect(adapter.modelCalls).toHaveLength(0);
  });

  it('chat mode sends a one-token chat to the chosen model even when a model list exists, and says which', async () => {
    const { adapter, provider, options } = setup({ mode: 'chat', chatModel: CHAT_MODEL });
    expect(await probeProvider(provider, options)).toMatchObject({ ok: true, probe: 'chat', model: 'gateway-model' });
    expect(adapter.modelCalls).toHaveLength(0);
    expect(adapter.chatCalls.map((c) => [c.req.params, c.ctx.upstreamModel])).toEqual([[{ max_tokens: 1 }, 'upstream/model-1']]);
  });

  it('chat mode: a failing chat is reported with the model, even though the model list works', async () => {
    const { provider, options } = setup({
      mode: 'chat',
      chatModel: CHAT_MODEL,
      chat: () => new Observable<ChatEvent>((s) => s.error(new UpstreamError('http', 'HTTP 500: boom', 500))),
    });
    expect(await probeProvider(provider, options)).toMatchObject({ ok: false, probe: 'chat', model: 'gateway-model', error: expect.stringMatching(/500/) });
  });

  it('chat mode for a provider with no chat model reads the model list instead', async () => {
    const { adapter, provider, options } = setup({ mode: 'chat' });
    expect(await probeProvider(provider, options)).toMatchObject({ ok: true, probe: 'models' });
    expect(adapter.modelCalls).toHaveLength(1);
  });

  it('without a model list, sends a one-token, non-stream chat to a catalog model', async () => {
    const { adapter, provider, options } = setup({ models: null, chatModel: CHAT_MODEL });
    const result = await probeProvider(provider, options);
    expect(result).toMatchObject({ ok: true, probe: 'chat' });
    expect(adapter.chatCalls).toHaveLength(1);
    const [{ req, ctx }] = adapter.chatCalls as [{ req: ChatRequest; ctx: UpstreamContext }];
    expect(req).toMatchObject({ model: 'gateway-model', stream: false, params: { max_tokens: 1 } });
    expect(ctx.upstreamModel).toBe('upstream/model-1');
    expect(ctx.apiKey).toBe('sk-key-one-0001');
  });

  it('falls back to the chat probe when the model list endpoint does not exist', async () => {
    const { adapter, provider, options } = setup({ models: failWith(new UpstreamError('http', 'HTTP 404: not found', 404)), chatModel: CHAT_MODEL });
    const result = await probeProvider(provider, options);
    expect(result).toMatchObject({ ok: true, probe: 'chat' });
    expect(adapter.modelCalls).toHaveLength(1);
    expect(adapter.chatCalls).toHaveLength(1);
  });

  it('an empty chat answer is a failure', async () => {
    const { provider, options } = setup({ models: null, chatModel: CHAT_MODEL, chat: () => of<ChatEvent>() });
    const result = await probeProvider(provider, options);
    expect(result).toMatchObject({ ok: false, probe: 'chat' });
    expect(result.error).toMatch(/empty answer/);
  });

  it('with neither a model list nor a catalog model, nothing is sent and nothing is concluded', async () => {
    const { adapter, provider, options } = setup({ models: null });
    const key = provider.keys.acquire()!;
    key.breaker.onFailure({ immediate: true, cooldownMs: 0 });
    const result = await probeProvider(provider, options);
    expect(result).toMatchObject({ ok: false, probe: 'none', inconclusive: true });
    expect(adapter.chatCalls).toHaveLength(0);
    // The key's half-open slot is not kept.
    expect(key.breaker.isAvailable()).toBe(true);
  });

  it('gives up after its timeout', async () => {
    const { provider, options } = setup({ models: hang });
    const result = await probeProvider(provider, { ...options, timeoutMs: 30 });
    expect(result).toMatchObject({ ok: false, probe: 'models' });
    expect(result.error).toBe('timeout: health check timed out after 30 ms');
    expect(result.inconclusive).toBeUndefined();
  });

  it('an abort from outside (shutdown) concludes nothing', async () => {
    const { provider, options } = setup({ models: hang });
    const stop = new AbortController();
    const pending = probeProvider(provider, { ...options, signal: stop.signal });
    stop.abort();
    expect(await pending).toMatchObject({ ok: false, inconclusive: true });
    expect(provider.breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  describe('keys', () => {
    it('a 401 marks that key like chat does, and the next key gives the verdict', async () => {
      const models: ModelsHandler = async (ctx) => {
        if (ctx.apiKey?.startsWith('bad')) throw new UpstreamError('http', 'HTTP 401: invalid key', 401);
        return [{ id: 'm1' }];
      };
      const { adapter, provider, options } = setup({ keys: ['bad-key-00000001', 'sk-good-key-0002'], models });
      const result = await probeProvider(provider, options);
      expect(result).toMatchObject({ ok: true, key: '****0002', keyProblems: [{ key: '****0001', status: 401, error: 'HTTP 401: invalid key' }] });
      expect(adapter.modelCalls.map((c) => c.apiKey)).toEqual(['bad-key-00000001', 'sk-good-key-0002']);
      const [bad, good] = provider.keys.view();
      expect(bad!.breaker.state).toBe('open');
      expect(bad!.breaker.openUntil! - Date.now()).toBeGreaterThan(500_000);
      expect(good!.breaker.state).toBe('closed');
      // The provider is not at fault.
      expect(provider.breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    });

    it('three auth failures in a row mark a key invalid', async () => {
      const { provider, options } = setup({ keys: ['bad-key-00000001'], models: failWith(new UpstreamError('http', 'HTTP 403: forbidden', 403)) });
      const key = provider.keys.acquire()!;
      key.breaker.release();
      key.authFailures = 2;
      const result = await probeProvider(provider, options);
      expect(result.ok).toBe(false);
      expect(provider.keys.view()[0]!.invalid).toBe(true);
    });

    it('a 429 cools the key for its Retry-After; when every key failed, the check fails and says why', async () => {
      const { provider, options } = setup({ keys: ['sk-key-one-0001'], models: failWith(new UpstreamError('http', 'HTTP 429: slow down', 429, 50_000)) });
      const result = await probeProvider(provider, options);
      expect(result).toMatchObject({ ok: false, probe: 'models', keyProblems: [{ key: '****', status: 429 }] });
      expect(result.error).toMatch(/^every key failed: \*\*\*\*: HTTP 429/);
      // 50 s: under BREAKER_MAX_COOLDOWN_MS (60 s), which caps any Retry-After.
      expect(provider.keys.view()[0]!.breaker.openUntil! - Date.now()).toBeGreaterThan(40_000);
      expect(provider.keys.view()[0]!.invalid).toBe(false);
    });

    it('with every key cooling down, nothing is sent and the provider is reported unhealthy', async () => {
      const { adapter, provider, options } = setup({ keys: ['sk-key-one-0001'] });
      provider.keys.acquire()!.breaker.onFailure({ immediate: true, cooldownMs: 60_000 });
      const result = await probeProvider(provider, options);
      expect(result).toMatchObject({ ok: false, probe: 'none', error: 'no usable key: every key is cooling down or invalid' });
      expect(result.inconclusive).toBeUndefined();
      expect(adapter.modelCalls).toHaveLength(0);
    });

    it('an anonymous provider is probed without a key', async () => {
      const { adapter, provider, options } = setup({ keys: [], requiresKey: false });
      expect(await probeProvider(provider, options)).toMatchObject({ ok: true, key: null });
      expect(adapter.modelCalls[0]!.apiKey).toBeUndefined();
    });

    it('a provider failure frees the key’s half-open slot without cooling the key', async () => {
      const { provider, options } = setup({ models: failWith(new UpstreamError('http', 'HTTP 500: boom', 500)) });
      const key = provider.keys.acquire()!;
      key.breaker.onFailure({ immediate: true, cooldownMs: 0 });
      await probeProvider(provider, options);
      expect(key.breaker.snapshot()).toMatchObject({ state: 'half-open', consecutiveFailures: 1, openUntil: null });
      expect(key.breaker.isAvailable()).toBe(true);
    });
  });

  describe('circuit breaker', () => {
    const serverError = () => failWith(new UpstreamError('http', 'HTTP 500: boom', 500));

    it('closed: a failed probe is reported but neither counts as a failure nor opens the breaker', async () => {
      const { provider, options } = setup({ models: serverError() });
      for (let i = 0; i < 5; i++) expect((await probeProvider(provider, options)).ok).toBe(false);
      expect(provider.breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
      expect(provider.status().status).toBe('available');
    });

    it('open: a successful probe of the failing kind of call closes it early', async () => {
      const { provider, options } = setup({ mode: 'chat', chatModel: CHAT_MODEL });
      provider.breaker.onFailure({ immediate: true, cooldownMs: 60_000, reason: 'HTTP 500', kind: 'chat' });
      expect(provider.status().status).toBe('cooling-down');
      expect((await probeProvider(provider, options)).ok).toBe(true);
      expect(provider.breaker.snapshot()).toMatchObject({ state: 'closed', openUntil: null });
      expect(provider.status().status).toBe('available');
    });

    it('open: a failed probe leaves the cooldown as it was', async () => {
      const { provider, options } = setup({ models: serverError() });
      provider.breaker.onFailure({ immediate: true, cooldownMs: 60_000, reason: 'HTTP 500' });
      const before = provider.breaker.snapshot();
      expect((await probeProvider(provider, options)).ok).toBe(false);
      expect(provider.breaker.snapshot()).toEqual(before);
    });

    it('half-open (cooldown over): the probe takes the half-open slot; its failure reopens the breaker', async () => {
      let release!: () => void;
      const models: ModelsHandler = () =>
        new Promise((_, reject) => {
          release = () => reject(new UpstreamError('http', 'HTTP 502: bad gateway', 502));
        });
      const { provider, options } = setup({ models });
      provider.breaker.onFailure({ immediate: true, cooldownMs: 0, reason: 'HTTP 500' });
      expect(provider.breaker.snapshot().state).toBe('half-open');
      expect(provider.breaker.isAvailable()).toBe(true);

      const pending = probeProvider(provider, options);
      // While the probe runs, no chat request may take the provider's half-open slot.
      expect(provider.breaker.isAvailable()).toBe(false);
      expect(provider.breaker.tryAcquire()).toBe(false);
      release();
      const result = await pending;
      expect(result.ok).toBe(false);
      const after = provider.breaker.snapshot();
      expect(after.state).toBe('open');
      expect(after.openUntil).not.toBeNull();
      expect(after.lastFailure).toBe('health check: HTTP 502: bad gateway');
    });

    it('half-open: a successful probe closes the breaker', async () => {
      const { provider, options } = setup({ mode: 'chat', chatModel: CHAT_MODEL });
      provider.breaker.onFailure({ immediate: true, cooldownMs: 0, kind: 'chat' });
      expect((await probeProvider(provider, options)).ok).toBe(true);
      expect(provider.breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    });

    it('a model-list read never closes a breaker that failing chats opened, open or half-open', async () => {
      const { provider, options } = setup({ mode: 'models', chatModel: CHAT_MODEL });
      provider.breaker.onFailure({ immediate: true, cooldownMs: 60_000, reason: 'HTTP 500', kind: 'chat' });
      expect(await probeProvider(provider, options)).toMatchObject({ ok: true, probe: 'models' });
      expect(provider.status().status).toBe('cooling-down');

      const again = setup({ mode: 'models' });
      again.provider.breaker.onFailure({ immediate: true, cooldownMs: 0, reason: 'HTTP 500', kind: 'chat' });
      expect((await probeProvider(again.provider, again.options)).ok).toBe(true);
      // The half-open slot is free again for a live request, whose verdict counts.
      expect(again.provider.breaker.snapshot().state).toBe('half-open');
      expect(again.provider.breaker.isAvailable()).toBe(true);
    });

    it('half-open: a failure that is not the provider’s (a key problem, a 400) frees the slot without reopening', async () => {
      for (const err of [new UpstreamError('http', 'HTTP 401: bad key', 401), new UpstreamError('http', 'HTTP 400: bad request', 400)]) {
        const { provider, options } = setup({ keys: ['sk-key-one-0001', 'sk-key-two-0002'], models: failWith(err) });
        provider.breaker.onFailure({ immediate: true, cooldownMs: 0 });
        expect((await probeProvider(provider, options)).ok).toBe(false);
        expect(provider.breaker.snapshot().openUntil).toBeNull();
        expect(provider.breaker.isAvailable()).toBe(true);
      }
    });
  });
});
