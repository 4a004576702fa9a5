import { DatabaseSync } from 'node:sqlite';
import { HISTOGRAM_SIZE } from '../storage.ts';
import { increment, logEntry } from '../storage.contract.ts';
import { InlineMainWriter, MAIN_WRITES_SQL, THREAD_MARK, logRow, statsArgs, type MainWriterSettings } from './main-writer.ts';
import { migrate } from './migrations.ts';

const settings = (run: string): MainWriterSettings => ({
  sql: MAIN_WRITES_SQL,
  histogramSize: HISTOGRAM_SIZE,
  maxLogEntries: Infinity,
  maxStatsRows: Infinity,
  trimTo: 0.9,
  deleteBatch: 500,
  dimensions: ['all'],
  mark: { ...THREAD_MARK, run },
});

const row = (requestId: string) => logRow(logEntry({ requestId }));

describe('InlineMainWriter', () => {
  let db: DatabaseSync;
  const ids = () =>
    db
      .prepare('SELECT request_id FROM request_log ORDER BY id')
      .all()
      .map((r) => r.request_id);
  const noteMark = (run: string, seq: number) =>
    db.prepare(MAIN_WRITES_SQL.settingsSet).run(THREAD_MARK.namespace, THREAD_MARK.key, JSON.stringify({ run, seq }), Date.now());

  beforeEach(() => {
    db = new DatabaseSync(':memory:');
    migrate(db);
  });

  afterEach(() => db.close());

  it('skips the batches its thread noted as committed before dying, and makes the later ones', async () => {
    noteMark('run-1', 2);
    const writer = new InlineMainWriter(db, settings('run-1'), true);
    await writer.run({ op: 'log', args: [1, [row('committed-1')]] });
    await writer.run({ op: 'stats', args: [2, [statsArgs(increment())]] });
    await writer.run({ op: 'log', args: [3, [row('waiting-3')]] });
    expect(ids()).toEqual(['waiting-3']);
    expect(db.prepare('SELECT count(*) AS n FROM stats').get()).toEqual({ n: 0 });
  });

  it('makes every batch when the mark is another run’s (an earlier process) or when it does not follow a thread', async () => {
    noteMark('run-0', 50);
    await new InlineMainWriter(db, settings('run-1'), true).run({ op: 'log', args: [1, [row('a')]] });
    await new InlineMainWriter(db, settings('run-0')).run({ op: 'log', args: [2, [row('b')]] });
    expect(ids()).toEqual(['a', 'b']);
  });
});
