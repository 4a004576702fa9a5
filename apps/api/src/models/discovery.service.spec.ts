import { jest } from '@jest/globals';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Observable } from 'rxjs';
import type { CatalogModel, CatalogRoute } from '#contracts';
import { loadConfig, type AppConfig } from '../config/app-config.ts';
import { UpstreamError, type ChatEvent, type ProviderAdapter, type UpstreamContext, type UpstreamModel } from '../providers/provider-adapter.ts';
import type { ProviderDeclaration } from '../providers/provider-declaration.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { RouterService } from '../routing/router.service.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { Storage } from '../storage/storage.ts';
import type { CatalogService } from './catalog.service.ts';
import { HUGGINGFACE } from '../providers/huggingface/huggingface.provider.ts';
import { TOGETHER } from '../providers/together/together.provider.ts';
import { comparableId, indexModelList, isRoutable, routeState, stripProviderSuffix } from './discovery-match.ts';
import { DISCOVERY_LISTS_NS, DISCOVERY_PINS_NS, DiscoveryService, NOT_OFFERED } from './discovery.service.ts';
import { modelTakesImages, routeTakesImages } from './vision.ts';

// ---- matching rules --------------------------------------------------------------------

describe('discovery matching', () => {
  it('strips a HuggingFace `:provider` suffix only after an org/name id', () => {
    expect(stripProviderSuffix('deepseek-ai/DeepSeek-R1:novita')).toBe('deepseek-ai/DeepSeek-R1');
    expect(stripProviderSuffix('deepseek-ai/DeepSeek-R1:fastest')).toBe('deepseek-ai/DeepSeek-R1');
    expect(stripProviderSuffix('deepseek-ai/DeepSeek-R1')).toBe('deepseek-ai/DeepSeek-R1');
    expect(stripProviderSuffix('qwen2.5:7b')).toBe('qwen2.5:7b');
  });

  it('compares HuggingFace ids by their base id, case-insensitively', () => {
    const list = indexModelList(HUGGINGFACE.modelIds, ['deepseek-ai/DeepSeek-R1', 'meta-llama/Llama-3.3-70B-Instruct']);
    expect(routeState(HUGGINGFACE.modelIds, list, 'deepseek-ai/DeepSeek-R1:novita')).toBe('confirmed');
    expect(routeState(HUGGINGFACE.modelIds, list, 'deepseek-ai/deepseek-r1')).toBe('confirmed');
    expect(routeState(HUGGINGFACE.modelIds, list, 'meta-llama/Llama-3.3-70B-Instruct:groq')).toBe('confirmed');
    expect(routeState(HUGGINGFACE.modelIds, list, 'deepseek-ai/DeepSeek-V3:novita')).toBe('missing');
  });

  it('keeps the colon for providers that declare no suffix: an Ollama tag or an OpenRouter variant is part of the id', () => {
    expect(comparableId(undefined, 'qwen2.5:7b')).toBe('qwen2.5:7b');
    expect(comparableId(undefined, 'meta-llama/llama-3.3-70b-instruct:free')).toBe('meta-llama/llama-3.3-70b-instruct:free');
    const ollama = indexModelList(undefined, ['qwen2.5:14b']);
    expect(routeState(undefined, ollama, 'qwen2.5:7b')).toBe('missing');
    expect(routeState(undefined, ollama, 'QWEN2.5:14B')).toBe('confirmed');
    const openrouter = indexModelList(undefined, ['meta-llama/llama-3.3-70b-instruct']);
    expect(routeState(undefined, openrouter, 'meta-llama/llama-3.3-70b-instruct:free')).toBe('missing');
  });

  it('says unknown without a list, and confirmed or missing with one', () => {
    expect(routeState(TOGETHER.modelIds, null, 'a/b')).toBe('unknown');
    expect(routeState(TOGETHER.modelIds, undefined, 'a/b')).toBe('unknown');
    const list = indexModelList(TOGETHER.modelIds, [' openai/gpt-oss-120b ']);
    expect(routeState(TOGETHER.modelIds, list, 'openai/GPT-OSS-120B')).toBe('confirmed');
    expect(routeState(TOGETHER.modelIds, list, 'openai/gpt-oss-20b')).toBe('missing');
  });

  it('routes everything but an unpinned missing route', () => {
    expect(isRoutable('confirmed', false)).toBe(true);
    expect(isRoutable('unknown', false)).toBe(true);
    expect(isRoutable('missing', false)).toBe(false);
    expect(isRoutable('missing', true)).toBe(true);
  });
});

describe('vision capability', () => {
  const model = (vision: boolean | undefined, category: CatalogModel['category'] = 'chat'): CatalogModel => ({
    id: 'm',
    label: 'M',
    owned_by: 'x',
    category,
    vision,
    routes: [],
  });
  const route = (vision?: boolean): CatalogRoute => ({ provider: 'P', upstream_model: 'u', vision });

  it('follows the model, then the route, and never an adapter that drops images', () => {
    expect(modelTakesImages(model(true))).toBe(true);
    expect(modelTakesImages(model(undefined))).toBe(false);
    expect(modelTakesImages(model(undefined, 'vision'))).toBe(true);
    expect(modelTakesImages(model(false, 'vision'))).toBe(false);
    expect(routeTakesImages(model(true), route(), {})).toBe(true);
    expect(routeTakesImages(model(true), route(false), {})).toBe(false);
    expect(routeTakesImages(model(undefined), route(true), {})).toBe(true);
    expect(routeTakesImages(model(undefined), route(), {})).toBe(false);
    expect(routeTakesImages(model(true), route(), { acceptsImageInput: false })).toBe(false);
    expect(routeTakesImages(model(true), route(true), { acceptsImageInput: false })).toBe(false);
    expect(routeTakesImages(model(true), route(), { acceptsImageInput: true })).toBe(true);
  });
});

// ---- the service ------------------------------------------------------------------------

type ListAnswer = string[] | UpstreamError | Promise<string[]>;

/** A provider whose model list each test sets; it records the key of every call. */
class FakeAdapter implements ProviderAdapter {
  readonly defaultBaseUrl: string;
  readonly calls: Array<string | undefined> = [];
  answer: ListAnswer = [];
  /** Per-key answers win over `answer`. */
  readonly byKey = new Map<string, ListAnswer>();

  constructor(
    readonly id: string,
    readonly name: string,
    readonly requiresKey = true,
    readonly declaration?: ProviderDeclaration,
  ) {
    this.defaultBaseUrl = `http://127.0.0.1:9/${id}`;
  }

  chat(): Observable<ChatEvent> {
    throw new Error('discovery never chats');
  }

  async listModels(ctx: UpstreamContext): Promise<UpstreamModel[]> {
    this.calls.push(ctx.apiKey);
    const answer = (ctx.apiKey !== undefined ? this.byKey.get(ctx.apiKey) : undefined) ?? this.answer;
    if (answer instanceof UpstreamError) throw answer;
    return (await answer).map((id) => ({ id }));
  }
}

/** A provider that cannot list its models. */
const silent: ProviderAdapter = {
  id: 'silent',
  name: 'Silent',
  defaultBaseUrl: 'http://127.0.0.1:9/silent',
  requiresKey: false,
  chat: () => {
    throw new Error('never');
  },
};

const CATALOG: CatalogModel[] = [
  {
    id: 'llama',
    label: 'Llama',
    owned_by: 'Meta',
    category: 'chat',
    routes: [
      { provider: 'Alpha', upstream_model: 'meta/llama' },
      { provider: 'Beta', upstream_model: 'meta/Llama-Turbo' },
      { provider: 'Hugging', upstream_model: 'meta/llama:novita' },
    ],
  },
  {
    id: 'qwen',
    label: 'Qwen',
    owned_by: 'Qwen',
    category: 'chat',
    routes: [
      { provider: 'Alpha', upstream_model: 'qwen/qwen' },
      { provider: 'Beta', upstream_model: 'qwen/qwen', pinned: true },
    ],
  },
  { id: 'flux', label: 'Flux', owned_by: 'BFL', category: 'image', routes: [{ provider: 'Alpha', upstream_model: 'bfl/flux' }] },
  { id: 'quiet', label: 'Quiet', owned_by: 'x', category: 'chat', routes: [{ provider: 'Silent', upstream_model: 'q' }] },
];

const catalog: Pick<CatalogService, 'all' | 'resolve'> = {
  all: () => CATALOG,
  resolve: (id) => CATALOG.find((m) => m.id.toLowerCase() === id.toLowerCase()),
};
const modelOf = (id: string): CatalogModel => CATALOG.find((m) => m.id === id)!;

interface Sut {
  sut: DiscoveryService;
  registry: ProviderRegistry;
  router: RouterService;
  alpha: FakeAdapter;
  beta: FakeAdapter;
  hugging: FakeAdapter;
  scheduler: SchedulerRegistry;
  config: AppConfig;
}

let storage: Storage;
const running: DiscoveryService[] = [];

beforeEach(async () => {
  storage = new SqliteStorage({ file: ':memory:' });
  await storage.init();
});

afterEach(async () => {
  for (const s of running.splice(0)) await s.onModuleDestroy();
  await storage.close();
});

async function makeSut(opts: { alphaKeys?: string[]; intervalMinutes?: number; adapters?: FakeAdapter[] } = {}): Promise<Sut> {
  const config = loadConfig({ DISCOVERY_INTERVAL_MINUTES: String(opts.intervalMinutes ?? 0), ROUTING_STRATEGY: 'priority' });
  config.providers.alpha = { enabled: true, apiKeys: opts.alphaKeys ?? ['a-good-1'], extra: {}, priority: 1 };
  config.providers.beta = { enabled: true, apiKeys: ['b-good-1'], extra: {}, priority: 2 };
  config.providers.hugging = { enabled: true, apiKeys: ['h-good-1'], extra: {}, priority: 3 };
  config.providers.huggingface = config.providers.hugging;
  const [alpha, beta, hugging] = opts.adapters ?? [new FakeAdapter('alpha', 'Alpha'), new FakeAdapter('beta', 'Beta'), new FakeAdapter('hugging', 'Hugging')];
  const registry = new ProviderRegistry([alpha!, beta!, hugging!, silent], config);
  const scheduler = new SchedulerRegistry();
  const sut = new DiscoveryService(registry, catalog, new UpstreamHttp(config), storage, config, scheduler);
  running.push(sut);
  await sut.onModuleInit();
  return { sut, registry, router: new RouterService(registry, config, sut), alpha: alpha!, beta: beta!, hugging: hugging!, scheduler, config };
}

const stateOf = (sut: DiscoveryService, model: string, provider: string) => sut.model(model).routes.find((r) => r.provider === provider)!;

describe('DiscoveryService', () => {
  it('marks routes confirmed or missing from the lists, and unknown before any list', async () => {
    const { sut, alpha, beta } = await makeSut();
    expect(stateOf(sut, 'llama', 'Alpha')).toMatchObject({ state: 'unknown', checkedAt: null, routable: true });

    alpha.answer = ['meta/llama', 'bfl/other'];
    beta.answer = ['META/llama-turbo', 'qwen/qwen'];
    const before = Date.now();
    const results = await sut.refresh();

    const alphaResult = results.find((r) => r.provider === 'Alpha')!;
    expect(alphaResult).toMatchObject({ attempted: true, ok: true, error: null, modelCount: 2, routes: { confirmed: 1, missing: 1, unknown: 0 } });
    expect(alphaResult.changed).toEqual(
      expect.arrayContaining([
        { model: 'llama', upstream_model: 'meta/llama', from: 'unknown', to: 'confirmed' },
        { model: 'qwen', upstream_model: 'qwen/qwen', from: 'unknown', to: 'missing' },
      ]),
    );
    expect(stateOf(sut, 'llama', 'Alpha')).toMatchObject({ state: 'confirmed', pinned: false, routable: true });
    expect(stateOf(sut, 'llama', 'Alpha').checkedAt).toBeGreaterThanOrEqual(before);
    expect(stateOf(sut, 'llama', 'Beta').state).toBe('confirmed');
    expect(stateOf(sut, 'qwen', 'Alpha')).toMatchObject({ state: 'missing', routable: false });
    // The catalog pins Beta's qwen route, so it stays routable whatever discovery says.
    expect(stateOf(sut, 'qwen', 'Beta')).toMatchObject({ state: 'confirmed', pinned: true, pinnedBy: 'catalog' });
  });

  it('compares a HuggingFace-style suffixed route by its base id, as the provider’s declaration says', async () => {
    const adapters = [new FakeAdapter('alpha', 'Alpha'), new FakeAdapter('beta', 'Beta'), new FakeAdapter('huggingface', 'Hugging', true, HUGGINGFACE)];
    const { sut, hugging } = await makeSut({ adapters });
    hugging.answer = ['meta/llama'];
    await sut.refresh('Hugging');
    expect(stateOf(sut, 'llama', 'Hugging').state).toBe('confirmed');
    hugging.answer = ['meta/other'];
    await sut.refresh('huggingface');
    expect(stateOf(sut, 'llama', 'Hugging').state).toBe('missing');
  });

  it('does not judge image routes (the lists are chat lists)', async () => {
    const { sut, alpha, registry } = await makeSut();
    alpha.answer = ['meta/llama'];
    await sut.refresh('Alpha');
    expect(stateOf(sut, 'flux', 'Alpha')).toMatchObject({ state: 'unknown', routable: true });
    expect(sut.routeSkipReason(modelOf('flux'), modelOf('flux').routes[0]!, registry.find('Alpha')!)).toBeNull();
  });

  it('routing skips a missing route with the discovery reason, keeps the others', async () => {
    const { sut, router, alpha, beta } = await makeSut();
    alpha.answer = ['something/else'];
    beta.answer = ['meta/llama-turbo'];
    await sut.refresh();
    const plan = router.plan(modelOf('llama'));
    expect(plan.candidates.map((c) => c.provider.name)).toEqual(['Beta', 'Hugging']);
    expect(plan.skipped).toContainEqual({ provider: 'Alpha', reason: NOT_OFFERED });
  });

  it('a runtime pin makes a missing route routable again, and survives in storage; unpin undoes it', async () => {
    const first = await makeSut();
    first.alpha.answer = ['something/else'];
    await first.sut.refresh('Alpha');
    expect(first.router.plan(modelOf('llama')).candidates.map((c) => c.provider.name)).not.toContain('Alpha');

    const pinned = await first.sut.pin('LLAMA', 'alpha');
    expect(pinned.routes.find((r) => r.provider === 'Alpha')).toMatchObject({ state: 'missing', pinned: true, pinnedBy: 'operator', routable: true });
    expect(first.router.plan(modelOf('llama')).candidates.map((c) => c.provider.name)).toContain('Alpha');
    expect(Object.values(await storage.settings.list(DISCOVERY_PINS_NS))).toEqual([expect.objectContaining({ model: 'llama', provider: 'Alpha' })]);

    // A new instance on the same store (a restart) starts with the list and the pin.
    const second = await makeSut();
    expect(stateOf(second.sut, 'llama', 'Alpha')).toMatchObject({ state: 'missing', pinned: true });
    expect(second.alpha.calls).toEqual([]);

    await second.sut.unpin('llama', 'Alpha');
    expect(stateOf(second.sut, 'llama', 'Alpha')).toMatchObject({ pinned: false, routable: false });
    expect(await storage.settings.list(DISCOVERY_PINS_NS)).toEqual({});
  });

  it('pin rejects unknown models, unknown providers and providers without a route', async () => {
    const { sut } = await makeSut();
    await expect(sut.pin('nope', 'Alpha')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    await expect(sut.pin('llama', 'Nope')).rejects.toMatchObject({ status: 404, code: 'provider_not_found' });
    await expect(sut.pin('quiet', 'Alpha')).rejects.toMatchObject({ status: 400, code: 'provider_model_mismatch' });
    await expect(sut.refresh('Nope')).rejects.toMatchObject({ status: 404 });
  });

  it.each([
    ['an HTTP error', new UpstreamError('http', 'HTTP 500: boom', 500), 'HTTP 500: boom'],
    ['an invalid answer', new UpstreamError('invalid', 'model list is not a list'), 'invalid: model list is not a list'],
    ['an empty list', [] as string[], 'the provider listed no models'],
  ])('a failed fetch (%s) keeps the previous state', async (_name, failure, error) => {
    const { sut, alpha } = await makeSut();
    alpha.answer = ['meta/llama'];
    await sut.refresh('Alpha');
    const listedAt = stateOf(sut, 'llama', 'Alpha').checkedAt;

    alpha.answer = failure;
    const [result] = await sut.refresh('Alpha');
    expect(result).toMatchObject({ provider: 'Alpha', attempted: true, ok: false, error, modelCount: 1, listedAt, changed: [] });
    expect(stateOf(sut, 'llama', 'Alpha')).toMatchObject({ state: 'confirmed', checkedAt: listedAt });
    expect(stateOf(sut, 'qwen', 'Alpha').state).toBe('missing');
    const stored = await storage.settings.get<{ ok: boolean; error: string; ids: string[] }>(DISCOVERY_LISTS_NS, 'alpha');
    expect(stored).toMatchObject({ ok: false, error, ids: ['meta/llama'] });
  });

  it('a first fetch that fails leaves routes unknown (routable), not missing', async () => {
    const { sut, alpha, router } = await makeSut();
    alpha.answer = new UpstreamError('network', 'ECONNREFUSED');
    const [result] = await sut.refresh('Alpha');
    expect(result).toMatchObject({ ok: false, modelCount: null, listedAt: null });
    expect(stateOf(sut, 'llama', 'Alpha').state).toBe('unknown');
    expect(router.plan(modelOf('llama')).candidates.map((c) => c.provider.name)).toContain('Alpha');
  });

  it('skips disabled and unconfigured providers and those that cannot list models', async () => {
    const { sut, registry, alpha, beta } = await makeSut();
    registry.find('Alpha')!.enabled = false;
    registry.find('Beta')!.keys.replace([]);
    const results = await sut.refresh();
    expect(alpha.calls).toEqual([]);
    expect(beta.calls).toEqual([]);
    expect(results.find((r) => r.provider === 'Alpha')).toMatchObject({ attempted: false, skipped: 'disabled by the operator' });
    expect(results.find((r) => r.provider === 'Beta')).toMatchObject({ attempted: false, skipped: expect.stringContaining('needs an API key') });
    expect(results.find((r) => r.provider === 'Silent')).toMatchObject({ attempted: false, skipped: 'this provider cannot list its models' });
    expect(results.find((r) => r.provider === 'Hugging')).toMatchObject({ attempted: true });
  });

  it('a 401 tries the next key, and neither fails nor heals any key', async () => {
    const { sut, registry, alpha } = await makeSut({ alphaKeys: ['a-bad-1', 'a-good-2'] });
    alpha.answer = ['meta/llama'];
    alpha.byKey.set('a-bad-1', new UpstreamError('http', 'HTTP 401: bad key', 401));
    const [result] = await sut.refresh('Alpha');
    expect(alpha.calls).toEqual(['a-bad-1', 'a-good-2']);
    expect(result).toMatchObject({ ok: true, modelCount: 1 });
    const keys = registry.find('Alpha')!.keys.view();
    expect(keys.map((k) => [k.breaker.state, k.breaker.consecutiveFailures, k.invalid])).toEqual([
      ['closed', 0, false],
      ['closed', 0, false],
    ]);
  });

  it('when every key is refused the fetch fails, the state stays, and chat may still use the keys', async () => {
    const { sut, registry, alpha, router } = await makeSut({ alphaKeys: ['a-only'] });
    alpha.answer = ['meta/llama'];
    await sut.refresh('Alpha');
    alpha.answer = new UpstreamError('http', 'HTTP 403: no permission to list models', 403);
    for (let i = 0; i < 5; i++) {
      const [result] = await sut.refresh('Alpha');
      expect(result).toMatchObject({ ok: false, error: 'HTTP 403: no permission to list models' });
    }
    const alphaState = registry.find('Alpha')!;
    expect(alphaState.keys.view()[0]).toMatchObject({ invalid: false, breaker: { state: 'closed', consecutiveFailures: 0 } });
    expect(alphaState.status().status).toBe('available');
    expect(stateOf(sut, 'llama', 'Alpha').state).toBe('confirmed');
    expect(router.plan(modelOf('llama')).candidates.map((c) => c.provider.name)).toContain('Alpha');
  });

  it('a half-open key lent to discovery is released, not closed, whatever the answer', async () => {
    const { sut, registry, alpha } = await makeSut({ alphaKeys: ['a-only'] });
    const key = registry.find('Alpha')!.keys;
    // Chat found the key out of credit: it cools down, then becomes half-open.
    const pooled = key.acquire()!;
    pooled.breaker.onFailure({ immediate: true, cooldownMs: 1, reason: 'HTTP 402' });
    key.recordAuthFailure(pooled);
    await new Promise((r) => setTimeout(r, 5));
    alpha.answer = ['meta/llama'];
    await sut.refresh('Alpha');
    expect(alpha.calls).toEqual(['a-only']);
    // Still half-open with its failure count: the next chat request is the probe that decides.
    expect(key.view()[0]!.breaker).toMatchObject({ state: 'half-open', consecutiveFailures: 1 });
    expect(pooled.authFailures).toBe(1);
    expect(key.hasAvailable()).toBe(true);
  });

  it('a second refresh of a provider joins the one under way', async () => {
    const { sut, alpha } = await makeSut();
    let release!: (ids: string[]) => void;
    alpha.answer = new Promise<string[]>((resolve) => (release = resolve));
    const one = sut.refresh('Alpha');
    const two = sut.refresh('alpha');
    expect(sut.snapshot().providers.find((p) => p.provider === 'Alpha')!.refreshing).toBe(true);
    release(['meta/llama']);
    const [[a], [b]] = await Promise.all([one, two]);
    expect(alpha.calls).toHaveLength(1);
    expect(a).toEqual(b);
    expect(sut.snapshot().providers.find((p) => p.provider === 'Alpha')!.refreshing).toBe(false);
  });

  it('a list fetched from another base URL no longer counts', async () => {
    const { sut, registry, alpha } = await makeSut();
    alpha.answer = ['something/else'];
    await sut.refresh('Alpha');
    expect(stateOf(sut, 'llama', 'Alpha').state).toBe('missing');
    registry.find('Alpha')!.baseUrl = 'http://127.0.0.1:9/elsewhere';
    expect(stateOf(sut, 'llama', 'Alpha')).toMatchObject({ state: 'unknown', checkedAt: null });
    expect(sut.snapshot().providers.find((p) => p.provider === 'Alpha')).toMatchObject({ modelCount: null, listedAt: null });
    // A failing fetch from the new URL does not bring the old list back.
    alpha.answer = new UpstreamError('http', 'HTTP 502: bad gateway', 502);
    await sut.refresh('Alpha');
    expect(stateOf(sut, 'llama', 'Alpha').state).toBe('unknown');
  });

  it('snapshot lists every provider with its fetch status and every model with its routes', async () => {
    const { sut, alpha, beta, hugging } = await makeSut();
    alpha.answer = ['meta/llama'];
    beta.answer = new UpstreamError('timeout', 'no response within 10 ms');
    hugging.answer = ['meta/llama'];
    await sut.refresh();
    const snap = sut.snapshot();
    expect(snap.intervalMinutes).toBe(0);
    expect(snap.providers.map((p) => p.provider)).toEqual(['Alpha', 'Beta', 'Hugging', 'Silent']);
    expect(snap.providers[0]).toMatchObject({ ok: true, error: null, modelCount: 1, skipped: null, refreshing: false });
    expect(snap.providers[1]).toMatchObject({ ok: false, error: 'timeout: no response within 10 ms', modelCount: null });
    expect(snap.providers[3]).toMatchObject({ ok: null, fetchedAt: null, skipped: 'this provider cannot list its models' });
    expect(snap.models.map((m) => m.model)).toEqual(CATALOG.map((m) => m.id));
    expect(snap.models[0]!.routes.map((r) => [r.provider, r.state])).toEqual([
      ['Alpha', 'confirmed'],
      ['Beta', 'unknown'],
      ['Hugging', 'missing'],
    ]);
  });

  describe('schedule', () => {
    it('fetches at start without waiting, then on the interval', async () => {
      const { sut, alpha, beta, hugging, scheduler } = await makeSut({ intervalMinutes: 30 });
      let release!: (ids: string[]) => void;
      alpha.answer = new Promise<string[]>((resolve) => (release = resolve));
      beta.answer = ['meta/llama-turbo'];
      hugging.answer = ['meta/llama'];
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      try {
        sut.onApplicationBootstrap();
        // Bootstrap returned while Alpha's list is still on its way.
        expect(alpha.calls).toHaveLength(1);
        expect(sut.snapshot().providers.find((p) => p.provider === 'Alpha')!.refreshing).toBe(true);
        expect(scheduler.getIntervals()).toEqual(['model-discovery']);
        release(['meta/llama']);
        await new Promise((r) => setImmediate(r));
        expect(stateOf(sut, 'llama', 'Alpha').state).toBe('confirmed');

        alpha.answer = ['something/else'];
        jest.advanceTimersByTime(29 * 60_000);
        expect(alpha.calls).toHaveLength(1);
        jest.advanceTimersByTime(60_000);
        expect(alpha.calls).toHaveLength(2);
        expect(beta.calls).toHaveLength(2);
        await new Promise((r) => setImmediate(r));
        expect(stateOf(sut, 'llama', 'Alpha').state).toBe('missing');
      } finally {
        jest.useRealTimers();
      }
      await sut.onModuleDestroy();
      expect(scheduler.getIntervals()).toEqual([]);
    });

    it('with an interval of 0 fetches only on demand', async () => {
      const { sut, alpha, scheduler } = await makeSut({ intervalMinutes: 0 });
      sut.onApplicationBootstrap();
      expect(alpha.calls).toEqual([]);
      expect(scheduler.getIntervals()).toEqual([]);
    });
  });

  it('refreshes of other replicas sharing the store are picked up', async () => {
    const one = await makeSut();
    // Writes straight to the store stand in for another replica sharing it.
    await storage.settings.set(DISCOVERY_LISTS_NS, 'alpha', {
      provider: 'Alpha',
      baseUrl: null,
      fetchedAt: 1,
      ok: true,
      error: null,
      ids: ['qwen/qwen'],
      listedAt: 1,
    });
    await storage.settings.set(DISCOVERY_PINS_NS, JSON.stringify(['llama', 'alpha']), { model: 'llama', provider: 'Alpha', pinnedAt: 1 });
    await new Promise((r) => setImmediate(r));
    expect(stateOf(one.sut, 'qwen', 'Alpha').state).toBe('confirmed');
    expect(stateOf(one.sut, 'llama', 'Alpha')).toMatchObject({ state: 'missing', pinnedBy: 'operator', checkedAt: 1 });
  });
});
