import type { CatalogModel } from '#contracts';
import { loadConfig } from '../config/app-config.ts';
import type { ProviderAdapter } from '../providers/provider-adapter.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
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
