import type { Observable } from 'rxjs';
import type { RequestLogEntry } from '#contracts';

export type { RequestLogEntry };

/**
 * The one storage seam. The embedded default is SQLite (node:sqlite) under DATA_DIR; the
 * cluster mode keeps the same interface in Redis. Nothing outside storage/ knows which.
 */
export const STORAGE = Symbol('STORAGE');
/**
 * The store's Redis connection (a RedisConnection) in cluster mode, null in the embedded mode.
 * Features that share Redis beyond storage (rate limits, the cluster bus) take it from here, so
 * that only the storage module knows which store implementation runs.
 */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');

export interface Storage {
  readonly kind: 'sqlite' | 'redis';
  readonly settings: SettingsStore;
  readonly log: RequestLogStore;
  readonly stats: StatsStore;
  readonly health: HealthStore;
  readonly responses: ResponseStore;
  /** Opens the store and runs pending migrations. */
  init(): Promise<void>;
  /** Resolves when the store can take a write now (a tiny one is made); rejects saying why not. */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Small JSON documents grouped by namespace: provider overrides, upstream keys (already
 * encrypted by the caller), client keys, operator-defined upstreams, admin credentials,
 * sessions, discovery results. Values are JSON-serialisable.
 */
/** See SettingsStore.increment. */
export interface CounterChange {
  add?: Record<string, number>;
  max?: Record<string, number>;
}

/** What SettingsStore.increment does to a document, for stores that can do it in one process's step. */
export function applyCounterChange(current: unknown, change: CounterChange): Record<string, unknown> {
  const doc: Record<string, unknown> = typeof current === 'object' && current !== null && !Array.isArray(current) ? { ...current } : {};
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  for (const [field, by] of Object.entries(change.add ?? {})) doc[field] = (num(doc[field]) ?? 0) + by;
  for (const [field, atLeast] of Object.entries(change.max ?? {})) {
    const now = num(doc[field]);
    if (now === undefined || atLeast > now) doc[field] = atLeast;
  }
  return doc;
}

/** Every store writes documents as JSON text: one that does not serialise fails its write (stringify would return undefined). */
export function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} is not JSON-serialisable`);
  return text;
}

export interface SettingsStore {
  get<T>(namespace: string, key: string): Promise<T | undefined>;
  set<T>(namespace: string, key: string, value: T): Promise<void>;
  /**
   * Stores `value` only if the key has none, atomically even with several processes starting at
   * once; returns whether it did (false: another value was there, and is kept).
   */
  create<T>(namespace: string, key: string, value: T): Promise<boolean>;
  /** Returns whether something was deleted. */
  delete(namespace: string, key: string): Promise<boolean>;
  list<T>(namespace: string): Promise<Record<string, T>>;
  /**
   * Counters kept in a document (created as {} when missing), changed atomically even with several
   * processes writing at once: each `add` field grows by its value, each `max` field becomes at
   * least its value (a field that is missing or not a number counts as absent). Counters are read
   * when needed and cached by nobody, so this emits no change.
   */
  increment(namespace: string, key: string, change: CounterChange): Promise<void>;
  /**
   * Emits after every change (but increments), including changes made by other processes sharing the store
   * (cluster mode), so caches can reload their namespace. A key of '' means anything in the
   * namespace may have changed (cluster mode, after a reconnect during which changes were missed).
   */
  readonly changes: Observable<{ namespace: string; key: string }>;
}

export interface LogFilter {
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  model?: string;
  /** Matches the provider that answered or any attempted provider. */
  provider?: string;
  /** An exact status, or a class: 'success' (2xx), 'error' (everything else). */
  status?: number | 'success' | 'error';
  clientKey?: string;
}

export interface RequestLogStore {
  append(entries: RequestLogEntry[]): Promise<void>;
  /** Newest first. */
  query(filter: LogFilter, page: { offset: number; limit: number }): Promise<{ total: number; items: RequestLogEntry[] }>;
  /** Deletes entries started before `before` (epoch ms); returns how many. */
  purgeBefore(before: number): Promise<number>;
}

/** RequestLogStore.query's page bounds, checked the same way by every store. */
export function assertPage(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

export type Granularity = 'minute' | 'hour';
/** `route`: one provider's attempts at one model (value `provider\nmodel`), for the provider detail view. */
export type StatsDimension = 'all' | 'provider' | 'model' | 'key' | 'route';

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS = [25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000] as const;
/** Histograms have LATENCY_BUCKETS_MS.length + 1 counters. */
export const HISTOGRAM_SIZE = LATENCY_BUCKETS_MS.length + 1;

/**
 * Counters for one time bucket and one dimension value. Adding two of them is adding each
 * field (histograms element-wise), which is what makes them mergeable across replicas.
 */
export interface StatsCounters {
  requests: number;
  successes: number;
  failures: number;
  promptTokens: number;
  completionTokens: number;
  latencySumMs: number;
  ttftSumMs: number;
  ttftCount: number;
  latencyHist: number[];
  ttftHist: number[];
}

export interface StatsIncrement extends StatsCounters {
  granularity: Granularity;
  /** Bucket start, epoch ms (a whole minute or hour). */
  bucket: number;
  dimension: StatsDimension;
  /** '' for dimension 'all'; the provider name, model id, client key id or `provider\nmodel` otherwise. */
  value: string;
}

export type StatsRow = StatsIncrement;

export interface StatsQuery {
  granularity: Granularity;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  dimension: StatsDimension;
  /** Only this value's rows (one client key's usage, say); every value when absent. */
  value?: string;
}

export interface StatsStore {
  /** Adds each increment to its row (creating it), atomically per batch. */
  add(increments: StatsIncrement[]): Promise<void>;
  query(query: StatsQuery): Promise<StatsRow[]>;
  purgeBefore(granularity: Granularity, before: number): Promise<number>;
}

export interface HealthCheckResult {
  provider: string;
  /** Epoch ms. */
  checkedAt: number;
  ok: boolean;
  latencyMs: number;
  /** What was probed: 'models' or 'chat'. */
  probe: string;
  /** The gateway model a chat probe asked; null for a model-list read (and checks stored before models were recorded). */
  model: string | null;
  error: string | null;
}

export interface HealthStore {
  append(results: HealthCheckResult[]): Promise<void>;
  /** Newest first. */
  history(provider: string, limit: number): Promise<HealthCheckResult[]>;
  purgeBefore(before: number): Promise<number>;
}

/** One stored Responses API answer (`store: true`), with what continuing it needs. */
export interface StoredResponse {
  /** The response id (`resp_…`). */
  id: string;
  /** Who may read it back: a client key scope (see ResponsesStore); opaque to the store. */
  owner: string;
  /** Epoch ms after which it is gone (read as missing, purged later). */
  expiresAt: number;
  /** The stored document (the response object and the conversation), JSON-serialisable. */
  document: unknown;
}

/** A response to write: its document already encoded, so the caller measures and the store writes one encoding. */
export interface StoredResponseWrite extends Omit<StoredResponse, 'document'> {
  /** The document as JSON text. */
  json: string;
}

/**
 * Stored Responses API answers, each kept until its own expiry: SQLite purges expired rows
 * (purgeExpired), Redis expires its keys itself. A row past its expiry is never returned.
 */
export interface ResponseStore {
  /** Writes (or replaces) responses, all in one transaction (SQLite) or one round trip (Redis). */
  put(responses: readonly StoredResponseWrite[]): Promise<void>;
  /** The response, unless it is missing or expired at `now` (epoch ms). */
  get(id: string, now: number): Promise<StoredResponse | undefined>;
  /** Returns whether something (not yet expired) was deleted. */
  delete(id: string, now: number): Promise<boolean>;
  /** Deletes responses expired at `now`; returns how many (0 where the store expires them itself). */
  purgeExpired(now: number): Promise<number>;
  /**
   * Pushes the expiry of these (live) responses out to `expiresAt`, for each whose expiry is before
   * `ifBefore` (≤ expiresAt): the turns a conversation is built from live as long as its newest one.
   */
  extend(ids: readonly string[], expiresAt: number, ifBefore: number): Promise<void>;
}
