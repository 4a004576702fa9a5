import type { BreakerSnapshot, BreakerState } from '#contracts';

export type { BreakerState, BreakerSnapshot };

/** What kind of upstream call a verdict came from: a probe closes a breaker only for its own kind. */
export type CallKind = 'chat' | 'image' | 'speech' | 'models';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** First open interval; doubles each time the breaker reopens, up to maxCooldownMs. */
  baseCooldownMs: number;
  /** The longest any opening lasts, Retry-After included; only an explicit `cooldownMs` may exceed it. */
  maxCooldownMs: number;
  /** How long a half-open probe may stay unanswered before another one is allowed. */
  probeTimeoutMs?: number;
}

export interface FailureOptions {
  /** Open now, whatever the count (a 429, an auth failure). */
  immediate?: boolean;
  /** The upstream's own Retry-After: open at least this long. */
  retryAfterMs?: number;
  /** Use this interval instead of the growing one (e.g. a long cooldown for a bad key). */
  cooldownMs?: number;
  reason?: string;
  /** The kind of call that failed; unset for a verdict heard from elsewhere. */
  kind?: CallKind;
}

/**
 * Closed → (threshold consecutive failures, or one that says "stop") → open for a growing
 * interval → half-open: one probe request passes; its success closes, its failure reopens
 * with the next, longer interval.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private opens = 0;
  private openUntil = 0;
  private probeStartedAt = 0;
  private lastFailure: string | null = null;
  /** The kinds of call that failed since the last success; 'unknown' for a verdict without one (another replica's word). */
  private readonly failedKinds = new Set<CallKind | 'unknown'>();
  /**
   * Told each time this breaker opens on its own verdict (not through forceOpen): until when
   * and why. Cluster mode passes it on to the other replicas.
   */
  onOpen?: (openUntil: number, reason: string | null) => void;

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when a request could pass right now (does not take the half-open probe). */
  isAvailable(): boolean {
    const now = this.now();
    if (this.state === 'closed') return true;
    if (this.state === 'open') return now >= this.openUntil;
    return now - this.probeStartedAt >= (this.options.probeTimeoutMs ?? 60_000);
  }

  /** Asks to send one request; in half-open state only one probe at a time is let through. */
  tryAcquire(): boolean {
    if (!this.isAvailable()) return false;
    if (this.state !== 'closed') {
      this.state = 'half-open';
      this.probeStartedAt = this.now();
    }
    return true;
  }

  onSuccess(): void {
    this.state = 'closed';
    this.failures = 0;
    this.opens = 0;
    this.probeStartedAt = 0;
    this.failedKinds.clear();
  }

  onFailure(opts: FailureOptions = {}): void {
    this.failures++;
    this.lastFailure = opts.reason ?? this.lastFailure;
    this.failedKinds.add(opts.kind ?? 'unknown');
    const shouldOpen = this.state === 'half-open' || opts.immediate || opts.retryAfterMs !== undefined || this.failures >= this.options.failureThreshold;
    if (!shouldOpen) return;
    const { baseCooldownMs, maxCooldownMs } = this.options;
    // The exponent stops growing once the cap is reached, so `opens` may count on without overflow.
    const growing = Math.min(baseCooldownMs * 2 ** Math.min(this.opens, 30), maxCooldownMs);
    // An upstream's Retry-After is honoured up to the cap: a free provider that says "come back
    // tomorrow" (or a hostile one saying "in a year") is probed again within one maximum cooldown.
    const retryAfter = Math.min(opts.retryAfterMs ?? 0, maxCooldownMs);
    const interval = Math.max(opts.cooldownMs ?? growing, retryAfter);
    this.opens++;
    this.state = 'open';
    this.openUntil = this.now() + interval;
    this.probeStartedAt = 0;
    this.onOpen?.(this.openUntil, this.lastFailure);
  }

  /**
   * Opens until `until` (epoch ms) on someone else's word: another replica saw the failures.
   * Never shortens a longer opening, does not count as a failure here and does not call onOpen.
   * Returns whether anything changed.
   */
  forceOpen(until: number, reason: string | null): boolean {
    if (until <= this.now() || (this.state === 'open' && this.openUntil >= until)) return false;
    this.state = 'open';
    this.openUntil = until;
    this.probeStartedAt = 0;
    if (reason !== null) this.lastFailure = reason;
    this.failedKinds.add('unknown');
    return true;
  }

  /**
   * Whether a successful health probe of `kind` may close this breaker: only when it exercised the
   * kind of call that failed (a model-list read says nothing about failing chats). An inference
   * probe also answers for failed list reads and failures of unknown kind (another replica's word).
   */
  closableBy(kind: CallKind): boolean {
    if (this.state === 'closed') return true;
    return [...this.failedKinds].every((k) => k === kind || (kind !== 'models' && (k === 'unknown' || k === 'models')));
  }

  /** Releases a half-open probe that ended without a verdict (the client went away). */
  release(): void {
    if (this.state === 'half-open') this.probeStartedAt = 0;
  }

  snapshot(): BreakerSnapshot {
    const state = this.state === 'open' && this.now() >= this.openUntil ? 'half-open' : this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      openUntil: this.state === 'open' && this.now() < this.openUntil ? this.openUntil : null,
      lastFailure: this.lastFailure,
    };
  }
}
