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
