import { Worker } from 'node:worker_threads';

/**
 * What every SQLite writer thread's source (CommonJS, run with `eval`) ends with: `transaction(db,
 * fn)`, and `serve(ops)`, which answers each `{ seq, op, args }` message with `ops[op](...args)`'s
 * result or error and then says the thread is ready. The source before it opens its connection
 * and, where it cannot, posts `{ fatal }` and exits.
 */
export const THREAD_SERVE = `
function transaction(db, fn) {
  db.exec('BEGIN IMMEDIATE');
  try {
    fn();
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
function serve(ops) {
  parentPort.on('message', (m) => {
    try {
      const result = ops[m.op](...m.args);
      parentPort.postMessage({ seq: m.seq, result });
    } catch (err) {
      parentPort.postMessage({ seq: m.seq, error: String((err && err.message) || err) });
    }
  });
  parentPort.postMessage({ ready: true });
}
`;

/** Starts a thread from `source` and resolves once it is ready; rejects with its `fatal` message when it cannot open its file. */
export function startSqliteThread(source: string, workerData: unknown, what: string): Promise<Worker> {
  // No inherited options: under --input-type=module the thread's CommonJS source would not run.
  const worker = new Worker(source, { eval: true, execArgv: [], workerData });
  return new Promise((resolve, reject) => {
    const onStart = (m: { ready?: boolean; fatal?: string }) => {
      worker.off('message', onStart);
      worker.off('exit', onExit);
      if (m.ready) resolve(worker);
      else {
        void worker.terminate();
        reject(new Error(m.fatal ?? `${what} did not start`));
      }
    };
    const onExit = (code: number) => reject(new Error(`${what} exited (${code}) before it started`));
    worker.on('message', onStart);
    worker.once('exit', onExit);
  });
}

/** A call a thread has yet to answer. */
export interface ThreadCall {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * Settles each call `worker` answers (named by its `seq`, taken from `waiting`). The thread is
 * referenced only while a call waits for it (callers ref it when they post the first), so that
 * an idle thread never keeps the process alive.
 */
export function settleAnswers<T extends ThreadCall>(worker: Worker, waiting: Map<number, T>): void {
  worker.on('message', (m: { seq: number; result?: unknown; error?: string }) => {
    const w = waiting.get(m.seq);
    if (!w) return;
    waiting.delete(m.seq);
    if (!waiting.size) worker.unref();
    if (m.error !== undefined) w.reject(new Error(m.error));
    else w.resolve(m.result);
  });
  worker.unref();
}

/** A call to a writer thread: the name of one of the ops its source serves, and their arguments. */
export interface ThreadOp {
  op: string;
  args: readonly unknown[];
}

/** Makes one call on this thread's own connection, once the writer thread is gone. */
export type InlineOps<O extends ThreadOp> = (op: O) => Promise<unknown>;

/**
 * The calls to a writer thread, and what happens when it dies: `fallback` opens a writer on this
 * thread, every call still waiting is made again there (each must be idempotent: an upsert, a
 * delete, a purge, a count), as are the calls after it. Where `fallback` throws, those calls fail
 * with its error. The thread is referenced only while a call waits for it.
 */
export class ThreadCalls<O extends ThreadOp> {
  private seq = 0;
  private readonly waiting = new Map<number, ThreadCall & { op: O }>();
  /** Every call under way, for close() to wait for. */
  private readonly pending = new Set<Promise<unknown>>();
  private inline?: InlineOps<O>;
  private failure?: Error;
  private closing = false;

  /** `what` names the writer in the error of a call after close(): 'the responses store'. */
  constructor(
    private readonly worker: Worker,
    private readonly fallback: (reason: string) => InlineOps<O>,
    private readonly what: string,
  ) {
    settleAnswers(worker, this.waiting);
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => this.fail(`exit code ${code}`));
  }

  /** The thread while it is the writer (tests end it to see the writes carry on). */
  get thread(): Worker | undefined {
    return this.inline || this.failure || this.closing ? undefined : this.worker;
  }

  call(op: O): Promise<unknown> {
    if (this.closing || this.failure) return Promise.reject(this.failure ?? new Error(`${this.what} is closed`));
    const done: Promise<unknown> = this.inline
      ? this.inline(op)
      : new Promise((resolve, reject) => {
          const seq = ++this.seq;
          if (!this.waiting.size) this.worker.ref();
          this.waiting.set(seq, { op, resolve, reject });
          this.worker.postMessage({ seq, op: op.op, args: op.args });
        });
    this.pending.add(done);
    const forget = () => this.pending.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** Waits for the calls under way, then ends the thread (its connection closes with it). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.allSettled(this.pending);
    await this.worker.terminate();
  }

  private fail(reason: string): void {
    if (this.inline || this.failure || (this.closing && !this.waiting.size)) return;
    try {
      this.inline = this.fallback(reason.slice(0, 300));
    } catch (err) {
      this.failure = err as Error;
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
      return;
    }
    const inline = this.inline;
    for (const w of this.waiting.values()) inline(w.op).then(w.resolve, w.reject);
    this.waiting.clear();
  }
}
