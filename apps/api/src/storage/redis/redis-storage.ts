import { Logger } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { Subject, type Observable, type Subscription } from 'rxjs';
import {
  HISTOGRAM_SIZE,
  assertPage,
  toJson,
  type Granularity,
  type HealthCheckResult,
  type HealthStore,
  type LogFilter,
  type RequestLogEntry,
  type RequestLogStore,
  type ResponseStore,
  type SettingsStore,
  type StatsDimension,
  type StatsIncrement,
  type StatsQuery,
  type StatsRow,
  type StatsStore,
  type Storage,
  type CounterChange,
  type StoredResponse,
  type StoredResponseWrite,
} from '../storage.ts';
import { RedisConnection, type RedisConnectionOptions } from './redis-connection.ts';
import { StorageError } from '../storage-errors.ts';
import {
  LOG_PURGE_BATCH,
  LOG_PURGE_INDEXES,
  LOG_QUERY,
  RESPONSE_EXTEND,
  SETTINGS_CREATE,
  SETTINGS_DELETE,
  SETTINGS_INCREMENT,
  SETTINGS_SET,
} from './redis-scripts.ts';

/*
 * Key layout (every name starts with the prefix P, `g4f:` by default, REDIS_KEY_PREFIX):
 *
 *   P meta                          string   set once at first start; its absence after a reconnect
 *                                            means Redis came back without its data
 * Settings
 *   P settings:<namespace>          hash     key → JSON document
 *   P settings                      set      every namespace ever written (for a resync)
 *   channel P settings              pub/sub  {"o": origin process, "n": namespace, "k": key} per change
 * Request log
 *   P log:seq                       string   counter; entry ids are it, zero-padded to 16 digits, so
 *                                            that ids sharing a timestamp sort by insertion
 *   P log:entries                   hash     id → JSON RequestLogEntry
 *   P log:time                      zset     id scored by startedAt (every entry)
 *   P log:by:model:<model>          zset     \
 *   P log:by:provider:<provider>    zset      | id scored by startedAt, one index per filter value;
 *   P log:by:status:<code>          zset      | provider = the one that answered or any attempted;
 *   P log:by:outcome:success|error  zset      | outcome = 2xx or not
 *   P log:by:key:<client key id>    zset     /
 *   P log:indexes                   set      names of the log:by:* keys (for purging)
 *   P log:tmp:<process>:<n>         zset     a filter intersection, only while one query runs
 * Stats
 *   P stats:<gran>:<dim>            zset     "<bucket>:<value>" scored by bucket: the rows that exist
 *   P stats:<gran>:<dim>:<bucket>:<value>
 *                                   hash     requests, successes, failures, promptTokens,
 *                                            completionTokens, latencySumMs, ttftSumMs, ttftCount,
 *                                            lh0…lh18 and th0…th18 (histogram cells); all HINCRBY /
 *                                            HINCRBYFLOAT, so every replica adds into the same row
 * Health
 *   P health:seq                    string   counter, for the tie order of equal timestamps
 *   P health:<provider>             zset     "<16-digit seq>:<JSON result>" scored by checkedAt
 *   P health:providers              set      providers with results (for purging)
 * Responses (stored Responses API answers)
 *   P response:<id>                 string   JSON {owner, expiresAt, document}, expiring with it (PXAT)
 * Cluster (see cluster/redis-cluster-bus.ts and client-keys/redis-rate-limiter.ts)
 *   channel P bus:<topic>, hash P bus:<topic>, zset P ratelimit:<client key id>
 * Admin logins (see auth/redis-login-throttle.ts)
 *   P login:client:<address>        string   attempts in the address's window, expiring with it
 *   P login:account                 hash     count, last: failures in a row, expiring a window after the last
 *
 * Limits: the request log is capped at `maxLogEntries` (older entries are dropped beyond it,
 * besides LOG_RETENTION_DAYS); a filtered log query intersects whole index sets in one Lua call
 * (O(size of the indexes involved)), so Redis is busy for a few ms per query at 100k entries.
 */

export interface RedisStorageOptions extends RedisConnectionOptions {
  /** The request log keeps at most about this many entries. Default 100 000. */
  maxLogEntries?: number;
  /** Health results kept per provider (newest). Default 5000. */
  maxHealthPerProvider?: number;
}

export const DEFAULT_MAX_LOG_ENTRIES = 100_000;

type Change = { namespace: string; key: string };

const pad = (n: number): string => String(n).padStart(16, '0');

/** exec() resolves with per-command errors; any of them fails the whole call. */
async function exec(tx: ChainableCommander): Promise<unknown[]> {
  const results = await tx.exec();
  if (!results) throw new Error('Redis transaction was aborted');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function parseChange(message: string): (Change & { origin: string }) | undefined {
  try {
    const m: unknown = JSON.parse(message);
    if (typeof m !== 'object' || m === null) return undefined;
    const { o, n, k } = m as Record<string, unknown>;
    return typeof o === 'string' && typeof n === 'string' && typeof k === 'string' ? { origin: o, namespace: n, key: k } : undefined;
  } catch {
    return undefined;
  }
}

class RedisSettingsStore implements SettingsStore {
  private readonly subject = new Subject<Change>();
  readonly changes: Observable<Change> = this.subject.asObservable();
  /** Namespaces this process has seen, so a resync also covers one Redis no longer lists. */
  private readonly seen = new Set<string>();
  static readonly CHANNEL = 'settings';

  constructor(private readonly redis: RedisConnection) {}

  private hash(namespace: string): string {
    return this.redis.key('settings', namespace);
  }

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    this.seen.add(namespace);
    const raw = await this.redis.client.hget(this.hash(namespace), key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set<T>(namespace: string, key: string, value: T): Promise<void> {
    const json = toJson(value, `setting ${namespace}/${key}`);
    this.seen.add(namespace);
    await SETTINGS_SET.run(
      this.redis.client,
      [this.hash(namespace), this.redis.key('settings')],
      [key, json, namespace, this.redis.key(RedisSettingsStore.CHANNEL), this.message(namespace, key)],
    );
    this.subject.next({ namespace, key });
  }

  async create<T>(namespace: string, key: string, value: T): Promise<boolean> {
    const json = toJson(value, `setting ${namespace}/${key}`);
    this.seen.add(namespace);
    const created =
      (await SETTINGS_CREATE.run(
        this.redis.client,
        [this.hash(namespace), this.redis.key('settings')],
        [key, json, namespace, this.redis.key(RedisSettingsStore.CHANNEL), this.message(namespace, key)],
      )) === 1;
    if (created) this.subject.next({ namespace, key });
    return created;
  }

  async increment(namespace: string, key: string, change: CounterChange): Promise<void> {
    this.seen.add(namespace);
    await SETTINGS_INCREMENT.run(
      this.redis.client,
      [this.hash(namespace), this.redis.key('settings')],
      [key, JSON.stringify(change.add ?? {}), JSON.stringify(change.max ?? {}), namespace],
    );
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const deleted =
      (await SETTINGS_DELETE.run(
        this.redis.client,
        [this.hash(namespace)],
        [key, this.redis.key(RedisSettingsStore.CHANNEL), this.message(namespace, key)],
      )) === 1;
    if (deleted) this.subject.next({ namespace, key });
    return deleted;
  }

  async list<T>(namespace: string): Promise<Record<string, T>> {
    this.seen.add(namespace);
    // HGETALL's reply as pairs (not ioredis' object), so a key named "__proto__" stays an ordinary entry.
    const flat = (await this.redis.client.call('HGETALL', this.hash(namespace))) as string[];
    const entries: Array<[string, T]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i]!, JSON.parse(flat[i + 1]!) as T]);
    return Object.fromEntries(entries);
  }

  /** A change published by another process; this process's own arrive through `subject` directly. */
  onMessage(message: string): void {
    const change = parseChange(message);
    if (!change || change.origin === this.redis.instanceId) return;
    this.seen.add(change.namespace);
    this.subject.next({ namespace: change.namespace, key: change.key });
  }

  /**
   * After the subscriber reconnected, changes published meanwhile are lost: tell every cache that
   * anything in each namespace may have changed (key '').
   */
  async resync(): Promise<void> {
    const listed = await this.redis.client.smembers(this.redis.key('settings'));
    for (const namespace of new Set([...listed, ...this.seen])) this.subject.next({ namespace, key: '' });
  }

  complete(): void {
    this.subject.complete();
  }

  private message(namespace: string, key: string): string {
    return JSON.stringify({ o: this.redis.instanceId, n: namespace, k: key });
  }
}

class RedisRequestLogStore implements RequestLogStore {
  private tmpCounter = 0;
  private trimming?: Promise<void>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly maxEntries: number,
  ) {}

  private get keys() {
    const k = (...parts: string[]) => this.redis.key('log', ...parts);
    return { seq: k('seq'), entries: k('entries'), time: k('time'), indexes: k('indexes'), by: (kind: string, value: string) => k('by', kind, value) };
  }

  private indexesOf(e: RequestLogEntry): string[] {
    const { by } = this.keys;
    const providers = new Set(e.attempts.map((a) => a.provider));
    if (e.provider !== null) providers.add(e.provider);
    const keys = [by('model', e.model), by('status', String(e.status)), by('outcome', e.status >= 200 && e.status <= 299 ? 'success' : 'error')];
    for (const p of providers) keys.push(by('provider', p));
    if (e.clientKey !== null) keys.push(by('key', e.clientKey));
    return keys;
  }

  async append(entries: RequestLogEntry[]): Promise<void> {
    if (!entries.length) return;
    // Serialised before anything is written: a batch that cannot be stored leaves nothing behind.
    const json = entries.map((e) => toJson(e, `request log entry ${e.requestId}`));
    const keys = this.keys;
    const last = await this.redis.client.incrby(keys.seq, entries.length);
    const tx = this.redis.client.multi();
    const indexes = new Set<string>();
    entries.forEach((e, i) => {
      const id = pad(last - entries.length + 1 + i);
      tx.hset(keys.entries, id, json[i]!);
      tx.zadd(keys.time, e.startedAt, id);
      for (const index of this.indexesOf(e)) {
        tx.zadd(index, e.startedAt, id);
        indexes.add(index);
      }
    });
    tx.sadd(keys.indexes, ...indexes);
    tx.zcard(keys.time);
    const results = await exec(tx);
    const size = Number(results[results.length - 1]);
    // Trimmed with some slack, so that not every append trims.
    if (size > this.maxEntries * 1.05 && !this.trimming) {
      this.trimming = this.trim().finally(() => (this.trimming = undefined));
      await this.trimming;
    }
  }

  async query(filter: LogFilter, page: { offset: number; limit: number }): Promise<{ total: number; items: RequestLogEntry[] }> {
    assertPage(page.offset, 'offset');
    assertPage(page.limit, 'limit');
    const keys = this.keys;
    const sources: string[] = [];
    if (filter.model !== undefined) sources.push(keys.by('model', filter.model));
    if (filter.provider !== undefined) sources.push(keys.by('provider', filter.provider));
    if (filter.status === 'success' || filter.status === 'error') sources.push(keys.by('outcome', filter.status));
    else if (filter.status !== undefined) sources.push(keys.by('status', String(filter.status)));
    if (filter.clientKey !== undefined) sources.push(keys.by('key', filter.clientKey));
    if (!sources.length) sources.push(keys.time);
    const min = filter.from === undefined ? '-inf' : String(filter.from);
    const max = filter.to === undefined ? '+inf' : `(${filter.to}`;
    const tmp = this.redis.key('log', 'tmp', this.redis.instanceId, String(++this.tmpCounter));
    const reply = (await LOG_QUERY.run(this.redis.client, [keys.entries, tmp, ...sources], [min, max, page.offset, page.limit])) as [
      number,
      Array<string | null>,
    ];
    const [total, raw] = reply;
    return { total: Number(total), items: raw.filter((r): r is string => typeof r === 'string').map((r) => JSON.parse(r) as RequestLogEntry) };
  }

  async purgeBefore(before: number): Promise<number> {
    const keys = this.keys;
    const max = `(${before}`;
    // The indexes first: while the purge runs a filtered query may miss an old entry that an
    // unfiltered one still shows, never count an entry that is gone.
    const indexes = await this.redis.client.smembers(keys.indexes);
    for (let i = 0; i < indexes.length; i += 200) {
      await LOG_PURGE_INDEXES.run(this.redis.client, [keys.indexes, ...indexes.slice(i, i + 200)], [max]);
    }
    const batch = 1000;
    let deleted = 0;
    for (;;) {
      const n = Number(await LOG_PURGE_BATCH.run(this.redis.client, [keys.time, keys.entries], [max, batch]));
      deleted += n;
      if (n < batch) return deleted;
    }
  }

  /** Drops the oldest entries beyond maxEntries. */
  private async trim(): Promise<void> {
    const keys = this.keys;
    const size = await this.redis.client.zcard(keys.time);
    const excess = size - this.maxEntries;
    if (excess <= 0) return;
    // The oldest entry to keep; everything scored below it goes.
    const [oldestKept] = await this.redis.client.zrange(keys.time, excess, String(excess));
    const score = oldestKept === undefined ? null : await this.redis.client.zscore(keys.time, oldestKept);
    if (score !== null) await this.purgeBefore(Number(score));
  }
}

const COUNTERS = ['requests', 'successes', 'failures', 'promptTokens', 'completionTokens', 'ttftCount'] as const;
const SUMS = ['latencySumMs', 'ttftSumMs'] as const;
const DIMENSIONS: readonly StatsDimension[] = ['all', 'provider', 'model', 'key', 'route'];

class RedisStatsStore implements StatsStore {
  constructor(private readonly redis: RedisConnection) {}

  private index(granularity: Granularity, dimension: StatsDimension): string {
    return this.redis.key('stats', granularity, dimension);
  }

  async add(increments: StatsIncrement[]): Promise<void> {
    if (!increments.length) return;
    // Checked before writing anything: a misshapen histogram would silently shift every bucket after it.
    for (const inc of increments) {
      const row = `${inc.granularity} ${inc.bucket} ${inc.dimension}=${inc.value}`;
      if (inc.latencyHist.length !== HISTOGRAM_SIZE || inc.ttftHist.length !== HISTOGRAM_SIZE) {
        throw new RangeError(`stats histograms must have ${HISTOGRAM_SIZE} counters (${row})`);
      }
      const integers = [...COUNTERS.map((f) => inc[f]), ...inc.latencyHist, ...inc.ttftHist];
      if (!integers.every((v) => Number.isSafeInteger(v))) throw new RangeError(`stats counters must be integers (${row})`);
      if (!SUMS.every((f) => Number.isFinite(inc[f]))) throw new RangeError(`stats sums must be finite numbers (${row})`);
      if (!Number.isSafeInteger(inc.bucket)) throw new RangeError(`stats bucket must be an integer (${row})`);
    }
    const tx = this.redis.client.multi();
    for (const inc of increments) {
      const index = this.index(inc.granularity, inc.dimension);
      const member = `${inc.bucket}:${inc.value}`;
      const row = `${index}:${member}`;
      // Zero increments are skipped: a missing field reads as 0.
      for (const f of COUNTERS) if (inc[f] !== 0) tx.hincrby(row, f, inc[f]);
      for (const f of SUMS) if (inc[f] !== 0) tx.hincrbyfloat(row, f, inc[f]);
      inc.latencyHist.forEach((n, i) => n !== 0 && tx.hincrby(row, `lh${i}`, n));
      inc.ttftHist.forEach((n, i) => n !== 0 && tx.hincrby(row, `th${i}`, n));
      tx.zadd(index, 'NX', inc.bucket, member);
    }
    await exec(tx);
  }

  async query(query: StatsQuery): Promise<StatsRow[]> {
    const index = this.index(query.granularity, query.dimension);
    // Equal scores come back ordered by member, i.e. by value: ORDER BY bucket, value.
    const all = await this.redis.client.zrangebyscore(index, query.from, `(${query.to}`);
    // Members are "<bucket>:<value>": one value's rows are picked before any hash is read.
    const members = query.value === undefined ? all : all.filter((m) => m.slice(m.indexOf(':') + 1) === query.value);
    const rows: StatsRow[] = [];
    for (let i = 0; i < members.length; i += 500) {
      const chunk = members.slice(i, i + 500);
      const tx = this.redis.client.pipeline();
      for (const m of chunk) tx.hgetall(`${index}:${m}`);
      const hashes = (await exec(tx)) as Array<Record<string, string>>;
      chunk.forEach((member, j) => rows.push(toStatsRow(query, member, hashes[j] ?? {})));
    }
    return rows;
  }

  async purgeBefore(granularity: Granularity, before: number): Promise<number> {
    let deleted = 0;
    for (const dimension of DIMENSIONS) {
      const index = this.index(granularity, dimension);
      const members = await this.redis.client.zrangebyscore(index, '-inf', `(${before}`);
      for (let i = 0; i < members.length; i += 500) {
        const chunk = members.slice(i, i + 500);
        await exec(
          this.redis.client
            .multi()
            .del(...chunk.map((m) => `${index}:${m}`))
            .zrem(index, ...chunk),
        );
        deleted += chunk.length;
      }
    }
    return deleted;
  }
}

function toStatsRow(query: StatsQuery, member: string, hash: Record<string, string>): StatsRow {
  const sep = member.indexOf(':');
  const n = (field: string): number => {
    const v = hash[field];
    return v === undefined ? 0 : Number(v);
  };
  const hist = (prefix: string) => Array.from({ length: HISTOGRAM_SIZE }, (_, i) => n(`${prefix}${i}`));
  return {
    granularity: query.granularity,
    bucket: Number(member.slice(0, sep)),
    dimension: query.dimension,
    value: member.slice(sep + 1),
    requests: n('requests'),
    successes: n('successes'),
    failures: n('failures'),
    promptTokens: n('promptTokens'),
    completionTokens: n('completionTokens'),
    latencySumMs: n('latencySumMs'),
    ttftSumMs: n('ttftSumMs'),
    ttftCount: n('ttftCount'),
    latencyHist: hist('lh'),
    ttftHist: hist('th'),
  };
}

class RedisHealthStore implements HealthStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly maxPerProvider: number,
  ) {}

  async append(results: HealthCheckResult[]): Promise<void> {
    if (!results.length) return;
    const json = results.map((r) => toJson(r, `health result of ${r.provider}`));
    const last = await this.redis.client.incrby(this.redis.key('health', 'seq'), results.length);
    const tx = this.redis.client.multi();
    const providers = new Set<string>();
    results.forEach((r, i) => {
      tx.zadd(this.redis.key('health', r.provider), r.checkedAt, `${pad(last - results.length + 1 + i)}:${json[i]}`);
      providers.add(r.provider);
    });
    for (const p of providers) tx.zremrangebyrank(this.redis.key('health', p), 0, -(this.maxPerProvider + 1));
    tx.sadd(this.redis.key('health', 'providers'), ...providers);
    await exec(tx);
  }

  async history(provider: string, limit: number): Promise<HealthCheckResult[]> {
    assertPage(limit, 'limit');
    if (limit === 0) return [];
    const members = await this.redis.client.zrevrangebyscore(this.redis.key('health', provider), '+inf', '-inf', 'LIMIT', 0, limit);
    // Results stored before the model was recorded have none.
    return members.map((m) => ({ model: null, ...(JSON.parse(m.slice(m.indexOf(':') + 1)) as Omit<HealthCheckResult, 'model'>) }));
  }

  async purgeBefore(before: number): Promise<number> {
    const providers = await this.redis.client.smembers(this.redis.key('health', 'providers'));
    if (!providers.length) return 0;
    const tx = this.redis.client.pipeline();
    for (const p of providers) tx.zremrangebyscore(this.redis.key('health', p), '-inf', `(${before}`);
    return (await exec(tx)).reduce<number>((sum, n) => sum + Number(n), 0);
  }
}

/** Stored responses may fill Redis up to this share of its maxmemory (hosted images: the same). */
export const RESPONSES_MEMORY_SHARE = 0.5;

class RedisResponseStore implements ResponseStore {
  constructor(private readonly redis: RedisConnection) {}

  private keyOf(id: string): string {
    return this.redis.key('response', id);
  }

  /**
   * One pipeline for the batch. The value is {owner, expiresAt, document}, the document spliced in
   * as encoded. Refused (nothing written) while Redis holds RESPONSES_MEMORY_SHARE of its maxmemory:
   * a client storing many large answers must not fill the Redis every replica's state lives in.
   */
  async put(responses: readonly StoredResponseWrite[]): Promise<void> {
    if (!responses.length) return;
    const bytes = responses.reduce((n, r) => n + r.json.length + 64, 0);
    if (!(await this.redis.memoryRoom(bytes, RESPONSES_MEMORY_SHARE, 1000))) {
      throw new Error(
        `Redis holds ${RESPONSES_MEMORY_SHARE * 100} % of its maxmemory: stored responses wait for room (raise maxmemory or lower RESPONSES_TTL_SECONDS)`,
      );
    }
    const now = Date.now();
    const tx = this.redis.client.pipeline();
    for (const r of responses) {
      // Already expired: PXAT in the past would store nothing anyway, but say so plainly.
      if (r.expiresAt <= now) tx.del(this.keyOf(r.id));
      else tx.set(this.keyOf(r.id), `{"owner":${JSON.stringify(r.owner)},"expiresAt":${r.expiresAt},"document":${r.json}}`, 'PXAT', r.expiresAt);
    }
    await exec(tx);
  }

  async get(id: string, now: number): Promise<StoredResponse | undefined> {
    const raw = await this.redis.client.get(this.keyOf(id));
    if (raw === null) return undefined;
    const { owner, expiresAt, document } = JSON.parse(raw) as Omit<StoredResponse, 'id'>;
    // Redis expires keys on its own clock: the caller's `now` decides too, as in SQLite.
    return expiresAt > now ? { id, owner, expiresAt, document } : undefined;
  }

  async delete(id: string, now: number): Promise<boolean> {
    const found = await this.get(id, now);
    return found !== undefined && (await this.redis.client.del(this.keyOf(id))) === 1;
  }

  /** Redis expires each response itself. */
  async purgeExpired(): Promise<number> {
    return 0;
  }

  async extend(ids: readonly string[], expiresAt: number, ifBefore: number): Promise<void> {
    await Promise.all(ids.map((id) => RESPONSE_EXTEND.run(this.redis.client, [this.keyOf(id)], [String(Math.round(expiresAt)), String(Math.round(ifBefore))])));
  }
}

/**
 * The cluster store: every replica with the same REDIS_URL (and REDIS_KEY_PREFIX) shares
 * settings, the request log, stats and health history; settings changes reach the other
 * replicas through pub/sub. See the key layout above.
 */
export class RedisStorage implements Storage {
  readonly kind = 'redis' as const;
  readonly connection: RedisConnection;
  readonly settings: RedisSettingsStore;
  readonly log: RedisRequestLogStore;
  readonly stats: RedisStatsStore;
  readonly health: RedisHealthStore;
  readonly responses: RedisResponseStore;
  private readonly logger = new Logger('Redis');
  private readonly subscriptions: Subscription[] = [];
  private state: 'new' | 'open' | 'closed' = 'new';

  constructor(options: RedisStorageOptions) {
    this.connection = new RedisConnection(options);
    this.settings = new RedisSettingsStore(this.connection);
    this.log = new RedisRequestLogStore(this.connection, options.maxLogEntries ?? DEFAULT_MAX_LOG_ENTRIES);
    this.stats = new RedisStatsStore(this.connection);
    this.health = new RedisHealthStore(this.connection, options.maxHealthPerProvider ?? 5000);
    this.responses = new RedisResponseStore(this.connection);
  }

  async init(): Promise<void> {
    if (this.state === 'closed') throw new Error('RedisStorage is closed');
    if (this.state === 'open') return;
    const c = this.connection;
    this.subscriptions.push(
      c.messages.subscribe(({ channel, message }) => {
        if (channel === RedisSettingsStore.CHANNEL) this.settings.onMessage(message);
      }),
      c.reconnected.subscribe(() => void this.resync()),
      c.commandReconnected.subscribe(() => void this.checkMarker()),
    );
    try {
      await c.subscribe(RedisSettingsStore.CHANNEL);
      await c.open();
      await c.client.set(c.key('meta'), JSON.stringify({ createdAt: Date.now() }), 'NX');
    } catch (err) {
      await this.close();
      // main.ts prints a StorageError as one line: say what to check rather than show ioredis' stack.
      throw new StorageError(`${(err as Error)?.message ?? String(err)}: check REDIS_URL, and that Redis is running and reachable from here`, { cause: err });
    }
    this.state = 'open';
  }

  async checkWritable(): Promise<void> {
    await this.connection.client.set(this.connection.key('health', 'write-probe'), String(Date.now()), 'EX', 60);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const s of this.subscriptions) s.unsubscribe();
    this.settings.complete();
    await this.connection.close();
  }

  /**
   * After the subscriber reconnected: tells the caches to reload, retrying until the command
   * connection can list the namespaces (it may come back later than the subscriber).
   */
  private async resync(): Promise<void> {
    for (let attempt = 0; this.state === 'open'; attempt++) {
      try {
        await this.settings.resync();
        return;
      } catch (err) {
        if (attempt === 0) this.logger.warn(`Reloading settings after a reconnect failed (${(err as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    }
  }

  /** Redis restarted without persistence loses everything: say so loudly, once per occurrence. */
  private async checkMarker(): Promise<void> {
    try {
      const created = await this.connection.client.set(this.connection.key('meta'), JSON.stringify({ createdAt: Date.now() }), 'NX');
      if (created === 'OK') {
        this.logger.error(
          'Redis came back without the data this cluster stored (restarted without persistence, flushed, or another instance): ' +
            'settings, client keys, upstream keys and sessions stored there are gone. Enable AOF or RDB persistence on Redis.',
        );
      }
    } catch {
      // Not reachable again after all: the next reconnect checks again.
    }
  }
}
