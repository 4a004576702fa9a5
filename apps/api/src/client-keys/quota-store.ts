import { Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Storage } from '../storage/storage.ts';
import { QUOTA_PERIODS, periodId, type QuotaDefinition, type QuotaPeriod, type QuotaPeriods } from './key-limits.ts';

/**
 * Client keys' quota counters and concurrency slots. The guard only knows this interface: the
 * embedded default counts in memory (persisted through the settings store); cluster mode
 * counts in Redis so quotas and concurrency hold across replicas.
 */
export const QUOTA_STORE = Symbol('QUOTA_STORE');

/** Requests and tokens counted in one period. */
export interface PeriodUsage {
  requests: number;
  tokens: number;
}

export type KeyUsage = Record<QuotaPeriod, PeriodUsage>;

/** A quota to check, with its limit. */
export interface QuotaCheck {
  quota: QuotaDefinition;
  limit: number;
}

export interface QuotaStore {
  /**
   * Counts one request of `keyId` in the day, month and total of `periods`, unless one of the
   * `checks` is used up (requests: used ≥ limit; tokens: used ≥ limit, since tokens are added
   * after the answer); then nothing is counted and the first quota used up is returned.
   * Atomic: two requests can never both take the last unit of a quota.
   */
  admit(keyId: string, periods: QuotaPeriods, checks: readonly QuotaCheck[]): Promise<QuotaDefinition | null>;
  /** Adds an answered request's tokens to the day, month and total of `periods`. */
  addTokens(keyId: string, periods: QuotaPeriods, tokens: number): Promise<void>;
  /** What is counted in the current day, month and total. */
  used(keyId: string, periods: QuotaPeriods): Promise<KeyUsage>;
  /** Takes one of `limit` concurrent slots for request `lease`; false when all are taken. */
  acquire(keyId: string, limit: number, lease: string, now: number): Promise<boolean>;
  /** Gives a slot back (idempotent). */
  release(keyId: string, lease: string): Promise<void>;
}

/** Settings namespace of the embedded store's counters: `<key id>:<period id>` → PeriodUsage. */
export const CLIENT_KEY_QUOTA_NS = 'client-key-quota';
/** How often the embedded store writes its counters. */
export const QUOTA_FLUSH_MS = 2_000;

const zero = (): PeriodUsage => ({ requests: 0, tokens: 0 });

/**
 * The single-process store: counters in a map, checked and counted in one synchronous step (no
 * await between check and count), and written to the settings store every QUOTA_FLUSH_MS and at
 * shutdown, so a restart keeps them (a crash loses at most the last QUOTA_FLUSH_MS of counts).
 * Only the current day and month are kept: older periods are dropped when read at startup and
 * from memory as periods pass.
 */
export class InMemoryQuotaStore implements QuotaStore, OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('ClientKeyQuota');
  private readonly counters = new Map<string, PeriodUsage>();
  private pending = new Map<string, PeriodUsage>();
  private readonly slots = new Map<string, Set<string>>();
  private current = '';
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(
    private readonly storage: Storage | null,
    private readonly periodsNow: () => QuotaPeriods,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.storage) return;
    const stored = await this.storage.settings.list<PeriodUsage>(CLIENT_KEY_QUOTA_NS);
    const live = this.livePeriods(this.periodsNow());
    for (const [key, usage] of Object.entries(stored)) {
      if (live.has(key.slice(key.lastIndexOf(':') + 1))) {
        this.counters.set(key, { requests: Number(usage.requests) || 0, tokens: Number(usage.tokens) || 0 });
      } else {
        await this.storage.settings.delete(CLIENT_KEY_QUOTA_NS, key);
      }
    }
    this.timer = setInterval(() => void this.flush(), QUOTA_FLUSH_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  admit(keyId: string, periods: QuotaPeriods, checks: readonly QuotaCheck[]): Promise<QuotaDefinition | null> {
    this.sweep(periods);
    for (const { quota, limit } of checks) {
      if (this.counter(keyId, quota.period, periods)[quota.kind] >= limit) return Promise.resolve(quota);
    }
    for (const period of QUOTA_PERIODS) this.add(keyId, period, periods, 'requests', 1);
    return Promise.resolve(null);
  }

  addTokens(keyId: string, periods: QuotaPeriods, tokens: number): Promise<void> {
    this.sweep(periods);
    if (tokens > 0) for (const period of QUOTA_PERIODS) this.add(keyId, period, periods, 'tokens', tokens);
    return Promise.resolve();
  }

  used(keyId: string, periods: QuotaPeriods): Promise<KeyUsage> {
    const copy = (period: QuotaPeriod) => ({ ...this.counter(keyId, period, periods) });
    return Promise.resolve({ day: copy('day'), month: copy('month'), total: copy('total') });
  }

  acquire(keyId: string, limit: number, lease: string): Promise<boolean> {
    const taken = this.slots.get(keyId) ?? new Set<string>();
    if (taken.size >= limit) return Promise.resolve(false);
    taken.add(lease);
    this.slots.set(keyId, taken);
    return Promise.resolve(true);
  }

  release(keyId: string, lease: string): Promise<void> {
    const taken = this.slots.get(keyId);
    taken?.delete(lease);
    if (taken?.size === 0) this.slots.delete(keyId);
    return Promise.resolve();
  }

  /** Writes what was counted since the last write; writes never overlap. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.storage || this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      for (const [key, delta] of batch) {
        try {
          await this.storage.settings.increment(CLIENT_KEY_QUOTA_NS, key, { add: { requests: delta.requests, tokens: delta.tokens } });
          if (this.failing) this.logger.log('Client key quota counters are being written again');
          this.failing = false;
        } catch (err) {
          if (!this.failing)
            this.logger.warn(`Could not write client key quota counters (kept, retried every ${QUOTA_FLUSH_MS / 1000} s): ${(err as Error).message}`);
          this.failing = true;
          const later = this.pending.get(key) ?? zero();
          this.pending.set(key, { requests: later.requests + delta.requests, tokens: later.tokens + delta.tokens });
        }
      }
    });
    return this.writing;
  }

  private counter(keyId: string, period: QuotaPeriod, periods: QuotaPeriods): PeriodUsage {
    return this.counters.get(`${keyId}:${periodId(period, periods)}`) ?? zero();
  }

  private add(keyId: string, period: QuotaPeriod, periods: QuotaPeriods, kind: keyof PeriodUsage, by: number): void {
    const key = `${keyId}:${periodId(period, periods)}`;
    for (const map of [this.counters, this.pending]) {
      const usage = map.get(key) ?? zero();
      usage[kind] += by;
      map.set(key, usage);
    }
  }

  private livePeriods(periods: QuotaPeriods): Set<string> {
    return new Set(QUOTA_PERIODS.map((p) => periodId(p, periods)));
  }

  /** Drops the counters of days and months that are over, once each time the day changes. */
  private sweep(periods: QuotaPeriods): void {
    if (periods.day === this.current) return;
    this.current = periods.day;
    const live = this.livePeriods(periods);
    for (const key of this.counters.keys()) if (!live.has(key.slice(key.lastIndexOf(':') + 1))) this.counters.delete(key);
  }
}
