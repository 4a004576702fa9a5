import type { DatabaseSync } from 'node:sqlite';
import { compileFunction } from 'node:vm';
import { applyCounterChange, toJson, type CounterChange, type Granularity, type RequestLogEntry, type StatsIncrement } from '../storage.ts';
import { THREAD_SERVE } from './sqlite-thread.ts';

/**
 * The request log's inserts and the stats' upserts, with the caps that follow them (the writes
 * made on every flush of the StatsRecorder, STATS_FLUSH_MS), and the counters' increments (client
 * key usage and quotas, provider quota ledgers, cache savings, every few seconds), the retention
 * purges (daily) and the health probe's write (at most once a second). With a database file they are made by
 * the storage thread (see storage-thread.ts), on a connection of its own to the main database: a
 * batch of 32 inserts and its commit held the event loop 0.3–1 ms, some 14% of the gateway's CPU
 * under load. Readers (the log page, the stats API) stay on the gateway's connection: WAL shows
 * them every commit the thread made.
 */
export const MAIN_WRITES_SQL = {
  logInsert: `INSERT INTO request_log (request_id, endpoint, model, stream, started_at, status, provider, upstream_model, latency_ms, ttft_ms,
       prompt_tokens, completion_tokens, total_tokens, usage_estimated, attempts, error, client_key, attempted_providers, alias)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  // Ids grow with every insert and only the oldest are deleted, so max - min bounds the count without a scan.
  // Two subqueries: SQLite seeks the rowid's ends only for a lone min() or max(); both in one
  // SELECT scan the whole table (about 3 ms at 100,000 entries, on every append).
  logIdRange: 'SELECT (SELECT min(id) FROM request_log) AS low, (SELECT max(id) FROM request_log) AS high',
  logTrim: 'DELETE FROM request_log WHERE id IN (SELECT id FROM request_log WHERE id <= ? ORDER BY id LIMIT ?)',
  logPurge: 'DELETE FROM request_log WHERE id IN (SELECT id FROM request_log WHERE started_at < ? ORDER BY started_at LIMIT ?)',
  statsAdd: `INSERT INTO stats (granularity, bucket, dimension, value, requests, successes, failures, prompt_tokens, completion_tokens,
       latency_sum_ms, ttft_sum_ms, ttft_count, latency_hist, ttft_hist)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (granularity, dimension, bucket, value) DO UPDATE SET
       requests = requests + excluded.requests,
       successes = successes + excluded.successes,
       failures = failures + excluded.failures,
       prompt_tokens = prompt_tokens + excluded.prompt_tokens,
       completion_tokens = completion_tokens + excluded.completion_tokens,
       latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,
       ttft_sum_ms = ttft_sum_ms + excluded.ttft_sum_ms,
       ttft_count = ttft_count + excluded.ttft_count,
       latency_hist = pool_hist_add(latency_hist, excluded.latency_hist),
       ttft_hist = pool_hist_add(ttft_hist, excluded.ttft_hist)`,
  statsPurge: `DELETE FROM stats WHERE (granularity, dimension, bucket, value) IN
       (SELECT granularity, dimension, bucket, value FROM stats WHERE granularity = ? AND bucket < ? LIMIT ?)`,
  statsCount: 'SELECT granularity, count(*) AS n FROM stats GROUP BY granularity',
  // Both by the primary key's prefix (granularity, dimension, bucket): a seek and a range, not a scan.
  statsOldest: 'SELECT min(bucket) AS bucket FROM stats WHERE granularity = ? AND dimension = ?',
  statsDropBucket: 'DELETE FROM stats WHERE granularity = ? AND dimension = ? AND bucket <= ?',
  settingsSet: `INSERT INTO settings (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
  settingsGet: 'SELECT value FROM settings WHERE namespace = ? AND key = ?',
} as const;

/** One request log row, in MAIN_WRITES_SQL.logInsert's order (attempts already JSON). */
export type LogRow = (string | number | null)[];
/** One stats increment, in MAIN_WRITES_SQL.statsAdd's order, the two histograms last as arrays. */
export type StatsArgs = [...(string | number)[], number[], number[]];

/** ',A,B,' so that one instr(',A,') finds a provider among the attempts without a join table. */
function attemptedProviders(entry: RequestLogEntry): string {
  const names = [...new Set(entry.attempts.map((a) => a.provider))];
  return names.length ? `,${names.join(',')},` : '';
}

/** A log entry as MAIN_WRITES_SQL.logInsert's parameters: this thread checks and encodes, the writer only writes. */
export function logRow(e: RequestLogEntry): LogRow {
  return [
    e.requestId,
    e.endpoint,
    e.model,
    e.stream ? 1 : 0,
    e.startedAt,
    e.status,
    e.provider,
    e.upstreamModel,
    e.latencyMs,
    e.ttftMs,
    e.usage?.prompt_tokens ?? null,
    e.usage?.completion_tokens ?? null,
    e.usage?.total_tokens ?? null,
    e.usageEstimated ? 1 : 0,
    toJson(e.attempts, `attempts of ${e.requestId}`),
    e.error,
    e.clientKey,
    attemptedProviders(e),
    e.alias ?? null,
  ];
}

export function statsArgs(inc: StatsIncrement): StatsArgs {
  return [
    inc.granularity,
    inc.bucket,
    inc.dimension,
    inc.value,
    inc.requests,
    inc.successes,
    inc.failures,
    inc.promptTokens,
    inc.completionTokens,
    inc.latencySumMs,
    inc.ttftSumMs,
    inc.ttftCount,
    inc.latencyHist,
    inc.ttftHist,
  ];
}

/** What MAIN_WRITER needs besides its connection. */
export interface MainWriterSettings {
  sql: typeof MAIN_WRITES_SQL;
  histogramSize: number;
  maxLogEntries: number;
  maxStatsRows: number;
  /** Once over its cap, a store is trimmed to this share of it. */
  trimTo: number;
  /** Rows a trim deletes per step. */
  deleteBatch: number;
  dimensions: readonly string[];
  /** Where the thread notes the last batch it committed (see ThreadMainWriter): one settings row. */
  mark: { namespace: string; key: string; run: string };
}

/**
 * The writer, as source that the storage thread runs and, where it cannot run, this thread
 * (compiled once, below): one implementation for both. `append` and `addStats` each write one
 * batch in one transaction; with a `mark`, the same transaction notes it as committed (a batch is
 * never made twice when the thread dies between its commit and its answer). The caps are kept in
 * steps (`trimLogStep`, `capStatsStep`: true while there is more to delete), each its own
 * transaction, so that the gateway's connection never waits long for the lock.
 * The stats keep an estimate of their rows per granularity, from the last count plus every
 * increment since (an upsert that only updated a row is counted too, so it overestimates), and
 * recount (one scan) only once it claims the cap is exceeded; then whole buckets go, oldest first,
 * from whichever granularity holds more rows, until the rows are under `trimTo` of the cap.
 */
const MAIN_WRITER = `
${applyCounterChange.toString()}
function mainWriter(db, o) {
  function histogram(text) {
    const parsed = JSON.parse(text);
    const values = Array.isArray(parsed) ? parsed.map((v) => (typeof v === 'number' ? v : 0)) : [];
    while (values.length < o.histogramSize) values.push(0);
    return values;
  }
  // The SQL function behind the stats upsert: element-wise sum of two JSON arrays.
  db.function('pool_hist_add', { deterministic: true, directOnly: true }, (a, b) => {
    const x = typeof a === 'string' ? histogram(a) : [];
    const y = typeof b === 'string' ? histogram(b) : [];
    return JSON.stringify(Array.from({ length: Math.max(x.length, y.length) }, (_, i) => (x[i] || 0) + (y[i] || 0)));
  });
  const st = {};
  for (const name of Object.keys(o.sql)) st[name] = db.prepare(o.sql[name]);
  const noteCommitted = (mark) => {
    if (mark !== undefined) st.settingsSet.run(o.mark.namespace, o.mark.key, JSON.stringify({ run: o.mark.run, seq: mark }), Date.now());
  };
  let keepAbove;
  let estimate;
  let capping = false;
  const count = () => new Map(st.statsCount.all().map((r) => [r.granularity, Number(r.n)]));
  const total = (counts) => [...counts.values()].reduce((a, b) => a + b, 0);
  return {
    append(rows, mark) {
      transaction(db, () => {
        for (const r of rows) st.logInsert.run(...r);
        noteCommitted(mark);
      });
    },
    addStats(rows, mark) {
      transaction(db, () => {
        for (const r of rows) st.statsAdd.run(...r.slice(0, -2), JSON.stringify(r[r.length - 2]), JSON.stringify(r[r.length - 1]));
        noteCommitted(mark);
      });
      if (o.maxStatsRows === Infinity || capping) return;
      estimate = estimate || count();
      for (const r of rows) estimate.set(r[0], (estimate.get(r[0]) || 0) + 1);
      if (total(estimate) > o.maxStatsRows) {
        estimate = count();
        capping = true;
      }
    },
    increment(namespace, key, change, now, mark) {
      transaction(db, () => {
        const row = st.settingsGet.get(namespace, key);
        st.settingsSet.run(namespace, key, JSON.stringify(applyCounterChange(row ? JSON.parse(row.value) : undefined, change)), now);
        noteCommitted(mark);
      });
    },
    deleteBatch: o.deleteBatch,
    purgeLogStep: (before) => Number(st.logPurge.run(before, o.deleteBatch).changes),
    purgeStatsStep: (granularity, before) => Number(st.statsPurge.run(granularity, before, o.deleteBatch).changes),
    probe: (now) => void st.settingsSet.run('health', 'write-probe', '{}', now),
    trimLogStep() {
      if (keepAbove === undefined) {
        const range = st.logIdRange.get();
        if (!range || range.high === null || range.low === null) return false;
        if (range.high - range.low + 1 <= o.maxLogEntries) return false;
        keepAbove = range.high - Math.floor(o.maxLogEntries * o.trimTo);
      }
      if (Number(st.logTrim.run(keepAbove, o.deleteBatch).changes) === o.deleteBatch) return true;
      keepAbove = undefined;
      return false;
    },
    capStatsStep() {
      if (!capping || total(estimate) <= o.maxStatsRows * o.trimTo) return (capping = false);
      const [granularity] = [...estimate.entries()].sort((a, b) => b[1] - a[1])[0];
      const oldest = Math.min(...o.dimensions.map((d) => st.statsOldest.get(granularity, d)?.bucket).filter((b) => typeof b === 'number'));
      if (!Number.isFinite(oldest)) return (capping = false);
      let n = 0;
      transaction(db, () => {
        for (const d of o.dimensions) n += Number(st.statsDropBucket.run(granularity, d, oldest).changes);
      });
      estimate.set(granularity, (estimate.get(granularity) || 0) - n);
      return true;
    },
    committed() {
      const row = st.settingsGet.get(o.mark.namespace, o.mark.key);
      const noted = row ? JSON.parse(row.value) : undefined;
      return noted && noted.run === o.mark.run ? noted.seq : 0;
    },
  };
}
`;

/** MAIN_WRITER as the thread runs it: with each batch, the caps' steps until there is nothing left to delete. */
export const MAIN_WRITER_THREAD = `
${MAIN_WRITER}
function mainThreadOps(w) {
  return {
    log(mark, rows) {
      w.append(rows, mark);
      while (w.trimLogStep());
    },
    stats(mark, rows) {
      w.addStats(rows, mark);
      while (w.capStatsStep());
    },
    increment(mark, namespace, key, change, now) {
      w.increment(namespace, key, change, now, mark);
    },
    purgeLog: (before) => steps(() => w.purgeLogStep(before)),
    purgeStats: (granularity, before) => steps(() => w.purgeStatsStep(granularity, before)),
    probe: w.probe,
  };
  /** Deletes step after step (each its own statement, so the gateway's connection can write between) until one is short. */
  function steps(step) {
    let deleted = 0;
    for (;;) {
      const n = step();
      deleted += n;
      if (n < w.deleteBatch) return deleted;
    }
  }
}
`;

/** MAIN_WRITER's writer, as this thread runs it. */
interface MainWriter {
  append(rows: LogRow[], mark?: number): void;
  addStats(rows: StatsArgs[], mark?: number): void;
  /** SettingsStore.increment, in one transaction. */
  increment(namespace: string, key: string, change: CounterChange, now: number, mark?: number): void;
  trimLogStep(): boolean;
  readonly deleteBatch: number;
  /** How many rows one step of a purge deleted. */
  purgeLogStep(before: number): number;
  purgeStatsStep(granularity: Granularity, before: number): number;
  /** The health check's small write (SqliteStorage.checkWritable). */
  probe(now: number): void;
  capStatsStep(): boolean;
  /** The last batch the thread noted as committed in this run; 0 for none. */
  committed(): number;
}

/** MAIN_WRITER compiled for this thread (with THREAD_SERVE's `transaction`; its `serve` is never called here). */
const compiledMainWriter = compileFunction(`${THREAD_SERVE}\n${MAIN_WRITER}\nreturn mainWriter(db, settings);`, ['db', 'settings']) as (
  db: DatabaseSync,
  settings: MainWriterSettings,
) => MainWriter;

/** The settings row where the thread notes the last batch it committed (with its run's id, see MainWriterSettings.mark). */
export const THREAD_MARK = { namespace: 'storage', key: 'thread-committed' } as const;

/** The request log's and the stats' writes; each resolves once committed (and its cap kept). */
export interface MainWrites {
  appendLog(rows: LogRow[]): Promise<void>;
  addStats(rows: StatsArgs[]): Promise<void>;
  increment(namespace: string, key: string, change: CounterChange, now: number): Promise<void>;
  /** Deletes log entries started before `before`; returns how many. */
  purgeLog(before: number): Promise<number>;
  purgeStats(granularity: Granularity, before: number): Promise<number>;
  probe(now: number): Promise<void>;
}

/** A call to the storage thread for MAIN_WRITER_THREAD's ops: `mark` numbers the batch. */
export type MainOp =
  | { op: 'log'; args: [mark: number, rows: LogRow[]] }
  | { op: 'stats'; args: [mark: number, rows: StatsArgs[]] }
  | { op: 'increment'; args: [mark: number, namespace: string, key: string, change: CounterChange, now: number] }
  | { op: 'purgeLog'; args: [before: number] }
  | { op: 'purgeStats'; args: [granularity: Granularity, before: number] }
  | { op: 'probe'; args: [now: number] };

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The writes on a connection of this thread: for ':memory:' (no other thread can open it), where
 * the thread cannot run, and once it has died. The caps' steps run with requests between them.
 */
export class InlineMainWriter implements MainWrites {
  private readonly writer: MainWriter;
  /** Batches up to this mark were committed by the thread before it died: made again, they would count twice. */
  private readonly committedByThread: number;

  constructor(db: DatabaseSync, settings: MainWriterSettings, afterThread = false) {
    this.writer = compiledMainWriter(db, settings);
    this.committedByThread = afterThread ? this.writer.committed() : 0;
  }

  async appendLog(rows: LogRow[]): Promise<void> {
    this.writer.append(rows);
    while (this.writer.trimLogStep()) await yieldToRequests();
  }

  async addStats(rows: StatsArgs[]): Promise<void> {
    this.writer.addStats(rows);
    while (this.writer.capStatsStep()) await yieldToRequests();
  }

  async increment(namespace: string, key: string, change: CounterChange, now: number): Promise<void> {
    this.writer.increment(namespace, key, change, now);
  }

  async purgeLog(before: number): Promise<number> {
    return this.steps(() => this.writer.purgeLogStep(before));
  }

  async purgeStats(granularity: Granularity, before: number): Promise<number> {
    return this.steps(() => this.writer.purgeStatsStep(granularity, before));
  }

  async probe(now: number): Promise<void> {
    this.writer.probe(now);
  }

  /** A purge may delete millions of rows (after lowering LOG_RETENTION_DAYS): in steps, requests running between them. */
  private async steps(step: () => number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = step();
      deleted += n;
      if (n < this.writer.deleteBatch) return deleted;
      await yieldToRequests();
    }
  }

  /** A call the thread did not answer, made here (unless the thread committed it: purges and probes may simply be made again). */
  run(call: MainOp): Promise<unknown> {
    switch (call.op) {
      case 'purgeLog':
        return this.purgeLog(call.args[0]);
      case 'purgeStats':
        return this.purgeStats(...call.args);
      case 'probe':
        return this.probe(call.args[0]);
    }
    if (call.args[0] <= this.committedByThread) return Promise.resolve();
    switch (call.op) {
      case 'log':
        return this.appendLog(call.args[1]);
      case 'stats':
        return this.addStats(call.args[1]);
      case 'increment':
        return this.increment(...(call.args.slice(1) as [string, string, CounterChange, number]));
    }
  }
}

/** The writes as calls to the storage thread, each batch numbered for its mark. */
export class ThreadMainWriter implements MainWrites {
  private mark = 0;

  constructor(private readonly call: (op: MainOp) => Promise<unknown>) {}

  async appendLog(rows: LogRow[]): Promise<void> {
    await this.call({ op: 'log', args: [++this.mark, rows] });
  }

  async addStats(rows: StatsArgs[]): Promise<void> {
    await this.call({ op: 'stats', args: [++this.mark, rows] });
  }

  async increment(namespace: string, key: string, change: CounterChange, now: number): Promise<void> {
    await this.call({ op: 'increment', args: [++this.mark, namespace, key, change, now] });
  }

  purgeLog(before: number): Promise<number> {
    return this.call({ op: 'purgeLog', args: [before] }) as Promise<number>;
  }

  purgeStats(granularity: Granularity, before: number): Promise<number> {
    return this.call({ op: 'purgeStats', args: [granularity, before] }) as Promise<number>;
  }

  async probe(now: number): Promise<void> {
    await this.call({ op: 'probe', args: [now] });
  }
}
