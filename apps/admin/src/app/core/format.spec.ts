import { formatBucket, formatClock, formatCount, formatDuration, formatPercent, formatRelative } from './format';

describe('format', () => {
  it('counts in Chinese units', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(12_345)).toBe('1.2 万');
    expect(formatCount(100_000)).toBe('10 万');
    expect(formatCount(340_000_000)).toBe('3.4 亿');
    expect(formatCount(null)).toBe('—');
    expect(formatCount(Number.NaN)).toBe('—');
  });

  it('percentages never round a failure up to 100%', () => {
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.9)).toBe('90.0%');
    expect(formatPercent(0.99999)).toBe('99.9%');
    expect(formatPercent(null)).toBe('—');
  });

  it('durations', () => {
    expect(formatDuration(850.4)).toBe('850 ms');
    expect(formatDuration(1234)).toBe('1.23 s');
    expect(formatDuration(12_345)).toBe('12.3 s');
    expect(formatDuration(65_000)).toBe('1 分 5 秒');
    expect(formatDuration(null)).toBe('—');
  });

  it('clock, buckets and relative times', () => {
    const t = new Date(2026, 10, 26, 9, 5, 7).getTime();
    expect(formatClock(t)).toBe('09:05:07');
    expect(formatBucket(t, 60_000)).toBe('09:05');
    expect(formatBucket(t, 3_600_000)).toBe('11-26 09:05');
    expect(formatRelative(t, t + 2000)).toBe('刚刚');
    expect(formatRelative(t, t + 30_000)).toBe('30 秒前');
    expect(formatRelative(t, t + 5 * 60_000)).toBe('5 分钟前');
    expect(formatRelative(t, t + 3 * 3_600_000)).toBe('3 小时前');
    expect(formatRelative(t, t + 2 * 86_400_000)).toBe('2 天前');
    expect(formatRelative(null)).toBe('—');
  });
});
