import type { Logger } from '@nestjs/common';
import { existsSync, rmSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { compileFunction } from 'node:vm';
import type { Worker } from 'node:worker_threads';
import { THREAD_SERVE, ThreadCalls, startSqliteThread, type InlineOps } from '../storage/sqlite/sqlite-thread.ts';
import type { CacheStore } from './cache-store.ts';

/** The cache's own file in DATA_DIR, beside gpt4free-pool.db: a cache can be thrown away, the database cannot. */
export const CACHE_FILE_NAME = 'gpt4free-pool-cache.db';

/**
 * One row per answer. A rowid table (not WITHOUT ROWID): rows of up to a megabyte belong in
 * overflow pages, not in the key's b-tree. `used_at` orders the LRU, `expires_at` the purge.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS cache_entries (
    key        TEXT    NOT NULL UNIQUE,
    json       TEXT    NOT NULL,
    bytes      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS cache_entries_expires_at ON cache_entries (expires_at);
  CREATE INDEX IF NOT EXISTS cache_entries_used_at ON cache_entries (used_at);
`;

/** Expired rows one purge statement deletes; a put purges one such step before it writes. */
const PURGE_STEP = 500;
/** The thread purges every expired row this often, step by step, whether or not anything is written. */
const PURGE_EVERY_MS = 60_000;
/** Hits are remembered (for the LRU order) and written together this often, or once this many wait. */
const TOUCH_EVERY_MS = 1000;
const MAX_TOUCHES = 1000;

interface Touch {
  key: string;
  at: number;
}

type Op =
  | { op: 'put'; args: [key: string, json: string, bytes: number, expiresAt: number, now: number, maxBytes: number] }
  | { op: 'touch'; args: [Touch[]] }
  | { op: 'size'; args: [now: number] };

/** An answer on its way to the thread: read back from here until its row is committed, so that the next request finds it. */
interface InFlight {
  json: string;
  expiresAt: number;
}

/**
 * Where no thread can write the file (it would not start, nor could this thread take over when it
 * stopped): the entries written so far stay readable, nothing more is written, and a request never
 * waits for it.
 */
const READ_ONLY_ERROR = 'the response cache thread is not running';

/**
 * The response cache in its own SQLite file (single-machine mode), so that a restart keeps it. As
 * the stored responses (storage/sqlite/responses-file.ts), every write leaves the event loop for
 * a worker thread with its own connection: an answer's row, its byte accounting, the LRU
 * evictions beyond the cap and the purge of expired rows (in steps of PURGE_STEP). Reads stay on
 * this thread, by the key's index, on a connection of their own: WAL readers never wait. If the
 * thread dies, the same writer (CACHE_WRITER) runs on this thread instead, as the stored responses'
 * does: the writes still waiting are made again there, and the cache keeps filling and evicting.
 *
 * The file is opened at the first use (or `open()`), so that a gateway whose cache is off runs
 * no thread for it. A file that cannot be read (corrupt, not a database) is deleted and begun
 * anew; where even that fails, the store holds nothing and says so once in the log.
 */
export class SqliteCacheStore implements CacheStore {
  private opening?: Promise<void>;
  private calls?: ThreadCalls<Op>;
  /** The writer on this thread, once the thread has died. */
  private inline?: InlineCacheWriter;
  private reader?: StatementSync;
  private readerDb?: DatabaseSync;
  private readonly inFlight = new Map<string, InFlight>();
  private inFlightBytes = 0;
  private touches: Touch[] = [];
  private touchTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Opens the file and starts its thread, once; never rejects (a store that cannot open holds nothing). */
  open(): Promise<void> {
    this.opening ??= this.start();
    return this.opening;
  }

  async get(key: string, now: number): Promise<string | undefined> {
    const pending = this.inFlight.get(key);
    if (pending) return pending.expiresAt > now ? pending.json : undefined;
    await this.open();
    const row = this.reader?.get(key);
    if (!row || typeof row.json !== 'string' || typeof row.expires_at !== 'number' || row.expires_at <= now) return undefined;
    this.touch(key, now);
    return row.json;
  }

  async put(key: string, json: string, expiresAt: number, now: number): Promise<void> {
    const bytes = Buffer.byteLength(json);
    // What waits for the thread is bounded too: beyond the cap, an answer is not kept.
    if (this.inFlightBytes + bytes > this.maxBytes) return;
    const entry: InFlight = { json, expiresAt };
    const before = this.inFlight.get(key);
    if (before) this.inFlightBytes -= Buffer.byteLength(before.json);
    this.inFlight.set(key, entry);
    this.inFlightBytes += bytes;
    try {
      await this.open();
      // The hits before this put reach the thread before it does, so that it evicts by their order.
      this.flushTouches();
      await this.call({ op: 'put', args: [key, json, bytes, expiresAt, now, this.maxBytes] });
    } finally {
      if (this.inFlight.get(key) === entry) {
        this.inFlight.delete(key);
        this.inFlightBytes -= bytes;
      }
    }
  }

  async size(now: number): Promise<{ entries: number; bytes: number }> {
    // Nothing to count in a file never written; counting it would start the thread for a dashboard's poll.
    if (!this.opening && !existsSync(this.file)) return { entries: 0, bytes: 0 };
    await this.open();
    return (await this.call({ op: 'size', args: [now] })) as { entries: number; bytes: number };
  }

  /** Writes the hits still waiting, waits for the writes under way, then ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.opening;
    this.flushTouches();
    this.closed = true;
    await this.calls?.close();
    this.inline?.close();
    this.reader = undefined;
    this.readerDb?.close();
  }

  /** The thread while it writes (tests end it to see the store carry on). */
  get thread(): Worker | undefined {
    return this.calls?.thread;
  }

  private async start(): Promise<void> {
    let worker: Worker;
    try {
      worker = await startThread(this.file);
    } catch (err) {
      this.logger.warn(`The response cache file ${this.file} cannot be used (${messageOf(err)}): it is deleted and begun anew, empty`);
      try {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.file}${suffix}`, { force: true });
        worker = await startThread(this.file);
      } catch (again) {
        this.logger.error(`The response cache file ${this.file} cannot be created (${messageOf(again)}): nothing is cached until the gateway restarts`);
        return;
      }
    }
    this.calls = new ThreadCalls<Op>(worker, (reason) => this.takeOver(reason), 'the response cache');
    try {
      this.readerDb = new DatabaseSync(this.file, { timeout: 1000 });
      this.reader = this.readerDb.prepare('SELECT json, expires_at FROM cache_entries WHERE key = ?');
    } catch (err) {
      this.logger.error(`The response cache file ${this.file} cannot be read (${messageOf(err)}): answers are stored but not served`);
    }
  }

  /**
   * The thread died: its writer runs on this thread from now on (said once: it never dies again).
   * Where even that cannot open the file, the store is read-only (READ_ONLY_ERROR), as one whose
   * thread never started.
   */
  private takeOver(reason: string): InlineOps<Op> {
    try {
      this.inline = new InlineCacheWriter(this.file);
    } catch (err) {
      this.logger.error(
        `The response cache thread stopped (${reason}) and its file cannot be written here (${messageOf(err)}): what is cached is still served, nothing new is kept`,
      );
      throw new Error(READ_ONLY_ERROR, { cause: err });
    }
    this.logger.warn(`The response cache thread stopped (${reason}): the cache is written on the request path from now on`);
    const inline = this.inline;
    return (op) => inline.run(op);
  }

  private call(op: Op): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the response cache is closed'));
    return this.calls ? this.calls.call(op) : Promise.reject(new Error(READ_ONLY_ERROR));
  }

  /** A hit moves its entry to the back of the LRU order; the moves are written together, not one per hit. */
  private touch(key: string, at: number): void {
    this.touches.push({ key, at });
    if (this.touches.length >= MAX_TOUCHES) return this.flushTouches();
    this.touchTimer ??= setTimeout(() => this.flushTouches(), TOUCH_EVERY_MS).unref();
  }

  private flushTouches(): void {
    clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    const touches = this.touches;
    this.touches = [];
    // The order is a hint: a lost move makes an entry look older than it is, nothing worse.
    if (touches.length) this.call({ op: 'touch', args: [touches] }).catch(() => undefined);
  }
}

const messageOf = (err: unknown): string => String((err as Error)?.message ?? err).slice(0, 300);

/** Starts the thread on `file`; rejects when the file cannot be opened, checked or given its schema. */
function startThread(file: string): Promise<Worker> {
  return startSqliteThread(
    WORKER_SOURCE,
    { file, schema: SCHEMA, purgeStep: PURGE_STEP, purgeEveryMs: PURGE_EVERY_MS, check: true },
    'the response cache thread',
  );
}

/**
 * The writer of the file, as source that the thread runs and, once it has died, this thread
 * (compiled once, below): one implementation for both. `cacheWriter(db, settings)` readies the
 * connection (WAL, a quick check when `check`, the schema) and keeps the count and bytes of the
 * rows in memory (read once at the start), so that neither the cap nor the console's size needs a
 * scan. A put purges one step of expired rows, then in one transaction replaces the key's row,
 * evicting the least recently used rows until the new one fits under the cap. Hits arrive in
 * batches and move their rows to the back. `purge(now)` deletes one step (PURGE_STEP) of expired
 * rows.
 */
const CACHE_WRITER = `
function cacheWriter(db, { schema, purgeStep, check }) {
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA journal_size_limit = 67108864');
  if (check) {
    const verdict = db.prepare('PRAGMA quick_check(1)').get();
    if (!verdict || Object.values(verdict)[0] !== 'ok') throw new Error('quick_check: ' + JSON.stringify(verdict).slice(0, 200));
  }
  db.exec(schema);
  const st = {
    total: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM cache_entries'),
    drop: db.prepare('DELETE FROM cache_entries WHERE key = ? RETURNING bytes'),
    oldest: db.prepare('SELECT key FROM cache_entries ORDER BY used_at LIMIT 1'),
    insert: db.prepare('INSERT INTO cache_entries (key, json, bytes, expires_at, used_at) VALUES (?, ?, ?, ?, ?)'),
    touch: db.prepare('UPDATE cache_entries SET used_at = max(used_at, ?) WHERE key = ?'),
    purge: db.prepare('DELETE FROM cache_entries WHERE rowid IN (SELECT rowid FROM cache_entries WHERE expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING bytes'),
  };
  let entries = 0, bytes = 0;
  function recount() {
    const t = st.total.get();
    entries = Number(t.n);
    bytes = Number(t.b);
  }
  function forget(rows) {
    for (const r of rows) {
      entries -= 1;
      bytes -= Number(r.bytes);
    }
    return rows.length;
  }
  /** The counts follow a transaction that commits; one that fails reads them again. */
  function write(fn) {
    try {
      transaction(db, fn);
    } catch (err) {
      recount();
      throw err;
    }
  }
  const purge = (now) => forget(st.purge.all(now, purgeStep));
  recount();
  return {
    purge,
    counts: () => ({ entries, bytes }),
    put(key, json, size, expiresAt, now, maxBytes) {
      purge(now);
      write(() => {
        forget(st.drop.all(key));
        if (size > maxBytes) return;
        while (entries > 0 && bytes + size > maxBytes) {
          const oldest = st.oldest.get();
          if (!oldest) break;
          forget(st.drop.all(oldest.key));
        }
        st.insert.run(key, json, size, expiresAt, now);
        entries += 1;
        bytes += size;
      });
    },
    touch(touches) {
      write(() => {
        for (const t of touches) st.touch.run(t.at, t.key);
      });
    },
  };
}
`;

/** The thread: the only writer of the file while it runs. Every PURGE_EVERY_MS, and before a size is reported, all expired rows go, PURGE_STEP per statement. */
const WORKER_SOURCE = `
const { DatabaseSync } = require('node:sqlite');
const { parentPort, workerData } = require('node:worker_threads');
${THREAD_SERVE}
${CACHE_WRITER}
let cache;
try {
  cache = cacheWriter(new DatabaseSync(workerData.file, { timeout: 1000 }), workerData);
} catch (err) {
  parentPort.postMessage({ fatal: 'cannot open ' + workerData.file + ': ' + ((err && err.message) || err) });
  process.exit(1);
}
function purgeAll(now) {
  while (cache.purge(now) === workerData.purgeStep);
}
serve({
  put: cache.put,
  touch: cache.touch,
  size(now) {
    purgeAll(now);
    return cache.counts();
  },
});
setInterval(() => {
  try {
    purgeAll(Date.now());
  } catch {
    // busy or failing: the next turn, or the next put, tries again
  }
}, workerData.purgeEveryMs);
`;

/** CACHE_WRITER's writer, as this thread runs it. */
interface CacheWriter {
  put(...args: Extract<Op, { op: 'put' }>['args']): void;
  touch(touches: Touch[]): void;
  /** How many expired rows one step deleted. */
  purge(now: number): number;
  counts(): { entries: number; bytes: number };
}

/** CACHE_WRITER compiled for this thread (with THREAD_SERVE's `transaction`; its `serve` is never called here). */
const inlineCacheWriter = compileFunction(`${THREAD_SERVE}\n${CACHE_WRITER}\nreturn cacheWriter(db, settings);`, ['db', 'settings']) as (
  db: DatabaseSync,
  settings: { schema: string; purgeStep: number; check: boolean },
) => CacheWriter;

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The writer on this thread, once the thread has died: CACHE_WRITER on a connection of its own.
 * Purges step with requests running between steps, every PURGE_EVERY_MS and before a size.
 */
class InlineCacheWriter {
  private readonly db: DatabaseSync;
  private readonly writer: CacheWriter;
  private readonly timer: NodeJS.Timeout;

  constructor(file: string) {
    this.db = new DatabaseSync(file, { timeout: 1000 });
    try {
      // No quick_check: the thread made it at the start, and it reads the whole file, on the request path here.
      this.writer = inlineCacheWriter(this.db, { schema: SCHEMA, purgeStep: PURGE_STEP, check: false });
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.timer = setInterval(() => this.purgeAll(Date.now()).catch(() => undefined), PURGE_EVERY_MS).unref();
  }

  async run({ op, args }: Op): Promise<unknown> {
    switch (op) {
      case 'put':
        return this.writer.put(...args);
      case 'touch':
        return this.writer.touch(...args);
      case 'size':
        await this.purgeAll(args[0]);
        return this.writer.counts();
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.db.close();
  }

  private async purgeAll(now: number): Promise<void> {
    while (this.db.isOpen && this.writer.purge(now) === PURGE_STEP) await yieldToRequests();
  }
}
