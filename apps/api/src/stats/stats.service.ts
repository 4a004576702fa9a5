import { Inject, Injectable } from '@nestjs/common';
import type {
  KeyUsageResponse,
  ProviderModelStats,
  RequestLogPage,
  StatsBreakdownDimension,
  StatsBreakdownItem,
  StatsBreakdownResponse,
  StatsGranularity,
  StatsRange,
  StatsResponse,
  StatsSeries,
} from '#contracts';
import { STORAGE, type LogFilter, type StatsCounters, type StatsDimension, type StatsRow, type Storage } from '../storage/storage.ts';
import { type ExportFormat, csvHeader, csvLine, jsonLine, logPages } from './log-export.ts';
import { StatsRecorder } from './stats-recorder.service.ts';
import { BUCKET_MS, HOUR_MS, addCounters, emptyCounters, toPoint, toSummary } from './stats-math.ts';

export const RANGE_MS: Record<StatsRange, number> = {
  '1h': HOUR_MS,
  '6h': 6 * HOUR_MS,
  '24h': 24 * HOUR_MS,
  '7d': 7 * 24 * HOUR_MS,
  '30d': 30 * 24 * HOUR_MS,
  '90d': 90 * 24 * HOUR_MS,
};

/** How long each granularity is kept, and so the longest range it can cover. */
export const STATS_RETENTION_MS: Record<StatsGranularity, number> = { minute: 48 * HOUR_MS, hour: 90 * 24 * HOUR_MS };

export interface StatsRequest {
  range: StatsRange;
  granularity: StatsGranularity;
  dimension: StatsBreakdownDimension | null;
}

/** `seriesBy` covers this many of the busiest values (a series per model for a day of minutes would be megabytes). */
export const SERIES_BY_LIMIT = 10;

/** The default granularity of a range: minutes up to a day, hours beyond. */
export const defaultGranularity = (range: StatsRange): StatsGranularity => (RANGE_MS[range] <= 24 * HOUR_MS ? 'minute' : 'hour');

/** `GET /api/stats/breakdown`'s `limit`: its default and its bound. */
export const BREAKDOWN_DEFAULT_LIMIT = 10;
export const BREAKDOWN_MAX_LIMIT = 100;

interface Window {
  bucketMs: number;
  count: number;
  from: number;
  to: number;
}

/**
 * The whole buckets covering `range` up to now, the current (partial) one last. At most 2 160
 * buckets: 90 days of hours (a day of minutes is 1 440), which bounds every series.
 */
function windowOf(range: StatsRange, granularity: StatsGranularity, now: number): Window {
  const bucketMs = BUCKET_MS[granularity];
  const count = Math.max(1, Math.ceil(RANGE_MS[range] / bucketMs));
  const to = Math.floor(now / bucketMs) * bucketMs + bucketMs;
  return { bucketMs, count, from: to - count * bucketMs, to };
}

const bucketsOf = (w: Window): number[] => Array.from({ length: w.count }, (_, i) => w.from + i * w.bucketMs);

interface Grouped {
  total: StatsCounters;
  byBucket: Map<number, StatsCounters>;
}

function group(rows: StatsRow[]): Map<string, Grouped> {
  const byValue = new Map<string, Grouped>();
  for (const row of rows) {
    let g = byValue.get(row.value);
    if (!g) byValue.set(row.value, (g = { total: emptyCounters(), byBucket: new Map() }));
    addCounters(g.total, row);
    const cell = g.byBucket.get(row.bucket) ?? emptyCounters();
    g.byBucket.set(row.bucket, addCounters(cell, row));
  }
  return byValue;
}

function breakdown(grouped: Map<string, Grouped>): StatsBreakdownItem[] {
  return [...grouped.entries()]
    .map(([value, g]) => ({ value, ...toSummary(g.total) }))
    .sort((a, b) => b.requests - a.requests || a.value.localeCompare(b.value));
}

/** Reads the stats (live: the recorder's unwritten buffer included) and the request log. */
@Injectable()
export class StatsService {
  constructor(
    private readonly recorder: StatsRecorder,
    @Inject(STORAGE) private readonly storage: Storage,
  ) {}

  async stats(req: StatsRequest, now = Date.now()): Promise<StatsResponse> {
    const w = windowOf(req.range, req.granularity, now);
    const { bucketMs, from, to } = w;
    const dimensions: StatsDimension[] = ['all', 'provider', 'model', 'key'];
    const [all, providers, models, keys] = (
      await this.recorder.queryStats(dimensions.map((dimension) => ({ granularity: req.granularity, dimension, from, to })))
    ).map(group) as [Map<string, Grouped>, Map<string, Grouped>, Map<string, Grouped>, Map<string, Grouped>];

    const buckets = bucketsOf(w);
    const seriesOf = (g: Grouped | undefined) => buckets.map((b) => toPoint(b, g?.byBucket.get(b) ?? emptyCounters()));
    const breakdowns = { provider: breakdown(providers), model: breakdown(models), key: breakdown(keys) };
    const byDimension = { provider: providers, model: models, key: keys };
    const seriesBy: StatsSeries[] = req.dimension
      ? breakdowns[req.dimension]
          .slice(0, SERIES_BY_LIMIT)
          .map((item) => ({ value: item.value, points: seriesOf(byDimension[req.dimension!].get(item.value)) }))
      : [];

    return {
      range: req.range,
      granularity: req.granularity,
      bucketMs,
      from,
      to,
      generatedAt: now,
      totals: toSummary(all.get('')?.total ?? emptyCounters()),
      series: seriesOf(all.get('')),
      providers: breakdowns.provider,
      models: breakdowns.model,
      keys: breakdowns.key,
      dimension: req.dimension,
      seriesBy,
    };
  }

  /** One dimension's `limit` busiest values over `range`, and the rest summed. */
  async breakdown(range: StatsRange, dimension: StatsBreakdownDimension, limit: number, now = Date.now()): Promise<StatsBreakdownResponse> {
    const { from, to } = windowOf(range, defaultGranularity(range), now);
    const [rows] = await this.recorder.queryStats([{ granularity: defaultGranularity(range), dimension, from, to }]);
    const grouped = group(rows!);
    const all = breakdown(grouped);
    const top = new Set(all.slice(0, limit).map((i) => i.value));
    const rest = [...grouped.entries()].filter(([value]) => !top.has(value));
    const others = rest.length ? toSummary(rest.reduce((sum, [, g]) => addCounters(sum, g.total), emptyCounters())) : null;
    return { range, dimension, from, to, generatedAt: now, distinct: all.length, items: all.slice(0, limit), others };
  }

  /**
   * One provider's attempts per model over `range` (the `route` dimension; provider name not case
   * sensitive), most attempts first, at most `limit` models.
   */
  async providerModels(provider: string, range: StatsRange, limit = BREAKDOWN_MAX_LIMIT, now = Date.now()): Promise<ProviderModelStats> {
    const { from, to } = windowOf(range, defaultGranularity(range), now);
    const [rows] = await this.recorder.queryStats([{ granularity: defaultGranularity(range), dimension: 'route', from, to }]);
    const prefix = `${provider.toLowerCase()}\n`;
    const mine = rows!.filter((r) => r.value.toLowerCase().startsWith(prefix)).map((r) => ({ ...r, value: r.value.slice(prefix.length) }));
    const all = breakdown(group(mine));
    return { provider, range, from, to, generatedAt: now, distinct: all.length, items: all.slice(0, limit) };
  }

  /** One client key's totals and series over `range` ('' for the requests made without a key). */
  async keyUsage(key: string, range: StatsRange, granularity: StatsGranularity, now = Date.now()): Promise<KeyUsageResponse> {
    const w = windowOf(range, granularity, now);
    const [rows] = await this.recorder.queryStats([{ granularity, dimension: 'key', from: w.from, to: w.to, value: key }]);
    const g = group(rows!).get(key);
    return {
      key,
      range,
      granularity,
      bucketMs: w.bucketMs,
      from: w.from,
      to: w.to,
      generatedAt: now,
      totals: toSummary(g?.total ?? emptyCounters()),
      series: bucketsOf(w).map((b) => toPoint(b, g?.byBucket.get(b) ?? emptyCounters())),
    };
  }

  /** A page of the request log, newest first. Writes the buffer first, so the page is up to date. */
  async logs(filter: LogFilter, page: number, pageSize: number): Promise<RequestLogPage> {
    await this.recorder.flush();
    const { total, items } = await this.storage.log.query(filter, { offset: (page - 1) * pageSize, limit: pageSize });
    return { page, pageSize, total, items };
  }

  /**
   * The matching request log as the text of a file, a page at a time. Writes the buffer first,
   * and reads only what started before now, so that the file is what the log held when asked.
   */
  async *exportLog(filter: LogFilter, format: ExportFormat, now = Date.now()): AsyncGenerator<string> {
    await this.recorder.flush();
    const line = format === 'csv' ? csvLine : jsonLine;
    if (format === 'csv') yield csvHeader();
    for await (const page of logPages(this.storage.log, { ...filter, to: Math.min(filter.to ?? Infinity, now + 1) })) yield page.map(line).join('');
  }
}
