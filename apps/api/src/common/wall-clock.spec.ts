import { wallClock, zonedInstant } from './wall-clock.ts';

const HOUR = 3_600_000;
const INSTANTS = [0, Date.UTC(2026, 11, 31, 23, 59, 59), Date.UTC(2028, 1, 29, 0, 0, 0), Date.UTC(2026, 2, 29, 1, 30, 15), Date.UTC(2026, 5, 1, 12, 0, 1)];

describe('wallClock', () => {
  it('in UTC (computed without Intl) answers what Intl answers for the same zone under another name', () => {
    for (const at of INSTANTS) expect(wallClock(at, 'UTC')).toEqual(wallClock(at, 'Etc/UTC'));
    expect(wallClock(Date.UTC(2026, 11, 7, 13, 5, 9), 'UTC')).toEqual([2026, 12, 7, 13, 5, 9]);
  });

  it('in another zone follows its rules (Shanghai: UTC+8 all year)', () => {
    for (const at of INSTANTS) expect(wallClock(at, 'Asia/Shanghai')).toEqual(wallClock(at + 8 * HOUR, 'UTC'));
    expect(wallClock(Date.UTC(2026, 11, 31, 16), 'Asia/Shanghai').slice(0, 4)).toEqual([2027, 1, 1, 0]);
  });

  it('zonedInstant finds local midnight in UTC and in a zone with an offset', () => {
    expect(zonedInstant('UTC', 2026, 12, 32)).toBe(Date.UTC(2027, 0, 1));
    expect(zonedInstant('Asia/Shanghai', 2026, 12, 7)).toBe(Date.UTC(2026, 11, 6, 16));
  });
});
