import { of } from 'rxjs';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '../config/app-config.ts';
import { CatalogService } from '../models/catalog.service.ts';
import type { ModelAvailabilityService } from '../models/model-availability.ts';
import { UpstreamError, type ChatEvent, type ProviderAdapter, type UpstreamModel } from '../providers/provider-adapter.ts';
import { ProviderRegistry } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import type { HealthCheckResult, HealthStore, Storage } from '../storage/storage.ts';
import { HEALTH_CHECK_FIRST_RUN_NAME, ProviderHealthService, probeCost } from './provider-health.service.ts';

/** A model list the test answers by hand, so that it can hold a check in flight. */
class ControlledAdapter implements ProviderAdapter {
  readonly defaultBaseUrl: string;
  readonly requiresKey = false;
  calls = 0;
  private waiting: Array<{ resolve: (m: UpstreamModel[]) => void; reject: (e: Error) => void }> = [];

  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    this.defaultBaseUrl = `http://127.0.0.1:9/${id}`;
  }

  chat(): never {
    throw new Error('health checks read the model list here');
  }

  listModels(): Promise<UpstreamModel[]> {
    this.calls++;
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  answer(): void {
    for (const w of this.waiting.splice(0)) w.resolve([{ id: 'm' }]);
  }

  fail(status: number): void {
    for (const w of this.waiting.splice(0)) w.reject(new UpstreamError('http', `HTTP ${status}: down`, status));
  }
}

/** Only the health store exists: anything else the service touched would fail loudly. */
class MemoryHealthStore implements HealthStore {
  readonly rows: HealthCheckResult[] = [];
  async append(results: HealthCheckResult[]): Promise<void> {
    this.rows.push(...results);
  }
  async history(provider: string, limit: number): Promise<HealthCheckResult[]> {
    return this.rows
      .filter((r) => r.provider === provider)
      .reverse()
      .slice(0, limit);
  }
  async purgeBefore(): Promise<number> {
    return 0;
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Model availability is the catalog's business (models.e2e-spec); these tests only need its counts. */
const noModels = {
  byCapability: () => ({ chat: { models: 0, available: 0 }, image: { models: 0, available: 0 }, audio: { models: 0, available: 0 } }),
} as unknown as ModelAvailabilityService;

function makeSut(env: Record<string, string> = {}) {
  // These adapters have model lists and no chat: the model-list probe.
  const config = loadConfig({ HEALTH_CHECK_INTERVAL: '0', HEALTH_PROBE: 'models', ...env });
  const alpha = new ControlledAdapter('alpha', 'Alpha');
  const beta = new ControlledAdapter('beta', 'Beta');
  const off = new ControlledAdapter('off', 'Off');
  const keyed: ProviderAdapter = {
    id: 'keyed',
    name: 'Keyed',
    defaultBaseUrl: 'http://127.0.0.1:9/keyed',
    requiresKey: true,
    chat: () => {
      throw new Error('a provider without its key is never called');
    },
  };
  const registry = new ProviderRegistry([alpha, beta, off, keyed], config);
  registry.find('off')!.enabled = false;
  const health = new MemoryHealthStore();
  const storage = { kind: 'sqlite', health } as unknown as Storage;
  const catalog = {
    all: () => {
      throw new Error('no chat probe expected: every adapter here has a model list');
    },
  } as unknown as CatalogService;
  const scheduler = new SchedulerRegistry();
  const sut = new ProviderHealthService(registry, new UpstreamHttp(config), storage, config, scheduler, catalog, noModels);
  return { sut, alpha, beta, off, health, registry, scheduler };
}

describe('ProviderHealthService', () => {
  it('checkAll probes every enabled, configured provider once, stores each result and keeps the latest', async () => {
    const { sut, alpha, beta, off, health } = makeSut();
    const run = sut.checkAll();
    await flush();
    expect([alpha.calls, beta.calls, off.calls]).toEqual([1, 1, 0]);
    alpha.answer();
    beta.fail(500);
    const results = await run;
    expect(results.map((r) => [r.provider, r.ok])).toEqual([
      ['Alpha', true],
      ['Beta', false],
    ]);
    expect(health.rows.map((r) => [r.provider, r.ok, r.probe, r.model])).toEqual([
      ['Alpha', true, 'models', null],
      ['Beta', false, 'models', null],
    ]);
    expect(health.rows[1]!.error).toBe('HTTP 500: down');
    expect(sut.lastCheck('beta')).toMatchObject({ ok: false, error: 'HTTP 500: down' });
    expect(sut.lastCheck('Off')).toBeNull();
    expect(sut.summary()).toMatchObject({ total: 4, configured: 2, available: 2, unhealthy: 1 });
    // The disabled provider is the operator's choice, not a problem; the keyless one says which variable to set.
    expect(sut.summary().problems).toEqual([
      { provider: 'Beta', reason: 'last health check failed: HTTP 500: down' },
      { provider: 'Keyed', reason: 'needs an API key (KEYED_API_KEY)' },
    ]);
  });

  it('a run asked for while one is in flight joins it instead of overlapping', async () => {
    const { sut, alpha, beta } = makeSut();
    const first = sut.checkAll();
    const second = sut.checkAll();
    expect(second).toBe(first);
    expect(sut.running).toBe(true);
    await flush();
    // A single provider asked for meanwhile joins its check in flight too.
    const single = sut.check('ALPHA');
    await flush();
    expect([alpha.calls, beta.calls]).toEqual([1, 1]);
    alpha.answer();
    beta.answer();
    await first;
    expect((await single).ok).toBe(true);
    expect(sut.running).toBe(false);

    // Once it is over, a new run probes again.
    const third = sut.checkAll();
    await flush();
    expect([alpha.calls, beta.calls]).toEqual([2, 2]);
    alpha.answer();
    beta.answer();
    await third;
  });

  it('check(name) probes a disabled provider on request; an unconfigured one is answered without a request and not recorded', async () => {
    const { sut, off, health } = makeSut();
    const pending = sut.check('off');
    await flush();
    off.answer();
    expect(await pending).toMatchObject({ provider: 'Off', ok: true });

    const keyed = await sut.check('keyed');
    expect(keyed).toMatchObject({ ok: false, probe: 'none', inconclusive: true });
    expect(health.rows.map((r) => r.provider)).toEqual(['Off']);
    expect(sut.lastCheck('keyed')).toBeNull();
    await expect(sut.check('nope')).rejects.toMatchObject({ status: 404, code: 'unknown_provider' });
  });

  it('history resolves the provider by id or name; the last stored check is loaded at start, with the model it asked', async () => {
    const { sut, health, scheduler } = makeSut();
    health.rows.push({ provider: 'Alpha', checkedAt: 900, ok: true, latencyMs: 9, probe: 'models', model: null, error: null });
    health.rows.push({ provider: 'Beta', checkedAt: 1000, ok: false, latencyMs: 12, probe: 'chat', model: 'llama-3.1-8b', error: 'HTTP 503: down' });
    sut.onApplicationBootstrap();
    await flush();
    expect(sut.lastCheck('beta')).toEqual({
      provider: 'Beta',
      checkedAt: 1000,
      ok: false,
      latencyMs: 12,
      probe: 'chat',
      model: 'llama-3.1-8b',
      error: 'HTTP 503: down',
    });
    expect(sut.lastCheck('alpha')).toEqual({ provider: 'Alpha', checkedAt: 900, ok: true, latencyMs: 9, probe: 'models', error: null });
    expect((await sut.history('BETA', 10)).provider).toBe('Beta');
    // HEALTH_CHECK_INTERVAL=0: nothing is scheduled.
    expect(scheduler.getTimeouts()).toEqual([]);
    await sut.onModuleDestroy();
  });

  it('scrubs checks stored before their secrets were scrubbed, at start and in the history', async () => {
    const { sut, health, registry } = makeSut({ API_KEY: 'client-key-Qw3rTy8uIo0p' });
    const leaked = 'HTTP 401: key client-key-Qw3rTy8uIo0p and sk-proj-Zx9Cv8Bn7Mm6Ll5Kk4 refused';
    health.rows.push({ provider: 'Beta', checkedAt: 1000, ok: false, latencyMs: 12, probe: 'models', model: null, error: leaked });
    sut.onApplicationBootstrap();
    await flush();
    expect(sut.lastCheck('beta')?.error).toBe('HTTP 401: key ****Io0p and sk-**** refused');
    expect((await sut.history('beta', 10)).items.map((i) => i.error)).toEqual(['HTTP 401: key ****Io0p and sk-**** refused']);
    await sut.onModuleDestroy();
    registry.onModuleDestroy();
  });

  it('schedules its first run after start and cancels it on shutdown', async () => {
    const { sut, scheduler } = makeSut({ HEALTH_CHECK_INTERVAL: '10m' });
    sut.onApplicationBootstrap();
    expect(scheduler.getTimeouts()).toEqual([HEALTH_CHECK_FIRST_RUN_NAME]);
    await sut.onModuleDestroy();
    expect(scheduler.getTimeouts()).toEqual([]);
  });

  it('shutdown aborts a check in flight; its result is not recorded', async () => {
    const { sut, health, registry } = makeSut();
    // Alpha's model list ignores the abort signal here, so answer it after shutdown began.
    const alpha = registry.find('alpha')!.adapter as ControlledAdapter;
    const beta = registry.find('beta')!.adapter as ControlledAdapter;
    const run = sut.checkAll();
    await flush();
    const stopping = sut.onModuleDestroy();
    alpha.answer();
    beta.answer();
    await stopping;
    await run;
    expect(health.rows).toEqual([]);
  });
});

describe('probeCost', () => {
  it('orders models by the size their id says, small-model words next, unknown sizes last', () => {
    const ids = [
      'deepseek-ai/DeepSeek-V3',
      'meta-llama/Llama-3.3-70B-Instruct',
      'gpt-4o-mini',
      '@cf/meta/llama-3.2-1b-instruct',
      'mistralai/Mixtral-8x7B-v0.1',
    ];
    expect([...ids].sort((a, b) => probeCost(a) - probeCost(b))).toEqual([
      '@cf/meta/llama-3.2-1b-instruct',
      'gpt-4o-mini',
      'mistralai/Mixtral-8x7B-v0.1',
      'meta-llama/Llama-3.3-70B-Instruct',
      'deepseek-ai/DeepSeek-V3',
    ]);
  });
});

describe('ProviderHealthService chat probe model', () => {
  function chatSut(env: Record<string, string> = {}) {
    const config = loadConfig({ HEALTH_CHECK_INTERVAL: '0', ...env });
    const sent: Array<{ model: string; upstream: string }> = [];
    const chatOnly: ProviderAdapter = {
      id: 'together',
      name: 'Together',
      defaultBaseUrl: 'http://127.0.0.1:9/together',
      requiresKey: false,
      chat: (req, ctx) => {
        sent.push({ model: req.model, upstream: ctx.upstreamModel });
        return of<ChatEvent>({ type: 'delta', content: 'p' });
      },
    };
    const registry = new ProviderRegistry([chatOnly], config);
    const catalog = new CatalogService(config, registry);
    const storage = { health: new MemoryHealthStore() } as unknown as Storage;
    const sut = new ProviderHealthService(registry, new UpstreamHttp(config), storage, config, new SchedulerRegistry(), catalog, noModels);
    const chatModels = catalog
      .all()
      .filter((m) => m.category === 'chat')
      .flatMap((m) => m.routes.filter((r) => r.provider === 'Together').map((r) => ({ model: m.id, upstream: r.upstream_model })));
    return { sut, sent, chatModels, health: storage.health as MemoryHealthStore };
  }

  it('sends the one-token chat to the cheapest catalog chat model the provider serves, says which and stores it', async () => {
    const { sut, sent, chatModels, health } = chatSut();
    expect(chatModels.length).toBeGreaterThan(1);
    const cheapest = [...chatModels].sort((a, b) => probeCost(a.upstream) - probeCost(b.upstream))[0]!;
    expect(await sut.check('together')).toMatchObject({ ok: true, probe: 'chat', model: cheapest.model });
    expect(sent).toEqual([cheapest]);
    expect(health.rows).toEqual([expect.objectContaining({ provider: 'Together', probe: 'chat', model: cheapest.model })]);
  });

  it('HEALTH_PROBE_PROVIDERS picks the model, or turns the scheduled probe off (a check by name still runs)', async () => {
    // The dearest of them, so that it is not the one picked anyway.
    const dearest = [...chatSut().chatModels].sort((a, b) => probeCost(b.upstream) - probeCost(a.upstream))[0]!;
    const { sut, sent } = chatSut({ HEALTH_PROBE_PROVIDERS: `together=chat:${dearest.model}` });
    expect(await sut.check('Together')).toMatchObject({ ok: true, probe: 'chat', model: dearest.model });
    expect(sent).toEqual([dearest]);

    const off = chatSut({ HEALTH_PROBE_PROVIDERS: 'together=off' });
    expect(await off.sut.checkAll()).toEqual([]);
    expect(off.sent).toEqual([]);
    expect(await off.sut.check('together')).toMatchObject({ ok: true, probe: 'chat' });
  });
});
