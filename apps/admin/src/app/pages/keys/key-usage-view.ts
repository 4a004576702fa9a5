/** What a client key's usage chart shows, from `GET /api/stats/keys/{id}`: pure functions, tested on their own. */
import type { KeyUsageResponse, StatsPoint, StatsRange } from '#contracts';
import { formatBucket } from '../../core/format';

export const KEY_USAGE_RANGES: ReadonlyArray<{ range: StatsRange; label: string }> = [
  { range: '24h', label: '24 小时' },
  { range: '7d', label: '7 天' },
  { range: '30d', label: '30 天' },
  { range: '90d', label: '90 天' },
];

/** A small chart: at most this many bars, whatever the range (90 days of hours become 90 days). */
export const MAX_BARS = 90;

export interface UsageBar {
  /** Start of the bar's time span, epoch ms. */
  start: number;
  label: string;
  requests: number;
  failures: number;
  tokens: number;
  /** Height relative to the tallest bar, 0..1. */
  height: number;
}

/** Neighbouring buckets merged so that there are at most `max` bars, newest last. */
export function usageBars(usage: KeyUsageResponse, max = MAX_BARS): UsageBar[] {
  const per = Math.max(1, Math.ceil(usage.series.length / max));
  const spanMs = usage.bucketMs * per;
  const groups: StatsPoint[][] = [];
  // Aligned from the end, so that the last (current) bucket always closes a bar.
  for (let end = usage.series.length; end > 0; end -= per) groups.unshift(usage.series.slice(Math.max(0, end - per), end));
  const bars = groups.map((g) => ({
    start: g[0]!.bucket,
    label: formatBucket(g[0]!.bucket, spanMs),
    requests: g.reduce((n, p) => n + p.requests, 0),
    failures: g.reduce((n, p) => n + p.failures, 0),
    tokens: g.reduce((n, p) => n + p.promptTokens + p.completionTokens, 0),
    height: 0,
  }));
  const tallest = Math.max(0, ...bars.map((b) => b.requests));
  for (const b of bars) b.height = tallest ? b.requests / tallest : 0;
  return bars;
}

/** One sentence for screen readers: what the chart shows. */
export function usageSummary(usage: KeyUsageResponse, rangeLabel: string): string {
  const t = usage.totals;
  if (!t.requests) return `近 ${rangeLabel}没有请求`;
  return `近 ${rangeLabel}共 ${t.requests} 次请求，失败 ${t.failures} 次，输入 ${t.promptTokens} Token，输出 ${t.completionTokens} Token`;
}
