import type { Worker } from 'node:worker_threads';
import { MAIN_WRITER_THREAD, ThreadMainWriter, type InlineMainWriter, type MainOp, type MainWriterSettings } from './main-writer.ts';
import { RESPONSES_SQL, RESPONSES_THREAD, ThreadResponseWriter, runResponsesOp, type InlineResponseWriter, type ResponsesOp } from './responses-file.ts';
import { THREAD_SERVE, ThreadCalls, startSqliteThread } from './sqlite-thread.ts';

export type StorageOp = ResponsesOp | MainOp;

export interface StorageThreadOptions {
  /** The main database: the request log and the stats are written here, and its write-ahead log checkpointed. */
  file: string;
  /** The stored responses' file (see responses-file.ts). */
  responsesFile: string;
  busyTimeoutMs: number;
  main: MainWriterSettings;
  /** PASSIVE checkpoints of the main database this often, as WalCheckpointer makes them; 0 for none. */
  checkpointEveryMs: number;
}

/** The writers on this thread that the writes fall back to once the storage thread has died. */
export interface InlineWriters {
  responses: InlineResponseWriter;
  main: InlineMainWriter;
}

const MAIN_OPS: ReadonlySet<string> = new Set<MainOp['op']>(['log', 'stats', 'increment', 'purgeLog', 'purgeStats', 'probe']);
const isMainOp = (op: StorageOp): op is MainOp => MAIN_OPS.has(op.op);

/**
 * The one storage thread (each thread costs some 10 MB of memory): it writes stored responses,
 * the request log, the stats and the counters' increments, and checkpoints the main database. If it dies, `fallback` opens
 * writers on this thread and every write still waiting is made again there (stored responses'
 * writes are idempotent; a batch of the log or the stats that the thread committed is skipped, see
 * MainWriterSettings.mark), as are the writes after it.
 */
export class StorageThread {
  readonly responses: ThreadResponseWriter;
  readonly main: ThreadMainWriter;
  private readonly calls: ThreadCalls<StorageOp>;

  private constructor(worker: Worker, fallback: (reason: string) => InlineWriters) {
    this.calls = new ThreadCalls<StorageOp>(
      worker,
      (reason) => {
        const inline = fallback(reason);
        return (op) => (isMainOp(op) ? inline.main.run(op) : runResponsesOp(inline.responses, op));
      },
      'the storage thread',
    );
    const call = (op: StorageOp) => this.calls.call(op);
    this.responses = new ThreadResponseWriter(call, () => this.close());
    this.main = new ThreadMainWriter(call);
  }

  /** Starts the thread; rejects when it cannot open either file. `fallback` is called if it dies later. */
  static start(options: StorageThreadOptions, fallback: (reason: string) => InlineWriters): Promise<StorageThread> {
    return startSqliteThread(WORKER_SOURCE, { ...options, responsesSql: RESPONSES_SQL }, 'the storage thread').then(
      (worker) => new StorageThread(worker, fallback),
    );
  }

  /** The thread while it writes (tests end it to see the writes carry on). */
  get thread(): Worker | undefined {
    return this.calls.thread;
  }

  /** Waits for the writes under way, then ends the thread (its connections close with it). */
  close(): Promise<void> {
    return this.calls.close();
  }
}

/**
 * The thread: a connection to the main database (synchronous = NORMAL, as the gateway's) and one
 * to the responses file. A failed open is reported and ends the thread; a failed write is reported
 * to its caller; a failed checkpoint is tried next time.
 */
const WORKER_SOURCE = `
const { DatabaseSync } = require('node:sqlite');
const { parentPort, workerData } = require('node:worker_threads');
const { file, responsesFile, busyTimeoutMs, main, checkpointEveryMs, responsesSql } = workerData;
${THREAD_SERVE}
${RESPONSES_THREAD}
${MAIN_WRITER_THREAD}
let opening = file, mdb, ops;
try {
  mdb = new DatabaseSync(file, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
  mdb.exec('PRAGMA synchronous = NORMAL');
  mdb.exec('PRAGMA journal_size_limit = 67108864');
  const mainOps = mainThreadOps(mainWriter(mdb, main));
  opening = responsesFile;
  const rdb = new DatabaseSync(responsesFile, { timeout: busyTimeoutMs });
  rdb.exec('PRAGMA journal_mode = WAL');
  rdb.exec('PRAGMA synchronous = NORMAL');
  rdb.exec('PRAGMA journal_size_limit = 67108864');
  ops = { ...responsesThreadOps(rdb, responsesSql), ...mainOps };
} catch (err) {
  parentPort.postMessage({ fatal: 'cannot open ' + opening + ': ' + ((err && err.message) || err) });
  process.exit(1);
}
if (checkpointEveryMs > 0) {
  setInterval(() => {
    try {
      mdb.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch {
      // busy or locked: the next turn tries again
    }
  }, checkpointEveryMs);
}
serve(ops);
`;
