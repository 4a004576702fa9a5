import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { loadConfig } from '../config/app-config.ts';
import type { ProviderAdapter } from '../providers/provider-adapter.ts';
import { ProviderRegistry, type BreakerOpening } from '../providers/provider-registry.service.ts';
import { CircuitBreaker } from '../providers/circuit-breaker.ts';
import { BREAKER_TOPIC, BreakerSync } from './breaker-sync.service.ts';
import type { ClusterBus, RetainOptions } from './cluster-bus.ts';

const adapter = (id: string, name: string): ProviderAdapter => ({
  id,
  name,
  defaultBaseUrl: `http://127.0.0.1:9/${id}`,
  requiresKey: true,
  chat: () => {
    throw new Error('not called');
  },
});

/** Several "replicas" in one process: each has its own registry; the bus connects them. */
class FakeNetwork {
  readonly buses: FakeBus[] = [];
  bus(): FakeBus {
    const b = new FakeBus(this);
    this.buses.push(b);
    return b;
  }
}

class FakeBus implements ClusterBus {
  readonly sent: Array<{ topic: string; message: string; retain?: RetainOptions }> = [];
  readonly incoming = new Subject<string>();
  down = false;
  constructor(private readonly net: FakeNetwork) {}
  async publish(topic: string, message: string, retain?: RetainOptions): Promise<void> {
    if (this.down) throw new Error('Redis is down');
    this.sent.push({ topic, message, retain });
    for (const other of this.net.buses) if (other !== this && topic === BREAKER_TOPIC) other.incoming.next(message);
  }
  messages(): Observable<string> {
    return this.incoming;
  }
}

function replica(net: FakeNetwork) {
  const config = loadConfig({ BREAKER_FAILURE_THRESHOLD: '2', BREAKER_COOLDOWN_MS: '10000' });
  config.providers.alpha = { enabled: true, apiKeys: ['ka1', 'ka2'], extra: {} };
  config.providers.beta = { enabled: true, apiKeys: ['kb'], extra: {} };
  const registry = new ProviderRegistry([adapter('alpha', 'Alpha'), adapter('beta', 'Beta')], config);
  const bus = net.bus();
  const sync = new BreakerSync(registry, bus);
  sync.onApplicationBootstrap();
  return { registry, bus, sync, alpha: registry.find('alpha')!, beta: registry.find('beta')! };
}

describe('CircuitBreaker.forceOpen and onOpen', () => {
  it('opens until the given time on another’s word, never shortens, never reports itself', () => {
    let now = 1000;
    const b = new CircuitBreaker({ failureThreshold: 1, baseCooldownMs: 100, maxCooldownMs: 1000 }, () => now);
    const opened: number[] = [];
    b.onOpen = (until) => opened.push(until);
    expect(b.forceOpen(900, 'past')).toBe(false);
    expect(b.forceOpen(5000, 'remote: HTTP 500')).toBe(true);
    expect(b.snapshot()).toMatchObject({ state: 'open', openUntil: 5000, lastFailure: 'remote: HTTP 500' });
    expect(b.forceOpen(3000, 'shorter')).toBe(false);
    expect(b.snapshot().openUntil).toBe(5000);
    expect(opened).toEqual([]);
    now = 5000;
    expect(b.tryAcquire()).toBe(true); // half-open probe
    b.onFailure({ reason: 'probe failed' });
    expect(opened).toEqual([5100]);
    now = 6000;
    b.onSuccess();
    expect(b.snapshot().state).toBe('closed');
  });
});

describe('BreakerSync', () => {
  it('a provider opened on one replica is open on the others until the same time, with the reason', async () => {
    const net = new FakeNetwork();
    const [a, b, c] = [replica(net), replica(net), replica(net)];
    a.alpha.breaker.onFailure({ reason: 'HTTP 500' });
    a.alpha.breaker.onFailure({ reason: 'HTTP 500' });
    const until = a.alpha.breaker.snapshot().openUntil!;
    expect(until).toBeGreaterThan(Date.now());
    // Nothing travels synchronously, on the request's own turn.
    expect(a.bus.sent).toEqual([]);
    await a.sync.flushed();
    expect(a.bus.sent).toHaveLength(1);
    expect(a.bus.sent[0]!.retain).toEqual({ id: 'alpha\n', ms: expect.any(Number) });
    for (const r of [b, c]) {
      expect(r.alpha.status().status).toBe('cooling-down');
      expect(r.alpha.breaker.snapshot()).toMatchObject({ state: 'open', openUntil: until, lastFailure: 'HTTP 500' });
      expect(r.beta.status().status).toBe('available');
    }
    // Applied openings are not published again (no echo storm).
    await Promise.all([b.sync.flushed(), c.sync.flushed()]);
    expect(b.bus.sent).toEqual([]);
    expect(c.bus.sent).toEqual([]);
  });

  it('a key cooling down on one replica is skipped by the others; the provider’s other keys keep serving', async () => {
    const net = new FakeNetwork();
    const [a, b] = [replica(net), replica(net)];
    const key = a.alpha.keys.acquire()!;
    key.breaker.onFailure({ immediate: true, retryAfterMs: 30_000, reason: 'HTTP 429' });
    await a.sync.flushed();
    const remote = b.alpha.keys.get(key.id)!;
    expect(remote.breaker.snapshot()).toMatchObject({ state: 'open', lastFailure: 'HTTP 429' });
    expect(b.alpha.status().status).toBe('available');
    for (let i = 0; i < 4; i++) expect(b.alpha.keys.acquire()!.id).not.toBe(key.id);
  });

  it('coalesces a burst into one message per breaker, with the latest opening', async () => {
    const net = new FakeNetwork();
    const [a] = [replica(net), replica(net)];
    const seen: BreakerOpening[] = [];
    a.registry.breakerOpened.subscribe((o) => seen.push(o));
    // Explicit cooldowns: a Retry-After this long would be capped at the 60 s maximum cooldown.
    for (let i = 0; i < 5; i++) a.alpha.breaker.onFailure({ immediate: true, cooldownMs: 100_000 + i * 1000, reason: `try ${i}` });
    await a.sync.flushed();
    expect(seen).toHaveLength(5);
    expect(a.bus.sent).toHaveLength(1);
    expect(JSON.parse(a.bus.sent[0]!.message)).toMatchObject({ provider: 'alpha', key: null, reason: 'try 4' });
  });

  it('survives an unreachable bus (warns, the local breaker works as before) and ignores junk', async () => {
    const net = new FakeNetwork();
    const [a, b] = [replica(net), replica(net)];
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    a.bus.down = true;
    a.alpha.breaker.onFailure({ immediate: true, reason: 'boom' });
    await a.sync.flushed();
    a.beta.breaker.onFailure({ immediate: true, reason: 'boom' });
    await a.sync.flushed();
    expect(warn.mock.calls.filter(([m]) => String(m).includes('Could not tell the other replicas'))).toHaveLength(1);
    expect(a.alpha.status().status).toBe('cooling-down');
    expect(b.alpha.status().status).toBe('available');
    expect(b.sync.apply('not json')).toBe(false);
    expect(b.sync.apply(JSON.stringify({ provider: 'nobody', key: null, until: Date.now() + 1000 }))).toBe(false);
    expect(b.sync.apply(JSON.stringify({ provider: 'alpha', key: 'no-such-key', until: Date.now() + 1000 }))).toBe(false);
    expect(b.sync.apply(JSON.stringify({ provider: 'alpha', key: null, until: 'soon' }))).toBe(false);
    expect(b.alpha.status().status).toBe('available');
    a.bus.down = false;
    a.alpha.breaker.onFailure({ immediate: true, retryAfterMs: 60_000, reason: 'again' });
    await a.sync.flushed();
    expect(b.alpha.status().status).toBe('cooling-down');
    expect(log.mock.calls.filter(([m]) => String(m).includes('reach the other replicas again'))).toHaveLength(1);
    jest.restoreAllMocks();
  });

  it('keeps reporting a key’s breaker after the pool is replaced (new ids, kept breakers)', async () => {
    const net = new FakeNetwork();
    const [a, b] = [replica(net), replica(net)];
    for (const r of [a, b]) r.alpha.applyOverride(undefined, [{ id: 'key-console-1', value: 'console-secret', source: 'console' }]);
    a.alpha.keys.get('key-console-1')!.breaker.onFailure({ immediate: true, reason: 'HTTP 401' });
    await a.sync.flushed();
    expect(b.alpha.keys.get('key-console-1')!.breaker.snapshot().state).toBe('open');
  });
});
