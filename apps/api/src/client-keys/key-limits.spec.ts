import { compileIps, ipAllowed, ipEntryProblem, limitsOf, NO_LIMITS, periodEndsAt, periodId, quotaPeriods } from './key-limits.ts';

describe('quotaPeriods', () => {
  it('days and months of UTC, and when each ends', () => {
    const p = quotaPeriods(Date.UTC(2026, 11, 31, 23, 59, 59), 'UTC');
    expect(p).toEqual({ day: '2026-12-31', month: '2026-12', dayEndsAt: Date.UTC(2027, 0, 1), monthEndsAt: Date.UTC(2027, 0, 1) });
    expect([periodId('day', p), periodId('month', p), periodId('total', p)]).toEqual(['d2026-12-31', 'm2026-12', 'total']);
    expect([periodEndsAt('day', p), periodEndsAt('total', p)]).toEqual([Date.UTC(2027, 0, 1), null]);
  });

  it('another zone: its own midnight (Asia/Shanghai is UTC+8)', () => {
    // 2026-03-01 17:00 UTC is already 2 March in Shanghai.
    const p = quotaPeriods(Date.UTC(2026, 2, 1, 17), 'Asia/Shanghai');
    expect(p).toEqual({ day: '2026-03-02', month: '2026-03', dayEndsAt: Date.UTC(2026, 2, 2, 16), monthEndsAt: Date.UTC(2026, 2, 31, 16) });
  });

  it('a day with a DST change is 23 hours long, and ends at the local midnight', () => {
    // Europe/Berlin springs forward on 29 March 2026: midnight of the 30th is 22:00 UTC on the 29th.
    const p = quotaPeriods(Date.UTC(2026, 2, 29, 10), 'Europe/Berlin');
    expect(p.day).toBe('2026-03-29');
    expect(p.dayEndsAt).toBe(Date.UTC(2026, 2, 29, 22));
    expect(p.monthEndsAt).toBe(Date.UTC(2026, 2, 31, 22));
  });
});

describe('allowed client addresses', () => {
  it('IPv4 and IPv6 addresses and CIDRs, IPv4-mapped clients included; [] allows all', () => {
    const list = compileIps(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32']);
    expect(ipAllowed(list, '10.200.3.4')).toBe(true);
    expect(ipAllowed(list, '::ffff:10.1.1.1')).toBe(true);
    expect(ipAllowed(list, '192.168.1.7')).toBe(true);
    expect(ipAllowed(list, '192.168.1.8')).toBe(false);
    expect(ipAllowed(list, '2001:db8:ffff::1')).toBe(true);
    expect(ipAllowed(list, '2001:db9::1')).toBe(false);
    expect(ipAllowed(list, undefined)).toBe(false);
    expect(ipAllowed(list, 'not an ip')).toBe(false);
    expect(ipAllowed(compileIps([]), '8.8.8.8')).toBe(true);
  });

  it('says what is wrong with an entry', () => {
    for (const good of ['10.0.0.0/8', '0.0.0.0/0', '::1', '::/0', '2001:db8::/128', '1.2.3.4']) expect([good, ipEntryProblem(good)]).toEqual([good, null]);
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/8/1', '10.0.0.0/', 'example.com', '', '1.2.3.4/-1'])
      expect([bad, ipEntryProblem(bad)]).toEqual([bad, expect.stringContaining('CIDR')]);
  });
});

describe('limitsOf', () => {
  it('fills what a record written before limits existed lacks with "no limit"', () => {
    expect(limitsOf({})).toEqual(NO_LIMITS);
    expect(limitsOf({ rpmLimit: 5, allowedIps: ['::1'] })).toEqual({ ...NO_LIMITS, rpmLimit: 5, allowedIps: ['::1'] });
  });
});
