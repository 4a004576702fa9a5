/**
 * Per-client-key requests-per-minute limits. The guard only knows this interface: the
 * embedded default counts in memory; the cluster mode swaps in a shared (Redis) one so a
 * key's limit holds across replicas.
 */
export const RATE_LIMITER = Symbol('RATE_LIMITER');

/** The window every limit is counted over. */
export const RATE_WINDOW_MS = 60_000;

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds until a request would be allowed (at least 1); 0 when allowed. */
  retryAfterSec: number;
}

export interface RateLimiter {
  /**
   * Counts one request of `keyId` at `now` (epoch ms) if fewer than `limit` were counted in
   * the RATE_WINDOW_MS before it. A refused request is not counted, so a client retrying
   * too early does not push its own window further out.
   */
  hit(keyId: string, limit: number, now: number): Promise<RateLimitDecision>;
}

/** Timestamps of one key's counted requests, oldest first; `head` skips the expired ones. */
interface Log {
  times: number[];
  head: number;
}

/**
 * A sliding-window log: at most `limit` requests in any RATE_WINDOW_MS, exactly, and
 * Retry-After is when the oldest request that matters leaves the window. Memory per key is
 * bounded by its limit (only counted requests are kept); idle keys are swept once a window.
 * (The shared version is the usual Redis sorted set per key: ZREMRANGEBYSCORE, ZCARD, ZADD.)
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly logs = new Map<string, Log>();
  private lastSweep = 0;

  hit(keyId: string, limit: number, now: number): Promise<RateLimitDecision> {
    return Promise.resolve(this.hitNow(keyId, limit, now));
  }

  /** The synchronous core of hit(). */
  hitNow(keyId: string, limit: number, now: number): RateLimitDecision {
    this.sweep(now);
    if (!(limit >= 1)) return { allowed: false, retryAfterSec: Math.ceil(RATE_WINDOW_MS / 1000) };
    let log = this.logs.get(keyId);
    if (!log) {
      log = { times: [], head: 0 };
      this.logs.set(keyId, log);
    }
    const cutoff = now - RATE_WINDOW_MS;
    while (log.head < log.times.length && log.times[log.head]! <= cutoff) log.head++;
    if (log.head > 64 && log.head * 2 > log.times.length) {
      log.times = log.times.slice(log.head);
      log.head = 0;
    }
    const counted = log.times.length - log.head;
    if (counted < limit) {
      // Kept in order even if the clock steps back: such a request counts as the latest one.
      log.times.push(counted > 0 ? Math.max(now, log.times[log.times.length - 1]!) : now);
      return { allowed: true, retryAfterSec: 0 };
    }
    // The limit may have been lowered since these were counted: enough of the oldest must
    // expire to leave room for one more.
    const mustExpire = counted - limit + 1;
    const freedAt = log.times[log.head + mustExpire - 1]! + RATE_WINDOW_MS;
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((freedAt - now) / 1000)) };
  }

  /** How many keys are tracked (for tests). */
  get size(): number {
    return this.logs.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < RATE_WINDOW_MS) return;
    this.lastSweep = now;
    const cutoff = now - RATE_WINDOW_MS;
    for (const [id, log] of this.logs) {
      if (log.times.length === log.head || log.times[log.times.length - 1]! <= cutoff) this.logs.delete(id);
    }
  }
}
