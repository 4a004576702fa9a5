import type { RequestLogEntry, StatsPoint, StatsSummary } from '#contracts';
import {
  HISTOGRAM_SIZE,
  LATENCY_BUCKETS_MS,
  type Granularity,
  type StatsCounters,
  type StatsDimension,
  type StatsIncrement,
  type StatsQuery,
  type StatsRow,
} from '../storage/storage.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const BUCKET_MS: Record<Granularity, number> = { minute: MINUTE_MS, hour: HOUR_MS };

export function bucketStart(t: number, granularity: Granularity): number {
  const size = BUCKET_MS[granularity];
  return Math.floor(t / size) * size;
}

export function emptyCounters(): StatsCounters {
  return {
    requests: 0,
    successes: 0,
    failures: 0,
    promptTokens: 0,
    completionTokens: 0,
    latencySumMs: 0,
    ttftSumMs: 0,
    ttftCount: 0,
    latencyHist: new Array<number>(HISTOGRAM_SIZE).fill(0),
    ttftHist: new Array<number>(HISTOGRAM_SIZE).fill(0),
  };
}

/** Adds `b` into `a` (histograms element-wise) and returns `a`. */
export function addCounters<T extends StatsCounters>(a: T, b: StatsCounters): T {
  a.requests += b.requests;
  a.successes += b.successes;
  a.failures += b.failures;
  a.promptTokens += b.promptTokens;
  a.completionTokens += b.completionTokens;
  a.latencySumMs += b.latencySumMs;
  a.ttftSumMs += b.ttftSumMs;
  a.ttftCount += b.ttftCount;
  for (let i = 0; i < HISTOGRAM_SIZE; i++) {
    a.latencyHist[i] = (a.latencyHist[i] ?? 0) + (b.latencyHist[i] ?? 0);
    a.ttftHist[i] = (a.ttftHist[i] ?? 0) + (b.ttftHist[i] ?? 0);
  }
  return a;
}

/** The histogram cell of a duration: the first bucket whose upper bound holds it, else the overflow cell. */
export function histogramIndex(ms: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((upper) => ms <= upper);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/**
 * The p-quantile (0..1) of a histogram, interpolated linearly inside the bucket it falls in
 * (what Prometheus' histogram_quantile does). A quantile in the overflow cell is reported as the
 * last finite bound: the histogram cannot say more. Null for an empty histogram.
 */
export function percentile(hist: readonly number[], p: number): number | null {
  const total = hist.reduce((s, n) => s + n, 0);
  if (total <= 0) return null;
  const rank = Math.min(Math.max(p, 0), 1) * total;
  let below = 0;
  for (let i = 0; i < hist.length; i++) {
    const count = hist[i] ?? 0;
    if (count <= 0) continue;
    if (below + count >= rank) {
      if (i >= LATENCY_BUCKETS_MS.length) return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      const upper = LATENCY_BUCKETS_MS[i]!;
      return Math.round(lower + ((upper - lower) * Math.max(rank - below, 0)) / count);
    }
    below += count;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
}

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);
const average = (sum: number, count: number): number | null => (count > 0 ? Math.round(sum / count) : null);
const count = (hist: readonly number[]): number => hist.reduce((s, n) => s + n, 0);

export function toPoint(bucket: number, c: StatsCounters): StatsPoint {
  return {
    bucket,
    requests: c.requests,
    successes: c.successes,
    failures: c.failures,
    successRate: ratio(c.successes, c.requests),
    promptTokens: c.promptTokens,
    completionTokens: c.completionTokens,
    latencyP50Ms: percentile(c.latencyHist, 0.5),
    latencyP95Ms: percentile(c.latencyHist, 0.95),
    ttftP50Ms: percentile(c.ttftHist, 0.5),
    ttftP95Ms: percentile(c.ttftHist, 0.95),
  };
}

export function toSummary(c: StatsCounters): StatsSummary {
  const { bucket: _bucket, ...point } = toPoint(0, c);
  return {
    ...point,
    totalTokens: c.promptTokens + c.completionTokens,
    latencyAvgMs: average(c.latencySumMs, count(c.latencyHist)),
    latencyP99Ms: percentile(c.latencyHist, 0.99),
    ttftAvgMs: average(c.ttftSumMs, c.ttftCount),
    ttftP99Ms: percentile(c.ttftHist, 0.99),
  };
}

export const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** One observation: a request (or, per provider, an attempt) and what it measured. */
interface Observation {
  ok: boolean;
  latencyMs: number;
  ttftMs: number | null;
  promptTokens: number;
  completionTokens: number;
}

function countersOf(o: Observation): StatsCounters {
  const c = emptyCounters();
  c.requests = 1;
  c.successes = o.ok ? 1 : 0;
  c.failures = o.ok ? 0 : 1;
  c.promptTokens = o.promptTokens;
  c.completionTokens = o.completionTokens;
  const latency = Math.max(0, o.latencyMs);
  c.latencySumMs = latency;
  c.latencyHist[histogramIndex(latency)] = 1;
  if (o.ttftMs !== null) {
    const ttft = Math.max(0, o.ttftMs);
    c.ttftSumMs = ttft;
    c.ttftCount = 1;
    c.ttftHist[histogramIndex(ttft)] = 1;
  }
  return c;
}

/** The `route` dimension's value: one provider's attempts at one model. */
export const routeValue = (provider: string, model: string): string => `${provider}\n${model}`;

/**
 * What one request is, per dimension: to 'all', its model and its client key as a request, and
 * to each provider it reached (and each provider × model, `route`) as an attempt.
 */
function observationsFor(entry: RequestLogEntry): Array<[StatsDimension, string, Observation]> {
  const request: Observation = {
    ok: isSuccess(entry.status),
    latencyMs: entry.latencyMs,
    ttftMs: entry.ttftMs,
    promptTokens: entry.usage?.prompt_tokens ?? 0,
    completionTokens: entry.usage?.completion_tokens ?? 0,
  };
  const perDimension: Array<[StatsDimension, string, Observation]> = [
    ['all', '', request],
    ['model', entry.model, request],
    ['key', entry.clientKey ?? '', request],
  ];
  let answered = false;
  for (const a of entry.attempts) {
    // Never sent, or cut short when the request ended: neither says anything about the provider.
    if (a.reason.startsWith('skipped') || a.reason.startsWith('aborted')) continue;
    const ok = a.reason === 'ok';
    // The attempt that answered carries the request's whole duration, TTFT and tokens.
    const answering = ok && !answered && a.provider === entry.provider;
    if (answering) answered = true;
    const observed: Observation = answering
      ? { ok: true, latencyMs: entry.latencyMs, ttftMs: entry.ttftMs, promptTokens: request.promptTokens, completionTokens: request.completionTokens }
      : { ok, latencyMs: a.latency_ms, ttftMs: null, promptTokens: 0, completionTokens: 0 };
    perDimension.push(['provider', a.provider, observed], ['route', routeValue(a.provider, entry.model), observed]);
  }
  return perDimension;
}

const GRANULARITIES = ['minute', 'hour'] as const;

/**
 * What one request adds to the stats, per minute and per hour: to 'all', its model and its
 * client key as a request, and to each provider it reached as an attempt (see StatsBreakdownItem).
 */
export function incrementsFor(entry: RequestLogEntry): StatsIncrement[] {
  const increments: StatsIncrement[] = [];
  for (const granularity of GRANULARITIES) {
    const bucket = bucketStart(entry.startedAt, granularity);
    for (const [dimension, value, o] of observationsFor(entry)) increments.push({ granularity, bucket, dimension, value, ...countersOf(o) });
  }
  return increments;
}

/** Adds one observation into counters in place (what addCounters(c, countersOf(o)) does, without allocating). */
function observeInto(c: StatsCounters, o: Observation): void {
  c.requests += 1;
  if (o.ok) c.successes += 1;
  else c.failures += 1;
  c.promptTokens += o.promptTokens;
  c.completionTokens += o.completionTokens;
  const latency = Math.max(0, o.latencyMs);
  c.latencySumMs += latency;
  c.latencyHist[histogramIndex(latency)]! += 1;
  if (o.ttftMs !== null) {
    const ttft = Math.max(0, o.ttftMs);
    c.ttftSumMs += ttft;
    c.ttftCount += 1;
    c.ttftHist[histogramIndex(ttft)]! += 1;
  }
}

const rowKey = (r: Pick<StatsIncrement, 'granularity' | 'bucket' | 'dimension' | 'value'>): string =>
  `${r.granularity}\u0000${r.bucket}\u0000${r.dimension}\u0000${r.value}`;

function cloneRow(r: StatsIncrement): StatsIncrement {
  return { ...r, latencyHist: [...r.latencyHist], ttftHist: [...r.ttftHist] };
}

/** Increments not yet written, merged per row, so the buffer stays small however busy the gateway is. */
export class PendingStats {
  private rows = new Map<string, StatsIncrement>();
  /**
   * record()'s way to its rows without building their keys (some 15 strings per request):
   * granularity, bucket, dimension, value. Holds only rows of `rows`; emptied whenever rows leave.
   */
  private index = new Map<Granularity, Map<number, Map<StatsDimension, Map<string, StatsIncrement>>>>();

  get size(): number {
    return this.rows.size;
  }

  /** Adds one request: the same rows as add(incrementsFor(entry)), counted in place. */
  record(entry: RequestLogEntry): void {
    const observations = observationsFor(entry);
    for (const granularity of GRANULARITIES) {
      const bucket = bucketStart(entry.startedAt, granularity);
      let byGranularity = this.index.get(granularity);
      if (!byGranularity) this.index.set(granularity, (byGranularity = new Map()));
      let byDimension = byGranularity.get(bucket);
      if (!byDimension) byGranularity.set(bucket, (byDimension = new Map()));
      for (const [dimension, value, o] of observations) {
        let byValue = byDimension.get(dimension);
        if (!byValue) byDimension.set(dimension, (byValue = new Map()));
        let row = byValue.get(value);
        if (!row) {
          const key = rowKey({ granularity, bucket, dimension, value });
          row = this.rows.get(key);
          if (!row) this.rows.set(key, (row = { granularity, bucket, dimension, value, ...emptyCounters() }));
          byValue.set(value, row);
        }
        observeInto(row, o);
      }
    }
  }

  add(increments: Iterable<StatsIncrement>): void {
    for (const inc of increments) {
      const key = rowKey(inc);
      const row = this.rows.get(key);
      if (row) addCounters(row, inc);
      else this.rows.set(key, cloneRow(inc));
    }
  }

  /** Takes every row out. */
  drain(): StatsIncrement[] {
    const rows = [...this.rows.values()];
    this.rows = new Map();
    this.index = new Map();
    return rows;
  }

  /** Copies of the rows a storage query would return. */
  query(q: StatsQuery): StatsRow[] {
    const out: StatsRow[] = [];
    for (const r of this.rows.values()) {
      if (r.granularity !== q.granularity || r.dimension !== q.dimension || r.bucket < q.from || r.bucket >= q.to) continue;
      if (q.value === undefined || r.value === q.value) out.push(cloneRow(r));
    }
    return out;
  }

  /** Drops the rows of the oldest buckets until at most `max` remain; returns how many were dropped. */
  trimTo(max: number): number {
    if (this.rows.size <= max) return 0;
    const oldest = [...this.rows.entries()].sort(([, a], [, b]) => a.bucket - b.bucket).slice(0, this.rows.size - max);
    for (const [key] of oldest) this.rows.delete(key);
    this.index = new Map();
    return oldest.length;
  }
}

/** Adds rows of the same (bucket, value) together; the result has one row per pair. */
export function mergeRows(...lists: StatsRow[][]): StatsRow[] {
  const merged = new Map<string, StatsRow>();
  for (const list of lists) {
    for (const r of list) {
      const key = rowKey(r);
      const row = merged.get(key);
      if (row) addCounters(row, r);
      else merged.set(key, cloneRow(r));
    }
  }
  return [...merged.values()];
}
