import { CircuitBreaker } from './circuit-breaker.ts';

function makeSut(opts: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) {
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const sut = new CircuitBreaker({ failureThreshold: 3, baseCooldownMs: 1000, maxCooldownMs: 8000, probeTimeoutMs: 5000, ...opts }, () => now);
  return { sut, clock, now: () => now };
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold and opens on the third consecutive failure', () => {
    const { sut } = makeSut();
    sut.onFailure();
    sut.onFailure();
    expect(sut.tryAcquire()).toBe(true);
    sut.onFailure({ reason: 'HTTP 500' });
    expect(sut.tryAcquire()).toBe(false);
    expect(sut.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 3, lastFailure: 'HTTP 500' });
  });

  it('a success resets the consecutive count', () => {
    const { sut } = makeSut();
    sut.onFailure();
    sut.onFailure();
    sut.onSuccess();
    sut.onFailure();
    sut.onFailure();
    expect(sut.isAvailable()).toBe(true);
  });

  it('lets exactly one half-open probe through after the cooldown; its success closes it', () => {
    const { sut, clock } = makeSut();
    for (let i = 0; i < 3; i++) sut.onFailure();
    clock.advance(999);
    expect(sut.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(sut.tryAcquire()).toBe(true);
    expect(sut.snapshot().state).toBe('half-open');
    expect(sut.tryAcquire()).toBe(false);
    sut.onSuccess();
    expect(sut.snapshot().state).toBe('closed');
    expect(sut.tryAcquire()).toBe(true);
  });

  it('a failed probe reopens for a doubled interval, capped at the maximum', () => {
    const { sut, clock } = makeSut();
    for (let i = 0; i < 3; i++) sut.onFailure();
    const intervals: number[] = [];
    for (let round = 0; round < 5; round++) {
      let waited = 0;
      while (!sut.isAvailable()) {
        clock.advance(100);
        waited += 100;
      }
      intervals.push(waited);
      expect(sut.tryAcquire()).toBe(true);
      sut.onFailure();
    }
    expect(intervals).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('honours Retry-After: opens at once for at least that long', () => {
    const { sut, clock } = makeSut();
    sut.onFailure({ retryAfterMs: 7000 });
    clock.advance(6999);
    expect(sut.isAvailable()).toBe(false);
    clock.advance(1);
    expect(sut.isAvailable()).toBe(true);
  });

  it('an immediate failure with its own cooldown opens for exactly that long', () => {
    const { sut, clock, now } = makeSut();
    sut.onFailure({ immediate: true, cooldownMs: 60_000 });
    expect(sut.snapshot().openUntil).toBe(now() + 60_000);
    clock.advance(60_000);
    expect(sut.isAvailable()).toBe(true);
  });

  it('a probe that never reports is released, or expires after the probe timeout', () => {
    const { sut, clock } = makeSut();
    for (let i = 0; i < 3; i++) sut.onFailure();
    clock.advance(1000);
    expect(sut.tryAcquire()).toBe(true);
    sut.release();
    expect(sut.tryAcquire()).toBe(true);
    expect(sut.tryAcquire()).toBe(false);
    clock.advance(5000);
    expect(sut.tryAcquire()).toBe(true);
  });

  it('caps Retry-After at the maximum cooldown: a recovered provider is probed within one', () => {
    const { sut, clock } = makeSut();
    sut.onFailure({ retryAfterMs: 365 * 86_400_000 });
    clock.advance(7999);
    expect(sut.isAvailable()).toBe(false);
    clock.advance(1);
    expect(sut.tryAcquire()).toBe(true);
  });

  it('after a long outage the probe goes as soon as the capped cooldown ends, and its success closes the breaker', () => {
    const { sut, clock } = makeSut();
    for (let i = 0; i < 3; i++) sut.onFailure();
    // A hundred failed probes: the interval stays at the cap, the arithmetic never overflows.
    for (let round = 0; round < 100; round++) {
      clock.advance(8000);
      expect(sut.tryAcquire()).toBe(true);
      sut.onFailure();
    }
    expect(sut.snapshot().openUntil).not.toBeNull();
    clock.advance(7999);
    expect(sut.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(sut.tryAcquire()).toBe(true);
    sut.onSuccess();
    expect(sut.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0, openUntil: null });
    // Closed again for good: the next opening starts over at the base interval.
    for (let i = 0; i < 3; i++) sut.onFailure();
    clock.advance(1000);
    expect(sut.isAvailable()).toBe(true);
  });

  it('an explicit cooldown (a bad key) may exceed the cap', () => {
    const { sut, clock } = makeSut();
    sut.onFailure({ immediate: true, cooldownMs: 600_000 });
    clock.advance(8000);
    expect(sut.isAvailable()).toBe(false);
  });

  it('a probe may close it only for the kind of call whose failures opened it', () => {
    const { sut } = makeSut();
    expect(sut.closableBy('models')).toBe(true);
    for (let i = 0; i < 3; i++) sut.onFailure({ kind: 'chat', reason: 'HTTP 500' });
    expect(sut.closableBy('models')).toBe(false);
    expect(sut.closableBy('image')).toBe(false);
    expect(sut.closableBy('chat')).toBe(true);
    // A failed model-list probe in between does not make a model-list read enough.
    sut.onFailure({ immediate: true, kind: 'models' });
    expect(sut.closableBy('models')).toBe(false);
    expect(sut.closableBy('chat')).toBe(true);
    sut.onSuccess();
    sut.onFailure({ immediate: true, kind: 'models' });
    expect(sut.closableBy('models')).toBe(true);
    // Another replica's word carries no kind: only an inference probe closes it.
    sut.onSuccess();
    sut.forceOpen(Date.now() + 10 ** 9, 'elsewhere');
    expect(sut.closableBy('models')).toBe(false);
    expect(sut.closableBy('chat')).toBe(true);
  });
});
