import { Inject, Injectable } from '@nestjs/common';
import type { RequestLogPage, StatsBreakdownDimension, StatsBreakdownItem, StatsGranularity, StatsRange, StatsResponse, StatsSeries } from '#contracts';
import { STORAGE, type LogFilter, type StatsCounters, type StatsDimension, type StatsRow, type Storage } from '../storage/storage.ts';
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
    const bucketMs = BUCKET_MS[req.granularity];
    const count = Math.max(1, Math.ceil(RANGE_MS[req.range] / bucketMs));
    const to = Math.floor(now / bucketMs) * bucketMs + bucketMs;
    const from = to - count * bucketMs;
    const dimensions: StatsDimension[] = ['all', 'provider', 'model', 'key'];
    const [all, providers, models, keys] = (
      await this.recorder.queryStats(dimensions.map((dimension) => ({ granularity: req.granularity, dimension, from, to })))
    ).map(group) as [Map<string, Grouped>, Map<string, Grouped>, Map<string, Grouped>, Map<string, Grouped>];

    const buckets = Array.from({ length: count }, (_, i) => from + i * bucketMs);
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

  /** A page of the request log, newest first. Writes the buffer first, so the page is up to date. */
  async logs(filter: LogFilter, page: number, pageSize: number): Promise<RequestLogPage> {
    await this.recorder.flush();
    const { total, items } = await this.storage.log.query(filter, { offset: (page - 1) * pageSize, limit: pageSize });
    return { page, pageSize, total, items };
  }
}
