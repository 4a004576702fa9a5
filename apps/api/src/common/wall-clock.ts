/*
 * Wall-clock time in an IANA zone, for quotas whose days and months reset at a local hour (client
 * keys' quotas, the providers' free tiers). Intl does the zone rules; nothing here is cached but the
 * formatters, one per zone in use (zones are validated when configured: a handful).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Year, month (1–12), day, hour, minute, second of `at` on the wall clock of `zone`. */
export function wallClock(at: number, zone: string): [number, number, number, number, number, number] {
  // UTC, the default zone and every provider's, needs no Intl: its first DateTimeFormat loads ICU's data (~7 MB of RSS).
  if (zone === 'UTC') {
    const d = new Date(at);
    return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  }
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, Number(p.value)]));
  return [parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!];
}

/** The instant the wall clock of `zone` shows `hour`:00 of this (possibly overflowing) date. */
export function zonedInstant(zone: string, year: number, month: number, day: number, hour = 0): number {
  const wanted = Date.UTC(year, month - 1, day, hour);
  let at = wanted;
  // Twice: the offset at the first guess may differ from the one at the answer (a DST change that day).
  for (let i = 0; i < 2; i++) {
    const [y, mo, d, h, mi, s] = wallClock(at, zone);
    at += wanted - Date.UTC(y, mo - 1, d, h, mi, s);
  }
  return at;
}
