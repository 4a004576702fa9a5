import { logTimestamp } from './gateway-logger.ts';

/** Nest's own timestamp formatter (ConsoleLogger), in the en-US locale. */
const nestFormat = (timeZone?: string) =>
  new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', day: '2-digit', month: '2-digit' });

describe('logTimestamp', () => {
  it("prints the local time exactly as Nest's en-US formatter does, around midnight and noon too", () => {
    const nest = nestFormat();
    const instants = [
      new Date(2026, 0, 5, 0, 3, 4),
      new Date(2026, 11, 7, 9, 59, 59),
      new Date(2026, 11, 7, 12, 0, 0),
      new Date(2026, 11, 7, 13, 53, 34),
      new Date(2026, 11, 31, 23, 59, 59),
      new Date(1999, 6, 4, 11, 30, 0),
    ];
    for (const at of instants) expect(logTimestamp(at)).toBe(nest.format(at));
  });
});
