import { QuotaSpecError, applyQuotaOverride, isLimitName, parseQuotaOverride, windowBounds } from './quota-spec.ts';

describe('windowBounds', () => {
  const at = Date.UTC(2030, 2, 15, 10, 30, 12, 345); // 2030-03-15 10:30:12.345 UTC

  it('aligns fixed windows to the epoch', () => {
    expect(windowBounds('minute', at, 'UTC', 0)).toEqual({ start: Date.UTC(2030, 2, 15, 10, 30), end: Date.UTC(2030, 2, 15, 10, 31) });
    expect(windowBounds('hour', at, 'UTC', 0)).toEqual({ start: Date.UTC(2030, 2, 15, 10), end: Date.UTC(2030, 2, 15, 11) });
    expect(windowBounds('5s', at, 'UTC', 0)).toEqual({ start: Date.UTC(2030, 2, 15, 10, 30, 10), end: Date.UTC(2030, 2, 15, 10, 30, 15) });
  });

  it('resets days and months at the reset hour in the zone', () => {
    expect(windowBounds('day', at, 'UTC', 0)).toEqual({ start: Date.UTC(2030, 2, 15), end: Date.UTC(2030, 2, 16) });
    expect(windowBounds('month', at, 'UTC', 0)).toEqual({ start: Date.UTC(2030, 2, 1), end: Date.UTC(2030, 3, 1) });
    // Before 12:00 UTC a day that resets at noon began yesterday.
    expect(windowBounds('day', at, 'UTC', 12)).toEqual({ start: Date.UTC(2030, 2, 14, 12), end: Date.UTC(2030, 2, 15, 12) });
    // Midnight in Los Angeles (UTC−7 in March 2030, daylight time) is 07:00 UTC.
    expect(windowBounds('day', at, 'America/Los_Angeles', 0)).toEqual({ start: Date.UTC(2030, 2, 15, 7), end: Date.UTC(2030, 2, 16, 7) });
    // Shanghai (UTC+8): 18:30 local on the 15th; the month began 2030-03-01 00:00 local.
    expect(windowBounds('month', at, 'Asia/Shanghai', 0)).toEqual({ start: Date.UTC(2030, 1, 28, 16), end: Date.UTC(2030, 2, 31, 16) });
  });

  it('rolls over the year', () => {
    const nye = Date.UTC(2030, 11, 31, 23, 59);
    expect(windowBounds('month', nye, 'UTC', 0).end).toBe(Date.UTC(2031, 0, 1));
    expect(windowBounds('day', nye, 'UTC', 0).end).toBe(Date.UTC(2031, 0, 1));
  });
});

describe('parseQuotaOverride', () => {
  it('reads limits, zone, reset hour and credit window; null makes a limit unknown', () => {
    expect(
      parseQuotaOverride({ 'requests/day': 100, 'tokens/minute': null, 'neurons/day': 0, timeZone: 'UTC', resetHour: 5, creditWindow: 'month' }, 'x'),
    ).toEqual({
      limits: { 'requests/day': 100, 'tokens/minute': null, 'neurons/day': 0 },
      timeZone: 'UTC',
      resetHour: 5,
      creditWindow: 'month',
    });
    expect(parseQuotaOverride({}, 'x')).toEqual({});
  });

  it.each([
    [[], /must be a JSON object/],
    [{ 'requests/week': 1 }, /unknown field "requests\/week"/],
    [{ 'calls/day': 1 }, /unknown field/],
    [{ 'requests/day': 1.5 }, /whole number/],
    [{ 'requests/day': '5' }, /whole number/],
    [{ 'requests/0s': 1 }, /unknown field/],
    [{ timeZone: 'Nowhere/Else' }, /IANA time zone/],
    [{ resetHour: 7.5 }, /resetHour/],
    [{ creditWindow: 'year' }, /creditWindow/],
    [Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`requests/${i + 1}s`, 1])), /at most 20 limits/],
  ])('refuses %j', (value, message) => {
    expect(() => parseQuotaOverride(value, 'limits')).toThrow(QuotaSpecError);
    expect(() => parseQuotaOverride(value, 'limits')).toThrow(message);
  });

  it('knows a limit name when it sees one', () => {
    expect(['requests/minute', 'tokens/hour', 'neurons/day', 'requests/month', 'requests/30s', 'tokens/2678400s'].every(isLimitName)).toBe(true);
    expect(['requests', 'requests/', 'requests/2678401s', 'REQUESTS/day', 'requests/day '].some(isLimitName)).toBe(false);
  });
});

describe('applyQuotaOverride', () => {
  const base = { limits: { 'neurons/day': 10_000, 'requests/minute': 300 }, timeZone: 'UTC', resetHour: 0, creditWindow: 'day' as const };

  it('replaces, adds and removes limits and settings', () => {
    expect(applyQuotaOverride(base, { limits: { 'neurons/day': 5000, 'requests/minute': null, 'tokens/day': 1 }, resetHour: 8, creditWindow: null })).toEqual({
      limits: { 'neurons/day': 5000, 'tokens/day': 1 },
      timeZone: 'UTC',
      resetHour: 8,
    });
    expect(applyQuotaOverride(base, undefined)).toBe(base);
    expect(applyQuotaOverride(base, {})).toEqual(base);
  });
});
