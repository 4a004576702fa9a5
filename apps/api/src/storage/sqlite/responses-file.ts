import { basename, dirname, extname, join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { StoredResponseWrite } from '../storage.ts';

/**
 * Stored Responses API answers. With a database file they live in a file of their own beside it
 * (`gpt4free-pool.db` → `gpt4free-pool-responses.db`), written by a worker thread: an answer's
 * insert and the commit that writes its pages cost about 55 µs of the event loop per stored
 * answer, a sixth of what streaming the answer costs. A file of its own means the thread never
 * holds a lock that the gateway's connection (request log, stats, settings) would wait for.
 * Reads stay on the gateway's thread, on a connection of their own: WAL readers never wait.
 */
export const RESPONSES_SCHEMA = `
  CREATE TABLE IF NOT EXISTS responses (
    id         TEXT    NOT NULL UNIQUE,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    document   TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS responses_expires_at ON responses (expires_at);
`;

/**
 * A rowid table, not WITHOUT ROWID: a document is kilobytes, and a WITHOUT ROWID b-tree keeps
 * whole rows in its key order, splitting and moving pages of them on insert. Here a row is
 * appended to the table and only the id goes into an index: 17 µs of the thread's CPU per stored
 * answer instead of 33 (2.4 KB documents, batches of 32, on a 50,000-row file). Files written
 * before are copied into this layout once, at start (expired rows left behind).
 */
export function upgradeResponsesTable(db: DatabaseSync, now: number): boolean {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'responses'").get();
  if (typeof row?.sql !== 'string' || !/WITHOUT\s+ROWID/i.test(row.sql)) return false;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec('ALTER TABLE responses RENAME TO responses_without_rowid');
    db.exec('DROP INDEX IF EXISTS responses_expires_at');
    db.exec(RESPONSES_SCHEMA);
    db.prepare(
      'INSERT INTO responses (id, owner, expires_at, document) SELECT id, owner, expires_at, document FROM responses_without_rowid WHERE expires_at > ?',
    ).run(now);
    db.exec('DROP TABLE responses_without_rowid');
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
  return true;
}

/** The statements, shared by the thread and this one (the same table in the main database, for ':memory:'). */
export const RESPONSES_SQL = {
  put: `INSERT INTO responses (id, owner, expires_at, document) VALUES (?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, document = excluded.document`,
  get: 'SELECT * FROM responses WHERE id = ? AND expires_at > ?',
  delete: 'DELETE FROM responses WHERE id = ? AND expires_at > ?',
  purge: 'DELETE FROM responses WHERE id IN (SELECT id FROM responses WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)',
  extend: 'UPDATE responses SET expires_at = ? WHERE id = ? AND expires_at < ? AND expires_at > ?',
} as const;

/** Rows a purge deletes per statement. */
export const PURGE_STEP = 500;

export function responsesFileOf(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}-responses${ext || '.db'}`);
}

/** The writes of the responses store; every one resolves once committed. */
export interface ResponseWriter {
  put(rows: readonly StoredResponseWrite[]): Promise<void>;
  extend(ids: readonly string[], expiresAt: number, ifBefore: number, now: number): Promise<void>;
  /** How many rows were deleted. */
  delete(id: string, now: number): Promise<number>;
  purgeExpired(now: number): Promise<number>;
  close(): Promise<void>;
}

type Row = [id: string, owner: string, expiresAt: number, json: string];
/** A call to the storage thread for RESPONSES_THREAD's ops. */
export type ResponsesOp =
  | { op: 'put'; args: [Row[]] }
  | { op: 'extend'; args: [readonly string[], number, number, number] }
  | { op: 'delete'; args: [string, number] }
  | { op: 'purge'; args: [number, number] };

const rowsOf = (rows: readonly StoredResponseWrite[]): Row[] => rows.map((r) => [r.id, r.owner, r.expiresAt, r.json]);
const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Writes on a connection of this thread: for ':memory:' (no other thread can open it), and where
 * the thread cannot run. Purges step with requests running between steps.
 */
export class InlineResponseWriter implements ResponseWriter {
  private readonly st: Record<'put' | 'delete' | 'purge' | 'extend', StatementSync>;

  constructor(private readonly db: DatabaseSync) {
    this.st = {
      put: db.prepare(RESPONSES_SQL.put),
      delete: db.prepare(RESPONSES_SQL.delete),
      purge: db.prepare(RESPONSES_SQL.purge),
      extend: db.prepare(RESPONSES_SQL.extend),
    };
  }

  async put(rows: readonly StoredResponseWrite[]): Promise<void> {
    this.transaction(() => {
      for (const r of rows) this.st.put.run(r.id, r.owner, r.expiresAt, r.json);
    });
  }

  async extend(ids: readonly string[], expiresAt: number, ifBefore: number, now: number): Promise<void> {
    this.transaction(() => {
      for (const id of ids) this.st.extend.run(expiresAt, id, ifBefore, now);
    });
  }

  async delete(id: string, now: number): Promise<number> {
    return Number(this.st.delete.run(id, now).changes);
  }

  async purgeExpired(now: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const n = Number(this.st.purge.run(now, PURGE_STEP).changes);
      deleted += n;
      if (n < PURGE_STEP) return deleted;
      await yieldToRequests();
    }
  }

  async close(): Promise<void> {
    // The connection is its owner's to close.
  }

  private transaction(fn: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }
}

/** The responses store's writes as calls to the storage thread (see storage-thread.ts), which runs RESPONSES_THREAD's ops. */
export class ThreadResponseWriter implements ResponseWriter {
  constructor(
    private readonly call: (op: ResponsesOp) => Promise<unknown>,
    private readonly closeThread: () => Promise<void>,
  ) {}

  put(rows: readonly StoredResponseWrite[]): Promise<void> {
    return this.call({ op: 'put', args: [rowsOf(rows)] }) as Promise<void>;
  }

  extend(ids: readonly string[], expiresAt: number, ifBefore: number, now: number): Promise<void> {
    return this.call({ op: 'extend', args: [ids, expiresAt, ifBefore, now] }) as Promise<void>;
  }

  delete(id: string, now: number): Promise<number> {
    return this.call({ op: 'delete', args: [id, now] }) as Promise<number>;
  }

  purgeExpired(now: number): Promise<number> {
    return this.call({ op: 'purge', args: [now, PURGE_STEP] }) as Promise<number>;
  }

  /** Waits for the writes under way, then ends the thread (its connections close with it). */
  close(): Promise<void> {
    return this.closeThread();
  }
}

/** A call the thread did not answer, made on this thread's writer instead (each is idempotent). */
export function runResponsesOp(writer: InlineResponseWriter, { op, args }: ResponsesOp): Promise<unknown> {
  switch (op) {
    case 'put':
      return writer.put(args[0].map(([id, owner, expiresAt, json]) => ({ id, owner, expiresAt, json })));
    case 'extend':
      return writer.extend(...args);
    case 'delete':
      return writer.delete(...args);
    case 'purge':
      return writer.purgeExpired(args[0]);
  }
}

/**
 * The thread's side: `responsesThreadOps(db, sql)` prepares the statements on its connection to
 * the responses file and returns the ops it serves, one transaction per batch of puts or extends.
 */
export const RESPONSES_THREAD = `
function responsesThreadOps(db, sql) {
  const st = { put: db.prepare(sql.put), delete: db.prepare(sql.delete), purge: db.prepare(sql.purge), extend: db.prepare(sql.extend) };
  return {
    put: (rows) => transaction(db, () => { for (const r of rows) st.put.run(r[0], r[1], r[2], r[3]); }),
    extend: (ids, expiresAt, ifBefore, now) => transaction(db, () => { for (const id of ids) st.extend.run(expiresAt, id, ifBefore, now); }),
    delete: (id, now) => Number(st.delete.run(id, now).changes),
    purge: (now, step) => {
      let deleted = 0;
      for (;;) {
        const n = Number(st.purge.run(now, step).changes);
        deleted += n;
        if (n < step) return deleted;
      }
    },
  };
}
`;
