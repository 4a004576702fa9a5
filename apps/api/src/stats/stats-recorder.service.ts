import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { PoolEvents, type RequestRecord } from '../events/pool-events.service.ts';
import { STORAGE, type RequestLogEntry, type StatsQuery, type StatsRow, type Storage } from '../storage/storage.ts';
import { approxRecordBytes } from '../events/record-bounds.ts';
import { PendingStats, mergeRows } from './stats-math.ts';

/** At most this many log entries wait for storage; beyond it the oldest are dropped. */
export const MAX_BUFFERED_LOG_ENTRIES = 20_000;
/** The buffered log entries hold at most about this many bytes; beyond it the oldest are dropped. */
export const MAX_BUFFERED_LOG_BYTES = 64 * 1024 * 1024;
/** At most this many stats rows (bucket × dimension value) wait; beyond it the oldest buckets are dropped. */
export const MAX_PENDING_STATS_ROWS = 50_000;

/**
 * Log entries or stats rows per storage write. A SQLite insert of one entry costs 6–20 µs on a
 * small machine, so a write of this many (one transaction) holds the database's write lock (and,
 * where the storage thread cannot run, the event loop) well under a millisecond; the flush yields
 * to requests between writes. One write of a whole second's batch at 500 req/s held it 3–18 ms,
 * and every request in flight waited.
 */
export const WRITE_BATCH = 32;

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Writes `items` WRITE_BATCH at a time, yielding between writes; stops at the first failure.
 * Each write is atomic, so what failed and everything after it is exactly `items.slice(written)`.
 */
async function writeInBatches<T>(items: T[], write: (batch: T[]) => Promise<void>): Promise<{ written: number; error?: unknown }> {
  let written = 0;
  while (written < items.length) {
    const batch = items.slice(written, written + WRITE_BATCH);
    try {
      await write(batch);
    } catch (error) {
      return { written, error };
    }
    written += batch.length;
    if (written < items.length) await yieldToRequests();
  }
  return { written };
}

export interface RecorderLimits {
  maxLogEntries: number;
  maxLogBytes: number;
  maxStatsRows: number;
}

/**
 * Takes every request record off PoolEvents into memory and writes them in batches: the request
 * log and the stats increments, every STATS_FLUSH_MS and at shutdown. Nothing here runs on the
 * request path but a push into an array; a failed write keeps its batch for the next try.
 */
@Injectable()
export class StatsRecorder implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Stats');
  private logBuffer: RequestLogEntry[] = [];
  /** approxRecordBytes of everything in logBuffer. */
  private logBytes = 0;
  private readonly pending = new PendingStats();
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  /** Flushes run one after another on this chain. */
  private chain: Promise<void> = Promise.resolve();
  /** Bumped whenever a batch leaves the buffer, so readers can tell that they raced a flush. */
  private epoch = 0;
  private flushing = false;
  private failing = false;
  private stopped = false;
  /** What was dropped since the buffers last overflowed; reported once storage keeps up again. */
  private readonly dropped = { log: 0, statsRows: 0, warned: false };
  readonly limits: RecorderLimits = { maxLogEntries: MAX_BUFFERED_LOG_ENTRIES, maxLogBytes: MAX_BUFFERED_LOG_BYTES, maxStatsRows: MAX_PENDING_STATS_ROWS };

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: PoolEvents,
  ) {}

  onModuleInit(): void {
    this.subscription = this.events.requests.subscribe((record) => this.record(record));
    this.timer = setInterval(() => void this.flush(), this.config.stats.flushMs);
    // A forgotten close() must not keep a process (or a test run) alive.
    this.timer.unref();
  }

  /** Buffers one request; never throws (it runs inside the request's emit). */
  record(record: RequestRecord): void {
    try {
      this.pending.record(this.labelled(record));
      this.logBuffer.push(record);
      this.logBytes += approxRecordBytes(record);
      this.enforceLimits();
    } catch (err) {
      this.logger.error(`Could not record request ${record.requestId}: ${(err as Error).message}`);
    }
  }

  /**
   * The record as the stats key it: known model and provider names or "unknown", so that a
   * client sending made-up model names adds no rows (the request log keeps what was sent, cut short).
   */
  private labelled(record: RequestRecord): RequestRecord {
    const events = this.events;
    const model = events.modelLabel(record.model);
    const provider = record.provider === null ? null : events.providerLabel(record.provider);
    // Known names are their own labels: then the record itself (no copy per request).
    if (model === record.model && provider === record.provider && record.attempts.every((a) => events.providerLabel(a.provider) === a.provider)) return record;
    return { ...record, model, provider, attempts: record.attempts.map((a) => ({ ...a, provider: events.providerLabel(a.provider) })) };
  }

  /** Entries and stats rows waiting to be written. */
  get buffered(): { logEntries: number; statsRows: number } {
    return { logEntries: this.logBuffer.length, statsRows: this.pending.size };
  }

  /** Writes what is buffered now (after any flush already running). Never rejects. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.flushOnce());
    return this.chain;
  }

  /**
   * Stats rows for each query, the unwritten buffer included. Reads storage between flushes, so a
   * batch is never counted twice (in storage and in the buffer) nor missed (in neither).
   */
  async queryStats(queries: StatsQuery[]): Promise<StatsRow[][]> {
    for (let attempt = 0; ; attempt++) {
      await this.chain;
      if (this.flushing && attempt < 5) continue;
      const epoch = this.epoch;
      const stored = await Promise.all(queries.map((q) => this.storage.stats.query(q)));
      if ((this.epoch === epoch && !this.flushing) || attempt >= 5) {
        return stored.map((rows, i) => mergeRows(rows, this.pending.query(queries[i]!)));
      }
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /**
   * Requests still running when shutdown began finish while the HTTP server closes, after
   * beforeApplicationShutdown: write what they left, unless the store has already closed.
   */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    if (this.logBuffer.length || this.pending.size) await this.flush();
    if (this.logBuffer.length) this.logger.warn(`${this.logBuffer.length} request log entries could not be written before shutdown`);
  }

  private async flushOnce(): Promise<void> {
    if (!this.logBuffer.length && !this.pending.size) return;
    const entries = this.logBuffer;
    const entriesBytes = this.logBytes;
    this.logBuffer = [];
    this.logBytes = 0;
    const increments = this.pending.drain();
    this.epoch++;
    this.flushing = true;
    try {
      // In small writes, so none holds the event loop for long; the log and stats may fail apart.
      const log = await writeInBatches(entries, (batch) => this.storage.log.append(batch));
      const stats = await writeInBatches(increments, (batch) => this.storage.stats.add(batch));
      const errors: string[] = [];
      if (log.error !== undefined) {
        const unwritten = entries.slice(log.written);
        this.logBuffer = unwritten.concat(this.logBuffer);
        this.logBytes += log.written ? unwritten.reduce((n, e) => n + approxRecordBytes(e), 0) : entriesBytes;
        errors.push(`request log: ${(log.error as Error)?.message ?? String(log.error)}`);
      }
      if (stats.error !== undefined) {
        this.pending.add(increments.slice(stats.written));
        errors.push(`stats: ${(stats.error as Error)?.message ?? String(stats.error)}`);
      }
      if (errors.length) {
        this.enforceLimits();
        // Once per outage, not once per second.
        if (!this.failing || this.stopped) {
          this.logger.warn(
            `Writing stats failed (${errors.join('; ')}); keeping ${this.logBuffer.length} log entries and ${this.pending.size} stats rows in memory to retry`,
          );
        }
        this.failing = true;
      } else if (this.failing) {
        this.failing = false;
        const lost =
          this.dropped.log || this.dropped.statsRows
            ? ` (${this.dropped.log} log entries and ${this.dropped.statsRows} stats rows were dropped meanwhile)`
            : '';
        this.logger.log(`Writing stats works again; the buffered entries are stored${lost}`);
        Object.assign(this.dropped, { log: 0, statsRows: 0, warned: false });
      }
    } finally {
      this.flushing = false;
    }
  }

  private enforceLimits(): void {
    // The oldest entries go first: beyond the count, then for as long as the bytes are over budget.
    let drop = Math.max(0, this.logBuffer.length - this.limits.maxLogEntries);
    let bytes = this.logBytes;
    for (let i = 0; i < drop; i++) bytes -= approxRecordBytes(this.logBuffer[i]!);
    while (drop < this.logBuffer.length && bytes > this.limits.maxLogBytes) bytes -= approxRecordBytes(this.logBuffer[drop++]!);
    if (drop > 0) {
      this.logBuffer.splice(0, drop);
      this.logBytes = bytes;
      this.dropped.log += drop;
    }
    // Trimmed with some slack, so a full buffer is not sorted again on every request.
    if (this.pending.size > this.limits.maxStatsRows) {
      this.dropped.statsRows += this.pending.trimTo(Math.floor(this.limits.maxStatsRows * 0.9));
    }
    if ((this.dropped.log || this.dropped.statsRows) && !this.dropped.warned) {
      this.dropped.warned = true;
      this.logger.warn(
        `The stats buffers are full (storage is not keeping up): dropping the oldest request log entries beyond ${this.limits.maxLogEntries} (or ${Math.round(this.limits.maxLogBytes / 1024 / 1024)} MB) and stats rows beyond ${this.limits.maxStatsRows}`,
      );
    }
  }
}
