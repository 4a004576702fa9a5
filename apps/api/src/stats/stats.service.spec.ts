import { loadConfig } from '../config/app-config.ts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import { logEntry } from '../storage/storage.contract.ts';
import type { RequestLogEntry } from '../storage/storage.ts';
import { HOUR_MS, MINUTE_MS } from './stats-math.ts';
import { StatsRecorder } from './stats-recorder.service.ts';
import { SERIES_BY_LIMIT, StatsService } from './stats.service.ts';

const T0 = Date.UTC(2030, 0, 1);
/** "Now" in the tests: 30.5 s into the minute 10:00 on day 2. */
const NOW = T0 + 24 * HOUR_MS + 10 * HOUR_MS + 30_500;

let storage: SqliteStorage;
let events: PoolEvents;
let recorder: StatsRecorder;
let sut: StatsService;

const attempt = (provider: string, status: number | null, reason: string, latency: number): RequestLogEntry['attempts'][number] => ({
  provider,
  upstream_model: `${provider.toLowerCase()}/m`,
  status,
  reason,
  latency_ms: latency,
});

beforeEach(async () => {
  storage = new SqliteStorage({ file: ':memory:' });
  await storage.init();
  events = new PoolEvents();
  recorder = new StatsRecorder(storage, loadConfig({}), events);
  recorder.onModuleInit();
  sut = new StatsService(recorder, storage);
});

afterEach(async () => {
  await recorder.beforeApplicationShutdown();
  await recorder.onApplicationShutdown();
  await storage.close();
});

/** A morning: successes from DeepInfra, a failover to Together, a failure everywhere, one old request. */
function emitMorning(): void {
  const minuteAgo = NOW - MINUTE_MS;
  events.emit(logEntry({ requestId: 'a', startedAt: minuteAgo, latencyMs: 150, ttftMs: 80, attempts: [attempt('DeepInfra', 200, 'ok', 80)] }));
  events.emit(logEntry({ requestId: 'b', startedAt: minuteAgo + 1, latencyMs: 150, ttftMs: 80, attempts: [attempt('DeepInfra', 200, 'ok', 80)] }));
  events.emit(
    logEntry({
      requestId: 'c',
      startedAt: NOW,
      model: 'qwen-2.5-72b',
      provider: 'Together',
      latencyMs: 2500,
      ttftMs: 900,
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
      attempts: [attempt('DeepInfra', 500, 'HTTP 500', 30), attempt('Together', 200, 'ok', 900)],
      clientKey: 'ck_team',
    }),
  );
  events.emit(
    logEntry({
      requestId: 'd',
      startedAt: NOW,
      status: 502,
      provider: null,
      upstreamModel: null,
      latencyMs: 40,
      ttftMs: null,
      usage: null,
      attempts: [attempt('DeepInfra', 503, 'HTTP 503', 20), attempt('Together', null, 'skipped: cooling down', 0)],
    }),
  );
  // Two days ago: outside every minute range, inside 7d.
  events.emit(logEntry({ requestId: 'old', startedAt: NOW - 48 * HOUR_MS }));
}

describe('StatsService.providerModels', () => {
  it('counts one provider’s attempts per model (any spelling of its name), live and after a flush alike', async () => {
    emitMorning();
    const live = await sut.providerModels('deepinfra', '24h', 100, NOW);
    // DeepInfra: llama 2 ok + 1 HTTP 503; qwen 1 HTTP 500 (the failover's first attempt). The old one is outside 24h.
    expect(live.items.map((i) => [i.value, i.requests, i.successes, i.failures, i.successRate])).toEqual([
      ['llama-3.3-70b', 3, 2, 1, 2 / 3],
      ['qwen-2.5-72b', 1, 0, 1, 0],
    ]);
    expect(live).toMatchObject({ provider: 'deepinfra', range: '24h', distinct: 2, generatedAt: NOW });
    expect(live.items[1]).toMatchObject({ latencyP50Ms: expect.any(Number), promptTokens: 0 });
    await recorder.flush();
    expect(await sut.providerModels('deepinfra', '24h', 100, NOW)).toEqual(live);
    // Together answered qwen (its skip is not an attempt); a provider's name is not a prefix of another's.
    expect((await sut.providerModels('Together', '24h', 100, NOW)).items.map((i) => [i.value, i.requests, i.successes])).toEqual([['qwen-2.5-72b', 1, 1]]);
    expect((await sut.providerModels('Deep', '24h', 100, NOW)).items).toEqual([]);
    expect((await sut.providerModels('DeepInfra', '7d', 1, NOW)).items.map((i) => i.value)).toEqual(['llama-3.3-70b']);
  });
});

describe('StatsService.stats', () => {
  it('covers the range with whole, zero-filled buckets ending with the current one', async () => {
    const res = await sut.stats({ range: '24h', granularity: 'minute', dimension: null }, NOW);
    const currentMinute = Math.floor(NOW / MINUTE_MS) * MINUTE_MS;
    expect(res).toMatchObject({ range: '24h', granularity: 'minute', bucketMs: MINUTE_MS, to: currentMinute + MINUTE_MS, generatedAt: NOW });
    expect(res.from).toBe(res.to - 24 * HOUR_MS);
    expect(res.series).toHaveLength(1440);
    expect(res.series[0]!.bucket).toBe(res.from);
    expect(res.series.at(-1)!.bucket).toBe(currentMinute);
    expect(res.series.every((p) => p.requests === 0 && p.successRate === null && p.latencyP50Ms === null)).toBe(true);
    expect(res.totals.requests).toBe(0);
    expect(res.providers).toEqual([]);
    expect(res.seriesBy).toEqual([]);
  });

  it('hour buckets for 30 days', async () => {
    const res = await sut.stats({ range: '30d', granularity: 'hour', dimension: null }, NOW);
    expect(res.series).toHaveLength(720);
    expect(res.to).toBe(Math.floor(NOW / HOUR_MS) * HOUR_MS + HOUR_MS);
    expect(res.bucketMs).toBe(HOUR_MS);
  });

  it('totals, series and breakdowns add up, live before any flush', async () => {
    emitMorning();
    const res = await sut.stats({ range: '24h', granularity: 'minute', dimension: 'provider' }, NOW);
    expect(res.totals).toMatchObject({ requests: 4, successes: 3, failures: 1, successRate: 0.75, promptTokens: 12 * 2 + 5, completionTokens: 34 * 2 + 7 });
    expect(res.totals.totalTokens).toBe(res.totals.promptTokens + res.totals.completionTokens);
    const [previous, current] = res.series.slice(-2);
    expect(previous).toMatchObject({ requests: 2, successes: 2, failures: 0, successRate: 1 });
    expect(current).toMatchObject({ requests: 2, successes: 1, failures: 1, successRate: 0.5 });
    expect(res.series.reduce((n, p) => n + p.requests, 0)).toBe(4);

    // Attempts per provider: DeepInfra 2 ok + 2 errors; Together 1 ok (its skip is not an attempt).
    expect(res.providers.map((p) => [p.value, p.requests, p.successes, p.failures])).toEqual([
      ['DeepInfra', 4, 2, 2],
      ['Together', 1, 1, 0],
    ]);
    expect(res.providers[1]).toMatchObject({ promptTokens: 5, completionTokens: 7, ttftP50Ms: 875, latencyP50Ms: 2500 });
    expect(res.models.map((m) => [m.value, m.requests])).toEqual([
      ['llama-3.3-70b', 3],
      ['qwen-2.5-72b', 1],
    ]);
    expect(res.keys.map((k) => [k.value, k.requests])).toEqual([
      ['', 3],
      ['ck_team', 1],
    ]);

    expect(res.dimension).toBe('provider');
    expect(res.seriesBy.map((s) => s.value)).toEqual(['DeepInfra', 'Together']);
    for (const s of res.seriesBy) expect(s.points).toHaveLength(1440);
    expect(res.seriesBy[0]!.points.slice(-2).map((p) => p.requests)).toEqual([2, 2]);
  });

  it('the same numbers after the buffer has been written: nothing lost, nothing counted twice', async () => {
    emitMorning();
    const live = await sut.stats({ range: '7d', granularity: 'hour', dimension: 'model' }, NOW);
    await recorder.flush();
    expect(recorder.buffered).toEqual({ logEntries: 0, statsRows: 0 });
    const stored = await sut.stats({ range: '7d', granularity: 'hour', dimension: 'model' }, NOW);
    expect(stored).toEqual(live);
    expect(stored.totals.requests).toBe(5);
    // Half flushed, half live.
    events.emit(logEntry({ requestId: 'e', startedAt: NOW }));
    const mixed = await sut.stats({ range: '7d', granularity: 'hour', dimension: null }, NOW);
    expect(mixed.totals.requests).toBe(6);
  });

  it('series per value are limited to the busiest ones; the breakdown keeps every value', async () => {
    for (let m = 0; m < SERIES_BY_LIMIT + 3; m++) {
      for (let i = 0; i <= m; i++) events.emit(logEntry({ requestId: `m${m}-${i}`, startedAt: NOW, model: `model-${String(m).padStart(2, '0')}` }));
    }
    const res = await sut.stats({ range: '1h', granularity: 'minute', dimension: 'model' }, NOW);
    expect(res.models).toHaveLength(SERIES_BY_LIMIT + 3);
    expect(res.seriesBy.map((s) => s.value)).toEqual(res.models.slice(0, SERIES_BY_LIMIT).map((m) => m.value));
    expect(res.seriesBy[0]!.value).toBe(`model-${SERIES_BY_LIMIT + 2}`);
  });

  it('percentiles come from the merged histograms of every bucket in the range', async () => {
    for (let i = 0; i < 19; i++) events.emit(logEntry({ requestId: `fast${i}`, startedAt: NOW - i * MINUTE_MS, latencyMs: 90, ttftMs: 40 }));
    events.emit(logEntry({ requestId: 'slow', startedAt: NOW - 30 * MINUTE_MS, latencyMs: 12_000, ttftMs: 4000 }));
    await recorder.flush();
    const { totals } = await sut.stats({ range: '1h', granularity: 'minute', dimension: null }, NOW);
    expect(totals.requests).toBe(20);
    // 19 in (50,100], 1 in (10000,15000]: p50 and p95 stay in the fast bucket, p99 lands in the slow one.
    expect(totals.latencyP50Ms).toBe(76);
    expect(totals.latencyP95Ms).toBe(100);
    expect(totals.latencyP99Ms).toBe(14_000);
    expect(totals.latencyAvgMs).toBe(Math.round((19 * 90 + 12_000) / 20));
    expect(totals.ttftAvgMs).toBe(Math.round((19 * 40 + 4000) / 20));
  });
});

describe('StatsService.logs', () => {
  it('writes the buffer first, then pages newest first with every attempt', async () => {
    emitMorning();
    const page1 = await sut.logs({}, 1, 2);
    expect(page1.total).toBe(5);
    expect(page1.items.map((e) => e.requestId)).toEqual(['d', 'c']);
    expect(page1.items[1]!.attempts.map((a) => [a.provider, a.status])).toEqual([
      ['DeepInfra', 500],
      ['Together', 200],
    ]);
    expect(await sut.logs({}, 3, 2)).toMatchObject({ page: 3, pageSize: 2, total: 5, items: [{ requestId: 'old' }] });
    expect((await sut.logs({ status: 'error' }, 1, 50)).items.map((e) => e.requestId)).toEqual(['d']);
  });
});

describe('StatsService.breakdown', () => {
  it('the busiest values, the rest summed in others, live before any flush', async () => {
    // model-00 gets 1 request, model-01 2, … model-04 5; one 60 days ago.
    for (let m = 0; m < 5; m++) {
      for (let i = 0; i <= m; i++) {
        events.emit(
          logEntry({
            requestId: `m${m}-${i}`,
            startedAt: NOW - i * HOUR_MS,
            model: `model-0${m}`,
            usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
          }),
        );
      }
    }
    events.emit(logEntry({ requestId: 'ancient', startedAt: NOW - 60 * 24 * HOUR_MS, model: 'model-old' }));
    const res = await sut.breakdown('7d', 'model', 2, NOW);
    expect(res).toMatchObject({ range: '7d', dimension: 'model', distinct: 5, generatedAt: NOW });
    expect(res.items.map((i) => [i.value, i.requests, i.promptTokens, i.completionTokens])).toEqual([
      ['model-04', 5, 5, 10],
      ['model-03', 4, 4, 8],
    ]);
    expect(res.others).toMatchObject({ requests: 1 + 2 + 3, promptTokens: 6, completionTokens: 12, successRate: 1 });
    const all = await sut.breakdown('90d', 'model', 100, NOW);
    expect(all.items.map((i) => i.value)).toContain('model-old');
    expect(all.others).toBeNull();
    expect(all.to - all.from).toBe(90 * 24 * HOUR_MS);
  });
});

describe('StatsService.keyUsage', () => {
  it('one key only, over zero-filled buckets, after a flush as before', async () => {
    emitMorning();
    events.emit(logEntry({ requestId: 'other', startedAt: NOW, clientKey: 'ck_other' }));
    events.emit(logEntry({ requestId: 'team-old', startedAt: NOW - 3 * HOUR_MS, clientKey: 'ck_team', status: 500, usage: null }));
    const before = await sut.keyUsage('ck_team', '24h', 'hour', NOW);
    await recorder.flush();
    const res = await sut.keyUsage('ck_team', '24h', 'hour', NOW);
    expect(res).toEqual(before);
    expect(res).toMatchObject({ key: 'ck_team', range: '24h', granularity: 'hour', bucketMs: HOUR_MS });
    expect(res.series).toHaveLength(24);
    expect(res.totals).toMatchObject({ requests: 2, successes: 1, failures: 1, promptTokens: 5, completionTokens: 7 });
    expect(res.series.at(-1)).toMatchObject({ requests: 1, promptTokens: 5 });
    expect(res.series.at(-4)).toMatchObject({ requests: 1, failures: 1 });
    expect((await sut.keyUsage('ck_nobody', '90d', 'hour', NOW)).series).toHaveLength(90 * 24);
    expect((await sut.keyUsage('', '24h', 'hour', NOW)).totals.requests).toBe(3);
  });
});

describe('StatsService.exportLog', () => {
  it('writes the buffer first, then the whole filtered log as CSV or JSON lines', async () => {
    emitMorning();
    let csv = '';
    for await (const chunk of sut.exportLog({ status: 'success' }, 'csv', NOW)) csv += chunk;
    const lines = csv.split('\r\n');
    expect(lines[0]!.startsWith('\uFEFFstartedAt,requestId')).toBe(true);
    expect(lines.slice(1, -1).map((l) => l.split(',')[1])).toEqual(['c', 'b', 'a', 'old']);
    let jsonl = '';
    for await (const chunk of sut.exportLog({ clientKey: 'ck_team' }, 'jsonl', NOW)) jsonl += chunk;
    expect(
      jsonl
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as RequestLogEntry).requestId),
    ).toEqual(['c']);
  });

  it('leaves out what starts after the export began', async () => {
    events.emit(logEntry({ requestId: 'future', startedAt: NOW + 1 }));
    events.emit(logEntry({ requestId: 'now', startedAt: NOW }));
    let jsonl = '';
    for await (const chunk of sut.exportLog({}, 'jsonl', NOW)) jsonl += chunk;
    expect(
      jsonl
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as RequestLogEntry).requestId),
    ).toEqual(['now']);
  });
});
