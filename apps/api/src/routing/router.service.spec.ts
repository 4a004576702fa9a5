import { jest } from '@jest/globals';
import type { CatalogModel } from '#contracts';
import { loadConfig } from '../config/app-config.ts';
import { envKeyId } from '../providers/key-pool.ts';
import type { ProviderAdapter } from '../providers/provider-adapter.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { QuotaLedger } from '../providers/quota-ledger.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { Storage } from '../storage/storage.ts';
import type { ModelRoutingService } from './model-routing.service.ts';
import { RouterService } from './router.service.ts';

const adapter = (id: string, name: string, requiresKey = true): ProviderAdapter => ({
  id,
  name,
  defaultBaseUrl: `http://127.0.0.1:9/${id}`,
  requiresKey,
  chat: () => {
    throw new Error('the router never calls adapters');
  },
});

const model: CatalogModel = {
  id: 'm',
  label: 'M',
  owned_by: 'x',
  category: 'chat',
  routes: [
    { provider: 'Alpha', upstream_model: 'a-1' },
    { provider: 'Beta', upstream_model: 'b-1' },
    { provider: 'Gamma', upstream_model: 'g-1' },
    { provider: 'Gone', upstream_model: 'x' },
  ],
};

function makeSut(env: Record<string, string> = {}) {
  const config = loadConfig({ ALPHA_API_KEY: 'k', BETA_API_KEY: 'k', ...env });
  config.providers.alpha = { enabled: true, apiKeys: ['ka'], extra: {}, priority: env.ALPHA_PRIORITY ? Number(env.ALPHA_PRIORITY) : undefined };
  config.providers.beta = { enabled: true, apiKeys: ['kb'], extra: {}, priority: env.BETA_PRIORITY ? Number(env.BETA_PRIORITY) : undefined };
  config.providers.gamma = { enabled: true, apiKeys: [], extra: {} };
  const registry = new ProviderRegistry([adapter('alpha', 'Alpha'), adapter('beta', 'Beta'), adapter('gamma', 'Gamma')], config);
  return { sut: new RouterService(registry, config), registry };
}

describe('RouterService', () => {
  it('keeps enabled, configured providers and says why it skipped the rest', () => {
    const { sut } = makeSut();
    const plan = sut.plan(model);
    expect(plan.candidates.map((c) => c.provider.name).sort()).toEqual(['Alpha', 'Beta']);
    expect(plan.skipped).toEqual([
      { provider: 'Gamma', reason: 'needs an API key (GAMMA_API_KEY)' },
      { provider: 'Gone', reason: 'provider is not known to this gateway' },
    ]);
  });

  it('drops a disabled provider and one whose breaker is open', () => {
    const { sut, registry } = makeSut();
    registry.find('alpha')!.enabled = false;
    expect(sut.plan(model).candidates.map((c) => c.provider.name)).toEqual(['Beta']);
    registry.find('alpha')!.enabled = true;
    registry.find('beta')!.breaker.onFailure({ immediate: true, reason: 'HTTP 503' });
    const plan = sut.plan(model);
    expect(plan.candidates.map((c) => c.provider.name)).toEqual(['Alpha']);
    expect(plan.skipped[0]).toEqual({ provider: 'Beta', reason: 'cooling down after failures: HTTP 503' });
  });

  it('drops a provider whose every key is cooling down', () => {
    const { sut, registry } = makeSut();
    registry.find('beta')!.keys.acquire()!.breaker.onFailure({ immediate: true });
    expect(sut.plan(model).candidates.map((c) => c.provider.name)).toEqual(['Alpha']);
  });

  it('a forced provider is the only candidate', () => {
    const { sut, registry } = makeSut();
    const plan = sut.plan(model, registry.find('BETA'));
    expect(plan.candidates).toHaveLength(1);
    expect(plan.candidates[0]).toMatchObject({ upstreamModel: 'b-1' });
  });

  it('random strategy favours healthy providers but still tries the others', () => {
    const { sut, registry } = makeSut();
    const beta = registry.find('beta')!;
    for (let i = 0; i < 10; i++) beta.recordOutcome(false, null, 'x');
    let alphaFirst = 0;
    for (let i = 0; i < 2000; i++) if (sut.plan(model).candidates[0]!.provider.name === 'Alpha') alphaFirst++;
    expect(alphaFirst).toBeGreaterThan(1500);
    expect(alphaFirst).toBeLessThan(2000);
  });

  it('random strategy with equal health is roughly even', () => {
    const { sut } = makeSut();
    let alphaFirst = 0;
    for (let i = 0; i < 4000; i++) if (sut.plan(model).candidates[0]!.provider.name === 'Alpha') alphaFirst++;
    expect(alphaFirst).toBeGreaterThan(1700);
    expect(alphaFirst).toBeLessThan(2300);
  });

  it('priority strategy orders by priority, then catalog order', () => {
    const { sut } = makeSut({ ROUTING_STRATEGY: 'priority', BETA_PRIORITY: '1', ALPHA_PRIORITY: '2' });
    expect(sut.plan(model).candidates.map((c) => c.provider.name)).toEqual(['Beta', 'Alpha']);
    const plain = makeSut({ ROUTING_STRATEGY: 'priority' }).sut;
    expect(plain.plan(model).candidates.map((c) => c.provider.name)).toEqual(['Alpha', 'Beta']);
  });

  it('latency strategy tries the unmeasured first, then the fastest', () => {
    const { sut, registry } = makeSut({ ROUTING_STRATEGY: 'latency' });
    registry.find('alpha')!.recordOutcome(true, 300);
    expect(sut.plan(model).candidates.map((c) => c.provider.name)).toEqual(['Beta', 'Alpha']);
    registry.find('beta')!.recordOutcome(true, 900);
    expect(sut.plan(model).candidates.map((c) => c.provider.name)).toEqual(['Alpha', 'Beta']);
  });

  it('weighted random: a provider goes first in proportion to its weight; weight 0 only after the others', () => {
    const { sut, registry } = makeSut();
    registry.find('alpha')!.weight = 4;
    registry.find('beta')!.weight = 1;
    let seed = 42;
    // A small deterministic generator: the proportions, not one lucky draw.
    sut.random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    let alphaFirst = 0;
    for (let i = 0; i < 2000; i++) if (sut.plan(model).candidates[0]!.provider.name === 'Alpha') alphaFirst++;
    expect(alphaFirst / 2000).toBeGreaterThan(0.76);
    expect(alphaFirst / 2000).toBeLessThan(0.84);
    registry.find('alpha')!.weight = 0;
    for (let i = 0; i < 50; i++) expect(sut.plan(model).candidates.map((c) => c.provider.name)).toEqual(['Beta', 'Alpha']);
  });
});

describe('RouterService and the quota ledger: providers low on headroom go last', () => {
  const DAY = 86_400_000;
  // Noon UTC: the day's window has half a day to run.
  const NOON = Date.UTC(2026, 11, 7, 12);
  let now = NOON;
  const ledgers: QuotaLedger[] = [];
  const stores: Storage[] = [];

  beforeEach(() => {
    now = NOON;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(ledgers.splice(0).map((l) => l.beforeApplicationShutdown()));
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  async function store(): Promise<Storage> {
    const storage = new SqliteStorage({ file: ':memory:' });
    await storage.init();
    stores.push(storage);
    return storage;
  }

  /** Alpha (priority 1, 10 requests a day) and Beta (priority 2, limits unknown), with the ledger attached. */
  async function makeLedgered(options: { storage?: Storage; forced?: string; limits?: Record<string, unknown> } = {}) {
    const env = { ROUTING_STRATEGY: 'priority', ALPHA_PRIORITY: '1', BETA_PRIORITY: '2' };
    const { registry } = makeSut(env);
    const config = loadConfig({ QUOTA_SYNC_MS: '60000', QUOTA_LIMITS: JSON.stringify(options.limits ?? { alpha: { 'requests/day': 10 } }) });
    const ledger = new QuotaLedger(registry, options.storage ?? (await store()), config);
    await ledger.onModuleInit();
    ledgers.push(ledger);
    const rules = options.forced ? ({ rulesFor: () => ({ listed: null, forced: options.forced }) } as unknown as ModelRoutingService) : undefined;
    const sut = new RouterService(registry, loadConfig(env), undefined, undefined, rules, ledger);
    const use = (provider: string, key: string, n: number) => {
      for (let i = 0; i < n; i++) ledger.forProvider(provider).observe(envKeyId(key), 200, {});
    };
    const order = () => sut.plan(model).candidates.map((c) => c.provider.name);
    return { sut, registry, ledger, use, order };
  }

  it('keeps the configured order while every provider has room, and looks at no key to know it', async () => {
    const { registry, ledger, use, order } = await makeLedgered();
    use('alpha', 'ka', 8);
    const look = jest.spyOn(registry.find('alpha')!.keys, 'lowOnHeadroom');
    // 2 of 10 left: a fifth is not below the mark.
    expect(order()).toEqual(['Alpha', 'Beta']);
    expect(ledger.anyLow).toBe(false);
    expect(look).not.toHaveBeenCalled();
  });

  it('moves a provider below the mark behind one with unknown limits, and brings it back at its reset', async () => {
    const { registry, ledger, use, order } = await makeLedgered();
    use('alpha', 'ka', 9);
    expect(ledger.anyLow).toBe(true);
    expect(order()).toEqual(['Beta', 'Alpha']);
    // Still a candidate, not resting: it serves when Beta cannot.
    registry.find('beta')!.enabled = false;
    expect(order()).toEqual(['Alpha']);
    registry.find('beta')!.enabled = true;

    now = Date.UTC(2026, 11, 8, 0, 0, 1);
    expect(order()).toEqual(['Alpha', 'Beta']);
    // The next sync forgets what the reset made stale: the hot path is free again.
    await ledger.sync();
    expect(ledger.anyLow).toBe(false);
  });

  it('keeps the configured order among providers that are all low', async () => {
    const { use, order } = await makeLedgered({ limits: { alpha: { 'requests/day': 10 }, beta: { 'requests/day': 10 } } });
    use('alpha', 'ka', 9);
    use('beta', 'kb', 9);
    expect(order()).toEqual(['Alpha', 'Beta']);
    use('beta', 'kb', 1);
    // Beta is used up (resting, not a candidate at all); Alpha, low, is all that is left.
    expect(order()).toEqual(['Alpha']);
  });

  it('reads headroom from the upstream’s rate-limit headers too, until their reset', async () => {
    const { ledger, order } = await makeLedgered({ limits: {} });
    const headers = { 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': '30s' };
    ledger.forProvider('alpha').observe(envKeyId('ka'), 200, headers);
    expect(order()).toEqual(['Beta', 'Alpha']);
    now += 31_000;
    expect(order()).toEqual(['Alpha', 'Beta']);
  });

  it('a model’s forced provider stays first while it can serve, low or not', async () => {
    const { use, order } = await makeLedgered({ forced: 'alpha' });
    use('alpha', 'ka', 9);
    expect(order()).toEqual(['Alpha', 'Beta']);
    use('alpha', 'ka', 1);
    expect(order()).toEqual(['Beta']);
  });

  it('sees another replica’s use after a sync', async () => {
    const shared = await store();
    const a = await makeLedgered({ storage: shared });
    const b = await makeLedgered({ storage: shared });
    a.use('alpha', 'ka', 9);
    await a.ledger.sync();
    expect(b.order()).toEqual(['Alpha', 'Beta']);
    await b.ledger.sync();
    expect(b.ledger.anyLow).toBe(true);
    expect(b.order()).toEqual(['Beta', 'Alpha']);
    now += DAY;
    await b.ledger.sync();
    expect(b.order()).toEqual(['Alpha', 'Beta']);
  });
});
