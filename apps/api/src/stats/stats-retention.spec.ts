import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import { loadConfig } from '../config/app-config.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { increment, logEntry } from '../storage/storage.contract.ts';
import { HOUR_MS } from './stats-math.ts';
import { nextDailyRun, StatsRetention } from './stats-retention.service.ts';

const NOW = Date.UTC(2030, 5, 1, 12);
const DAY = 24 * HOUR_MS;

let storage: SqliteStorage;

beforeEach(async () => {
  storage = new SqliteStorage({ file: ':memory:' });
  await storage.init();
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
});

afterEach(async () => {
  await storage.close();
  jest.restoreAllMocks();
});

describe('StatsRetention', () => {
  it('deletes log entries after LOG_RETENTION_DAYS, minute buckets after 48 h and hour buckets after 90 days', async () => {
    const ages = [0, DAY, 2 * DAY - HOUR_MS, 2 * DAY + HOUR_MS, 6 * DAY, 8 * DAY, 89 * DAY, 91 * DAY, 400 * DAY];
    await storage.log.append(ages.map((age) => logEntry({ requestId: `${age / HOUR_MS}h`, startedAt: NOW - age })));
    await storage.stats.add(
      ages.flatMap((age) => [increment({ granularity: 'minute', bucket: NOW - age }), increment({ granularity: 'hour', bucket: NOW - age })]),
    );

    const sut = new StatsRetention(storage, loadConfig({ LOG_RETENTION_DAYS: '7' }));
    await sut.purge(NOW);

    const log = await storage.log.query({}, { offset: 0, limit: 100 });
    expect(log.items.map((e) => NOW - e.startedAt)).toEqual([0, DAY, 2 * DAY - HOUR_MS, 2 * DAY + HOUR_MS, 6 * DAY]);
    const buckets = async (granularity: 'minute' | 'hour') =>
      (await storage.stats.query({ granularity, dimension: 'all', from: 0, to: NOW + 1 })).map((r) => NOW - r.bucket).sort((a, b) => a - b);
    expect(await buckets('minute')).toEqual([0, DAY, 2 * DAY - HOUR_MS]);
    expect(await buckets('hour')).toEqual([0, DAY, 2 * DAY - HOUR_MS, 2 * DAY + HOUR_MS, 6 * DAY, 8 * DAY, 89 * DAY]);
  });

  it('defaults to 30 days of request log', async () => {
    await storage.log.append([logEntry({ requestId: 'keep', startedAt: NOW - 29 * DAY }), logEntry({ requestId: 'drop', startedAt: NOW - 31 * DAY })]);
    await new StatsRetention(storage, loadConfig({})).purge(NOW);
    expect((await storage.log.query({}, { offset: 0, limit: 10 })).items.map((e) => e.requestId)).toEqual(['keep']);
  });

  it('a failing store is logged, not thrown', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await storage.close();
    await expect(new StatsRetention(storage, loadConfig({})).purge(NOW)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalled();
    storage = new SqliteStorage({ file: ':memory:' });
  });
});

describe('nextDailyRun', () => {
  it('is the next 03:00 on the local clock: today before 3, tomorrow from 3 on', () => {
    expect(nextDailyRun(new Date(2030, 5, 1, 2, 59).getTime())).toBe(new Date(2030, 5, 1, 3).getTime());
    expect(nextDailyRun(new Date(2030, 5, 1, 3).getTime())).toBe(new Date(2030, 5, 2, 3).getTime());
    expect(nextDailyRun(new Date(2030, 5, 1, 12).getTime())).toBe(new Date(2030, 5, 2, 3).getTime());
    expect(nextDailyRun(new Date(2030, 11, 31, 23).getTime())).toBe(new Date(2031, 0, 1, 3).getTime());
  });
});
