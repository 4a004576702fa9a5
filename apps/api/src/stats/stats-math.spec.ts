import type { RequestLogEntry } from '#contracts';
import { hist, increment, logEntry } from '../storage/storage.contract.ts';
import { HISTOGRAM_SIZE, LATENCY_BUCKETS_MS, type StatsIncrement } from '../storage/storage.ts';
import {
  HOUR_MS,
  MINUTE_MS,
  PendingStats,
  addCounters,
  bucketStart,
  emptyCounters,
  histogramIndex,
  incrementsFor,
  mergeRows,
  percentile,
  toSummary,
} from './stats-math.ts';

const T0 = Date.UTC(2030, 0, 1);
const LAST = LATENCY_BUCKETS_MS.length;

describe('histogramIndex', () => {
  it('puts a duration in the first bucket whose upper bound holds it, bounds inclusive', () => {
    expect(histogramIndex(0)).toBe(0);
    expect(histogramIndex(25)).toBe(0);
    expect(histogramIndex(26)).toBe(1);
    expect(histogramIndex(100)).toBe(2);
    expect(histogramIndex(100.5)).toBe(3);
    expect(histogramIndex(60_000)).toBe(LAST - 1);
  });

  it('puts anything beyond the last bound in the overflow cell', () => {
    expect(histogramIndex(60_001)).toBe(LAST);
    expect(histogramIndex(Number.MAX_SAFE_INTEGER)).toBe(LAST);
    expect(LAST).toBe(HISTOGRAM_SIZE - 1);
  });
});

describe('percentile', () => {
  it('is null for an empty histogram', () => {
    expect(percentile(hist(), 0.5)).toBeNull();
    expect(percentile([], 0.95)).toBeNull();
  });

  it('interpolates linearly inside the bucket the rank falls in', () => {
    // 10 observations in (100, 200]: p50 is halfway through the bucket.
    expect(percentile(hist([3, 10]), 0.5)).toBe(150);
    expect(percentile(hist([3, 10]), 0.95)).toBe(195);
    expect(percentile(hist([3, 10]), 1)).toBe(200);
    // A single observation sits in the middle of its bucket (750, 1000].
    expect(percentile(hist([7, 1]), 0.5)).toBe(875);
  });

  it('starts the first bucket at zero', () => {
    expect(percentile(hist([0, 4]), 0.5)).toBe(13);
    expect(percentile(hist([0, 4]), 0)).toBe(0);
  });

  it('walks across buckets by cumulative count', () => {
    // 50 in (0,25], 45 in (500,750], 5 in (10000,15000].
    const h = hist([0, 50], [6, 45], [14, 5]);
    expect(percentile(h, 0.5)).toBe(25);
    expect(percentile(h, 0.51)).toBe(506);
    expect(percentile(h, 0.95)).toBe(750);
    expect(percentile(h, 0.96)).toBe(11_000);
    expect(percentile(h, 0.99)).toBe(14_000);
  });

  it('skips empty buckets between populated ones', () => {
    const h = hist([1, 1], [10, 1]);
    expect(percentile(h, 0.5)).toBe(50);
    expect(percentile(h, 0.75)).toBe(2500);
  });

  it('reports a quantile in the overflow cell as the last finite bound', () => {
    expect(percentile(hist([LAST, 3]), 0.5)).toBe(60_000);
    expect(percentile(hist([0, 99], [LAST, 1]), 0.99)).toBe(25);
    expect(percentile(hist([0, 99], [LAST, 1]), 0.999)).toBe(60_000);
  });

  it('merging histograms then taking a percentile sees every observation', () => {
    const fast = hist([1, 90]);
    const slow = hist([9, 10]);
    const merged = addCounters({ ...emptyCounters(), latencyHist: fast }, { ...emptyCounters(), latencyHist: slow }).latencyHist;
    expect(percentile(merged, 0.9)).toBe(50);
    expect(percentile(merged, 0.95)).toBe(1750);
  });
});

describe('toSummary', () => {
  it('derives rates, averages and totals from counters', () => {
    const s = toSummary(
      increment({
        requests: 4,
        successes: 3,
        failures: 1,
        latencySumMs: 1000,
        latencyHist: hist([3, 4]),
        ttftSumMs: 300,
        ttftCount: 2,
        ttftHist: hist([2, 2]),
      }),
    );
    expect(s).toEqual({
      requests: 4,
      successes: 3,
      failures: 1,
      successRate: 0.75,
      promptTokens: 10,
      completionTokens: 20,
      totalTokens: 30,
      latencyAvgMs: 250,
      latencyP50Ms: 150,
      latencyP95Ms: 195,
      latencyP99Ms: 199,
      ttftAvgMs: 150,
      ttftP50Ms: 75,
      ttftP95Ms: 98,
      ttftP99Ms: 100,
    });
  });

  it('says null, not zero, where nothing was measured', () => {
    const s = toSummary(emptyCounters());
    expect(s.successRate).toBeNull();
    expect(s.latencyAvgMs).toBeNull();
    expect(s.latencyP95Ms).toBeNull();
    expect(s.ttftAvgMs).toBeNull();
    expect(s.ttftP50Ms).toBeNull();
    expect(s.requests).toBe(0);
  });
});

describe('bucketStart', () => {
  it('floors to whole UTC minutes and hours', () => {
    const t = T0 + 3 * HOUR_MS + 7 * MINUTE_MS + 59_999;
    expect(bucketStart(t, 'minute')).toBe(T0 + 3 * HOUR_MS + 7 * MINUTE_MS);
    expect(bucketStart(t, 'hour')).toBe(T0 + 3 * HOUR_MS);
    expect(bucketStart(T0, 'minute')).toBe(T0);
  });
});

function find(incs: StatsIncrement[], granularity: string, dimension: string, value: string): StatsIncrement | undefined {
  return incs.find((i) => i.granularity === granularity && i.dimension === dimension && i.value === value);
}

const attempt = (provider: string, status: number | null, reason: string, latency: number): RequestLogEntry['attempts'][number] => ({
  provider,
  upstream_model: 'm',
  status,
  reason,
  latency_ms: latency,
});

describe('incrementsFor', () => {
  it('counts a successful request in every dimension, per minute and per hour', () => {
    const entry = logEntry({ startedAt: T0 + 90_000, clientKey: 'ck_1' });
    const incs = incrementsFor(entry);
    expect(incs).toHaveLength(10);
    for (const g of ['minute', 'hour'] as const) {
      const bucket = g === 'minute' ? T0 + MINUTE_MS : T0;
      for (const [dim, value] of [
        ['all', ''],
        ['model', 'llama-3.3-70b'],
        ['key', 'ck_1'],
        ['provider', 'DeepInfra'],
        ['route', 'DeepInfra\nllama-3.3-70b'],
      ] as const) {
        const inc = find(incs, g, dim, value);
        expect(inc).toEqual({
          granularity: g,
          bucket,
          dimension: dim,
          value,
          requests: 1,
          successes: 1,
          failures: 0,
          promptTokens: 12,
          completionTokens: 34,
          latencySumMs: 850,
          ttftSumMs: 300,
          ttftCount: 1,
          latencyHist: hist([histogramIndex(850), 1]),
          ttftHist: hist([histogramIndex(300), 1]),
        });
      }
    }
  });

  it('a failover counts a failed attempt for the first provider and the answer for the second', () => {
    const entry = logEntry({
      provider: 'Together',
      latencyMs: 1200,
      ttftMs: 700,
      attempts: [attempt('DeepInfra', 500, 'HTTP 500: boom', 40), attempt('Together', 200, 'ok', 700)],
    });
    const incs = incrementsFor(entry).filter((i) => i.granularity === 'minute');
    expect(find(incs, 'minute', 'all', '')).toMatchObject({ requests: 1, successes: 1, failures: 0 });
    expect(find(incs, 'minute', 'provider', 'DeepInfra')).toMatchObject({
      requests: 1,
      successes: 0,
      failures: 1,
      promptTokens: 0,
      completionTokens: 0,
      latencySumMs: 40,
      ttftCount: 0,
      latencyHist: hist([histogramIndex(40), 1]),
      ttftHist: hist(),
    });
    expect(find(incs, 'minute', 'provider', 'Together')).toMatchObject({
      requests: 1,
      successes: 1,
      failures: 0,
      promptTokens: 12,
      completionTokens: 34,
      latencySumMs: 1200,
      ttftSumMs: 700,
      ttftCount: 1,
    });
  });

  it('a request that failed everywhere is one failure overall and one per provider tried; skipped ones do not count', () => {
    const entry = logEntry({
      status: 502,
      provider: null,
      upstreamModel: null,
      ttftMs: null,
      usage: null,
      attempts: [
        attempt('DeepInfra', null, 'timeout: no answer', 1500),
        attempt('Together', null, 'skipped: cooling down', 0),
        attempt('HuggingFace', 503, 'HTTP 503', 20),
      ],
    });
    const incs = incrementsFor(entry).filter((i) => i.granularity === 'hour');
    expect(find(incs, 'hour', 'all', '')).toMatchObject({ requests: 1, successes: 0, failures: 1, promptTokens: 0, ttftCount: 0, ttftHist: hist() });
    expect(find(incs, 'hour', 'provider', 'DeepInfra')).toMatchObject({ requests: 1, failures: 1, latencySumMs: 1500 });
    expect(find(incs, 'hour', 'provider', 'HuggingFace')).toMatchObject({ requests: 1, failures: 1 });
    expect(find(incs, 'hour', 'provider', 'Together')).toBeUndefined();
    expect(find(incs, 'hour', 'route', 'HuggingFace\nllama-3.3-70b')).toMatchObject({ requests: 1, failures: 1 });
    expect(find(incs, 'hour', 'route', 'Together\nllama-3.3-70b')).toBeUndefined();
  });

  it('4xx and 499 are failures, any 2xx a success', () => {
    expect(find(incrementsFor(logEntry({ status: 400 })), 'minute', 'all', '')).toMatchObject({ successes: 0, failures: 1 });
    expect(find(incrementsFor(logEntry({ status: 499 })), 'minute', 'all', '')).toMatchObject({ successes: 0, failures: 1 });
    expect(find(incrementsFor(logEntry({ status: 204 })), 'minute', 'all', '')).toMatchObject({ successes: 1, failures: 0 });
  });

  it("files requests without a client key under ''", () => {
    expect(find(incrementsFor(logEntry({ clientKey: null })), 'minute', 'key', '')).toMatchObject({ requests: 1 });
  });
});

describe('PendingStats', () => {
  /** Everything it holds, in an order that does not depend on how it was counted. */
  const sorted = (p: PendingStats) => p.drain().sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  it('merges increments of the same row and keeps others apart', () => {
    const sut = new PendingStats();
    sut.add([increment(), increment({ requests: 2, latencyHist: hist([0, 1]) }), increment({ value: 'x', dimension: 'model' })]);
    expect(sut.size).toBe(2);
    expect(sut.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 })).toEqual([
      increment({
        requests: 3,
        successes: 2,
        promptTokens: 20,
        completionTokens: 40,
        latencySumMs: 800,
        ttftSumMs: 300,
        ttftCount: 2,
        latencyHist: hist([0, 1], [4, 1]),
        ttftHist: hist([2, 2]),
      }),
    ]);
  });

  it('record(entry) counts exactly what add(incrementsFor(entry)) does, in place', () => {
    const entries: RequestLogEntry[] = [
      logEntry(),
      logEntry({ status: 502, ttftMs: null, usage: null, latencyMs: 70_000 }),
      logEntry({ clientKey: 'key-1', model: 'gpt-4o-mini', latencyMs: 3 }),
      logEntry({ startedAt: T0 + 61 * MINUTE_MS }),
      logEntry({
        provider: 'Together',
        attempts: [
          { provider: 'DeepInfra', upstream_model: 'a', status: 500, reason: 'http_500', latency_ms: 40 },
          { provider: 'Pollinations', upstream_model: 'b', status: null, reason: 'skipped: cooling down', latency_ms: 0 },
          { provider: 'Together', upstream_model: 'c', status: 200, reason: 'ok', latency_ms: 300 },
        ],
      }),
    ];
    const recorded = new PendingStats();
    const added = new PendingStats();
    for (const e of entries) {
      recorded.record(e);
      added.add(incrementsFor(e));
    }
    expect(recorded.size).toBe(added.size);
    expect(sorted(recorded)).toEqual(sorted(added));
  });

  it('record and add count into the same rows, in any order, and a trimmed or drained row is made again', () => {
    const e = logEntry({ clientKey: 'key-1' });
    const mixed = new PendingStats();
    mixed.add(incrementsFor(e));
    mixed.record(e);
    mixed.add(incrementsFor(e));
    mixed.record(e);
    const added = new PendingStats();
    for (let i = 0; i < 4; i++) added.add(incrementsFor(e));
    expect(sorted(mixed)).toEqual(sorted(added));

    // Rows dropped by trimTo (or taken by drain) are not counted into where they were.
    const sut = new PendingStats();
    sut.record(e);
    const rows = sut.size;
    expect(sut.trimTo(rows - 2)).toBe(2);
    sut.record(e);
    expect(sut.size).toBe(rows);
    const counts = sut.drain().map((r) => r.requests);
    expect(counts.filter((n) => n === 1)).toHaveLength(2);
    expect(counts.filter((n) => n === 2)).toHaveLength(rows - 2);
    sut.record(e);
    expect(sut.drain().every((r) => r.requests === 1)).toBe(true);
  });

  it('does not let callers change what it holds', () => {
    const sut = new PendingStats();
    const inc = increment();
    sut.add([inc]);
    inc.latencyHist[0] = 99;
    const [row] = sut.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 });
    row!.ttftHist[0] = 42;
    expect(sut.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + 1 })).toEqual([increment()]);
  });

  it('queries like storage: one granularity and dimension, buckets in [from, to)', () => {
    const sut = new PendingStats();
    sut.add([increment({ bucket: T0 - MINUTE_MS }), increment({ bucket: T0 }), increment({ bucket: T0 + MINUTE_MS }), increment({ granularity: 'hour' })]);
    expect(sut.query({ granularity: 'minute', dimension: 'all', from: T0, to: T0 + MINUTE_MS }).map((r) => r.bucket)).toEqual([T0]);
    expect(sut.query({ granularity: 'minute', dimension: 'provider', from: 0, to: Infinity })).toEqual([]);
  });

  it('drain empties it; trimTo drops the oldest buckets', () => {
    const sut = new PendingStats();
    sut.add([2, 0, 3, 1].map((i) => increment({ bucket: T0 + i * MINUTE_MS })));
    expect(sut.trimTo(10)).toBe(0);
    expect(sut.trimTo(2)).toBe(2);
    expect(
      sut
        .drain()
        .map((r) => r.bucket)
        .sort(),
    ).toEqual([T0 + 2 * MINUTE_MS, T0 + 3 * MINUTE_MS]);
    expect(sut.size).toBe(0);
  });
});

describe('mergeRows', () => {
  it('adds rows of the same bucket and value across lists, without touching the inputs', () => {
    const a = [increment({ value: 'A', dimension: 'provider' }), increment({ value: 'B', dimension: 'provider' })];
    const b = [increment({ value: 'A', dimension: 'provider', requests: 5 })];
    const merged = mergeRows(a, b);
    expect(merged.map((r) => [r.value, r.requests])).toEqual([
      ['A', 6],
      ['B', 1],
    ]);
    expect(a[0]!.requests).toBe(1);
    expect(merged[0]!.latencyHist).toEqual(hist([4, 2]));
  });
});
