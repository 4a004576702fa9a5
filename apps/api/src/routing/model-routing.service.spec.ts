import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { startRedis, type RedisServer } from '../../../../test/support/redis.ts';
import { loadConfig } from '../config/app-config.ts';
import { CatalogService } from '../models/catalog.service.ts';
import type { ProviderAdapter } from '../providers/provider-adapter.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { RedisStorage } from '../storage/redis/redis-storage.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { Storage } from '../storage/storage.ts';
import { MODEL_ROUTING_NS, ModelRoutingService, parseStoredModelRouting } from './model-routing.service.ts';
import { RouterService } from './router.service.ts';
import { RoutingSettingsService } from './routing-settings.service.ts';

const MODEL = 'llama-3.3-70b';

const adapter = (id: string, name: string): ProviderAdapter => ({
  id,
  name,
  defaultBaseUrl: `http://127.0.0.1:9/${id}`,
  requiresKey: true,
  chat: () => {
    throw new Error('the router never calls adapters');
  },
});

/** A deterministic generator: proportions, not one lucky draw. */
function seeded(seed: number): () => number {
  return () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
}

/**
 * Services on one store, as replicas sharing Redis would be (each `make` may open its own
 * connection to it); the shipped catalog's llama-3.3-70b (DeepInfra, Together, …).
 */
async function world(env: Record<string, string> = {}, open?: () => Promise<Storage>) {
  const storage = new SqliteStorage({ file: ':memory:' });
  await storage.init();
  const make = async () => {
    const store = open ? await open() : storage;
    const config = loadConfig(env);
    config.providers.deepinfra = { enabled: true, apiKeys: ['kd'], extra: {} };
    config.providers.together = { enabled: true, apiKeys: ['kt'], extra: {} };
    config.providers.huggingface = { enabled: true, apiKeys: ['kh'], extra: {} };
    const registry = new ProviderRegistry([adapter('deepinfra', 'DeepInfra'), adapter('together', 'Together'), adapter('huggingface', 'HuggingFace')], config);
    const catalog = new CatalogService(config, registry);
    const settings = new RoutingSettingsService(config, store);
    await settings.onModuleInit();
    const service = new ModelRoutingService(catalog, registry, settings, store);
    await service.onModuleInit();
    const router = new RouterService(registry, config, undefined, settings, service);
    router.random = seeded(42);
    const first = (n: number): Map<string, number> => {
      const counts = new Map<string, number>();
      const model = catalog.require(MODEL);
      for (let i = 0; i < n; i++) {
        const name = router.plan(model).candidates[0]!.provider.name;
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      return counts;
    };
    return { catalog, registry, settings, service, router, first, close: () => (service.onModuleDestroy(), settings.onModuleDestroy()) };
  };
  return { storage, make };
}

describe('ModelRoutingService', () => {
  it('a model without a setting routes exactly as before: same candidates, same order for the same draws', async () => {
    const { make } = await world();
    const a = await make();
    const plain = new RouterService(a.registry, loadConfig({}));
    plain.random = seeded(7);
    a.router.random = seeded(7);
    const model = a.catalog.require(MODEL);
    for (let i = 0; i < 200; i++) expect(a.router.plan(model)).toEqual(plain.plan(model));
    expect(a.service.view(MODEL)).toMatchObject({ model: MODEL, custom: false, forced: null, updatedAt: null });
    expect(a.service.list()).toEqual([]);
    a.close();
  });

  it('per-model weights replace the providers’ for that model alone, in proportion; weight 0 only as a last resort', async () => {
    const { make } = await world();
    const a = await make();
    a.registry.find('deepinfra')!.weight = 1;
    await a.service.set(MODEL, {
      routes: [
        { provider: 'together', weight: 3 },
        { provider: 'DeepInfra', weight: 1 },
        { provider: 'HuggingFace', weight: 0 },
      ],
    });
    const counts = a.first(4000);
    // Together 3 of 4 first tries; HuggingFace (0) never first.
    expect((counts.get('Together') ?? 0) / 4000).toBeGreaterThan(0.71);
    expect((counts.get('Together') ?? 0) / 4000).toBeLessThan(0.79);
    expect(counts.get('HuggingFace')).toBeUndefined();
    // Another model still uses the providers' own weights (even: 1 and 1).
    const other = a.catalog.require('deepseek-v3');
    let deepinfraFirst = 0;
    for (let i = 0; i < 4000; i++) if (a.router.plan(other).candidates[0]!.provider.name === 'DeepInfra') deepinfraFirst++;
    expect(deepinfraFirst / 4000).toBeGreaterThan(0.45);
    expect(deepinfraFirst / 4000).toBeLessThan(0.55);
    a.close();
  });

  it('under priority, the model’s order comes first, then the unlisted routes by provider priority', async () => {
    const { make } = await world({ ROUTING_STRATEGY: 'priority' });
    const a = await make();
    a.registry.find('deepinfra')!.priority = 1;
    a.registry.find('huggingface')!.priority = 2;
    const names = () => a.router.plan(a.catalog.require(MODEL)).candidates.map((c) => c.provider.name);
    expect(names()).toEqual(['DeepInfra', 'HuggingFace', 'Together']);
    const view = await a.service.set(MODEL, { routes: [{ provider: 'Together', weight: 1 }] });
    expect(names()).toEqual(['Together', 'DeepInfra', 'HuggingFace']);
    expect(view.routes.map((r) => [r.provider, r.position, r.overridden])).toEqual([
      ['Together', 1, true],
      ['DeepInfra', null, false],
      ['HuggingFace', null, false],
      ['PollinationsAI', null, false],
    ]);
    a.close();
  });

  it('a forced provider goes first whatever the strategy; when it cannot serve, the others serve as usual', async () => {
    const { make } = await world({ ROUTING_STRATEGY: 'priority' });
    const a = await make();
    a.registry.find('deepinfra')!.priority = 1;
    await a.service.set(MODEL, { forced: 'huggingface' });
    expect(a.first(50)).toEqual(new Map([['HuggingFace', 50]]));
    const plan = a.router.plan(a.catalog.require(MODEL));
    expect(plan.candidates.map((c) => c.provider.name)).toEqual(['HuggingFace', 'DeepInfra', 'Together']);
    a.registry.find('huggingface')!.enabled = false;
    expect(a.router.plan(a.catalog.require(MODEL)).candidates.map((c) => c.provider.name)).toEqual(['DeepInfra', 'Together']);
    // A request that names its provider gets that one only.
    expect(a.router.plan(a.catalog.require(MODEL), a.registry.find('together')).candidates.map((c) => c.provider.name)).toEqual(['Together']);
    a.close();
  });

  it('refuses providers the model does not have, duplicates and bad weights, naming the field', async () => {
    const { make } = await world();
    const a = await make();
    const refusal = (change: { routes?: unknown; forced?: unknown }) =>
      a.service.set(MODEL, change).then(
        () => null,
        (e: { status: number; param: string; code: string }) => e,
      );
    expect(await refusal({ routes: [{ provider: 'Cloudflare', weight: 1 }] })).toMatchObject({
      status: 400,
      param: 'routes[0].provider',
      code: 'provider_model_mismatch',
    });
    expect(
      await refusal({
        routes: [
          { provider: 'Together', weight: 1 },
          { provider: 'together', weight: 2 },
        ],
      }),
    ).toMatchObject({ param: 'routes[1].provider', code: 'duplicate_provider' });
    for (const weight of [-1, 101, 1.5, '3', null])
      expect(await refusal({ routes: [{ provider: 'Together', weight }] })).toMatchObject({ param: 'routes[0].weight' });
    expect(await refusal({ routes: 'x' })).toMatchObject({ param: 'routes' });
    expect(await refusal({ routes: Array.from({ length: 65 }, () => ({ provider: 'Together', weight: 1 })) })).toMatchObject({ param: 'routes' });
    expect(await refusal({ forced: 'nobody' })).toMatchObject({ param: 'forced', code: 'provider_model_mismatch' });
    expect(await refusal({ forced: 42 })).toMatchObject({ param: 'forced' });
    expect(await a.service.set('no-such-model', { forced: null }).catch((e: { status: number }) => e.status)).toBe(404);
    expect(a.service.list()).toEqual([]);
    a.close();
  });

  it('is stored and shared: another replica follows a change and a reset; absent fields stay as they are', async () => {
    const { storage, make } = await world();
    const a = await make();
    const b = await make();
    await a.service.set(MODEL, { routes: [{ provider: 'Together', weight: 5 }], forced: 'DeepInfra' });
    await a.service.set(MODEL, { forced: 'Together' });
    await new Promise((r) => setImmediate(r));
    const seen = b.service.view(MODEL);
    expect(seen).toMatchObject({ custom: true, forced: 'Together' });
    expect(seen.routes[0]).toMatchObject({ provider: 'Together', weight: 5, position: 1, providerWeight: 1 });
    expect(b.service.rulesFor(MODEL)).toMatchObject({ forced: 'together' });
    expect(b.service.list().map((m) => m.model)).toEqual([MODEL]);
    // A fresh start reads the store.
    const c = await make();
    expect(c.service.view(MODEL).forced).toBe('Together');
    await b.service.reset(MODEL);
    await new Promise((r) => setImmediate(r));
    expect(a.service.rulesFor(MODEL)).toBeNull();
    expect(await storage.settings.get(MODEL_ROUTING_NS, MODEL)).toBeUndefined();
    for (const s of [a, b, c]) s.close();
  });

  it('ignores stored documents that are not one, and bounds what it keeps of them', () => {
    expect(parseStoredModelRouting(null)).toBeNull();
    expect(parseStoredModelRouting({ model: MODEL, routes: null, forced: null })).toBeNull();
    expect(
      parseStoredModelRouting({
        model: MODEL,
        routes: [
          { provider: 'A', weight: 500 },
          { provider: 'B', weight: 2 },
        ],
        forced: 'x'.repeat(1000),
      }),
    ).toEqual({
      model: MODEL,
      routes: [{ provider: 'B', weight: 2 }],
      forced: 'x'.repeat(200),
      updatedAt: 0,
    });
  });
});

/** Until `fn` holds, or fails after 3 s. */
async function eventually(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within 3 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('ModelRoutingService in cluster mode (Redis)', () => {
  let redis: RedisServer;
  const opened: RedisStorage[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  beforeEach(() => {
    for (const level of ['log', 'warn', 'error'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    for (const s of opened) await s.close();
    await redis?.close();
  });

  it('a change on one replica routes the others the same way, and so does a reset', async () => {
    // Two replicas: two connections to one Redis under one prefix.
    const open = async () => {
      const storage = new RedisStorage({ url: redis.url, prefix: 'mr:', startupTimeoutMs: 3000 });
      await storage.init();
      opened.push(storage);
      return storage;
    };
    const { make } = await world({ ROUTING_STRATEGY: 'priority' }, open);
    const a = await make();
    const b = await make();
    const first = () => b.router.plan(b.catalog.require(MODEL)).candidates[0]!.provider.name;
    expect(first()).toBe('DeepInfra');
    await a.service.set(MODEL, { routes: [{ provider: 'HuggingFace', weight: 1 }] });
    await eventually(() => first() === 'HuggingFace', 'replica b routing by a’s order');
    await a.service.set(MODEL, { forced: 'Together' });
    await eventually(() => first() === 'Together', 'replica b forced to Together');
    expect(b.service.view(MODEL)).toMatchObject({ custom: true, forced: 'Together' });
    await b.service.reset(MODEL);
    await eventually(() => a.service.rulesFor(MODEL) === null, 'replica a reset');
    a.close();
    b.close();
  });
});
