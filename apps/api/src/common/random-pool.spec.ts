import { randomId } from './random-pool.ts';

describe('randomId', () => {
  it('gives ids of the asked length and alphabet, never the same one twice, across many refills of the pool', () => {
    const seen = new Set<string>();
    // 18 does not divide the pool's size: ids near its end must come whole from a fresh pool.
    for (let i = 0; i < 20_000; i++) {
      const id = randomId(18, 'base64url');
      expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
      seen.add(id);
    }
    for (let i = 0; i < 20_000; i++) {
      const id = randomId(8, 'hex');
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(40_000);
  });

  it('spreads its bytes evenly (a stuck or zeroed pool would not)', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 4000; i++) for (const c of randomId(8, 'hex')) counts[parseInt(c, 16)]!++;
    // 64,000 hex digits: 4,000 expected per digit; a fair generator stays well inside ±15%.
    for (const n of counts) expect(Math.abs(n - 4000)).toBeLessThan(600);
  });
});
