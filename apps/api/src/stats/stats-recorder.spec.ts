import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/app-config.ts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { logEntry } from '../storage/storage.contract.ts';
import type { RequestLogEntry, StatsIncrement, StatsQuery, Storage } from '../storage/storage.ts';
import { MINUTE_MS } from './stats-math.ts';
import { StatsRecorder, WRITE_BATCH } from './stats-recorder.service.ts';

const T0 = Date.UTC(2030, 0, 1);
const ALL_MINUTES: StatsQuery = { granularity: 'minute', dimension: 'all', from: 0, to: Number.MAX_SAFE_INTEGER };

/** A real in-memory SQLite store whose writes can be made to fail or to wait. */
class ControlledStorage {
  failLog = false;
  failStats = false;
  /** While set, stats.add waits for it before writing (a slow store, like Redis across a network). */
  statsGate: Promise<void> | undefined;
  /** Appends from this one on (0-based) fail, as a disk that fills up in the middle of a flush. */
  failLogFrom = Infinity;
  logAppends = 0;
  logBatchSizes: number[] = [];
  statsAdds = 0;
  readonly inner = new SqliteStorage({ file: ':memory:' });
  readonly storage: Storage;

  constructor() {
    const inner = this.inner;
    this.storage = {
      kind: 'sqlite',
      settings: inner.settings,
      health: inner.health,
      responses: inner.responses,
      init: () => inner.init(),
      checkWritable: () => inner.checkWritable(),
      close: () => inner.close(),
      log: {
        append: async (entries: RequestLogEntry[]) => {
          const n = this.logAppends++;
          if (this.failLog || n >= this.failLogFrom) throw new Error('disk full');
          this.logBatchSizes.push(entries.length);
          await inner.log.append(entries);
        },
        query: (filter, page) => inner.log.query(filter, page),
        purgeBefore: (before) => inner.log.purgeBefore(before),
      },
      stats: {
        add: async (increments: StatsIncrement[]) => {
          this.statsAdds++;
          if (this.statsGate) await this.statsGate;
          if (this.failStats) throw new Error('database is locked');
          await inner.stats.add(increments);
        },
        query: (q) => inner.stats.query(q),
        purgeBefore: (g, before) => inner.stats.purgeBefore(g, before),
      },
    };
  }

  async storedIds(): Promise<string[]> {
    return (await this.inner.log.query({}, { offset: 0, limit: 1000 })).items.map((e) => e.requestId);
  }

  async storedRequests(): Promise<number> {
    return (await this.inner.stats.query(ALL_MINUTES)).reduce((n, r) => n + r.requests, 0);
  }
}

let store: ControlledStorage;
let events: PoolEvents;
let sut: StatsRecorder;
const spyWarn = () => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
let warn: ReturnType<typeof spyWarn>;

function makeRecorder(flushMs = 60_000): StatsRecorder {
  const recorder = new StatsRecorder(store.storage, loadConfig({ STATS_FLUSH_MS: String(flushMs) }), events);
  recorder.onModuleInit();
  return recorder;
}

const entry = (i: number, overrides: Partial<RequestLogEntry> = {}) => logEntry({ requestId: `r${i}`, startedAt: T0 + i, ...overrides });

async function liveRequests(recorder: StatsRecorder): Promise<number> {
  const [rows] = await recorder.queryStats([ALL_MINUTES]);
  return rows!.reduce((n, r) => n + r.requests, 0);
}

beforeEach(async () => {
  store = new ControlledStorage();
  await store.inner.init();
  events = new PoolEvents();
  warn = spyWarn();
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  sut = makeRecorder();
});

afterEach(async () => {
  await sut.beforeApplicationShutdown();
  await sut.onApplicationShutdown();
  await store.inner.close();
  jest.restoreAllMocks();
});

describe('StatsRecorder', () => {
  it('buffers what PoolEvents emits and writes nothing until a flush', async () => {
    events.emit(entry(1));
    events.emit(entry(2));
    expect(sut.buffered.logEntries).toBe(2);
    expect(store.logAppends + store.statsAdds).toBe(0);
    await sut.flush();
    expect(await store.storedIds()).toEqual(['r2', 'r1']);
    expect(await store.storedRequests()).toBe(2);
    expect(sut.buffered).toEqual({ logEntries: 0, statsRows: 0 });
  });

  it('merges the stats of many requests into few rows before writing', async () => {
    for (let i = 0; i < 50; i++) events.emit(entry(i));
    // 2 granularities × (all, model, key, provider, route), all in one minute.
    expect(sut.buffered).toEqual({ logEntries: 50, statsRows: 10 });
  });

  it('keys stats by known names only ("unknown" otherwise), while the log keeps what was sent, cut short', async () => {
    events.useKnownNames({ model: (id) => (id === 'llama-3.3-70b' ? id : undefined), provider: (name) => (name === 'DeepInfra' ? name : undefined) });
    for (let i = 0; i < 20; i++) events.emit(entry(i, { model: `made-up-${i}-${'m'.repeat(100_000)}`, status: 404, provider: null, attempts: [] }));
    // Every made-up name lands in one row per granularity: all, model "unknown", key.
    expect(sut.buffered).toEqual({ logEntries: 20, statsRows: 6 });
    await sut.flush();
    const [models] = await sut.queryStats([{ ...ALL_MINUTES, dimension: 'model' }]);
    expect(models!.map((r) => [r.value, r.requests])).toEqual([['unknown', 20]]);
    const { items } = await store.inner.log.query({}, { offset: 0, limit: 1 });
    expect(items[0]!.model.startsWith('made-up-19-mmm')).toBe(true);
    expect(items[0]!.model.length).toBeLessThanOrEqual(200);
  });

  it('flushes on its own every STATS_FLUSH_MS', async () => {
    await sut.beforeApplicationShutdown();
    sut = makeRecorder(50);
    events.emit(entry(1));
    const deadline = Date.now() + 2000;
    while ((await store.storedIds()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(await store.storedIds()).toEqual(['r1']);
    expect(store.logAppends).toBe(1);
  });

  it('writes a large batch in small writes and lets requests run between them', async () => {
    for (let i = 0; i < 100; i++) events.emit(entry(i));
    // Counts turns of the event loop while the flush runs: one write of everything would leave none.
    let turns = 0;
    let done = false;
    const spin = () => setImmediate(() => !done && (turns++, spin()));
    spin();
    await sut.flush();
    done = true;
    expect(store.logBatchSizes).toEqual([WRITE_BATCH, WRITE_BATCH, WRITE_BATCH, 100 - 3 * WRITE_BATCH]);
    expect(turns).toBeGreaterThanOrEqual(3);
    expect((await store.storedIds()).length).toBe(100);
    expect(await store.storedRequests()).toBe(100);
  });

  it('keeps exactly the entries a flush failed to write partway, and writes each once', async () => {
    for (let i = 0; i < 100; i++) events.emit(entry(i));
    store.failLogFrom = 2;
    await sut.flush();
    expect((await store.storedIds()).length).toBe(2 * WRITE_BATCH);
    expect(sut.buffered.logEntries).toBe(100 - 2 * WRITE_BATCH);
    store.failLogFrom = Infinity;
    await sut.flush();
    const ids = await store.storedIds();
    expect(ids).toEqual(Array.from({ length: 100 }, (_, i) => `r${99 - i}`));
  });

  it('keeps a batch whose write failed and writes it, in order, on the next flush', async () => {
    store.failLog = true;
    events.emit(entry(1));
    events.emit(entry(2));
    await sut.flush();
    // The stats write worked and is not repeated; the log waits in memory.
    expect(await store.storedIds()).toEqual([]);
    expect(await store.storedRequests()).toBe(2);
    expect(sut.buffered).toEqual({ logEntries: 2, statsRows: 0 });
    events.emit(entry(3));
    store.failLog = false;
    await sut.flush();
    expect(await store.storedIds()).toEqual(['r3', 'r2', 'r1']);
    expect(await store.storedRequests()).toBe(3);
  });

  it('keeps failed stats increments, merged with newer ones, without counting anything twice', async () => {
    store.failStats = true;
    events.emit(entry(1));
    await sut.flush();
    events.emit(entry(2));
    await sut.flush();
    expect(await store.storedRequests()).toBe(0);
    expect(await liveRequests(sut)).toBe(2);
    store.failStats = false;
    await sut.flush();
    expect(await store.storedRequests()).toBe(2);
    expect(await store.storedIds()).toEqual(['r2', 'r1']);
    expect(await liveRequests(sut)).toBe(2);
  });

  it('warns once per outage, not on every failed flush', async () => {
    store.failLog = true;
    for (let i = 0; i < 3; i++) {
      events.emit(entry(i));
      await sut.flush();
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/disk full/);
  });

  it('bounds the buffer while storage is down: drops the oldest entries, with a warning', async () => {
    sut.limits.maxLogEntries = 3;
    store.failLog = true;
    for (let i = 1; i <= 5; i++) events.emit(entry(i));
    await sut.flush();
    expect(sut.buffered.logEntries).toBe(3);
    expect(warn.mock.calls.some(([m]) => /full/.test(String(m)))).toBe(true);
    store.failLog = false;
    await sut.flush();
    expect(await store.storedIds()).toEqual(['r5', 'r4', 'r3']);
    // Stats are counted on arrival, so they still cover every request.
    expect(await store.storedRequests()).toBe(5);
  });

  it('bounds the buffer by bytes as well: large entries are dropped, oldest first, long before the count limit', async () => {
    sut.limits.maxLogBytes = 50_000;
    store.failLog = true;
    // Each entry carries a 2,000-character error (about 4 KB in memory).
    for (let i = 1; i <= 40; i++) events.emit(entry(i, { status: 502, error: 'e'.repeat(5000) }));
    await sut.flush();
    expect(sut.buffered.logEntries).toBeGreaterThanOrEqual(5);
    expect(sut.buffered.logEntries).toBeLessThan(15);
    store.failLog = false;
    await sut.flush();
    const ids = await store.storedIds();
    expect(ids[0]).toBe('r40');
    expect(ids).not.toContain('r1');
  });

  it('bounds the pending stats rows too, dropping the oldest buckets', async () => {
    sut.limits.maxStatsRows = 16;
    store.failStats = true;
    for (let i = 0; i < 4; i++) events.emit(entry(i, { startedAt: T0 + i * MINUTE_MS }));
    expect(sut.buffered.statsRows).toBeLessThanOrEqual(16);
    const [rows] = await sut.queryStats([ALL_MINUTES]);
    expect(rows!.map((r) => r.bucket)).toContain(T0 + 3 * MINUTE_MS);
    expect(rows!.map((r) => r.bucket)).not.toContain(T0);
  });

  it('never throws into the emitter, and keeps recording after a malformed record', () => {
    const bad = { ...entry(1), attempts: null } as unknown as RequestLogEntry;
    expect(() => events.emit(bad)).not.toThrow();
    events.emit(entry(2));
    expect(sut.buffered).toEqual({ logEntries: 1, statsRows: 10 });
  });

  it('queries include the unwritten buffer, and count each request once across a flush', async () => {
    events.emit(entry(1));
    await sut.flush();
    events.emit(entry(2));
    events.emit(entry(3));
    expect(await store.storedRequests()).toBe(1);
    expect(await liveRequests(sut)).toBe(3);
    await sut.flush();
    expect(await liveRequests(sut)).toBe(3);
  });

  it('a query that arrives during a slow write waits for it instead of missing or doubling the batch', async () => {
    let open!: () => void;
    store.statsGate = new Promise<void>((resolve) => (open = resolve));
    events.emit(entry(1));
    events.emit(entry(2));
    const flushing = sut.flush();
    await new Promise((r) => setImmediate(r));
    // The batch has left the buffer but is not in storage yet.
    expect(sut.buffered.statsRows).toBe(0);
    const query = liveRequests(sut);
    events.emit(entry(3));
    open();
    await flushing;
    expect(await query).toBe(3);
  });

  it('writes everything at shutdown, after stopping its timer', async () => {
    events.emit(entry(1));
    await sut.beforeApplicationShutdown();
    expect(await store.storedIds()).toEqual(['r1']);
    const appends = store.logAppends;
    await new Promise((r) => setTimeout(r, 20));
    expect(store.logAppends).toBe(appends);
  });

  it('stops listening at application shutdown', async () => {
    await sut.beforeApplicationShutdown();
    await sut.onApplicationShutdown();
    events.emit(entry(9));
    expect(sut.buffered.logEntries).toBe(0);
  });
});
