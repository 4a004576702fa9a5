import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/app-config.ts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { logEntry } from '../storage/storage.contract.ts';
import type { StatsQuery } from '../storage/storage.ts';
import { StatsRecorder } from './stats-recorder.service.ts';

/** The recorder over a database file: its batches are written by the storage thread, and read back on this thread. */
const T0 = Date.UTC(2030, 0, 1);
const ALL_MINUTES: StatsQuery = { granularity: 'minute', dimension: 'all', from: 0, to: Number.MAX_SAFE_INTEGER };

let dir: string;
let file: string;
let storage: SqliteStorage;
let events: PoolEvents;
let recorder: StatsRecorder;

const entry = (i: number) => logEntry({ requestId: `r${i}`, startedAt: T0 + i * 1000 });
const emit = (from: number, to: number) => {
  for (let i = from; i < to; i++) events.emit(entry(i));
};
const sum = (rows: { requests: number }[]) => rows.reduce((n, r) => n + r.requests, 0);

async function openStorage(): Promise<SqliteStorage> {
  const s = new SqliteStorage({ file });
  await s.init();
  return s;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'g4f-recorder-'));
  file = join(dir, 'pool.db');
  storage = await openStorage();
  events = new PoolEvents();
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  recorder = new StatsRecorder(storage, loadConfig({ STATS_FLUSH_MS: '60000' }), events);
  recorder.onModuleInit();
});

afterEach(async () => {
  await recorder.beforeApplicationShutdown();
  await recorder.onApplicationShutdown();
  await storage.close();
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('StatsRecorder over the storage thread', () => {
  it('counts each request exactly once in a query made while its batch is with the thread, and after', async () => {
    expect(storage.storageThread).toBeDefined();
    emit(0, 300);
    const flushing = recorder.flush();
    await new Promise((r) => setImmediate(r));
    // The batches have left the buffer; some are not committed yet.
    expect(recorder.buffered.logEntries).toBe(0);
    const during = recorder.queryStats([ALL_MINUTES]);
    emit(300, 310);
    await flushing;
    expect(sum((await during)[0]!)).toBe(310);
    expect(sum(await storage.stats.query(ALL_MINUTES))).toBe(300);
    expect((await storage.log.query({}, { offset: 0, limit: 1 })).total).toBe(300);
    expect(sum((await recorder.queryStats([ALL_MINUTES]))[0]!)).toBe(310);
  });

  it('loses nothing at shutdown: what was buffered, and what requests left while the server closed, is committed before the file closes', async () => {
    emit(0, 200);
    await recorder.beforeApplicationShutdown();
    emit(200, 205);
    await recorder.onApplicationShutdown();
    await storage.close();
    storage = await openStorage();
    expect(sum(await storage.stats.query(ALL_MINUTES))).toBe(205);
    const log = await storage.log.query({}, { offset: 0, limit: 1000 });
    expect(log.total).toBe(205);
    expect(new Set(log.items.map((e) => e.requestId)).size).toBe(205);
  });
});
