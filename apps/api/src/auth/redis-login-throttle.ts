import { Logger } from '@nestjs/common';
import { LuaScript, type RedisConnection } from '../storage/redis/redis-connection.ts';
import { within } from '../common/within.ts';
import {
  InMemoryLoginThrottle,
  MAX_CLIENT_CHARS,
  MAX_FAILURES,
  WINDOW_MS,
  backoffMs,
  retryAfterSec,
  type LoginAdmission,
  type LoginThrottle,
} from './login-throttle.ts';

/** A throttle call that takes longer than this is given up: the attempt is counted in memory instead. */
export const LOGIN_THROTTLE_TIMEOUT_MS = 500;

/**
 * Counts one attempt from an address unless its window is used up, and reads the account's failures.
 * KEYS: the address's counter, the account's hash. ARGV: window (ms), attempts per window.
 * Returns { 0, ms left in the window } when refused, else { 1, failures in a row, last failure (epoch ms) }.
 */
const LOGIN_ADMIT = new LuaScript(`
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[2]) then
  return { 0, redis.call('PTTL', KEYS[1]) }
end
if count == 0 then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) else redis.call('INCR', KEYS[1]) end
local account = redis.call('HMGET', KEYS[2], 'count', 'last')
return { 1, tonumber(account[1] or '0'), tonumber(account[2] or '0') }
`);

/**
 * One more failure in a row on the account; the hash expires a quiet window after the last one.
 * KEYS: the account's hash. ARGV: now (epoch ms), window (ms).
 */
const LOGIN_FAILED = new LuaScript(`
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

/**
 * Cluster mode's login throttle: the same rules as InMemoryLoginThrottle, counted in Redis
 * (`P login:client:<address>`, a counter that expires with its window, and `P login:account`),
 * so that every replica refuses an address that used up its window on any of them, and the
 * account's backoff counts failures from all of them.
 *
 * While Redis is unreachable, slow or erring, attempts are counted per replica in memory, with
 * a warning once per outage: logins stay possible and throttled, only not across replicas.
 */
export class RedisLoginThrottle implements LoginThrottle {
  private readonly logger = new Logger('AdminAuth');
  private readonly fallback = new InMemoryLoginThrottle();
  private degraded = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly timeoutMs = LOGIN_THROTTLE_TIMEOUT_MS,
  ) {}

  async admit(client: string, now: number): Promise<LoginAdmission> {
    const reply = await this.run(() => LOGIN_ADMIT.run(this.redis.client, [this.clientKey(client), this.accountKey()], [WINDOW_MS, MAX_FAILURES]));
    if (!Array.isArray(reply)) return this.fallback.admitNow(client, now);
    const [admitted = 0, first = 0, second = 0] = reply.map(Number);
    if (admitted !== 1) return { refused: true, retryAfterSec: retryAfterSec(first > 0 ? first : WINDOW_MS) };
    return { refused: false, waitMs: backoffMs(first, second, now) };
  }

  async failed(now: number): Promise<void> {
    const done = await this.run(() => LOGIN_FAILED.run(this.redis.client, [this.accountKey()], [now, WINDOW_MS]));
    if (done === undefined) await this.fallback.failed(now);
  }

  async succeeded(client: string): Promise<void> {
    await this.fallback.succeeded(client);
    await this.run(() => this.redis.client.del(this.clientKey(client), this.accountKey()));
  }

  private clientKey(client: string): string {
    return this.redis.key('login', 'client', client.slice(0, MAX_CLIENT_CHARS));
  }

  private accountKey(): string {
    return this.redis.key('login', 'account');
  }

  /** The command's reply, or undefined (warned once per outage) when Redis cannot answer in time. */
  private async run(command: () => Promise<unknown>): Promise<unknown> {
    if (!this.redis.ready) return this.degrade('Redis is not connected');
    try {
      const reply = await within(this.timeoutMs, command());
      if (this.degraded) {
        this.degraded = false;
        this.logger.log('Login attempts are counted in Redis again');
      }
      return reply ?? null;
    } catch (err) {
      return this.degrade(String((err as Error)?.message ?? err).slice(0, 200));
    }
  }

  private degrade(why: string): undefined {
    if (!this.degraded) {
      this.degraded = true;
      this.logger.warn(`Counting login attempts in Redis failed (${why}): throttling per replica until Redis answers again`);
    }
    return undefined;
  }
}
