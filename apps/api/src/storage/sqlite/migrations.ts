import type { DatabaseSync } from 'node:sqlite';

/**
 * One schema step. `version` is the `PRAGMA user_version` the database has once the step
 * is applied. Steps must be idempotent: a step is re-run if the process died after its
 * DDL but before its commit is durable, and SQLite cannot roll back every side effect.
 */
export interface Migration {
  version: number;
  description: string;
  up(db: DatabaseSync): void;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** node:sqlite throws errors of the main realm, which fail `instanceof Error` under Jest's VM modules. */
function messageOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string' ? err.message : String(err);
}

function hasColumn(db: DatabaseSync, table: string, column: string): boolean {
  return db
    .prepare(`SELECT 1 AS found FROM pragma_table_info(?) WHERE name = ?`)
    .all(table, column)
    .some((row) => row.found === 1);
}

function addColumnIfMissing(db: DatabaseSync, table: string, column: string, definition: string): void {
  if (!hasColumn(db, table, column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}

/** Append only: never edit a step that has shipped, add the next version instead. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'settings, request log, stats and health tables',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS settings (
          namespace  TEXT    NOT NULL,
          key        TEXT    NOT NULL,
          value      TEXT    NOT NULL CHECK (json_valid(value)),
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (namespace, key)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS request_log (
          id                INTEGER PRIMARY KEY,
          request_id        TEXT    NOT NULL,
          endpoint          TEXT    NOT NULL,
          model             TEXT    NOT NULL,
          stream            INTEGER NOT NULL,
          started_at        INTEGER NOT NULL,
          status            INTEGER NOT NULL,
          provider          TEXT,
          upstream_model    TEXT,
          latency_ms        INTEGER NOT NULL,
          ttft_ms           INTEGER,
          prompt_tokens     INTEGER,
          completion_tokens INTEGER,
          total_tokens      INTEGER,
          usage_estimated   INTEGER NOT NULL,
          attempts          TEXT    NOT NULL CHECK (json_valid(attempts)),
          error             TEXT,
          client_key        TEXT
        );
        CREATE INDEX IF NOT EXISTS request_log_started_at ON request_log (started_at);
        CREATE INDEX IF NOT EXISTS request_log_model ON request_log (model, started_at);
        CREATE INDEX IF NOT EXISTS request_log_provider ON request_log (provider, started_at);
        CREATE INDEX IF NOT EXISTS request_log_status ON request_log (status, started_at);

        CREATE TABLE IF NOT EXISTS stats (
          granularity       TEXT    NOT NULL,
          bucket            INTEGER NOT NULL,
          dimension         TEXT    NOT NULL,
          value             TEXT    NOT NULL,
          requests          INTEGER NOT NULL,
          successes         INTEGER NOT NULL,
          failures          INTEGER NOT NULL,
          prompt_tokens     INTEGER NOT NULL,
          completion_tokens INTEGER NOT NULL,
          latency_sum_ms    INTEGER NOT NULL,
          ttft_sum_ms       INTEGER NOT NULL,
          ttft_count        INTEGER NOT NULL,
          latency_hist      TEXT    NOT NULL,
          ttft_hist         TEXT    NOT NULL,
          -- This column order serves the one query shape (granularity, dimension, bucket range).
          PRIMARY KEY (granularity, dimension, bucket, value)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS health (
          id         INTEGER PRIMARY KEY,
          provider   TEXT    NOT NULL,
          checked_at INTEGER NOT NULL,
          ok         INTEGER NOT NULL,
          latency_ms INTEGER NOT NULL,
          probe      TEXT    NOT NULL,
          error      TEXT
        );
        CREATE INDEX IF NOT EXISTS health_provider ON health (provider, checked_at);
        CREATE INDEX IF NOT EXISTS health_checked_at ON health (checked_at);
      `);
    },
  },
  {
    version: 2,
    description: 'request_log.attempted_providers (",A,B,") for the provider filter, and the client key index',
    up(db) {
      addColumnIfMissing(db, 'request_log', 'attempted_providers', `TEXT NOT NULL DEFAULT ''`);
      db.exec(`
        UPDATE request_log SET attempted_providers = COALESCE((
          SELECT ',' || group_concat(p, ',') || ','
          FROM (SELECT DISTINCT json_extract(a.value, '$.provider') AS p FROM json_each(request_log.attempts) AS a WHERE p IS NOT NULL)
        ), '')
        WHERE attempted_providers = '';
        CREATE INDEX IF NOT EXISTS request_log_client_key ON request_log (client_key, started_at);
      `);
    },
  },
  {
    version: 3,
    description: 'responses: stored Responses API answers, each with its expiry',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS responses (
          id         TEXT    PRIMARY KEY,
          owner      TEXT    NOT NULL,
          expires_at INTEGER NOT NULL,
          document   TEXT    NOT NULL CHECK (json_valid(document))
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS responses_expires_at ON responses (expires_at);
      `);
    },
  },
  {
    version: 4,
    description: 'request_log.alias: the model alias a request matched (NULL for older rows and catalog ids)',
    up(db) {
      addColumnIfMissing(db, 'request_log', 'alias', 'TEXT');
    },
  },
  {
    version: 5,
    description: 'health.model: the gateway model a chat probe asked (NULL for model-list reads and older rows)',
    up(db) {
      addColumnIfMissing(db, 'health', 'model', 'TEXT');
    },
  },
];

export const LATEST_VERSION = MIGRATIONS.length;

export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get();
  const version = row?.user_version;
  if (typeof version !== 'number') throw new MigrationError('cannot read PRAGMA user_version');
  return version;
}

/**
 * Brings the database to the last version of `migrations`, one transaction per step, so
 * a failing step leaves the database at the previous version with none of its changes.
 * Refuses a database newer than this code: an older release must not write to a schema
 * it does not know (for instance after a rollback of the deployment).
 */
export function migrate(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new MigrationError(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const from = schemaVersion(db);
  if (from > latest) {
    throw new MigrationError(`the database is at schema version ${from}, newer than this release knows (${latest}); upgrade the application`);
  }
  for (const step of migrations.slice(from)) {
    // IMMEDIATE: another process opening the same file waits instead of migrating concurrently.
    db.exec('BEGIN IMMEDIATE');
    try {
      // Re-read inside the write lock: another process may have applied this step meanwhile.
      if (schemaVersion(db) < step.version) {
        step.up(db);
        db.exec(`PRAGMA user_version = ${step.version}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw new MigrationError(`migration ${step.version} (${step.description}) failed: ${messageOf(err)}`, { cause: err });
    }
  }
  return { from, to: Math.max(from, latest) };
}
