/**
 * ECharts options for the dashboard's four charts. Each chart has a base (axes, colours, series
 * names: changes only with the theme) and data (changes every poll): ngx-echarts gets the base as
 * `options` and the data as `merge`, so a poll updates the lines smoothly instead of redrawing
 * them from scratch, and an open tooltip stays open.
 */
import type { EChartsCoreOption } from 'echarts/core';
import type { StatsPoint, StatsResponse } from '#contracts';
import { formatBucket, formatCount, formatDuration } from '../../core/format';

export type ChartKind = 'requests' | 'successRate' | 'latency' | 'tokens';

export const CHART_KINDS: readonly ChartKind[] = ['requests', 'successRate', 'latency', 'tokens'];

export const CHART_TITLES: Record<ChartKind, string> = {
  requests: '请求量',
  successRate: '成功率',
  latency: '延迟',
  tokens: 'Token 用量',
};

export interface ChartPalette {
  text: string;
  muted: string;
  grid: string;
  axis: string;
  tooltipBg: string;
  tooltipBorder: string;
  success: string;
  failure: string;
  primary: string;
  secondary: string;
  prompt: string;
  completion: string;
}

export const CHART_FONT = "Roboto, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif";

export function chartPalette(dark: boolean): ChartPalette {
  return dark
    ? {
        text: '#d6dce5',
        muted: '#8b95a3',
        grid: '#232a33',
        axis: '#313a46',
        tooltipBg: '#1c2128',
        tooltipBorder: '#313a46',
        success: '#4ade80',
        failure: '#f87171',
        primary: '#60a5fa',
        secondary: '#c084fc',
        prompt: '#38bdf8',
        completion: '#a78bfa',
      }
    : {
        text: '#1f2733',
        muted: '#5b6270',
        grid: '#e8ebf2',
        axis: '#d0d5dd',
        tooltipBg: '#ffffff',
        tooltipBorder: '#d0d5dd',
        success: '#16a34a',
        failure: '#dc2626',
        primary: '#2563eb',
        secondary: '#9333ea',
        prompt: '#0284c7',
        completion: '#7c3aed',
      };
}

interface SeriesSpec {
  id: string;
  name: string;
  type: 'bar' | 'line';
  color: string;
  stack?: string;
  area?: boolean;
  value: (p: StatsPoint) => number | null;
}

function seriesSpecs(kind: ChartKind, p: ChartPalette): SeriesSpec[] {
  switch (kind) {
    case 'requests':
      return [
        { id: 'ok', name: '成功', type: 'bar', stack: 'requests', color: p.success, value: (x) => x.successes },
        { id: 'failed', name: '失败', type: 'bar', stack: 'requests', color: p.failure, value: (x) => x.failures },
      ];
    case 'successRate':
      return [
        {
          id: 'rate',
          name: '成功率',
          type: 'line',
          area: true,
          color: p.success,
          value: (x) => (x.successRate === null ? null : Math.round(x.successRate * 1000) / 10),
        },
      ];
    case 'latency':
      return [
        { id: 'p50', name: 'P50', type: 'line', color: p.primary, value: (x) => x.latencyP50Ms },
        { id: 'p95', name: 'P95', type: 'line', color: p.secondary, value: (x) => x.latencyP95Ms },
      ];
    case 'tokens':
      return [
        { id: 'prompt', name: '输入', type: 'bar', stack: 'tokens', color: p.prompt, value: (x) => x.promptTokens },
        { id: 'completion', name: '输出', type: 'bar', stack: 'tokens', color: p.completion, value: (x) => x.completionTokens },
      ];
  }
}

const AXIS_FORMAT: Record<ChartKind, (v: number) => string> = {
  requests: (v) => formatCount(v),
  successRate: (v) => `${v}%`,
  latency: (v) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`),
  tokens: (v) => formatCount(v),
};

const TOOLTIP_FORMAT: Record<ChartKind, (v: number) => string> = {
  requests: (v) => formatCount(v),
  successRate: (v) => `${v}%`,
  latency: (v) => formatDuration(v),
  tokens: (v) => formatCount(v),
};

/** Axes, colours and series of one chart, without data. */
export function chartBase(kind: ChartKind, p: ChartPalette): EChartsCoreOption {
  const specs = seriesSpecs(kind, p);
  const bars = specs.some((s) => s.type === 'bar');
  return {
    backgroundColor: 'transparent',
    animationDuration: 400,
    animationDurationUpdate: 300,
    textStyle: { fontFamily: CHART_FONT, color: p.text },
    grid: { left: 8, right: 12, top: 36, bottom: 4, containLabel: true },
    legend: {
      top: 0,
      right: 0,
      icon: 'roundRect',
      itemWidth: 10,
      itemHeight: 10,
      textStyle: { color: p.muted, fontSize: 12 },
      show: specs.length > 1,
    },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: bars ? 'shadow' : 'line', lineStyle: { color: p.axis }, shadowStyle: { color: 'rgba(127,127,127,0.08)' } },
      backgroundColor: p.tooltipBg,
      borderColor: p.tooltipBorder,
      textStyle: { color: p.text, fontFamily: CHART_FONT, fontSize: 12 },
      valueFormatter: (v: unknown) => (typeof v === 'number' ? TOOLTIP_FORMAT[kind](v) : '—'),
      confine: true,
    },
    xAxis: {
      type: 'category',
      boundaryGap: bars,
      data: [],
      axisLine: { lineStyle: { color: p.axis } },
      axisTick: { show: false },
      axisLabel: { color: p.muted, fontSize: 11, hideOverlap: true },
    },
    yAxis: {
      type: 'value',
      min: 0,
      max: kind === 'successRate' ? 100 : undefined,
      interval: kind === 'successRate' ? 25 : undefined,
      minInterval: kind === 'requests' || kind === 'tokens' ? 1 : undefined,
      splitNumber: 4,
      splitLine: { lineStyle: { color: p.grid, type: 'dashed' } },
      axisLabel: { color: p.muted, fontSize: 11, formatter: AXIS_FORMAT[kind] },
    },
    series: specs.map((s) => ({
      id: s.id,
      name: s.name,
      type: s.type,
      stack: s.stack,
      data: [],
      itemStyle: { color: s.color, borderRadius: s.type === 'bar' ? [3, 3, 0, 0] : undefined },
      lineStyle: s.type === 'line' ? { width: 2, color: s.color } : undefined,
      areaStyle: s.area ? { color: s.color, opacity: 0.12 } : undefined,
      // Symbols so that a lone point (a bucket between empty ones) shows; ECharts thins them out when dense.
      symbol: 'circle',
      showSymbol: s.type === 'line',
      symbolSize: 5,
      smooth: s.type === 'line' ? 0.25 : undefined,
      connectNulls: false,
      barMaxWidth: 22,
      emphasis: { focus: 'series' },
    })),
  };
}

/** One chart's data for a stats answer: x labels and each series' values. */
export function chartData(kind: ChartKind, stats: StatsResponse): EChartsCoreOption {
  const specs = seriesSpecs(kind, chartPalette(true));
  return {
    xAxis: { data: stats.series.map((pt) => formatBucket(pt.bucket, stats.bucketMs)) },
    series: specs.map((s) => ({ id: s.id, data: stats.series.map((pt) => s.value(pt)) })),
  };
}

/** Base and data in one option: what a chart starts with. */
export function chartOption(kind: ChartKind, stats: StatsResponse | null, p: ChartPalette): EChartsCoreOption {
  const base = chartBase(kind, p);
  if (!stats) return base;
  const data = chartData(kind, stats) as { xAxis: { data: string[] }; series: Array<{ data: Array<number | null> }> };
  return {
    ...base,
    xAxis: { ...(base['xAxis'] as object), data: data.xAxis.data },
    series: (base['series'] as object[]).map((s, i) => ({ ...s, data: data.series[i]!.data })),
  };
}
