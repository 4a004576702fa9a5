import { jest } from '@jest/globals';
import { KeyPool, isCreditRefusal, maskKey, sumQuotaUsage, type KeyLedger } from './key-pool.ts';
import { UpstreamError } from './upstream-errors.ts';

const breaker = { failureThreshold: 1, baseCooldownMs: 60_000, maxCooldownMs: 60_000 };

describe('KeyPool', () => {
  it('hands keys out round-robin', () => {
    const sut = new KeyPool(breaker, ['k1', 'k2', 'k3'], false);
    const picked = Array.from({ length: 6 }, () => sut.acquire()!.value);
    expect(picked).toEqual(['k1', 'k2', 'k3', 'k1', 'k2', 'k3']);
  });

  it('skips a cooling key while the others keep serving', () => {
    const sut = new KeyPool(breaker, ['k1', 'k2'], false);
    const first = sut.acquire()!;
    first.breaker.onFailure({ immediate: true, reason: 'HTTP 429' });
    expect([sut.acquire()!.value, sut.acquire()!.value, sut.acquire()!.value]).toEqual(['k2', 'k2', 'k2']);
    expect(sut.view()[0]).toMatchObject({ masked: '****', invalid: false, breaker: { state: 'open', lastFailure: 'HTTP 429' } });
  });

  it('marks a key invalid after repeated auth failures and gives none when all are out', () => {
    const sut = new KeyPool(breaker, ['only-key-123456'], false);
    const key = sut.acquire()!;
    for (let i = 0; i < 3; i++) sut.recordAuthFailure(key);
    expect(key.invalid).toBe(true);
    expect(sut.acquire()).toBeUndefined();
    expect(sut.hasAvailable()).toBe(false);
  });

  it('gives keyless providers one anonymous slot, and none to providers that need a key', () => {
    expect(new KeyPool(breaker, [], true).acquire()).toMatchObject({ value: undefined });
    expect(new KeyPool(breaker, [], false).acquire()).toBeUndefined();
    expect(new KeyPool(breaker, [], true).size).toBe(0);
  });

  it('keeps a key’s cooldown when the pool is replaced with a list that still has it', () => {
    const sut = new KeyPool(breaker, ['a', 'b'], false);
    sut.acquire()!.breaker.onFailure({ immediate: true });
    sut.replace(['a', 'b', 'c']);
    expect(sut.view().map((k) => k.breaker.state)).toEqual(['open', 'closed', 'closed']);
  });

  it('never shows a key in full', () => {
    expect(maskKey('sk-abcdefghijklmnop')).toBe('****mnop');
    expect(maskKey('sk-abcdefghij')).toBe('****');
    expect(maskKey('short')).not.toContain('short');
    expect(maskKey(undefined)).toBe('(anonymous)');
  });

  it('tries an invalid key again after the first retest delay, once, then on the later schedule; a passing trial revives it', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const sut = new KeyPool(breaker, ['k1'], false, { firstMs: 3_600_000, laterMs: 86_400_000 });
      const key = sut.acquire()!;
      for (let i = 0; i < 3; i++) sut.recordAuthFailure(key);
      key.breaker.onSuccess(); // its auth cooldown aside: the schedule alone decides here
      expect(sut.view()[0]).toMatchObject({ invalid: true, retestAt: 1_000_000 + 3_600_000 });
      jest.setSystemTime(1_000_000 + 3_600_000 - 1);
      expect(sut.acquire()).toBeUndefined();
      jest.setSystemTime(1_000_000 + 3_600_000);
      expect(sut.hasAvailable()).toBe(true);
      expect(sut.acquire()).toBe(key);
      // One trial per period: the next is a period away even before this one answers.
      key.breaker.release();
      expect(sut.acquire()).toBeUndefined();
      sut.recordAuthFailure(key);
      key.breaker.onSuccess();
      expect(key.retestAt).toBe(1_000_000 + 3_600_000 + 86_400_000);
      expect(sut.nextAvailableAt()).toBe(key.retestAt);
      jest.setSystemTime(key.retestAt!);
      expect(sut.acquire()).toBe(key);
      sut.recordSuccess(key);
      expect(sut.view()[0]).toMatchObject({ invalid: false, retestAt: null });
      expect(sut.acquire()).toBe(key);
    } finally {
      jest.useRealTimers();
    }
  });

  describe('with a ledger', () => {
    const ledger = (room: Record<string, number>, resting: Record<string, number> = {}): KeyLedger => ({
      restingUntil: (id, now) => (resting[id] !== undefined && resting[id] > now ? resting[id] : null),
      headroom: (id) => room[id] ?? 1,
      observe: () => undefined,
      count: () => undefined,
      restUntilCreditReset: (id, _reason, now) => (id === 'env-credit' ? now + 60_000 : null),
      view: () => ({ usage: [], upstream: null, restingUntil: null, restReason: null, headroom: 1 }),
    });

    it('never hands out a resting key, and says when it comes back', () => {
      const sut = new KeyPool(
        breaker,
        [
          { id: 'a', value: 'ka', source: 'console' },
          { id: 'b', value: 'kb', source: 'console' },
        ],
        false,
      );
      const back = Date.now() + 60_000;
      sut.ledger = ledger({}, { a: back, b: back + 1 });
      expect(sut.acquire()).toBeUndefined();
      expect(sut.hasAvailable()).toBe(false);
      expect(sut.nextAvailableAt()).toBe(back);
    });

    it('prefers the key with the most headroom, round-robin among equals, and keeps probes off keys near their limit', () => {
      const sut = new KeyPool(
        breaker,
        [
          { id: 'a', value: 'ka', source: 'console' },
          { id: 'b', value: 'kb', source: 'console' },
          { id: 'c', value: 'kc', source: 'console' },
        ],
        false,
      );
      sut.ledger = ledger({ a: 0.2, b: 0.9, c: 0.9 });
      expect([sut.acquire()!.id, sut.acquire()!.id, sut.acquire()!.id]).toEqual(['b', 'c', 'b']);
      sut.ledger = ledger({ a: 0.05, b: 0.05, c: 0.05 });
      expect(sut.acquire(undefined, { minHeadroom: 0.1 })).toBeUndefined();
      expect(sut.acquire()).toBeDefined();
    });

    it('hands out the preferred key (session affinity) while it has room, and the others once it has none or rests', () => {
      const keys = ['a', 'b', 'c'].map((id) => ({ id, value: `k${id}`, source: 'console' as const }));
      const sut = new KeyPool(breaker, keys, false);
      sut.ledger = ledger({ a: 0.9, b: 0.9, c: 0.2 });
      expect([1, 2, 3].map(() => sut.acquire(undefined, { preferId: 'c' })!.id)).toEqual(['c', 'c', 'c']);
      sut.ledger = ledger({ a: 0.9, b: 0.9, c: 0 });
      expect(sut.acquire(undefined, { preferId: 'c' })!.id).not.toBe('c');
      sut.ledger = ledger({ a: 0.9, b: 0.9, c: 0.9 }, { c: Date.now() + 60_000 });
      expect(sut.acquire(undefined, { preferId: 'c' })!.id).not.toBe('c');
      expect(sut.acquire(new Set([sut.get('a')!, sut.get('b')!]), { preferId: 'c' })).toBeUndefined();
    });

    it('rests a key whose credit is spent when the ledger knows its reset, and leaves the others to the caller', () => {
      const sut = new KeyPool(
        breaker,
        [
          { id: 'env-credit', value: 'k1', source: 'env' },
          { id: 'env-other', value: 'k2', source: 'env' },
        ],
        false,
      );
      sut.ledger = ledger({});
      const [credit, other] = [sut.get('env-credit')!, sut.get('env-other')!];
      const spent = new UpstreamError('http', 'HTTP 402: You need positive balance', 402);
      expect(sut.restForCredit(credit, spent, 'HTTP 402')).toBe(true);
      expect(credit.breaker.snapshot()).toMatchObject({ state: 'open', lastFailure: 'HTTP 402' });
      expect(credit.breaker.snapshot().openUntil).toBeGreaterThan(Date.now() + 59_000);
      expect(sut.restForCredit(other, spent, 'HTTP 402')).toBe(false);
      expect(sut.restForCredit(credit, new UpstreamError('http', 'HTTP 429: slow down', 429), 'HTTP 429')).toBe(false);
    });
  });
});

describe('isCreditRefusal', () => {
  it('is a 402, or a 429 that says an allowance is spent', () => {
    expect(isCreditRefusal(new UpstreamError('http', 'HTTP 402: Payment Required', 402))).toBe(true);
    expect(isCreditRefusal(new UpstreamError('http', 'HTTP 429: you have used up your daily free allocation of 10,000 neurons', 429))).toBe(true);
    expect(isCreditRefusal(new UpstreamError('http', 'HTTP 429: Rate limited', 429))).toBe(false);
    expect(isCreditRefusal(new UpstreamError('http', 'HTTP 401: Not authenticated', 401))).toBe(false);
    expect(isCreditRefusal(new UpstreamError('timeout', 'no response'))).toBe(false);
  });
});

describe('sumQuotaUsage', () => {
  const u = (limit: string, used: number, max: number | null, resetAt: number) => ({ limit, used, max, remaining: max === null ? null : max - used, resetAt });
  const q = (usage: ReturnType<typeof u>[]) => ({ quota: { usage, upstream: null, restingUntil: null, restReason: null, headroom: 1 } });

  it('adds the keys’ use per limit; a limit unknown on one key is unknown in total; the earliest reset', () => {
    expect(
      sumQuotaUsage([q([u('requests/day', 1, 1, 20), u('tokens/day', 5, null, 20)]), q([u('requests/day', 1, 2, 10), u('tokens/day', 7, 100, 20)]), {}]),
    ).toEqual([u('requests/day', 2, 3, 10), u('tokens/day', 12, null, 20)]);
  });
});
