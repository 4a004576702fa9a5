/**
 * How admin login attempts are throttled, in two parts: per client address, MAX_FAILURES
 * attempts per WINDOW_MS and then a 429 until the window is over; and the account's own
 * backoff, whatever the address: after FREE_FAILURES failures in a row each attempt waits
 * BACKOFF_BASE_MS, doubling per failure up to BACKOFF_MAX_MS (a delay, never a refusal, so an
 * attack from elsewhere slows the real admin down but cannot lock them out). One process counts
 * in memory; cluster mode counts in Redis (redis-login-throttle.ts), so a guesser gets the same
 * allowance from every replica together as from one.
 */

/** Login attempts per client address: after MAX_FAILURES in WINDOW_MS, wait out the window. */
export const MAX_FAILURES = 10;
export const WINDOW_MS = 60_000;
/** Addresses tracked at most in memory; past it, expired ones are swept, then the oldest dropped. */
const MAX_TRACKED = 10_000;
export const FREE_FAILURES = 5;
export const BACKOFF_BASE_MS = 50;
export const BACKOFF_MAX_MS = 3000;
/** Longest client address kept as a key (req.ip is short; anything longer is cut, not stored whole). */
export const MAX_CLIENT_CHARS = 100;

/** An attempt's fate: refused for `retryAfterSec`, or let through after waiting `waitMs`. */
export type LoginAdmission = { refused: true; retryAfterSec: number } | { refused: false; waitMs: number };

export interface LoginThrottle {
  /** Counts one attempt from `client` (before its password is checked), or refuses it. */
  admit(client: string, now: number): Promise<LoginAdmission>;
  /** A wrong password: one more failure in a row on the account. */
  failed(now: number): Promise<void>;
  /** The right password: the client's window and the account's failures start over. */
  succeeded(client: string): Promise<void>;
}

export const LOGIN_THROTTLE = Symbol('LOGIN_THROTTLE');

/** The account's wait before this attempt's password is checked, from its failures in a row and the last one's time. */
export function backoffMs(count: number, last: number, now: number): number {
  if (count < FREE_FAILURES || now - last >= WINDOW_MS) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (count - FREE_FAILURES));
}

/** `remainingMs` of a window as Retry-After seconds: rounded up, at least 1. */
export function retryAfterSec(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs / 1000));
}

/** One process's throttle, in memory (bounded to MAX_TRACKED addresses). */
export class InMemoryLoginThrottle implements LoginThrottle {
  /** Attempts (counted before they are checked) per client address, since the window began. */
  private readonly attempts = new Map<string, { count: number; since: number }>();
  /** Failed logins in a row on the account, from any address; cleared by a success or a quiet window. */
  private account = { count: 0, last: 0 };

  admit(client: string, now: number): Promise<LoginAdmission> {
    return Promise.resolve(this.admitNow(client, now));
  }

  admitNow(client: string, now: number): LoginAdmission {
    const key = client.slice(0, MAX_CLIENT_CHARS);
    let f = this.attempts.get(key);
    if (f && now - f.since >= WINDOW_MS) {
      this.attempts.delete(key);
      f = undefined;
    }
    if (!f) {
      this.makeRoom(now);
      f = { count: 0, since: now };
      this.attempts.set(key, f);
    }
    if (f.count >= MAX_FAILURES) return { refused: true, retryAfterSec: retryAfterSec(WINDOW_MS - (now - f.since)) };
    f.count++;
    return { refused: false, waitMs: backoffMs(this.account.count, this.account.last, now) };
  }

  failed(now: number): Promise<void> {
    this.account = { count: this.account.count + 1, last: now };
    return Promise.resolve();
  }

  succeeded(client: string): Promise<void> {
    this.attempts.delete(client.slice(0, MAX_CLIENT_CHARS));
    this.account = { count: 0, last: 0 };
    return Promise.resolve();
  }

  /** Keeps the per-address table bounded: expired windows go first, then the oldest entries. */
  private makeRoom(now: number): void {
    if (this.attempts.size < MAX_TRACKED) return;
    for (const [client, f] of this.attempts) if (now - f.since >= WINDOW_MS) this.attempts.delete(client);
    for (const client of this.attempts.keys()) {
      if (this.attempts.size < MAX_TRACKED) break;
      this.attempts.delete(client);
    }
  }
}
