import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import { Subject, type Observable } from 'rxjs';
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
  type CounterChange,
  type StatsIncrement,
  type StatsQuery,
  type StatsRow,
  type StatsStore,
  type Storage,
  type StoredResponse,
  type StoredResponseWrite,
} from '../storage.ts';
import { prepareDataDir, sqliteOpenError } from '../storage-errors.ts';
import { migrate } from './migrations.ts';
import { InlineMainWriter, MAIN_WRITES_SQL, THREAD_MARK, logRow, statsArgs, type MainWriterSettings, type MainWrites } from './main-writer.ts';
import { InlineResponseWriter, RESPONSES_SCHEMA, RESPONSES_SQL, responsesFileOf, upgradeResponsesTable, type ResponseWriter } from './responses-file.ts';
import { StorageThread } from './storage-thread.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

export interface SqliteStorageOptions {
  /** Database file path, or ':memory:'. */
  file: string;
  /** How long a write waits for another connection's lock before failing. Default 5000. */
  busyTimeoutMs?: number;
  /** The request log keeps about this many entries at most, the oldest deleted first. Default: no cap. */
  maxLogEntries?: number;
  /** The stats keep about this many rows at most, the oldest buckets deleted first. Default: no cap. */
  maxStatsRows?: number;
  /** How often a worker thread checkpoints the write-ahead log (see WalCheckpointer); 0 leaves it to SQLite. Default 1000. */
  checkpointEveryMs?: number;
  /**
   * Stored responses, the request log and the stats are written from a worker thread (see
   * storage-thread.ts); false writes them on this one. Default true.
   */
  storageThread?: boolean;
}

/** Below this much free space on DATA_DIR's volume, the store reports that it cannot write. */
export const MIN_FREE_BYTES = 1024 * 1024;
const PROBE_WRITE_EVERY_MS = 1000;
/** SQLite's own default, restored when the checkpoint thread cannot run. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;
/** Once over its cap, a store is trimmed to this share of it, so that not every write trims. */
const TRIM_TO = 0.9;
const STATS_DIMENSIONS = ['all', 'provider', 'model', 'key', 'route'] as const;
/**
 * Rows a trim or purge deletes per step (its own statement): a cap lowered over a large backlog,
 * or a purge after lowering LOG_RETENTION_DAYS, deletes in steps of about a millisecond each, with
 * requests running between them on this thread, and this thread's writes between them when the
 * storage thread deletes. One delete of 2,000 to 5,000 rows held the event loop for many milliseconds.
 */
export const DELETE_BATCH = 500;

type Row = Record<string, SQLOutputValue>;

function column(row: Row, name: string): SQLOutputValue {
  if (!(name in row)) throw new Error(`sqlite row has no column "${name}"`);
  return row[name];
}

function num(row: Row, name: string): number {
  const v = column(row, name);
  if (typeof v !== 'number') throw new TypeError(`sqlite column "${name}" is ${typeof v}, expected a number`);
  return v;
}

function numOrNull(row: Row, name: string): number | null {
  return column(row, name) === null ? null : num(row, name);
}

function str(row: Row, name: string): string {
  const v = column(row, name);
  if (typeof v !== 'string') throw new TypeError(`sqlite column "${name}" is ${typeof v}, expected a string`);
  return v;
}

function strOrNull(row: Row, name: string): string | null {
  return column(row, name) === null ? null : str(row, name);
}

function changes(result: { changes: number | bigint }): number {
  return Number(result.changes);
}

/** Read back with the current size, so a histogram stored by an older release still lines up. */
function histogram(text: string): number[] {
  const parsed: unknown = JSON.parse(text);
  const values = Array.isArray(parsed) ? parsed.map((v) => (typeof v === 'number' ? v : 0)) : [];
  while (values.length < HISTOGRAM_SIZE) values.push(0);
  return values;
}

const ENDPOINTS: ReadonlySet<string> = new Set<RequestLogEntry['endpoint']>([
  'chat',
  'images',
  'speech',
  'responses',
  'messages',
  'embeddings',
  'transcriptions',
]);

function isEndpoint(v: string): v is RequestLogEntry['endpoint'] {
  return ENDPOINTS.has(v);
}

function toLogEntry(row: Row): RequestLogEntry {
  const endpoint = str(row, 'endpoint');
  if (!isEndpoint(endpoint)) throw new TypeError(`request_log row has an unknown endpoint "${endpoint}"`);
  const promptTokens = numOrNull(row, 'prompt_tokens');
  const attempts: RequestLogEntry['attempts'] = JSON.parse(str(row, 'attempts'));
  return {
    requestId: str(row, 'request_id'),
    endpoint,
    model: str(row, 'model'),
    stream: num(row, 'stream') !== 0,
    startedAt: num(row, 'started_at'),
    status: num(row, 'status'),
    provider: strOrNull(row, 'provider'),
    upstreamModel: strOrNull(row, 'upstream_model'),
    latencyMs: num(row, 'latency_ms'),
    ttftMs: numOrNull(row, 'ttft_ms'),
    usage:
      promptTokens === null ? null : { prompt_tokens: promptTokens, completion_tokens: num(row, 'completion_tokens'), total_tokens: num(row, 'total_tokens') },
    usageEstimated: num(row, 'usage_estimated') !== 0,
    attempts,
    error: strOrNull(row, 'error'),
    clientKey: strOrNull(row, 'client_key'),
    ...aliasOf(row),
  };
}

/** Only a row with an alias has the field, as only such a record had it. */
function aliasOf(row: Row): Pick<RequestLogEntry, 'alias'> {
  const alias = strOrNull(row, 'alias');
  return alias === null ? {} : { alias };
}

function toStatsRow(row: Row, query: StatsQuery): StatsRow {
  return {
    granularity: query.granularity,
    bucket: num(row, 'bucket'),
    dimension: query.dimension,
    value: str(row, 'value'),
    requests: num(row, 'requests'),
    successes: num(row, 'successes'),
    failures: num(row, 'failures'),
    promptTokens: num(row, 'prompt_tokens'),
    completionTokens: num(row, 'completion_tokens'),
    latencySumMs: num(row, 'latency_sum_ms'),
    ttftSumMs: num(row, 'ttft_sum_ms'),
    ttftCount: num(row, 'ttft_count'),
    latencyHist: histogram(str(row, 'latency_hist')),
    ttftHist: histogram(str(row, 'ttft_hist')),
  };
}

function toHealth(row: Row): HealthCheckResult {
  return {
    provider: str(row, 'provider'),
    checkedAt: num(row, 'checked_at'),
    ok: num(row, 'ok') !== 0,
    latencyMs: num(row, 'latency_ms'),
    probe: str(row, 'probe'),
    model: strOrNull(row, 'model'),
    error: strOrNull(row, 'error'),
  };
}

function logWhere(filter: LogFilter): { where: string; params: SQLInputValue[] } {
  const clauses: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (clause: string, ...values: SQLInputValue[]): void => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.from !== undefined) add('started_at >= ?', filter.from);
  if (filter.to !== undefined) add('started_at < ?', filter.to);
  if (filter.model !== undefined) add('model = ?', filter.model);
  if (filter.provider !== undefined) add('(provider = ? OR instr(attempted_providers, ?) > 0)', filter.provider, `,${filter.provider},`);
  if (filter.status === 'success') add('status BETWEEN 200 AND 299');
  else if (filter.status === 'error') add('status NOT BETWEEN 200 AND 299');
  else if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.clientKey !== undefined) add('client_key = ?', filter.clientKey);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** One open database: the handle, its statements (prepared once) and transaction helpers. */
class Connection {
  private readonly dynamic = new Map<string, StatementSync>();

  readonly settingsGet: StatementSync;
  readonly settingsSet: StatementSync;
  readonly settingsCreate: StatementSync;
  readonly settingsDelete: StatementSync;
  readonly settingsList: StatementSync;
  readonly statsQuery: StatementSync;
  readonly statsQueryValue: StatementSync;
  readonly healthInsert: StatementSync;
  readonly healthHistory: StatementSync;
  readonly healthPurge: StatementSync;

  constructor(readonly db: DatabaseSync) {
    this.settingsGet = db.prepare('SELECT value FROM settings WHERE namespace = ? AND key = ?');
    this.settingsSet = db.prepare(
      `INSERT INTO settings (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
    this.settingsCreate = db.prepare(`INSERT INTO settings (namespace, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (namespace, key) DO NOTHING`);
    this.settingsDelete = db.prepare('DELETE FROM settings WHERE namespace = ? AND key = ?');
    this.settingsList = db.prepare('SELECT key, value FROM settings WHERE namespace = ? ORDER BY key');
    this.statsQuery = db.prepare(`SELECT * FROM stats WHERE granularity = ? AND dimension = ? AND bucket >= ? AND bucket < ? ORDER BY bucket, value`);
    this.statsQueryValue = db.prepare(
      `SELECT * FROM stats WHERE granularity = ? AND dimension = ? AND bucket >= ? AND bucket < ? AND value = ? ORDER BY bucket, value`,
    );
    this.healthInsert = db.prepare('INSERT INTO health (provider, checked_at, ok, latency_ms, probe, model, error) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.healthHistory = db.prepare('SELECT * FROM health WHERE provider = ? ORDER BY checked_at DESC, id DESC LIMIT ?');
    this.healthPurge = db.prepare('DELETE FROM health WHERE checked_at < ?');
  }

  /** The log filter has a few dozen shapes; each is prepared the first time it is used. */
  prepared(sql: string): StatementSync {
    let statement = this.dynamic.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.dynamic.set(sql, statement);
    }
    return statement;
  }

  /** IMMEDIATE takes the write lock up front, so two connections cannot deadlock upgrading a read lock. */
  write<T>(fn: () => T): T {
    return this.transaction('BEGIN IMMEDIATE', fn);
  }

  /** One snapshot for several reads (a page and its total agree). */
  read<T>(fn: () => T): T {
    return this.transaction('BEGIN', fn);
  }

  private transaction<T>(begin: string, fn: () => T): T {
    this.db.exec(begin);
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }
}

type ConnectionRef = () => Connection;

class SqliteSettingsStore implements SettingsStore {
  private readonly subject = new Subject<{ namespace: string; key: string }>();
  readonly changes: Observable<{ namespace: string; key: string }> = this.subject.asObservable();

  constructor(
    private readonly conn: ConnectionRef,
    private readonly writes: () => MainWrites,
  ) {}

  async get<T>(namespace: string, key: string): Promise<T | undefined> {
    const row = this.conn().settingsGet.get(namespace, key);
    return row ? (JSON.parse(str(row, 'value')) as T) : undefined;
  }

  async set<T>(namespace: string, key: string, value: T): Promise<void> {
    this.conn().settingsSet.run(namespace, key, toJson(value, `setting ${namespace}/${key}`), Date.now());
    this.subject.next({ namespace, key });
  }

  async create<T>(namespace: string, key: string, value: T): Promise<boolean> {
    const created = changes(this.conn().settingsCreate.run(namespace, key, toJson(value, `setting ${namespace}/${key}`), Date.now())) > 0;
    if (created) this.subject.next({ namespace, key });
    return created;
  }

  /** Read and written in one transaction, by the storage thread where it runs (see main-writer.ts). */
  async increment(namespace: string, key: string, change: CounterChange): Promise<void> {
    await this.writes().increment(namespace, key, change, Date.now());
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const deleted = changes(this.conn().settingsDelete.run(namespace, key)) > 0;
    // Deleting what is not there changes nothing, so there is nothing for caches to reload.
    if (deleted) this.subject.next({ namespace, key });
    return deleted;
  }

  async list<T>(namespace: string): Promise<Record<string, T>> {
    // fromEntries defines own properties, so a key named "__proto__" stays an ordinary entry.
    return Object.fromEntries(
      this.conn()
        .settingsList.all(namespace)
        .map((row) => [str(row, 'key'), JSON.parse(str(row, 'value')) as T]),
    );
  }

  complete(): void {
    this.subject.complete();
  }
}

class SqliteRequestLogStore implements RequestLogStore {
  constructor(
    private readonly conn: ConnectionRef,
    private readonly writes: () => MainWrites,
  ) {}

  /** One transaction, then (once over the cap) the oldest entries deleted down to 90% of it, DELETE_BATCH per step. */
  async append(entries: RequestLogEntry[]): Promise<void> {
    if (!entries.length) return;
    await this.writes().appendLog(entries.map(logRow));
  }

  async query(filter: LogFilter, page: { offset: number; limit: number }): Promise<{ total: number; items: RequestLogEntry[] }> {
    assertPage(page.offset, 'offset');
    assertPage(page.limit, 'limit');
    const c = this.conn();
    const { where, params } = logWhere(filter);
    const count = c.prepared(`SELECT count(*) AS total FROM request_log ${where}`);
    const select = c.prepared(`SELECT * FROM request_log ${where} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`);
    return c.read(() => {
      const counted = count.get(...params);
      return {
        total: counted ? num(counted, 'total') : 0,
        items: select.all(...params, page.limit, page.offset).map(toLogEntry),
      };
    });
  }

  /** In steps of DELETE_BATCH: a purge after lowering LOG_RETENTION_DAYS may delete millions of rows. */
  async purgeBefore(before: number): Promise<number> {
    return this.writes().purgeLog(before);
  }
}

class SqliteStatsStore implements StatsStore {
  constructor(
    private readonly conn: ConnectionRef,
    private readonly writes: () => MainWrites,
  ) {}

  /** One transaction; once over maxStatsRows, whole buckets are deleted, oldest first (see main-writer.ts). */
  async add(increments: StatsIncrement[]): Promise<void> {
    if (!increments.length) return;
    // Checked before writing anything: a misshapen histogram would silently shift every bucket after it.
    for (const inc of increments) {
      if (inc.latencyHist.length !== HISTOGRAM_SIZE || inc.ttftHist.length !== HISTOGRAM_SIZE) {
        throw new RangeError(`stats histograms must have ${HISTOGRAM_SIZE} counters (${inc.granularity} ${inc.bucket} ${inc.dimension}=${inc.value})`);
      }
    }
    await this.writes().addStats(increments.map(statsArgs));
  }

  async query(query: StatsQuery): Promise<StatsRow[]> {
    const c = this.conn();
    const rows =
      query.value === undefined
        ? c.statsQuery.all(query.granularity, query.dimension, query.from, query.to)
        : c.statsQueryValue.all(query.granularity, query.dimension, query.from, query.to, query.value);
    return rows.map((row) => toStatsRow(row, query));
  }

  async purgeBefore(granularity: Granularity, before: number): Promise<number> {
    return this.writes().purgeStats(granularity, before);
  }
}

class SqliteHealthStore implements HealthStore {
  constructor(private readonly conn: ConnectionRef) {}

  async append(results: HealthCheckResult[]): Promise<void> {
    if (!results.length) return;
    const c = this.conn();
    c.write(() => {
      for (const r of results) c.healthInsert.run(r.provider, r.checkedAt, r.ok ? 1 : 0, r.latencyMs, r.probe, r.model, r.error);
    });
  }

  async history(provider: string, limit: number): Promise<HealthCheckResult[]> {
    assertPage(limit, 'limit');
    return this.conn().healthHistory.all(provider, limit).map(toHealth);
  }

  async purgeBefore(before: number): Promise<number> {
    return changes(this.conn().healthPurge.run(before));
  }
}

/** Where stored responses are read and written: the responses file (see responses-file.ts), or the main database for ':memory:'. */
interface ResponsesAccess {
  get: StatementSync;
  writer: ResponseWriter;
}

class SqliteResponseStore implements ResponseStore {
  constructor(private readonly access: () => ResponsesAccess) {}

  /** One transaction for the batch: a commit per response cost more than the writes themselves. */
  async put(responses: readonly StoredResponseWrite[]): Promise<void> {
    if (!responses.length) return;
    await this.access().writer.put(responses);
  }

  async get(id: string, now: number): Promise<StoredResponse | undefined> {
    const row = this.access().get.get(id, now);
    if (!row) return undefined;
    return { id: str(row, 'id'), owner: str(row, 'owner'), expiresAt: num(row, 'expires_at'), document: JSON.parse(str(row, 'document')) };
  }

  async delete(id: string, now: number): Promise<boolean> {
    return (await this.access().writer.delete(id, now)) > 0;
  }

  async extend(ids: readonly string[], expiresAt: number, ifBefore: number): Promise<void> {
    if (!ids.length) return;
    await this.access().writer.extend(ids, expiresAt, ifBefore, Date.now());
  }

  /** In batches, like the log's purge: a day's worth of expiries may be many rows. */
  async purgeExpired(now: number): Promise<number> {
    return this.access().writer.purgeExpired(now);
  }
}

/** The page size of a new responses file (see openResponses). */
export const RESPONSES_PAGE_BYTES = 8192;

/**
 * WAL lets readers run beside the writer; NORMAL syncs at checkpoints only, which in WAL mode can
 * lose the last commits on power loss but never corrupts the database. The size limit stops the
 * -wal file from staying at its high-water mark after a burst of writes.
 */
function useWal(db: DatabaseSync): void {
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA journal_size_limit = 67108864');
}

/**
 * Moves the live responses an older version kept in the database's own table into the responses
 * file. Copied, then deleted: a crash between the two copies them again next time, and the copy
 * keeps what is already there.
 */
function moveStoredResponses(db: DatabaseSync, responsesFile: string): void {
  const row = db.prepare('SELECT count(*) AS n FROM responses').get();
  if (!row || num(row, 'n') === 0) return;
  db.prepare('ATTACH DATABASE ? AS responses_file').run(responsesFile);
  try {
    db.prepare('INSERT OR IGNORE INTO responses_file.responses SELECT id, owner, expires_at, document FROM main.responses WHERE expires_at > ?').run(
      Date.now(),
    );
    db.exec('DELETE FROM main.responses');
  } finally {
    db.exec('DETACH DATABASE responses_file');
  }
}

/** The embedded store: one SQLite file under DATA_DIR (and one beside it for stored responses), through Node's built-in node:sqlite. */
export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  readonly settings: SqliteSettingsStore;
  readonly log: SqliteRequestLogStore;
  readonly stats: SqliteStatsStore;
  readonly health: SqliteHealthStore;
  readonly responses: SqliteResponseStore;

  private connection: Connection | undefined;
  private checkpointer: WalCheckpointer | undefined;
  private responsesAccess: ResponsesAccess | undefined;
  /** The request log's and the stats' writes: the storage thread's, or this thread's. */
  private mainWrites: MainWrites | undefined;
  private storageThreadRef: StorageThread | undefined;
  /** The connection to the responses file (reads, and writes if its thread cannot run); undefined for ':memory:'. */
  private responsesDb: DatabaseSync | undefined;
  private closed = false;
  private lastProbeWriteAt = 0;
  private readonly logger = new Logger('Storage');

  constructor(private readonly options: SqliteStorageOptions) {
    const ref: ConnectionRef = () => this.open();
    const writes = () => this.writes();
    this.settings = new SqliteSettingsStore(ref, writes);
    this.log = new SqliteRequestLogStore(ref, writes);
    this.stats = new SqliteStatsStore(ref, writes);
    this.health = new SqliteHealthStore(ref);
    this.responses = new SqliteResponseStore(() => {
      this.open();
      return this.responsesAccess!;
    });
  }

  get file(): string {
    return this.options.file;
  }

  /** The thread writing stored responses, the request log and the stats, while one runs (tests end it to see the writes carry on). */
  get storageThread(): Worker | undefined {
    return this.storageThreadRef?.thread;
  }

  async init(): Promise<void> {
    if (this.closed) throw new Error('SqliteStorage is closed');
    if (this.connection) return;
    const { file } = this.options;
    const inMemory = file === ':memory:' || file === '';
    if (!inMemory) prepareDataDir(file);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file, { timeout: this.options.busyTimeoutMs ?? 5000, enableForeignKeyConstraints: true });
    } catch (err) {
      throw sqliteOpenError(err, file);
    }
    try {
      useWal(db);
      db.exec('PRAGMA foreign_keys = ON');
      migrate(db);
      this.connection = new Connection(db);
    } catch (err) {
      db.close();
      throw sqliteOpenError(err, file);
    }
    if (inMemory) {
      this.responsesAccess = { get: db.prepare(RESPONSES_SQL.get), writer: new InlineResponseWriter(db) };
      this.mainWrites = new InlineMainWriter(db, this.mainWriterSettings());
    } else await this.openResponses(db, file);
  }

  private mainWriterSettings(): MainWriterSettings {
    return {
      sql: MAIN_WRITES_SQL,
      histogramSize: HISTOGRAM_SIZE,
      maxLogEntries: this.options.maxLogEntries ?? Infinity,
      maxStatsRows: this.options.maxStatsRows ?? Infinity,
      trimTo: TRIM_TO,
      deleteBatch: DELETE_BATCH,
      dimensions: STATS_DIMENSIONS,
      mark: { ...THREAD_MARK, run: randomUUID() },
    };
  }

  /**
   * Opens the responses file beside the database (see responses-file.ts), moves in what an older
   * version stored in the database itself, and starts the storage thread (see storage-thread.ts),
   * which writes it, the request log and the stats, and checkpoints the database. Where the thread
   * cannot run, all of it is written on this thread, and checkpoints are a WalCheckpointer's.
   */
  private async openResponses(db: DatabaseSync, file: string): Promise<void> {
    const responsesFile = responsesFileOf(file);
    const timeout = this.options.busyTimeoutMs ?? 5000;
    let rdb: DatabaseSync;
    try {
      rdb = new DatabaseSync(responsesFile, { timeout });
    } catch (err) {
      throw sqliteOpenError(err, responsesFile);
    }
    try {
      // Takes effect only in a new file (an existing one keeps its pages): documents are a kilobyte
      // or two, and 8 KB pages hold four where 4 KB ones held two. Measured on batches of 32 rows of
      // 1.4 KB: 8.3 µs of CPU per row against 10.5, and 1.7 KB of file per row against 2.1.
      rdb.exec(`PRAGMA page_size = ${RESPONSES_PAGE_BYTES}`);
      useWal(rdb);
      if (upgradeResponsesTable(rdb, Date.now())) this.logger.log(`Stored responses in ${responsesFile} moved to the current table layout`);
      rdb.exec(RESPONSES_SCHEMA);
      moveStoredResponses(db, responsesFile);
    } catch (err) {
      rdb.close();
      throw sqliteOpenError(err, responsesFile);
    }
    this.responsesDb = rdb;
    const everyMs = this.options.checkpointEveryMs ?? 1000;
    const main = this.mainWriterSettings();
    if (this.options.storageThread !== false) {
      if (everyMs > 0) db.exec('PRAGMA wal_autocheckpoint = 0');
      try {
        this.storageThreadRef = await StorageThread.start({ file, responsesFile, busyTimeoutMs: timeout, main, checkpointEveryMs: everyMs }, (reason) => {
          this.logger.warn(
            `The storage thread stopped (${reason}); stored responses, the request log and stats are written, and the database checkpointed, on the request path again`,
          );
          if (everyMs > 0) this.autocheckpoint(db);
          return { responses: new InlineResponseWriter(rdb), main: new InlineMainWriter(db, main, true) };
        });
      } catch (err) {
        this.logger.warn(
          `Could not start the storage thread (${String((err as Error)?.message ?? err).slice(0, 300)}); stored responses, the request log and stats are written on the request path`,
        );
      }
    }
    const thread = this.storageThreadRef;
    this.responsesAccess = { get: rdb.prepare(RESPONSES_SQL.get), writer: thread?.responses ?? new InlineResponseWriter(rdb) };
    this.mainWrites = thread?.main ?? new InlineMainWriter(db, main);
    if (!thread && everyMs > 0) this.checkpointInBackground(db, file, everyMs);
  }

  /** SQLite's own checkpoints, on this thread: where no thread can do them. */
  private autocheckpoint(db: DatabaseSync): void {
    if (this.closed || !db.isOpen) return;
    db.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
  }

  /** The log's checkpoints leave this thread for a worker's (WalCheckpointer); SQLite's own come back if it fails. */
  private checkpointInBackground(db: DatabaseSync, file: string, everyMs: number): void {
    db.exec('PRAGMA wal_autocheckpoint = 0');
    this.checkpointer = new WalCheckpointer(file, everyMs, (reason) => {
      if (this.closed || !db.isOpen) return;
      this.autocheckpoint(db);
      this.logger.warn(`Checkpointing the database in the background stopped (${reason}); SQLite checkpoints on the request path again`);
    });
  }

  /**
   * Rejects when the store cannot take a write now: the volume has less than MIN_FREE_BYTES
   * left (SQLite may still fit a row in its WAL, but not for long), or a small write fails.
   */
  async checkWritable(): Promise<void> {
    const writes = this.writes();
    const { file } = this.options;
    if (file !== ':memory:' && file !== '') {
      const fs = statfsSync(dirname(file));
      const free = Number(fs.bavail) * Number(fs.bsize);
      if (free < MIN_FREE_BYTES) throw new Error(`only ${free} bytes free on the volume of ${dirname(file)}`);
    }
    // Public health endpoints call this: at most one probe write per second, however often they are asked.
    const now = Date.now();
    if (now - this.lastProbeWriteAt < PROBE_WRITE_EVERY_MS) return;
    // Bypasses settings.set: a probe is not a change that caches should reload for. Made by the
    // storage thread where it runs, so that this thread never waits for the thread's write lock.
    await writes.probe(now);
    this.lastProbeWriteAt = now;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settings.complete();
    const connection = this.connection;
    this.connection = undefined;
    // The writes already handed to the thread are committed before it ends (and before the files close).
    await this.storageThreadRef?.close();
    this.storageThreadRef = undefined;
    await this.responsesAccess?.writer.close();
    this.responsesAccess = undefined;
    this.mainWrites = undefined;
    this.responsesDb?.close();
    this.responsesDb = undefined;
    await this.checkpointer?.stop();
    if (!connection) return;
    try {
      // Cheap at close time: refreshes the query planner's statistics where they are stale.
      connection.db.exec('PRAGMA optimize');
    } finally {
      connection.db.close();
    }
  }

  private writes(): MainWrites {
    this.open();
    return this.mainWrites!;
  }

  private open(): Connection {
    if (this.connection) return this.connection;
    throw new Error(this.closed ? 'SqliteStorage is closed' : 'SqliteStorage is not initialised: call init() first');
  }
}
