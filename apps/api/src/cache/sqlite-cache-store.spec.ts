import { jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteCacheStore } from './sqlite-cache-store.ts';

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
/** 100 bytes of JSON text. */
const entry = (tag: string) => JSON.stringify({ tag, pad: 'x'.repeat(100 - 19 - tag.length) });

const opened: SqliteCacheStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function logger() {
  return { warn: jest.fn(), error: jest.fn(), log: jest.fn() };
}

function newFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'g4f-cache-')), 'gpt4free-pool-cache.db');
}

function storeOn(file: string, maxBytes = 1000, log = logger()): SqliteCacheStore {
  const store = new SqliteCacheStore(file, maxBytes, log as unknown as Logger);
  opened.push(store);
  return store;
}

/** The rows in the file, read by a connection of the test's own. */
function rowsIn(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number(db.prepare('SELECT count(*) AS n FROM cache_entries').get()!.n);
  } finally {
    db.close();
  }
}

/**
 * In a store of 250 bytes: a and b (100 bytes each) are put, then (after `between`) a hit on a and
 * a put of c: b, now the least recently used, makes room for c.
 */
async function expectLruEviction(store: SqliteCacheStore, between: () => Promise<void> = async () => undefined): Promise<void> {
  await store.put('a', entry('a'), T0 + HOUR, T0);
  await store.put('b', entry('b'), T0 + HOUR, T0 + 1);
  await between();
  expect(await store.get('a', T0 + 2)).toBe(entry('a'));
  await store.put('c', entry('c'), T0 + HOUR, T0 + 3);
  expect(await store.get('b', T0 + 4)).toBeUndefined();
  expect(await store.get('a', T0 + 4)).toBe(entry('a'));
  expect(await store.get('c', T0 + 4)).toBe(entry('c'));
  expect(await store.size(T0 + 4)).toEqual({ entries: 2, bytes: 200 });
}

describe('SqliteCacheStore', () => {
  it('keeps its entries, and their byte count, for the next process on the file', async () => {
    const file = newFile();
    const first = storeOn(file);
    await first.put('a', entry('a'), T0 + HOUR, T0);
    await first.put('b', entry('b'), T0 + HOUR, T0);
    await first.close();

    const second = storeOn(file);
    expect(await second.get('a', T0 + 1)).toBe(entry('a'));
    expect(await second.size(T0 + 1)).toEqual({ entries: 2, bytes: 200 });
    expect(await second.get('a', T0 + HOUR)).toBeUndefined();
  });

  it('finds an answer at once, while its row is still on the way to the thread', async () => {
    const store = storeOn(newFile());
    await store.open();
    const written = store.put('a', entry('a'), T0 + HOUR, T0);
    expect(await store.get('a', T0)).toBe(entry('a'));
    await written;
    expect(await store.get('a', T0)).toBe(entry('a'));
  });

  it('evicts the least recently used: a hit keeps an entry over one put after it', async () => {
    await expectLruEviction(storeOn(newFile(), 250));
  });

  it('purges expired rows from the file, in steps, and counts what is left', async () => {
    const file = newFile();
    const store = storeOn(file, 10_000_000);
    // More than two purge steps of rows, all expired by T0 + 10.
    await Promise.all(Array.from({ length: 1_100 }, (_, i) => store.put(`old${i}`, entry(`o${i}`), T0 + 10, T0)));
    await store.put('live', entry('live'), T0 + HOUR, T0);
    expect(rowsIn(file)).toBe(1_101);
    expect(await store.size(T0 + 10)).toEqual({ entries: 1, bytes: 100 });
    expect(rowsIn(file)).toBe(1);
    expect(await store.get('live', T0 + 10)).toBe(entry('live'));
  });

  it('a corrupt file is deleted and begun anew, empty; the log says so', async () => {
    const file = newFile();
    writeFileSync(file, 'this is not a database, '.repeat(400));
    const log = logger();
    const store = storeOn(file, 1000, log);
    expect(await store.get('a', T0)).toBeUndefined();
    await store.put('a', entry('a'), T0 + HOUR, T0);
    expect(await store.get('a', T0)).toBe(entry('a'));
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('deleted and begun anew'));
    expect(rowsIn(file)).toBe(1);
  });

  it('where the file cannot be made, holds nothing and never throws on a read', async () => {
    const log = logger();
    const store = storeOn(join(newFile(), 'no', 'such', 'dir.db'), 1000, log);
    await store.open();
    expect(await store.get('a', T0)).toBeUndefined();
    await expect(store.put('a', entry('a'), T0 + HOUR, T0)).rejects.toThrow(/not running/);
    expect(await store.get('a', T0)).toBeUndefined();
    expect(log.error).toHaveBeenCalledWith(expect.stringContaining('cannot be created'));
  });

  it('if its thread dies, this thread takes over: writes, LRU evictions and expiry carry on; the log says so once', async () => {
    const file = newFile();
    const log = logger();
    const store = storeOn(file, 250, log);
    await expectLruEviction(store, async () => {
      const exited = new Promise((resolve) => store.thread!.once('exit', resolve));
      await store.thread!.terminate();
      await exited;
      expect(store.thread).toBeUndefined();
    });
    expect(rowsIn(file)).toBe(2);

    // An entry that expires sooner is purged from the file when its time has come.
    await store.put('d', entry('d'), T0 + 10, T0 + 5);
    expect(await store.size(T0 + 10)).toEqual({ entries: 1, bytes: 100 });
    expect(rowsIn(file)).toBe(1);

    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('thread stopped'));
    expect(log.error).not.toHaveBeenCalled();
    await store.close();
    expect(rowsIn(file)).toBe(1);
  });

  it('close() waits for the writes under way', async () => {
    const file = newFile();
    const store = storeOn(file);
    await store.open();
    void store.put('a', entry('a'), T0 + HOUR, T0);
    await store.close();
    expect(rowsIn(file)).toBe(1);
  });

  it('opens no thread for a dashboard asking the size of a cache never written', async () => {
    const store = storeOn(newFile());
    expect(await store.size(T0)).toEqual({ entries: 0, bytes: 0 });
    expect(store.thread).toBeUndefined();
  });
});
