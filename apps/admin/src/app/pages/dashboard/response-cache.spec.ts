import { stats } from '../../../testing/fixtures';
import { CacheRefresh, formatBytes, formatTtl, trafficMark } from './response-cache';

describe('the response cache panel’s numbers', () => {
  it.each([
    [812, '812 B'],
    [3.4 * 1024, '3.4 KB'],
    [64 * 1024 * 1024, '64.0 MB'],
  ])('%d bytes → %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [3_600_000, '1 小时'],
    [5_400_000, '90 分钟'],
    [45_000, '45 秒'],
  ])('a TTL of %d ms → %s', (ms, text) => expect(formatTtl(ms)).toBe(text));
});

describe('when the response cache panel reads /api/cache (CacheRefresh)', () => {
  const REFRESH = 60_000;
  const T = Date.UTC(2026, 11, 7, 14, 0);
  /** A poll's snapshot whose stats count `requests` in `range`. */
  const poll = (requests: number, range: '1h' | '24h' = '24h') => trafficMark({ stats: stats([requests], { range }), providers: [], models: null });

  /** Runs `due` and, when it says read, a read that ends with `ok`; says whether it read. */
  function step(refresh: CacheRefresh, mark: string | null, now: number, ok = true): boolean {
    const due = refresh.due(mark, now);
    if (due) refresh.read(ok, now);
    return due;
  }

  it('reads when the dashboard opens, and not again at a poll that shows no traffic', () => {
    const refresh = new CacheRefresh(REFRESH);
    expect(step(refresh, null, T)).toBe(true);
    expect(step(refresh, poll(3), T + 10)).toBe(false);
    expect(step(refresh, poll(3), T + 5_000)).toBe(false);
    expect(step(refresh, poll(3), T + 10_000)).toBe(false);
  });

  it('reads at a poll whose stats show new requests (hits and stored answers are requests), or another range', () => {
    const refresh = new CacheRefresh(REFRESH);
    step(refresh, null, T);
    step(refresh, poll(3), T + 5_000);
    expect(step(refresh, poll(5), T + 10_000)).toBe(true);
    expect(step(refresh, poll(5), T + 15_000)).toBe(false);
    expect(step(refresh, poll(5, '1h'), T + 20_000)).toBe(true);
  });

  it('reads again after CACHE_REFRESH_MS however quiet the traffic (entries expire, settings change elsewhere)', () => {
    const refresh = new CacheRefresh(REFRESH);
    step(refresh, null, T);
    expect(step(refresh, poll(3), T + REFRESH - 1)).toBe(false);
    expect(step(refresh, poll(3), T + REFRESH)).toBe(true);
    expect(step(refresh, poll(3), T + REFRESH + 5_000)).toBe(false);
  });

  it('tries a failed read again at the next poll', () => {
    const refresh = new CacheRefresh(REFRESH);
    expect(step(refresh, null, T, false)).toBe(true);
    expect(step(refresh, poll(3), T + 5_000)).toBe(true);
    expect(step(refresh, poll(3), T + 10_000)).toBe(false);
  });

  it('never overlaps reads, and reads at the next poll when traffic came during one', () => {
    const refresh = new CacheRefresh(REFRESH);
    expect(refresh.due(null, T)).toBe(true);
    expect(refresh.due(poll(3), T + 5_000)).toBe(false);
    expect(refresh.due(poll(4), T + 10_000)).toBe(false);
    refresh.read(true, T + 10_001);
    expect(step(refresh, poll(4), T + 15_000)).toBe(true);
    expect(step(refresh, poll(4), T + 20_000)).toBe(false);
  });
});
