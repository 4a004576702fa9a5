import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { Subject, type Observable } from 'rxjs';

// ioredis (with its command table, some 45 modules) is loaded by the first connection, not at
// start: a gateway without REDIS_URL never uses it, and loading it cost ~2 MB of heap and ~4 MB
// of RSS there (the memory budget of issue 20). A synchronous require keeps the constructor as it was.
const requireModule = createRequire(import.meta.url);
let RedisClient: typeof Redis | undefined;

function newRedis(url: string, options: RedisOptions): Redis {
  RedisClient ??= (requireModule('ioredis') as typeof import('ioredis')).Redis;
  return new RedisClient(url, options);
}

export interface RedisConnectionOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS. */
  url: string;
  /** Prepended to every key and channel, so several deployments (or test runs) can share one Redis. */
  prefix: string;
  /** How long open() waits for Redis before giving up. Default 10 000. */
  startupTimeoutMs?: number;
  /** A command without a reply after this long fails (a hung Redis must not hang a caller). Default 5000. */
  commandTimeoutMs?: number;
  /** Upper bound of the reconnect backoff. Default 2000. */
  maxReconnectDelayMs?: number;
}

/**
 * How the clients behave when Redis is slow or gone; chosen so that nothing ever waits on a
 * dead Redis:
 * - `enableOfflineQueue: false`: while disconnected a command fails at once instead of queueing.
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a command in flight when
 *   the connection drops fails at once and is never sent twice (callers retry what they must,
 *   e.g. the stats recorder keeps its batch).
 * - `commandTimeout`: a Redis that accepts connections but does not answer (paused, overloaded)
 *   fails commands after a bound.
 * - `retryStrategy`: reconnects forever, backing off to at most maxReconnectDelayMs.
 */
function clientOptions(options: RedisConnectionOptions, name: string): RedisOptions {
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: options.commandTimeoutMs ?? 5000,
    connectTimeout: Math.min(options.startupTimeoutMs ?? 10_000, 5000),
    keepAlive: 10_000,
    connectionName: name,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 10), maxDelay),
  };
}

/** Where the password, if any, is not shown. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable REDIS_URL)';
  }
}

export interface ChannelMessage {
  /** Without the prefix. */
  channel: string;
  message: string;
}

/** A Lua script run by EVALSHA, loaded on first use (and again after Redis restarted without it). */
export class LuaScript {
  private readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * The two connections a process keeps to Redis: one for commands, one subscribed to the
 * cluster's channels (a subscribed connection can do nothing else). Both reconnect on their
 * own; after the subscriber comes back it subscribes again and `reconnected` tells the users
 * of the channels that messages published meanwhile were missed.
 */
export class RedisConnection {
  readonly client: Redis;
  private readonly subscriber: Redis;
  /** This process, in messages it publishes, so it can drop its own echo. */
  readonly instanceId = randomBytes(9).toString('base64url');
  readonly prefix: string;
  private readonly logger = new Logger('Redis');
  private readonly channelNames = new Set<string>();
  private readonly messageSubject = new Subject<ChannelMessage>();
  private readonly reconnectedSubject = new Subject<void>();
  private readonly commandReadySubject = new Subject<void>();
  /** Messages on subscribed channels, from every publisher (this process included). */
  readonly messages: Observable<ChannelMessage> = this.messageSubject.asObservable();
  /** Emits after the subscriber reconnected and subscribed again: messages may have been missed. */
  readonly reconnected: Observable<void> = this.reconnectedSubject.asObservable();
  /** Emits after the command connection reconnected. */
  readonly commandReconnected: Observable<void> = this.commandReadySubject.asObservable();
  private opened = false;
  private closed = false;
  /** Per connection: whether its loss was logged (once per outage, not once per retry). */
  private readonly down = { client: false, subscriber: false };

  /** The last INFO memory reading, for memoryRoom's callers that accept one a little old. */
  private memoryReading: { at: number; used: number; max: number } | undefined;

  /**
   * Whether `bytes` more keeps Redis under `share` of its maxmemory (always, without a maxmemory):
   * data the gateway keeps for its clients (hosted images, stored responses) leaves the rest to
   * the state every request needs (keys, counters, breakers). Reads INFO memory, or a reading up
   * to `maxAgeMs` old to which the bytes given room since are added.
   */
  async memoryRoom(bytes: number, share: number, maxAgeMs = 0): Promise<boolean> {
    const now = Date.now();
    let reading = this.memoryReading;
    if (!reading || now - reading.at > maxAgeMs) {
      const info = await this.client.info('memory');
      const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      reading = this.memoryReading = { at: now, used: field('used_memory'), max: field('maxmemory') };
    }
    const room = reading.max === 0 || reading.used + bytes <= reading.max * share;
    if (room) reading.used += bytes;
    return room;
  }

  constructor(private readonly options: RedisConnectionOptions) {
    this.prefix = options.prefix;
    this.client = newRedis(options.url, clientOptions(options, 'g4f-pool'));
    this.subscriber = newRedis(options.url, clientOptions(options, 'g4f-pool-sub'));
    this.watch(this.client, 'client');
    this.watch(this.subscriber, 'subscriber');
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel.startsWith(this.prefix)) this.messageSubject.next({ channel: channel.slice(this.prefix.length), message });
    });
  }

  /** Whether commands can be sent right now. */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Connects both clients; rejects when Redis does not answer within startupTimeoutMs. */
  async open(): Promise<void> {
    if (this.closed) throw new Error('RedisConnection is closed');
    if (this.opened) return;
    const timeoutMs = this.options.startupTimeoutMs ?? 10_000;
    const target = redactRedisUrl(this.options.url);
    await Promise.all([this.whenReady(this.client, timeoutMs, target), this.whenReady(this.subscriber, timeoutMs, target)]);
    this.opened = true;
    if (this.channelNames.size) await this.subscriber.subscribe(...[...this.channelNames].map((c) => this.prefix + c));
  }

  /** Subscribes the subscriber connection to a channel (without the prefix); kept across reconnects. */
  async subscribe(channel: string): Promise<void> {
    if (this.channelNames.has(channel)) return;
    this.channelNames.add(channel);
    if (this.opened && this.subscriber.status === 'ready') await this.subscriber.subscribe(this.prefix + channel);
  }

  /** A key or channel name with the prefix. */
  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The subscriber has nothing in flight worth waiting for; the command client finishes its writes.
    this.subscriber.disconnect();
    await quit(this.client);
    this.messageSubject.complete();
    this.reconnectedSubject.complete();
    this.commandReadySubject.complete();
  }

  private whenReady(redis: Redis, timeoutMs: number, target: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let lastError = 'no answer';
      const onError = (err: Error) => (lastError = err.message || err.name);
      const done = (err?: Error) => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const timer = setTimeout(() => {
        // Stop the background reconnects of a store that will never be used.
        redis.disconnect();
        done(new Error(`Redis at ${target} is not reachable within ${timeoutMs} ms (${lastError})`));
      }, timeoutMs);
      redis.on('ready', onReady);
      redis.on('error', onError);
      // connect() rejects on the first failed attempt, but the retry strategy keeps trying until the timer.
      redis.connect().catch(() => undefined);
    });
  }

  private watch(redis: Redis, which: 'client' | 'subscriber'): void {
    // Without an 'error' listener an unreachable Redis would crash the process.
    redis.on('error', (err: Error) => {
      if (!this.opened || this.closed || this.down[which]) return;
      this.down[which] = true;
      this.logger.warn(`Redis ${which} connection error: ${err.message}; reconnecting in the background`);
    });
    redis.on('close', () => {
      if (!this.opened || this.closed || this.down[which]) return;
      this.down[which] = true;
      this.logger.warn(`Redis ${which} connection lost; reconnecting in the background`);
    });
    redis.on('ready', () => {
      if (!this.opened || this.closed) return;
      if (this.down[which]) this.logger.log(`Redis ${which} connection is back`);
      this.down[which] = false;
      if (which === 'client') {
        this.commandReadySubject.next();
        return;
      }
      const channels = [...this.channelNames].map((c) => this.prefix + c);
      const resubscribed = channels.length ? this.subscriber.subscribe(...channels) : Promise.resolve();
      resubscribed.then(
        () => this.reconnectedSubject.next(),
        (err: Error) => {
          // The next ready (after the next reconnect) tries again.
          this.logger.warn(`Redis: subscribing again failed: ${err.message}`);
          this.subscriber.disconnect(true);
        },
      );
    });
  }
}

async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await Promise.race([redis.quit(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    } catch {
      // fall through to disconnect
    }
  }
  redis.disconnect();
}
