import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, InMemoryLoginThrottle, MAX_FAILURES, WINDOW_MS, backoffMs } from './login-throttle.ts';
import { RedisLoginThrottle } from './redis-login-throttle.ts';

describe('InMemoryLoginThrottle', () => {
  it('lets an address try MAX_FAILURES times a window, then refuses until the window is over', async () => {
    const throttle = new InMemoryLoginThrottle();
    for (let i = 0; i < MAX_FAILURES; i++) expect((await throttle.admit('10.0.0.1', 1000 + i)).refused).toBe(false);
    expect(await throttle.admit('10.0.0.1', 1000 + 30_000)).toEqual({ refused: true, retryAfterSec: 30 });
    // Another address is counted on its own.
    expect((await throttle.admit('10.0.0.2', 1000)).refused).toBe(false);
    expect((await throttle.admit('10.0.0.1', 1000 + WINDOW_MS)).refused).toBe(false);
  });

  it('a success starts the address and the account over', async () => {
    const throttle = new InMemoryLoginThrottle();
    for (let i = 0; i < MAX_FAILURES; i++) {
      await throttle.admit('10.0.0.1', 1000);
      await throttle.failed(1000);
    }
    await throttle.succeeded('10.0.0.1');
    expect(await throttle.admit('10.0.0.1', 1001)).toEqual({ refused: false, waitMs: 0 });
  });

  it('the account waits longer after each failure in a row past the free ones, whatever the address', async () => {
    const throttle = new InMemoryLoginThrottle();
    for (let i = 0; i < 5; i++) await throttle.failed(1000);
    expect(await throttle.admit('10.0.0.9', 1000)).toEqual({ refused: false, waitMs: BACKOFF_BASE_MS });
    await throttle.failed(1000);
    expect(await throttle.admit('10.0.0.8', 1000)).toEqual({ refused: false, waitMs: 2 * BACKOFF_BASE_MS });
    expect(backoffMs(40, 1000, 1000)).toBe(BACKOFF_MAX_MS);
    // A quiet window forgives.
    expect(backoffMs(40, 1000, 1000 + WINDOW_MS)).toBe(0);
  });

  it('keys an address by its first 100 characters', async () => {
    const throttle = new InMemoryLoginThrottle();
    const long = 'x'.repeat(100);
    for (let i = 0; i < MAX_FAILURES; i++) await throttle.admit(`${long}a${i}`, 1000);
    expect((await throttle.admit(`${long}b`, 1000)).refused).toBe(true);
  });
});

describe('RedisLoginThrottle without Redis', () => {
  it('throttles per replica in memory, warning once', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const offline = { ready: false, key: (...parts: string[]) => parts.join(':') } as unknown as RedisConnection;
      const throttle = new RedisLoginThrottle(offline);
      for (let i = 0; i < MAX_FAILURES; i++) {
        expect((await throttle.admit('10.0.0.1', 1000)).refused).toBe(false);
        await throttle.failed(1000);
      }
      expect((await throttle.admit('10.0.0.1', 1000)).refused).toBe(true);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });
});
