/**
 * What a client key may do beyond existing: quotas by period, expiry, allowed models and client
 * addresses, concurrency. Plain functions: the quota table, the periods in a time zone, and the
 * model and address checks the /v1 guard makes.
 */
import { BlockList, isIP } from 'node:net';
import { NO_CLIENT_KEY_LIMITS, type ClientKeyLimits, type ClientKeyQuotaName } from '#contracts';
import { wallClock, zonedInstant } from '../common/wall-clock.ts';

/** The highest quota accepted (tokens included); above it, set no quota. */
export const MAX_QUOTA = 1_000_000_000_000;
/** The highest concurrency limit accepted. */
export const MAX_CONCURRENCY_LIMIT = 10_000;
/** Most entries in allowedModels or allowedIps. */
export const MAX_ALLOW_ENTRIES = 100;
/** Longest allowed-model pattern, in characters (as alias patterns). */
export const MAX_MODEL_PATTERN_CHARS = 128;
/** The latest expiry accepted: the year 9999. */
export const MAX_EXPIRES_AT = 253_402_300_799_000;

export type QuotaPeriod = 'day' | 'month' | 'total';
export type QuotaKind = 'requests' | 'tokens';

export interface QuotaDefinition {
  name: ClientKeyQuotaName;
  kind: QuotaKind;
  period: QuotaPeriod;
}

/** Every quota, in the order they are checked and shown (the shortest period first). */
export const QUOTAS: readonly QuotaDefinition[] = [
  { name: 'requestsPerDay', kind: 'requests', period: 'day' },
  { name: 'requestsPerMonth', kind: 'requests', period: 'month' },
  { name: 'requestsTotal', kind: 'requests', period: 'total' },
  { name: 'tokensPerDay', kind: 'tokens', period: 'day' },
  { name: 'tokensPerMonth', kind: 'tokens', period: 'month' },
  { name: 'tokensTotal', kind: 'tokens', period: 'total' },
];

export const QUOTA_PERIODS: readonly QuotaPeriod[] = ['day', 'month', 'total'];

/** A key with no limit at all (what records written before limits existed mean). */
export const NO_LIMITS = NO_CLIENT_KEY_LIMITS;

/** The fields of ClientKeyLimits, for copying them out of a larger object. */
export const LIMIT_FIELDS = Object.keys(NO_LIMITS) as (keyof ClientKeyLimits)[];

/** The limits in a stored record or request, every field present (absent ones: none). */
export function limitsOf(source: Partial<ClientKeyLimits>): ClientKeyLimits {
  const out: Record<string, unknown> = {};
  for (const field of LIMIT_FIELDS) out[field] = source[field] ?? NO_LIMITS[field];
  return out as unknown as ClientKeyLimits;
}

/** The current day and month in a time zone, with the instants they end. */
export interface QuotaPeriods {
  /** `2026-12-07` */
  day: string;
  /** `2026-12` */
  month: string;
  dayEndsAt: number;
  monthEndsAt: number;
}

/** The instant the wall clock of `zone` shows midnight of this (possibly overflowing) date. */
const midnight = (zone: string, year: number, month: number, day: number): number => zonedInstant(zone, year, month, day);

/** Which day and month `now` falls in, in `zone`, and when each ends. */
export function quotaPeriods(now: number, zone: string): QuotaPeriods {
  const [y, m, d] = wallClock(now, zone);
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    day: `${y}-${pad(m)}-${pad(d)}`,
    month: `${y}-${pad(m)}`,
    dayEndsAt: midnight(zone, y, m, d + 1),
    monthEndsAt: midnight(zone, y, m + 1, 1),
  };
}

/** The counter a period's usage is kept under: `d2026-12-07`, `m2026-12` or `total`. */
export function periodId(period: QuotaPeriod, periods: QuotaPeriods): string {
  return period === 'day' ? `d${periods.day}` : period === 'month' ? `m${periods.month}` : 'total';
}

/** When a period's usage starts again from 0; null for the key's whole life. */
export function periodEndsAt(period: QuotaPeriod, periods: QuotaPeriods): number | null {
  return period === 'day' ? periods.dayEndsAt : period === 'month' ? periods.monthEndsAt : null;
}

/** An address or CIDR split into its parts, or null when it is neither. */
function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = entry.split('/');
  if (extra !== undefined) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
  return { address, prefix: Number(prefixText), family };
}

/** What is wrong with an allowed-IP entry, or null. */
export function ipEntryProblem(entry: string): string | null {
  return parseCidr(entry) ? null : 'an entry is an IPv4 or IPv6 address, or a CIDR like 10.0.0.0/8 or 2001:db8::/32';
}

/** The allowed addresses as a set the address check can use; undefined for "anywhere". */
export function compileIps(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const cidr = parseCidr(entry);
    if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return list;
}

/** Whether a client address (as Express reports it, IPv4-mapped IPv6 included) is in the set. */
export function ipAllowed(list: BlockList | undefined, ip: string | undefined): boolean {
  if (!list) return true;
  if (!ip) return false;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  const address = mapped ? mapped[1]! : ip;
  const version = isIP(address);
  if (version === 0) return false;
  return list.check(address, version === 4 ? 'ipv4' : 'ipv6');
}
