import { KeyPool, maskKey } from './key-pool.ts';

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
});
