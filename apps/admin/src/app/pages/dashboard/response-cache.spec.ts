import { formatBytes, formatTtl } from './response-cache';

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
