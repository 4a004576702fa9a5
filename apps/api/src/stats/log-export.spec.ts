import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { logEntry } from '../storage/storage.contract.ts';
import type { LogFilter, RequestLogEntry, RequestLogStore } from '../storage/storage.ts';
import { PassThrough } from 'node:stream';
import { CSV_COLUMNS, csvCell, csvHeader, csvLine, jsonLine, logPages, writeAll } from './log-export.ts';

const T0 = Date.UTC(2030, 0, 1);

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=1+1', "'=1+1"],
    ['+SUM(A1)', "'+SUM(A1)"],
    ['-2', "'-2"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['a=b', 'a=b'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('writes numbers and booleans as they are, null and undefined as empty', () => {
    expect([csvCell(-5), csvCell(0), csvCell(true), csvCell(null), csvCell(undefined)]).toEqual(['-5', '0', 'true', '', '']);
  });
});

describe('csv lines', () => {
  it('a header with a byte order mark, then one line per entry with every column', () => {
    expect(csvHeader()).toBe(`\uFEFF${CSV_COLUMNS.map(([n]) => n).join(',')}\r\n`);
    const line = csvLine(
      logEntry({
        requestId: 'r,1',
        error: 'bad "thing"',
        attempts: [
          { provider: 'A', upstream_model: 'a', status: 500, reason: 'x', latency_ms: 1 },
          { provider: 'B', upstream_model: 'b', status: null, reason: 'y', latency_ms: 2 },
        ],
      }),
    );
    expect(line.endsWith('\r\n')).toBe(true);
    expect(line).toContain('"r,1"');
    expect(line).toContain('A:500 > B:-');
    expect(line).toContain('"bad ""thing"""');
    expect(line.startsWith(new Date(T0).toISOString())).toBe(true);
  });

  it('JSON lines are the entry, one per line', () => {
    const e = logEntry({ error: 'two\nlines' });
    const text = jsonLine(e);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(text)).toEqual(e);
  });
});

describe('logPages', () => {
  let storage: SqliteStorage;

  beforeEach(async () => {
    storage = new SqliteStorage({ file: ':memory:' });
    await storage.init();
  });

  afterEach(() => storage.close());

  async function collect(store: RequestLogStore, filter: LogFilter, pageSize: number): Promise<string[][]> {
    const pages: string[][] = [];
    for await (const page of logPages(store, filter, pageSize)) pages.push(page.map((e) => e.requestId));
    return pages;
  }

  it('walks every entry once, newest first, even when many share an instant across page edges', async () => {
    // 3 at T0+2, 7 at T0+1 (more than a page), 2 at T0.
    const entries: RequestLogEntry[] = [];
    const add = (t: number, n: number) => {
      for (let i = 0; i < n; i++) entries.push(logEntry({ requestId: `t${t}-${i}`, startedAt: T0 + t }));
    };
    add(0, 2);
    add(1, 7);
    add(2, 3);
    await storage.log.append(entries);
    const expected = (await storage.log.query({}, { offset: 0, limit: 100 })).items.map((e) => e.requestId);
    expect(expected).toHaveLength(12);
    for (const size of [1, 2, 3, 4, 5, 12, 13]) {
      const pages = await collect(storage.log, {}, size);
      expect(pages.flat()).toEqual(expected);
      expect(pages.every((p) => p.length <= size)).toBe(true);
    }
  });

  it('keeps to the filter, its time bounds included', async () => {
    await storage.log.append([
      logEntry({ requestId: 'old', startedAt: T0 - 1 }),
      logEntry({ requestId: 'a', startedAt: T0, model: 'm1' }),
      logEntry({ requestId: 'b', startedAt: T0 + 1, model: 'm2' }),
      logEntry({ requestId: 'c', startedAt: T0 + 2, model: 'm1' }),
      logEntry({ requestId: 'late', startedAt: T0 + 3, model: 'm1' }),
    ]);
    expect((await collect(storage.log, { from: T0, to: T0 + 3, model: 'm1' }, 1)).flat()).toEqual(['c', 'a']);
  });

  it('asks for one page at a time, only when the consumer wants it', async () => {
    await storage.log.append(Array.from({ length: 10 }, (_, i) => logEntry({ requestId: `r${i}`, startedAt: T0 + i })));
    const calls: number[] = [];
    const spy: RequestLogStore = { ...storage.log, query: (f, p) => (calls.push(p.limit), storage.log.query(f, p)) } as RequestLogStore;
    const pages = logPages(spy, {}, 3);
    await pages.next();
    expect(calls).toEqual([3]);
    await pages.return(undefined);
    expect(calls).toEqual([3]);
  });
});

describe('writeAll', () => {
  it('a store failing after the download began cuts it short and says why; before, the failure is the answer', async () => {
    async function* failing(after: number) {
      for (let i = 0; i < after; i++) yield `line ${i}\n`;
      throw new Error('database disk image is malformed');
    }
    const began = Object.assign(new PassThrough(), { headersSent: true });
    const received: string[] = [];
    began.on('data', (d: Buffer) => received.push(d.toString()));
    began.on('error', () => undefined);
    const cut: string[] = [];
    await writeAll(failing(2), began, (err) => cut.push(err.message));
    expect(received.join('')).toBe('line 0\nline 1\n');
    expect(began.destroyed).toBe(true);
    expect(cut).toEqual(['database disk image is malformed']);

    const unsent = Object.assign(new PassThrough(), { headersSent: false });
    const told: string[] = [];
    await expect(writeAll(failing(0), unsent, (err) => told.push(err.message))).rejects.toThrow('malformed');
    expect(told).toEqual([]);
  });
});
