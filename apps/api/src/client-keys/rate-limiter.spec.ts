import { InMemoryRateLimiter, RATE_WINDOW_MS } from './rate-limiter.ts';

const T0 = 1_700_000_000_000;

describe('InMemoryRateLimiter', () => {
  it('allows `limit` requests in a minute, refuses the next with the seconds until the oldest expires', () => {
    const rl = new InMemoryRateLimiter();
    expect(rl.hitNow('a', 3, T0)).toEqual({ allowed: true, retryAfterSec: 0 });
    expect(rl.hitNow('a', 3, T0 + 10_000)).toEqual({ allowed: true, retryAfterSec: 0 });
    expect(rl.hitNow('a', 3, T0 + 20_000)).toEqual({ allowed: true, retryAfterSec: 0 });
    // The first request leaves the window at T0 + 60 s: 30 s from T0 + 30 s.
    expect(rl.hitNow('a', 3, T0 + 30_000)).toEqual({ allowed: false, retryAfterSec: 30 });
    // Rounded up: 29.5 s is 30 s.
    expect(rl.hitNow('a', 3, T0 + 30_500)).toEqual({ allowed: false, retryAfterSec: 30 });
  });

  it('is a sliding window, not a fixed one: requests expire one by one, a minute after they were made', () => {
    const rl = new InMemoryRateLimiter();
    for (const t of [0, 10_000, 20_000]) expect(rl.hitNow('a', 3, T0 + t).allowed).toBe(true);
    expect(rl.hitNow('a', 3, T0 + RATE_WINDOW_MS - 1).allowed).toBe(false);
    expect(rl.hitNow('a', 3, T0 + RATE_WINDOW_MS).allowed).toBe(true); // the 0 s one expired
    expect(rl.hitNow('a', 3, T0 + RATE_WINDOW_MS + 1).allowed).toBe(false); // 10 s, 20 s and 60 s still count
    expect(rl.hitNow('a', 3, T0 + RATE_WINDOW_MS + 1)).toEqual({ allowed: false, retryAfterSec: 10 });
    expect(rl.hitNow('a', 3, T0 + 10_000 + RATE_WINDOW_MS).allowed).toBe(true);
  });

  it('a refused request is not counted, so retrying after Retry-After succeeds', () => {
    const rl = new InMemoryRateLimiter();
    expect(rl.hitNow('a', 2, T0).allowed).toBe(true);
    expect(rl.hitNow('a', 2, T0 + 1).allowed).toBe(true);
    let last = { allowed: false, retryAfterSec: 0 };
    for (let i = 0; i < 100; i++) last = rl.hitNow('a', 2, T0 + 1_000 + i * 100);
    expect(last.allowed).toBe(false);
    const retryAt = T0 + 1_000 + 99 * 100 + last.retryAfterSec * 1000;
    expect(rl.hitNow('a', 2, retryAt - 1_000).allowed).toBe(false);
    expect(rl.hitNow('a', 2, retryAt).allowed).toBe(true);
  });

  it('keys are counted separately', () => {
    const rl = new InMemoryRateLimiter();
    expect(rl.hitNow('a', 1, T0).allowed).toBe(true);
    expect(rl.hitNow('a', 1, T0 + 1).allowed).toBe(false);
    expect(rl.hitNow('b', 1, T0 + 2).allowed).toBe(true);
    expect(rl.hitNow('b', 1, T0 + 3).allowed).toBe(false);
  });

  it('a lowered limit waits until enough old requests expire; a raised one applies at once', () => {
    const rl = new InMemoryRateLimiter();
    for (let i = 0; i < 5; i++) expect(rl.hitNow('a', 10, T0 + i * 1_000).allowed).toBe(true);
    // Now 2 per minute: one more fits only when a single one still counts, so four of the
    // five (0 s … 3 s) must expire, the fourth at 63 s.
    expect(rl.hitNow('a', 2, T0 + 5_000)).toEqual({ allowed: false, retryAfterSec: 58 });
    expect(rl.hitNow('a', 2, T0 + 62_999).allowed).toBe(false);
    expect(rl.hitNow('a', 2, T0 + 63_000).allowed).toBe(true);
    expect(rl.hitNow('a', 10, T0 + 63_001).allowed).toBe(true);
  });

  it('Retry-After is at least 1 s, however close the expiry', () => {
    const rl = new InMemoryRateLimiter();
    rl.hitNow('a', 1, T0);
    expect(rl.hitNow('a', 1, T0 + RATE_WINDOW_MS - 1)).toEqual({ allowed: false, retryAfterSec: 1 });
  });

  it('a clock stepping back does not let more requests through', () => {
    const rl = new InMemoryRateLimiter();
    expect(rl.hitNow('a', 2, T0 + 30_000).allowed).toBe(true);
    expect(rl.hitNow('a', 2, T0).allowed).toBe(true);
    expect(rl.hitNow('a', 2, T0 + 30_001).allowed).toBe(false);
    expect(rl.hitNow('a', 2, T0 + 90_000).allowed).toBe(true);
  });

  it('forgets idle keys after a window', () => {
    const rl = new InMemoryRateLimiter();
    for (let i = 0; i < 50; i++) rl.hitNow(`k${i}`, 5, T0);
    expect(rl.size).toBe(50);
    rl.hitNow('fresh', 5, T0 + 2 * RATE_WINDOW_MS);
    expect(rl.size).toBe(1);
  });

  it('holds exactly under a long steady stream (old entries are compacted, none lost)', () => {
    const rl = new InMemoryRateLimiter();
    let allowed = 0;
    // One attempt every 100 ms for 10 minutes against 120 rpm: 120 in each minute, exactly.
    for (let t = 0; t < 10 * RATE_WINDOW_MS; t += 100) if (rl.hitNow('a', 120, T0 + t).allowed) allowed++;
    expect(allowed).toBe(10 * 120);
  });

  it('hit() answers the same as hitNow(), as a promise (the shared limiter is asynchronous)', async () => {
    const rl = new InMemoryRateLimiter();
    await expect(rl.hit('a', 1, T0)).resolves.toEqual({ allowed: true, retryAfterSec: 0 });
    await expect(rl.hit('a', 1, T0 + 1_000)).resolves.toEqual({ allowed: false, retryAfterSec: 59 });
  });
});
