import { Logger } from '@nestjs/common';
import { InMemoryRateLimiter, RATE_WINDOW_MS, type RateLimitDecision, type RateLimiter } from './rate-limiter.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { RATE_LIMIT_HIT } from '../storage/redis/redis-scripts.ts';
import { within } from '../common/within.ts';

/** A limit check that takes longer than this is given up: the request goes on (see below). */
export const RATE_LIMIT_TIMEOUT_MS = 500;

/**
 * The cluster's rate limiter: the same sliding-window log as InMemoryRateLimiter, kept in one
 * Redis sorted set per client key (`P ratelimit:<key id>`, scores = request times, expiring a
 * window after the last hit) and updated by one Lua script, so a key's limit holds across
 * every replica.
 *
 * It fails open, never closed: when Redis is unreachable, slow (RATE_LIMIT_TIMEOUT_MS) or errs,
 * the request is counted by a per-process in-memory limiter instead, with a warning once per
 * outage. /v1 keeps answering; meanwhile each replica enforces the limit on its own, so a
 * client can get up to (replicas × limit) per minute until Redis is back.
 *
 * Request times are the replicas' clocks (the `now` passed in): keep them in sync (NTP).
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly logger = new Logger('RateLimit');
  private readonly fallback = new InMemoryRateLimiter();
  private degraded = false;
  private counter = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly timeoutMs = RATE_LIMIT_TIMEOUT_MS,
  ) {}

  async hit(keyId: string, limit: number, now: number): Promise<RateLimitDecision> {
    if (!(limit >= 1)) return this.fallback.hitNow(keyId, limit, now);
    if (!this.redis.ready) return this.locally(keyId, limit, now, 'Redis is not connected');
    const member = `${now}:${this.redis.instanceId}:${++this.counter}`;
    try {
      const reply = await within(
        this.timeoutMs,
        RATE_LIMIT_HIT.run(this.redis.client, [this.redis.key('ratelimit', keyId)], [now, RATE_WINDOW_MS, limit, member]),
      );
      const [allowed, freedAt] = reply as [number, number];
      if (this.degraded) {
        this.degraded = false;
        this.logger.log('Rate limits are shared through Redis again');
      }
      return allowed === 1 ? { allowed: true, retryAfterSec: 0 } : { allowed: false, retryAfterSec: Math.max(1, Math.ceil((Number(freedAt) - now) / 1000)) };
    } catch (err) {
      return this.locally(keyId, limit, now, (err as Error).message);
    }
  }

  private locally(keyId: string, limit: number, now: number, why: string): RateLimitDecision {
    if (!this.degraded) {
      this.degraded = true;
      this.logger.warn(`Rate limit check in Redis failed (${why}): limiting per replica until Redis answers again`);
    }
    return this.fallback.hitNow(keyId, limit, now);
  }
}
