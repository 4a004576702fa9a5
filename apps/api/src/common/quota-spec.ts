import { wallClock, zonedInstant } from './wall-clock.ts';

/*
 * Free-tier limits as data: what a provider (or one of its keys) may use per window, and when its
 * windows reset. Pure and low in the layers, because config validates QUOTA_LIMITS with it before
 * Nest starts and the quota ledger (providers/) counts by it.
 */

export const QUOTA_METRICS = ['requests', 'tokens', 'neurons'] as const;
export type QuotaMetric = (typeof QUOTA_METRICS)[number];

/** Calendar windows (day and month reset at `resetHour` in `timeZone`) and fixed ones ("minute", "hour", "30s"). */
export const CALENDAR_WINDOWS = ['day', 'month'] as const;
export type CalendarWindow = (typeof CALENDAR_WINDOWS)[number];

/**
 * A provider's or key's limits. A limit that is not in `limits` is unknown: never guessed, and
 * never a reason to hold a key back.
 */
export interface QuotaSpec {
  /** `<metric>/<window>` ("requests/day", "tokens/minute", "neurons/day", "requests/30s") → the most one window allows. */
  limits: Record<string, number>;
  /** IANA time zone that day and month windows reset in ('UTC' unless the provider documents another). */
  timeZone: string;
  /** Hour of the day (0–23, in `timeZone`) at which day and month windows reset. */
  resetHour: number;
  /** A refused payment or spent allowance (402) lasts until this window's next reset; unknown when absent. */
  creditWindow?: CalendarWindow;
}

/** What the operator changes (QUOTA_LIMITS, the console): a null limit makes a documented one unknown again. */
export interface QuotaOverride {
  limits?: Record<string, number | null>;
  timeZone?: string;
  resetHour?: number;
  creditWindow?: CalendarWindow | null;
}

/** Bounds on what an override may hold: it comes from the environment or the admin API. */
export const MAX_QUOTA_LIMITS = 20;
export const MAX_QUOTA_VALUE = 1e12;
const MAX_FIXED_WINDOW_S = 31 * 24 * 3600;

const LIMIT_NAME = /^(requests|tokens|neurons)\/(minute|hour|day|month|(\d{1,7})s)$/;

export class QuotaSpecError extends Error {
  override name = 'QuotaSpecError';
}

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.length <= 64;
  } catch {
    return false;
  }
}

/** Whether `name` is a limit's name ("requests/day"); fixed windows from 1 s to 31 days. */
export function isLimitName(name: string): boolean {
  const m = LIMIT_NAME.exec(name);
  if (!m) return false;
  return m[3] === undefined || (Number(m[3]) >= 1 && Number(m[3]) <= MAX_FIXED_WINDOW_S);
}

/**
 * Reads one override, flat as operators write it: `{"requests/day": 100, "tokens/minute": null,
 * "timeZone": "America/Los_Angeles", "resetHour": 0, "creditWindow": "month"}`. Throws
 * QuotaSpecError naming what is wrong.
 */
export function parseQuotaOverride(value: unknown, where: string): QuotaOverride {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new QuotaSpecError(`${where} must be a JSON object`);
  const out: QuotaOverride = {};
  const limits: Record<string, number | null> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (name === 'timeZone') {
      if (typeof v !== 'string' || !isTimeZone(v))
        throw new QuotaSpecError(`${where}.timeZone must be an IANA time zone such as "UTC" or "America/Los_Angeles"`);
      out.timeZone = v;
    } else if (name === 'resetHour') {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 23) throw new QuotaSpecError(`${where}.resetHour must be an integer from 0 to 23`);
      out.resetHour = v as number;
    } else if (name === 'creditWindow') {
      if (v !== null && v !== 'day' && v !== 'month') throw new QuotaSpecError(`${where}.creditWindow must be "day", "month" or null`);
      out.creditWindow = v;
    } else if (isLimitName(name)) {
      if (v !== null && (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_QUOTA_VALUE))
        throw new QuotaSpecError(`${where}["${name}"] must be a whole number from 0 to ${MAX_QUOTA_VALUE}, or null for unknown`);
      limits[name] = v as number | null;
    } else {
      throw new QuotaSpecError(
        `${where} has an unknown field "${name.slice(0, 64)}": limits look like "requests/day", "tokens/minute", "neurons/day" or "requests/30s"; the other fields are timeZone, resetHour and creditWindow`,
      );
    }
  }
  if (Object.keys(limits).length > MAX_QUOTA_LIMITS) throw new QuotaSpecError(`${where} may set at most ${MAX_QUOTA_LIMITS} limits`);
  if (Object.keys(limits).length > 0) out.limits = limits;
  return out;
}

/** `base` with `override` on top: null limits removed, other fields replaced. */
export function applyQuotaOverride(base: QuotaSpec, override: QuotaOverride | undefined): QuotaSpec {
  if (!override) return base;
  const limits = { ...base.limits };
  for (const [name, v] of Object.entries(override.limits ?? {})) {
    if (v === null) delete limits[name];
    else limits[name] = v;
  }
  const spec: QuotaSpec = {
    limits,
    timeZone: override.timeZone ?? base.timeZone,
    resetHour: override.resetHour ?? base.resetHour,
  };
  const credit = override.creditWindow === undefined ? base.creditWindow : (override.creditWindow ?? undefined);
  if (credit) spec.creditWindow = credit;
  return spec;
}

/** The window part of a limit's name. */
export function windowOf(limitName: string): string {
  return limitName.slice(limitName.indexOf('/') + 1);
}

export function metricOf(limitName: string): QuotaMetric {
  return limitName.slice(0, limitName.indexOf('/')) as QuotaMetric;
}

/** Start and end (epoch ms) of the window `window` that `now` falls in. */
export function windowBounds(window: string, now: number, timeZone: string, resetHour: number): { start: number; end: number } {
  const fixed = fixedWindowMs(window);
  if (fixed !== undefined) {
    const start = Math.floor(now / fixed) * fixed;
    return { start, end: start + fixed };
  }
  // Calendar windows: the local date at `now - resetHour`, so a window starts at resetHour.
  const [y, m, d] = wallClock(now - resetHour * 3_600_000, timeZone);
  if (window === 'day') return { start: zonedInstant(timeZone, y, m, d, resetHour), end: zonedInstant(timeZone, y, m, d + 1, resetHour) };
  return { start: zonedInstant(timeZone, y, m, 1, resetHour), end: zonedInstant(timeZone, y, m + 1, 1, resetHour) };
}

function fixedWindowMs(window: string): number | undefined {
  if (window === 'minute') return 60_000;
  if (window === 'hour') return 3_600_000;
  const m = /^(\d{1,7})s$/.exec(window);
  return m ? Number(m[1]) * 1000 : undefined;
}
