import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { WalCheckpointer } from './wal-checkpointer.ts';
import { SqliteStorage } from './sqlite-storage.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A WAL database whose own connection never checkpoints, with about 2 MB written to its log. */
function filledDatabase(): { db: DatabaseSync; file: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'g4f-wal-')), 'pool.db');
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.exec('BEGIN');
  for (let i = 0; i < 2000; i++) insert.run('x'.repeat(1000));
  db.exec('COMMIT');
  return { db, file };
}

describe('WalCheckpointer', () => {
  it('copies the write-ahead log into the database file from its own thread', async () => {
    const { db, file } = filledDatabase();
    const before = statSync(file).size;
    const checkpointer = new WalCheckpointer(file, 20, (reason) => {
      throw new Error(`unexpected failure: ${reason}`);
    });
    try {
      for (let i = 0; i < 100 && statSync(file).size < before + 1_000_000; i++) await sleep(20);
      // The rows reached the database file without this connection checkpointing.
      expect(statSync(file).size).toBeGreaterThan(before + 1_000_000);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('never keeps a process alive: one that forgets to stop it still exits', () => {
    const { db, file } = filledDatabase();
    db.close();
    const source = new URL('./wal-checkpointer.ts', import.meta.url).href;
    const script = `import { WalCheckpointer } from ${JSON.stringify(source)}; new WalCheckpointer(${JSON.stringify(file)}, 20, () => {}); await new Promise((r) => setTimeout(r, 300)); console.log('started');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(child.stdout.trim()).toBe('started');
    // Killed by the timeout (signal SIGTERM, status null) when the thread held the process.
    expect({ status: child.status, signal: child.signal }).toEqual({ status: 0, signal: null });
  });

  it('reports when it cannot open the database, once', async () => {
    const reasons: string[] = [];
    const checkpointer = new WalCheckpointer(join(tmpdir(), 'no-such-dir-g4f', 'x', 'pool.db'), 20, (r) => reasons.push(r));
    for (let i = 0; i < 100 && reasons.length === 0; i++) await sleep(20);
    await sleep(50);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/cannot open/);
    await checkpointer.stop();
  });
});

describe('SqliteStorage checkpoints', () => {
  /** How much the database file grows within a second of writing 2 MB (under SQLite's 1000-page autocheckpoint). */
  async function growthAfterWriting(checkpointEveryMs: number): Promise<number> {
    const file = join(mkdtempSync(join(tmpdir(), 'g4f-wal-')), 'pool.db');
    const storage = new SqliteStorage({ file, checkpointEveryMs });
    await storage.init();
    try {
      const before = statSync(file).size;
      await storage.settings.set('ns', 'big', 'y'.repeat(2_000_000));
      for (let i = 0; i < 50 && statSync(file).size < before + 1_000_000; i++) await sleep(20);
      expect(await storage.settings.get('ns', 'big')).toHaveLength(2_000_000);
      return statSync(file).size - before;
    } finally {
      await storage.close();
    }
  }

  it("are the worker thread's: what the gateway writes reaches the database file without its connection checkpointing", async () => {
    expect(await growthAfterWriting(20)).toBeGreaterThan(1_000_000);
    // With SQLite's own checkpoints the same write waits in the log until 1000 pages have piled up.
    expect(await growthAfterWriting(0)).toBeLessThan(1_000_000);
  });
});
