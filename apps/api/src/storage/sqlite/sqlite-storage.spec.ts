import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { jest } from '@jest/globals';
import { Global, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { APP_CONFIG, loadConfig } from '../../config/app-config.ts';
import { describeStorageContract, hist, increment, logEntry } from '../storage.contract.ts';
import { SQLITE_FILE_NAME, StorageModule } from '../storage.module.ts';
import { STORAGE, type LogFilter, type RequestLogEntry, type Storage, type StoredResponseWrite } from '../storage.ts';
import { LATEST_VERSION, MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations.ts';
import { MAIN_WRITES_SQL } from './main-writer.ts';
import { DELETE_BATCH, RESPONSES_PAGE_BYTES, SqliteStorage } from './sqlite-storage.ts';

const T0 = Date.UTC(2030, 0, 1);

let root: string;
let fileCounter = 0;
const freshFile = (): string => join(root, `db-${++fileCounter}`, 'pool.db');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'g4f-sqlite-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function open(file: string): Promise<SqliteStorage> {
  const storage = new SqliteStorage({ file });
  await storage.init();
  return storage;
}

/** A second, raw connection, to look at the file the way another tool would. */
function inspect<T>(file: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Runs `writes`, checking that no statement ran on this thread meanwhile (they are the storage thread's). */
async function offThisThread(writes: () => Promise<void>): Promise<void> {
  const run = jest.spyOn(StatementSync.prototype, 'run');
  const exec = jest.spyOn(DatabaseSync.prototype, 'exec');
  try {
    await writes();
    expect(run).not.toHaveBeenCalled();
    expect(exec).not.toHaveBeenCalled();
  } finally {
    run.mockRestore();
    exec.mockRestore();
  }
}

describeStorageContract('SqliteStorage :memory:', () => open(':memory:'));
describeStorageContract('SqliteStorage file', () => open(freshFile()));

describe('SqliteStorage', () => {
  it('prepares no statement that reads a whole table, except the rare ones named here', async () => {
    // Each of these runs on the event loop, most of them for every request or every batch of the
    // request log: a scan grows with the table (100,000 log entries by default) and stalls requests.
    const rareScans: Record<string, string> = {
      'SELECT granularity, count(*) AS n FROM stats GROUP BY granularity': 'a recount, only once the estimate claims the stats cap is exceeded',
      'SELECT count(*) AS n FROM responses': 'once at start, moving stored responses to their own file',
      "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'responses'": 'once at start, the responses file’s table layout (the schema table)',
    };
    const prepared: string[] = [];
    const prepare = DatabaseSync.prototype.prepare;
    const spy = jest.spyOn(DatabaseSync.prototype, 'prepare').mockImplementation(function (this: DatabaseSync, sql: string) {
      prepared.push(sql);
      return prepare.call(this, sql);
    });
    const file = freshFile();
    const storage = await open(file);
    spy.mockRestore();
    await storage.close();
    // The request log's and the stats' writes are prepared on the storage thread, out of the spy's sight.
    prepared.push(...Object.values(MAIN_WRITES_SQL));
    const scans = inspect(file, (db) => {
      db.function('pool_hist_add', (a, _b) => a);
      return prepared
        .filter((sql) => !sql.startsWith('PRAGMA') && !sql.includes('pragma_table_info'))
        .flatMap((sql) => {
          const holes = sql.match(/\?/g)?.length ?? 0;
          const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<null>(holes).fill(null));
          return plan.some((step) => /^SCAN (?!pragma|CONSTANT ROW)/.test(String(step.detail))) ? [sql.replace(/\s+/g, ' ').trim()] : [];
        });
    });
    expect(prepared.length).toBeGreaterThan(15);
    expect(scans.filter((sql) => !(sql in rareScans))).toEqual([]);
  });

  it('creates missing directories and opens the file in WAL mode at the latest schema version', async () => {
    const file = join(root, 'deep', 'er', 'pool.db');
    const storage = await open(file);
    expect(existsSync(file)).toBe(true);
    expect(storage.file).toBe(file);
    await storage.close();
    inspect(file, (db) => {
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      expect(schemaVersion(db)).toBe(LATEST_VERSION);
    });
  });

  it('keeps everything across close and reopen of the same file', async () => {
    const file = freshFile();
    const first = await open(file);
    await first.settings.set('providers', 'DeepInfra', { enabled: false, note: 'ärger' });
    await first.log.append([logEntry({ requestId: 'kept' })]);
    await first.stats.add([increment()]);
    await first.health.append([{ provider: 'Together', checkedAt: T0, ok: false, latencyMs: 1, probe: 'chat', model: 'llama-3.1-8b', error: 'boom' }]);
    await first.close();

    const second = await open(file);
    await second.stats.add([increment()]);
    expect(await second.settings.get('providers', 'DeepInfra')).toEqual({ enabled: false, note: 'ärger' });
    expect((await second.log.query({}, { offset: 0, limit: 10 })).items).toEqual([logEntry({ requestId: 'kept' })]);
    expect((await second.stats.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 }))[0]).toMatchObject({
      requests: 2,
      latencyHist: hist([4, 2]),
    });
    expect(await second.health.history('Together', 5)).toEqual([
      { provider: 'Together', checkedAt: T0, ok: false, latencyMs: 1, probe: 'chat', model: 'llama-3.1-8b', error: 'boom' },
    ]);
    await second.close();
  });

  it('refuses use before init and after close; close is idempotent and completes the change stream', async () => {
    const storage = new SqliteStorage({ file: ':memory:' });
    await expect(storage.settings.get('a', 'b')).rejects.toThrow(/init/);
    await storage.init();
    await storage.init();
    let completed = false;
    storage.settings.changes.subscribe({ complete: () => (completed = true) });
    await storage.close();
    await storage.close();
    expect(completed).toBe(true);
    await expect(storage.log.query({}, { offset: 0, limit: 1 })).rejects.toThrow(/closed/);
    await expect(storage.init()).rejects.toThrow(/closed/);
  });

  it('rejects what it cannot store faithfully', async () => {
    const storage = await open(':memory:');
    await expect(storage.settings.set('a', 'b', undefined)).rejects.toThrow(/JSON/);
    await expect(storage.log.query({}, { offset: -1, limit: 10 })).rejects.toThrow(RangeError);
    await expect(storage.log.query({}, { offset: 0, limit: 1.5 })).rejects.toThrow(RangeError);
    expect(await storage.settings.get('a', 'b')).toBeUndefined();
    await storage.close();
  });

  it('a failing batch leaves nothing behind', async () => {
    const storage = await open(':memory:');
    const circular: { self?: unknown } = {};
    circular.self = circular;
    const broken = logEntry({ requestId: 'broken', attempts: [circular as unknown as RequestLogEntry['attempts'][number]] });
    await expect(storage.log.append([logEntry({ requestId: 'fine' }), broken])).rejects.toThrow();
    expect((await storage.log.query({}, { offset: 0, limit: 10 })).total).toBe(0);
    await storage.close();
  });

  describe('two instances on the same file', () => {
    it('wait for another writer’s lock instead of failing (busy timeout)', async () => {
      const file = freshFile();
      const storage = await open(file);
      // A real second writer on another thread, holding the write lock for 20 ms at a time.
      const worker = new Worker(
        `const { DatabaseSync } = require('node:sqlite');
         const { parentPort, workerData } = require('node:worker_threads');
         const db = new DatabaseSync(workerData, { timeout: 5000 });
         const insert = db.prepare("INSERT INTO settings (namespace, key, value, updated_at) VALUES ('worker', ?, '1', 0)");
         parentPort.postMessage('ready');
         for (let i = 0; i < 10; i++) {
           db.exec('BEGIN IMMEDIATE');
           insert.run('k' + i);
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
           db.exec('COMMIT');
         }
         db.close();`,
        { eval: true, workerData: file },
      );
      const exited = new Promise<number>((resolve, reject) => worker.once('exit', resolve).once('error', reject));
      await new Promise((resolve) => worker.once('message', resolve));
      for (let round = 0; round < 20; round++) {
        await storage.log.append(Array.from({ length: 50 }, (_, i) => logEntry({ requestId: `${round}-${i}` })));
      }
      expect(await exited).toBe(0);
      expect((await storage.log.query({}, { offset: 0, limit: 1 })).total).toBe(1000);
      expect(Object.keys(await storage.settings.list('worker'))).toHaveLength(10);
      await storage.close();
    });

    it('see each other’s writes, merge counters and leave an intact database', async () => {
      const file = freshFile();
      const a = await open(file);
      const b = await open(file);
      const changesA: string[] = [];
      a.settings.changes.subscribe((c) => changesA.push(c.key));

      for (let round = 0; round < 20; round++) {
        await Promise.all([
          a.log.append(Array.from({ length: 10 }, (_, i) => logEntry({ requestId: `a-${round}-${i}`, startedAt: T0 + round }))),
          b.log.append(Array.from({ length: 10 }, (_, i) => logEntry({ requestId: `b-${round}-${i}`, startedAt: T0 + round }))),
          a.stats.add([increment()]),
          b.stats.add([increment()]),
          a.settings.set('shared', `a${round}`, round),
          b.settings.set('shared', `b${round}`, round),
        ]);
      }

      expect((await a.log.query({}, { offset: 0, limit: 1 })).total).toBe(400);
      expect((await b.log.query({}, { offset: 0, limit: 1 })).total).toBe(400);
      const [row] = await b.stats.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 });
      expect(row).toMatchObject({ requests: 40, latencyHist: hist([4, 40]) });
      expect(Object.keys(await a.settings.list('shared'))).toHaveLength(40);
      // Only this process's changes: the SQLite store has no cross-process notification.
      expect(changesA).toHaveLength(20);

      await a.close();
      await b.close();
      inspect(file, (db) => expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' }));
    });
  });

  it('10,000 entries appended in batches of 500 are all found by filters', async () => {
    const storage = await open(freshFile());
    const providers = ['DeepInfra', 'Together', 'Pollinations', 'HuggingFace', 'Cloudflare'];
    const models = ['llama', 'qwen', 'mistral', 'gemma'];
    const statuses = [200, 200, 200, 429, 502, 500];
    const entries = Array.from({ length: 10_000 }, (_, i): RequestLogEntry => {
      const provider = providers[i % providers.length];
      const failedFirst = providers[(i + 1) % providers.length];
      return logEntry({
        requestId: `r${i}`,
        startedAt: T0 + i * 1000,
        model: models[i % models.length],
        status: statuses[i % statuses.length],
        provider,
        clientKey: i % 3 === 0 ? 'ck_a' : null,
        attempts:
          i % 2 === 0
            ? [{ provider: failedFirst, upstream_model: 'x', status: 500, reason: 'HTTP 500', latency_ms: 10 }]
            : [{ provider, upstream_model: 'x', status: 200, reason: 'ok', latency_ms: 10 }],
      });
    });
    for (let i = 0; i < entries.length; i += 500) await storage.log.append(entries.slice(i, i + 500));

    const expected = (filter: LogFilter): RequestLogEntry[] =>
      entries
        .filter(
          (e) =>
            (filter.from === undefined || e.startedAt >= filter.from) &&
            (filter.to === undefined || e.startedAt < filter.to) &&
            (filter.model === undefined || e.model === filter.model) &&
            (filter.clientKey === undefined || e.clientKey === filter.clientKey) &&
            (filter.provider === undefined || e.provider === filter.provider || e.attempts.some((a) => a.provider === filter.provider)) &&
            (filter.status === undefined ||
              (filter.status === 'success'
                ? e.status >= 200 && e.status <= 299
                : filter.status === 'error'
                  ? e.status < 200 || e.status > 299
                  : e.status === filter.status)),
        )
        .sort((x, y) => y.startedAt - x.startedAt);

    const filters: LogFilter[] = [
      {},
      { model: 'qwen' },
      { provider: 'Together' },
      { status: 'error' },
      { status: 429, clientKey: 'ck_a' },
      { from: T0 + 2_000_000, to: T0 + 7_000_000, provider: 'Cloudflare', status: 'success' },
    ];
    for (const filter of filters) {
      const want = expected(filter);
      const got = await storage.log.query(filter, { offset: 100, limit: 50 });
      expect({ filter, total: got.total }).toEqual({ filter, total: want.length });
      expect(got.items.map((e) => e.requestId)).toEqual(want.slice(100, 150).map((e) => e.requestId));
    }
    expect(await storage.log.purgeBefore(T0 + 5_000_000)).toBe(5000);
    await storage.close();
  });
});

describe('SqliteStorage stored responses', () => {
  const doc = (id: string, owner = 'open', expiresAt = Date.now() + 60_000): StoredResponseWrite => ({ id, owner, expiresAt, json: JSON.stringify({ id }) });
  const rows = (file: string, sql: string): number => inspect(file, (db) => Number(db.prepare(sql).get()!.n));

  it('are written by a thread of their own, into a file beside the database, none of it on this thread', async () => {
    const file = freshFile();
    const storage = await open(file);
    expect(storage.storageThread).toBeDefined();
    await offThisThread(async () => {
      await storage.responses.put(Array.from({ length: 10 }, (_, i) => doc(`resp_${i}`)));
      await storage.responses.extend(['resp_1'], Date.now() + 120_000, Date.now() + 100_000);
      expect(await storage.responses.delete('resp_9', Date.now())).toBe(true);
    });
    expect((await storage.responses.get('resp_3', Date.now()))?.document).toEqual({ id: 'resp_3' });
    expect(await storage.responses.get('resp_9', Date.now())).toBeUndefined();
    await storage.close();
    expect(rows(join(dirname(file), 'pool-responses.db'), 'SELECT count(*) AS n FROM responses')).toBe(9);
    expect(rows(file, 'SELECT count(*) AS n FROM responses')).toBe(0);
  });

  it('live in 8 KB pages in a new file; a file made before keeps its pages and its responses', async () => {
    const file = freshFile();
    const storage = await open(file);
    await storage.responses.put([doc('resp_new')]);
    await storage.close();
    const responsesFile = join(dirname(file), 'pool-responses.db');
    expect(inspect(responsesFile, (db) => Number(db.prepare('PRAGMA page_size').get()!.page_size))).toBe(RESPONSES_PAGE_BYTES);

    const older = freshFile();
    const olderResponses = join(dirname(older), 'pool-responses.db');
    mkdirSync(dirname(older), { recursive: true });
    const made = new DatabaseSync(olderResponses);
    made.exec('PRAGMA page_size = 4096');
    made.exec('PRAGMA journal_mode = WAL');
    made.exec(`CREATE TABLE responses (id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, expires_at INTEGER NOT NULL, document TEXT NOT NULL);
               CREATE INDEX responses_expires_at ON responses (expires_at);`);
    made
      .prepare('INSERT INTO responses (id, owner, expires_at, document) VALUES (?, ?, ?, ?)')
      .run('resp_before', 'open', Date.now() + 60_000, '{"kept":true}');
    made.close();
    const reopened = await open(older);
    try {
      expect((await reopened.responses.get('resp_before', Date.now()))?.document).toEqual({ kept: true });
      await reopened.responses.put([doc('resp_after')]);
      expect((await reopened.responses.get('resp_after', Date.now()))?.document).toEqual({ id: 'resp_after' });
    } finally {
      await reopened.close();
    }
    expect(inspect(olderResponses, (db) => Number(db.prepare('PRAGMA page_size').get()!.page_size))).toBe(4096);
  });

  it('are written on this thread with storageThread: false (what the spies above would see)', async () => {
    const storage = new SqliteStorage({ file: freshFile(), storageThread: false });
    await storage.init();
    expect(storage.storageThread).toBeUndefined();
    const run = jest.spyOn(StatementSync.prototype, 'run');
    try {
      await storage.responses.put([doc('resp_here')]);
      expect(run).toHaveBeenCalled();
    } finally {
      run.mockRestore();
      await storage.close();
    }
  });

  it('an older version kept in the database itself are moved into the responses file, the expired ones left behind', async () => {
    const file = freshFile();
    await (await open(file)).close();
    inspect(file, (db) => {
      const put = db.prepare('INSERT INTO responses (id, owner, expires_at, document) VALUES (?, ?, ?, ?)');
      put.run('resp_live', 'key:a', Date.now() + 60_000, '{"kept":true}');
      put.run('resp_gone', 'key:a', Date.now() - 1, '{}');
    });
    const storage = await open(file);
    expect(await storage.responses.get('resp_live', Date.now())).toMatchObject({ owner: 'key:a', document: { kept: true } });
    expect(await storage.responses.get('resp_gone', 0)).toBeUndefined();
    await storage.close();
    expect(rows(file, 'SELECT count(*) AS n FROM responses')).toBe(0);
  });

  it('in a responses file of the older WITHOUT ROWID layout are copied into the rowid table once, the expired ones left behind', async () => {
    const file = freshFile();
    const responsesFile = join(dirname(file), 'pool-responses.db');
    mkdirSync(dirname(file), { recursive: true });
    const old = new DatabaseSync(responsesFile);
    old.exec(`CREATE TABLE responses (id TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL, document TEXT NOT NULL) WITHOUT ROWID;
              CREATE INDEX responses_expires_at ON responses (expires_at);`);
    const put = old.prepare('INSERT INTO responses (id, owner, expires_at, document) VALUES (?, ?, ?, ?)');
    put.run('resp_old_live', 'key:a', Date.now() + 60_000, '{"kept":true}');
    put.run('resp_old_gone', 'key:a', Date.now() - 1, '{}');
    old.close();

    const storage = await open(file);
    try {
      expect(await storage.responses.get('resp_old_live', Date.now())).toMatchObject({ owner: 'key:a', document: { kept: true } });
      // Written (and replaced) by the thread in the new layout.
      await storage.responses.put([doc('resp_new'), doc('resp_old_live')]);
      expect((await storage.responses.get('resp_old_live', Date.now()))?.document).toEqual({ id: 'resp_old_live' });
      await storage.responses.extend(['resp_new'], Date.now() + 120_000, Date.now() + 100_000);
      expect(await storage.responses.purgeExpired(Date.now())).toBe(0);
    } finally {
      await storage.close();
    }
    inspect(responsesFile, (db) => {
      expect(String(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'responses'").get()!.sql)).not.toMatch(/WITHOUT ROWID/i);
      expect(
        db
          .prepare('SELECT id FROM responses ORDER BY id')
          .all()
          .map((r) => r.id),
      ).toEqual(['resp_new', 'resp_old_live']);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'responses' AND sql IS NOT NULL").all()).toEqual([
        { name: 'responses_expires_at' },
      ]);
      expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    });
    // Opened again: nothing left to move.
    const again = await open(file);
    expect((await again.responses.get('resp_new', Date.now()))?.document).toEqual({ id: 'resp_new' });
    await again.close();
  });

  it('keep being written, on this thread, once their thread has died', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const storage = await open(freshFile());
    try {
      const exited = new Promise((resolve) => storage.storageThread!.once('exit', resolve));
      await storage.storageThread!.terminate();
      await exited;
      await storage.responses.put([doc('resp_after')]);
      expect((await storage.responses.get('resp_after', Date.now()))?.document).toEqual({ id: 'resp_after' });
      expect(storage.storageThread).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/stored responses, the request log and stats are written, and the database checkpointed, on the request path again/),
      );
    } finally {
      warn.mockRestore();
      await storage.close();
    }
  });
});

describe('SqliteStorage request log, stats and counters', () => {
  const logRows = (file: string): string[] =>
    inspect(file, (db) =>
      db
        .prepare('SELECT request_id FROM request_log ORDER BY id')
        .all()
        .map((r) => String(r.request_id)),
    );
  const storedRequests = (file: string): number => inspect(file, (db) => Number(db.prepare(`SELECT coalesce(sum(requests), 0) AS n FROM stats`).get()!.n));
  const batchOf = (b: number, size: number) => Array.from({ length: size }, (_, i) => logEntry({ requestId: `b${b}-${i}`, startedAt: T0 + b * size + i }));

  it('are written by the storage thread, none of it on this thread, and read back on this one', async () => {
    const file = freshFile();
    const storage = await open(file);
    expect(storage.storageThread).toBeDefined();
    await offThisThread(async () => {
      await storage.log.append(batchOf(0, 32));
      await storage.log.append([logEntry({ requestId: 'aliased', startedAt: T0 + 100, alias: 'fast' })]);
      await storage.stats.add([increment()]);
      await storage.stats.add([increment({ latencyHist: hist([4, 1], [7, 2]) }), increment({ dimension: 'model', value: 'llama' })]);
      await storage.settings.increment('usage', 'k1', { add: { requests: 2 }, max: { lastUsedAt: 9 } });
      await storage.checkWritable();
    });
    expect(await storage.settings.get('usage', 'k1')).toEqual({ requests: 2, lastUsedAt: 9 });
    // Each batch noted as committed, in its own transaction (see InlineMainWriter's skip).
    expect(
      inspect(file, (db) => JSON.parse(String(db.prepare(`SELECT value FROM settings WHERE namespace = 'storage' AND key = 'thread-committed'`).get()!.value))),
    ).toEqual({
      run: expect.any(String),
      seq: 5,
    });
    const page = await storage.log.query({}, { offset: 0, limit: 2 });
    expect(page.total).toBe(33);
    expect(page.items).toEqual([logEntry({ requestId: 'aliased', startedAt: T0 + 100, alias: 'fast' }), batchOf(0, 32)[31]]);
    // Summed by the thread's pool_hist_add, element-wise.
    expect(await storage.stats.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 })).toEqual([
      expect.objectContaining({ requests: 2, latencyHist: hist([4, 2], [7, 2]) }),
    ]);
    expect(await storage.stats.query({ granularity: 'minute', dimension: 'model', from: T0, to: T0 + 1 })).toEqual([
      expect.objectContaining({ value: 'llama', requests: 1 }),
    ]);
    await expect(storage.stats.add([increment({ latencyHist: [1] })])).rejects.toThrow(RangeError);
    await offThisThread(async () => {
      expect(await storage.log.purgeBefore(T0 + 5)).toBe(5);
      expect(await storage.stats.purgeBefore('minute', T0 + 1)).toBe(2);
    });
    expect((await storage.log.query({}, { offset: 0, limit: 0 })).total).toBe(28);
    await storage.close();
  });

  it('keep being written, each batch exactly once, when the thread dies with batches waiting for it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const file = freshFile();
    const storage = await open(file);
    try {
      const thread = storage.storageThread!;
      const exited = new Promise((resolve) => thread.once('exit', resolve));
      const writes: Promise<void>[] = [];
      for (let b = 0; b < 60; b++) {
        writes.push(storage.log.append(batchOf(b, 25)));
        writes.push(storage.stats.add([increment({ requests: 1 })]));
        writes.push(storage.settings.increment('usage', 'k1', { add: { requests: 1 } }));
      }
      // Some batches are committed, the rest still wait for the thread when it ends.
      await writes[3];
      await thread.terminate();
      await exited;
      await Promise.all(writes);
      await storage.log.append([logEntry({ requestId: 'after', startedAt: T0 + 10_000 })]);
      await storage.stats.add([increment()]);
      expect(storage.storageThread).toBeUndefined();
      expect(warn.mock.calls.filter(([m]) => /storage thread stopped/.test(String(m)))).toEqual([
        [expect.stringMatching(/stored responses, the request log and stats are written, and the database checkpointed, on the request path again/)],
      ]);
      expect((await storage.log.query({}, { offset: 0, limit: 1 })).total).toBe(60 * 25 + 1);
      expect(await storage.settings.get('usage', 'k1')).toEqual({ requests: 60 });
    } finally {
      warn.mockRestore();
      await storage.close();
    }
    const ids = logRows(file);
    expect(ids).toHaveLength(60 * 25 + 1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(storedRequests(file)).toBe(61);
  });

  it('are all committed by close(), which waits for the batches handed to the thread', async () => {
    const file = freshFile();
    const storage = await open(file);
    const writes: Promise<void>[] = [];
    for (let b = 0; b < 40; b++) {
      writes.push(storage.log.append(batchOf(b, 32)));
      writes.push(storage.stats.add([increment({ bucket: T0 + b * 60_000 })]));
      writes.push(storage.settings.increment('usage', 'k1', { add: { requests: 1 } }));
    }
    await storage.close();
    await Promise.all(writes);
    await expect(storage.log.append(batchOf(99, 1))).rejects.toThrow(/closed/);
    expect(logRows(file)).toHaveLength(40 * 32);
    expect(storedRequests(file)).toBe(40);
    expect(inspect(file, (db) => db.prepare(`SELECT value FROM settings WHERE namespace = 'usage' AND key = 'k1'`).get())).toEqual({
      value: '{"requests":40}',
    });
  });

  it('are written on this thread with storageThread: false', async () => {
    const inline = new SqliteStorage({ file: freshFile(), storageThread: false });
    await inline.init();
    const run = jest.spyOn(StatementSync.prototype, 'run');
    try {
      expect(inline.storageThread).toBeUndefined();
      await inline.log.append([logEntry()]);
      await inline.stats.add([increment()]);
      await inline.settings.increment('usage', 'k1', { add: { requests: 1 } });
      expect(run).toHaveBeenCalled();
      expect((await inline.log.query({}, { offset: 0, limit: 1 })).total).toBe(1);
      expect(await inline.settings.get('usage', 'k1')).toEqual({ requests: 1 });
      expect(await inline.log.purgeBefore(T0 + 1)).toBe(1);
    } finally {
      run.mockRestore();
      await inline.close();
    }
  });
});

describe('SqliteStorage size caps', () => {
  const count = (file: string, sql: string): number => inspect(file, (db) => Number(db.prepare(sql).get()!.n));

  it('keeps the request log at about maxLogEntries, deleting the oldest first', async () => {
    const file = freshFile();
    const storage = new SqliteStorage({ file, maxLogEntries: 1000 });
    await storage.init();
    for (let b = 0; b < 30; b++) {
      await storage.log.append(Array.from({ length: 100 }, (_, i) => logEntry({ requestId: `r${b * 100 + i}`, startedAt: T0 + b * 100 + i })));
    }
    const rows = count(file, 'SELECT count(*) AS n FROM request_log');
    expect(rows).toBeGreaterThanOrEqual(900);
    expect(rows).toBeLessThanOrEqual(1000);
    const { items } = await storage.log.query({}, { offset: 0, limit: 1 });
    expect(items[0]!.requestId).toBe('r2999');
    expect(count(file, `SELECT count(*) AS n FROM request_log WHERE request_id = 'r0'`)).toBe(0);
    await storage.close();
  });

  it('reaches a lowered cap in bounded steps, letting requests run between them', async () => {
    const file = freshFile();
    const big = new SqliteStorage({ file });
    await big.init();
    await big.log.append(Array.from({ length: 10_000 }, (_, i) => logEntry({ requestId: `r${i}`, startedAt: T0 + i })));
    await big.close();
    const small = new SqliteStorage({ file, maxLogEntries: 1000 });
    await small.init();
    // Counts turns of the event loop while the append trims: one delete of everything would leave none.
    let turns = 0;
    let done = false;
    const spin = () => setImmediate(() => !done && (turns++, spin()));
    spin();
    await small.log.append([logEntry({ requestId: 'new-1', startedAt: T0 + 20_000 })]);
    done = true;
    // Down to 90% of the cap, newest kept, in steps of DELETE_BATCH rows.
    expect(count(file, 'SELECT count(*) AS n FROM request_log')).toBe(900);
    expect((await small.log.query({}, { offset: 0, limit: 1 })).items[0]!.requestId).toBe('new-1');
    expect(turns).toBeGreaterThanOrEqual(Math.floor((10_001 - 900) / DELETE_BATCH) - 1);
    await small.close();
  });

  it('checkWritable resolves on a healthy store, writing a probe at most once a second, and rejects once closed', async () => {
    const file = freshFile();
    const storage = new SqliteStorage({ file });
    await storage.init();
    await storage.checkWritable();
    const probedAt = () =>
      inspect(file, (db) => db.prepare(`SELECT updated_at AS n FROM settings WHERE namespace = 'health' AND key = 'write-probe'`).get()?.n);
    const first = probedAt();
    expect(typeof first).toBe('number');
    await storage.checkWritable();
    expect(probedAt()).toBe(first);
    await storage.close();
    await expect(storage.checkWritable()).rejects.toThrow(/closed/);
  });

  it('purges old log entries in batches, letting other work run in between', async () => {
    const file = freshFile();
    const storage = new SqliteStorage({ file });
    await storage.init();
    await storage.log.append(Array.from({ length: 12_000 }, (_, i) => logEntry({ requestId: `r${i}`, startedAt: T0 + i })));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const deleted = await storage.log.purgeBefore(T0 + 11_000);
    clearInterval(ticker);
    expect(deleted).toBe(11_000);
    // Three batches of at most 5,000 rows: the event loop ran between them.
    expect(ticks).toBeGreaterThanOrEqual(1);
    expect(count(file, 'SELECT count(*) AS n FROM request_log')).toBe(1000);
    await storage.close();
  });

  it('keeps stats at about maxStatsRows, deleting whole buckets, oldest first', async () => {
    const file = freshFile();
    const storage = new SqliteStorage({ file, maxStatsRows: 10_000 });
    await storage.init();
    // 60 minutes × 300 values = 18,000 rows, written a minute at a time.
    for (let m = 0; m < 60; m++) {
      const bucket = T0 + m * 60_000;
      await storage.stats.add(Array.from({ length: 300 }, (_, v) => increment({ bucket, dimension: 'model', value: `m${v}` })));
    }
    const rows = count(file, 'SELECT count(*) AS n FROM stats');
    expect(rows).toBeGreaterThanOrEqual(8000);
    expect(rows).toBeLessThanOrEqual(10_000);
    // Whole buckets went, the newest stayed.
    expect(count(file, 'SELECT count(*) AS n FROM (SELECT bucket FROM stats GROUP BY bucket HAVING count(*) <> 300)')).toBe(0);
    expect(count(file, `SELECT count(*) AS n FROM stats WHERE bucket = ${T0 + 59 * 60_000}`)).toBe(300);
    expect(count(file, `SELECT count(*) AS n FROM stats WHERE bucket = ${T0}`)).toBe(0);
    await storage.close();
  });
});

describe('SQLite migrations', () => {
  const v1 = MIGRATIONS.slice(0, 1);

  it('upgrades a v1 database, keeping its data and backfilling the attempted providers', async () => {
    const file = freshFile();
    storageDir(file);
    inspect(file, (db) => {
      expect(migrate(db, v1)).toEqual({ from: 0, to: 1 });
      db.prepare(`INSERT INTO settings (namespace, key, value, updated_at) VALUES ('keys', 'k1', '{"secret":"enc:…"}', 1)`).run();
      db.prepare(
        `INSERT INTO request_log (request_id, endpoint, model, stream, started_at, status, provider, upstream_model, latency_ms, ttft_ms,
           prompt_tokens, completion_tokens, total_tokens, usage_estimated, attempts, error, client_key)
         VALUES ('old', 'chat', 'llama', 1, ?, 200, 'DeepInfra', 'm', 10, 5, 1, 2, 3, 0, ?, NULL, 'ck')`,
      ).run(T0, JSON.stringify([{ provider: 'Together', upstream_model: 'm', status: 500, reason: 'HTTP 500', latency_ms: 3 }]));
      db.prepare(
        `INSERT INTO request_log (request_id, endpoint, model, stream, started_at, status, provider, upstream_model, latency_ms, ttft_ms,
           prompt_tokens, completion_tokens, total_tokens, usage_estimated, attempts, error, client_key)
         VALUES ('none', 'speech', 'tts', 0, ?, 502, NULL, NULL, 10, NULL, NULL, NULL, NULL, 0, '[]', 'failed', NULL)`,
      ).run(T0 + 1);
      db.prepare(`INSERT INTO health (provider, checked_at, ok, latency_ms, probe, error) VALUES ('Together', ?, 1, 7, 'models', NULL)`).run(T0);
      expect(schemaVersion(db)).toBe(1);
    });

    const storage = await open(file);
    expect(await storage.settings.get('keys', 'k1')).toEqual({ secret: 'enc:…' });
    const byAttempt = await storage.log.query({ provider: 'Together' }, { offset: 0, limit: 10 });
    expect(byAttempt.items).toEqual([
      expect.objectContaining({ requestId: 'old', stream: true, usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, clientKey: 'ck' }),
    ]);
    expect((await storage.log.query({ clientKey: 'ck' }, { offset: 0, limit: 10 })).total).toBe(1);
    expect((await storage.log.query({}, { offset: 0, limit: 10 })).items.map((e) => e.requestId)).toEqual(['none', 'old']);
    expect(await storage.health.history('Together', 5)).toEqual([
      { provider: 'Together', checkedAt: T0, ok: true, latencyMs: 7, probe: 'models', model: null, error: null },
    ]);
    await storage.close();
    inspect(file, (db) => {
      expect(schemaVersion(db)).toBe(LATEST_VERSION);
      const attempted = db.prepare(`SELECT request_id, attempted_providers FROM request_log ORDER BY id`).all();
      expect(attempted.map((r) => ({ ...r }))).toEqual([
        { request_id: 'old', attempted_providers: ',Together,' },
        { request_id: 'none', attempted_providers: '' },
      ]);
    });
  });

  it('steps are idempotent: re-running every step on a migrated database changes nothing', () => {
    const db = new DatabaseSync(':memory:');
    migrate(db);
    db.prepare(`INSERT INTO settings (namespace, key, value, updated_at) VALUES ('n', 'k', '1', 1)`).run();
    db.exec('PRAGMA user_version = 0');
    expect(migrate(db)).toEqual({ from: 0, to: LATEST_VERSION });
    expect(
      db
        .prepare('SELECT value FROM settings')
        .all()
        .map((r) => r.value),
    ).toEqual(['1']);
    db.close();
  });

  it('rolls a failing step back entirely and stays at the previous version', () => {
    const db = new DatabaseSync(':memory:');
    const failing: Migration = {
      version: 2,
      description: 'fails halfway',
      up(d) {
        d.exec('CREATE TABLE half_done (x)');
        throw new Error('disk on fire');
      },
    };
    expect(() => migrate(db, [MIGRATIONS[0], failing])).toThrow(/migration 2 \(fails halfway\) failed: disk on fire/);
    expect(schemaVersion(db)).toBe(1);
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half_done'`).get()).toEqual({ n: 0 });
    expect(db.isTransaction).toBe(false);
    db.close();
  });

  it('refuses a database from a newer release and does not touch it', async () => {
    const file = freshFile();
    storageDir(file);
    inspect(file, (db) => db.exec(`PRAGMA user_version = ${LATEST_VERSION + 1}`));
    await expect(open(file)).rejects.toThrow(/newer than this release/);
    inspect(file, (db) => {
      expect(schemaVersion(db)).toBe(LATEST_VERSION + 1);
      expect(db.prepare(`SELECT count(*) AS n FROM sqlite_schema`).get()).toEqual({ n: 0 });
    });
  });

  it('rejects a migration list with a gap', () => {
    const db = new DatabaseSync(':memory:');
    expect(() => migrate(db, [{ ...MIGRATIONS[0], version: 2 }])).toThrow(/expected 1/);
    expect(schemaVersion(db)).toBe(0);
    db.close();
  });
});

describe('StorageModule', () => {
  it('provides an initialised SqliteStorage under DATA_DIR and closes it on shutdown', async () => {
    const dataDir = join(root, 'module', 'data');
    const config = loadConfig({ DATA_DIR: dataDir });
    @Global()
    @Module({ providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] })
    class TestConfigModule {}

    const app = await Test.createTestingModule({ imports: [TestConfigModule, StorageModule] }).compile();
    await app.init();
    const storage = app.get<Storage>(STORAGE);
    expect(storage).toBeInstanceOf(SqliteStorage);
    expect(storage.kind).toBe('sqlite');
    await storage.settings.set('ns', 'k', 'v');
    expect(existsSync(join(dataDir, SQLITE_FILE_NAME))).toBe(true);

    await app.close();
    await expect(storage.settings.get('ns', 'k')).rejects.toThrow(/closed/);
  });
});

function storageDir(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
}
