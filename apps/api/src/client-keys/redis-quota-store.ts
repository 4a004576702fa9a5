import { Logger } from '@nestjs/common';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { CONCURRENCY_ACQUIRE, QUOTA_ADD_TOKENS, QUOTA_ADMIT } from '../storage/redis/redis-scripts.ts';
import { QUOTA_PERIODS, periodEndsAt, periodId, type QuotaDefinition, type QuotaPeriods } from './key-limits.ts';
import type { KeyUsage, PeriodUsage, QuotaCheck, QuotaStore } from './quota-store.ts';
import { within } from '../common/within.ts';

/** A quota operation that takes longer than this is given up (see below). */
export const QUOTA_TIMEOUT_MS = 500;
/**
 * How long a concurrency slot is held at most: a replica that dies mid-request frees its slots
 * then. Longer than the longest stream (UPSTREAM_STREAM_TIMEOUT_MS, 15 min by default).
 */
export const CONCURRENCY_LEASE_MS = 16 * 60_000;
/** Counters of a day or month are kept this long after it ends. */
const KEEP_AFTER_END_MS = 60_000;

/**
 * The cluster's quota store: per key and period a Redis hash (`P quota:<key id>:<period id>`,
 * fields requests and tokens, expiring after its period) updated by Lua scripts, and a sorted
 * set of leases per key for concurrency, so limits hold exactly across replicas.
 *
 * Like the rate limiter it fails open: when Redis is unreachable, slow or errs, requests are
 * let through uncounted (a warning once per outage), so /v1 keeps answering.
 */
export class RedisQuotaStore implements QuotaStore {
  private readonly logger = new Logger('ClientKeyQuota');
  private degraded = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly timeoutMs = QUOTA_TIMEOUT_MS,
  ) {}

  async admit(keyId: string, periods: QuotaPeriods, checks: readonly QuotaCheck[]): Promise<QuotaDefinition | null> {
    const args: number[] = [];
    for (const period of QUOTA_PERIODS) {
      const limit = (kind: string) => checks.find((c) => c.quota.period === period && c.quota.kind === kind)?.limit ?? -1;
      args.push(limit('requests'), limit('tokens'), this.ttl(period, periods));
    }
    const reply = await this.run('admit', () => QUOTA_ADMIT.run(this.redis.client, this.keys(keyId, periods), args));
    if (!Array.isArray(reply) || reply[0] === 1) return null;
    const period = QUOTA_PERIODS[Number(reply[1]) - 1];
    return checks.find((c) => c.quota.period === period && c.quota.kind === reply[2])?.quota ?? null;
  }

  async addTokens(keyId: string, periods: QuotaPeriods, tokens: number): Promise<void> {
    if (!(tokens > 0)) return;
    const ttls = QUOTA_PERIODS.map((p) => this.ttl(p, periods));
    await this.run('count tokens', () => QUOTA_ADD_TOKENS.run(this.redis.client, this.keys(keyId, periods), [Math.round(tokens), ...ttls]));
  }

  async used(keyId: string, periods: QuotaPeriods): Promise<KeyUsage> {
    const keys = this.keys(keyId, periods);
    const replies = await this.run('read', () => Promise.all(keys.map((k) => this.redis.client.hmget(k, 'requests', 'tokens'))));
    const usage = (i: number): PeriodUsage => {
      const [requests, tokens] = Array.isArray(replies) ? (replies[i] ?? []) : [];
      return { requests: Number(requests) || 0, tokens: Number(tokens) || 0 };
    };
    return { day: usage(0), month: usage(1), total: usage(2) };
  }

  async acquire(keyId: string, limit: number, lease: string, now: number): Promise<boolean> {
    const reply = await this.run('take a concurrency slot', () =>
      CONCURRENCY_ACQUIRE.run(this.redis.client, [this.redis.key('concurrency', keyId)], [now, CONCURRENCY_LEASE_MS, limit, lease]),
    );
    return reply !== 0;
  }

  async release(keyId: string, lease: string): Promise<void> {
    await this.run('free a concurrency slot', () => this.redis.client.zrem(this.redis.key('concurrency', keyId), lease));
  }

  private keys(keyId: string, periods: QuotaPeriods): string[] {
    return QUOTA_PERIODS.map((p) => this.redis.key('quota', `${keyId}:${periodId(p, periods)}`));
  }

  private ttl(period: (typeof QUOTA_PERIODS)[number], periods: QuotaPeriods): number {
    const end = periodEndsAt(period, periods);
    return end === null ? 0 : Math.max(1, end - Date.now() + KEEP_AFTER_END_MS);
  }

  /** Runs one Redis operation within the timeout; undefined (after a warning once per outage) when it fails. */
  private async run<T>(what: string, op: () => Promise<T>): Promise<T | undefined> {
    if (!this.redis.ready) return this.failed(what, 'Redis is not connected');
    try {
      const result = await within(this.timeoutMs, op());
      if (this.degraded) {
        this.degraded = false;
        this.logger.log('Client key quotas are counted in Redis again');
      }
      return result;
    } catch (err) {
      return this.failed(what, (err as Error).message);
    }
  }

  private failed(what: string, why: string): undefined {
    if (!this.degraded) {
      this.degraded = true;
      this.logger.warn(`Client key quota ${what} in Redis failed (${why}): quotas and concurrency limits are not enforced until Redis answers again`);
    }
    return undefined;
  }
}
