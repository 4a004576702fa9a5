/** The dashboard's usage breakdowns (by model, provider, client key), from a stats answer: pure functions, tested on their own. */
import type { StatsBreakdownDimension, StatsBreakdownItem, StatsResponse } from '#contracts';

export const BREAKDOWN_TABS: ReadonlyArray<{ dimension: StatsBreakdownDimension; label: string; note: string }> = [
  { dimension: 'model', label: '模型', note: '按客户端请求计' },
  { dimension: 'provider', label: '提供商', note: '按上游尝试计：故障转移时失败的提供商记一次失败，接手的提供商记一次成功' },
  { dimension: 'key', label: '客户端密钥', note: '按客户端请求计' },
];

/** How many values the bar chart shows; the table shows up to TABLE_LIMIT. */
export const TOP_N = 8;
export const TABLE_LIMIT = 50;

/** The label of requests made without a client key. */
export const NO_KEY_LABEL = '（无密钥）';

export interface BreakdownRow {
  value: string;
  label: string;
  requests: number;
  failures: number;
  /** 0..1, null without requests. */
  successRate: number | null;
  promptTokens: number;
  completionTokens: number;
  latencyP50Ms: number | null;
  /** Requests relative to the busiest value, 0..1 (the bar's length). */
  share: number;
}

const ITEMS: Record<StatsBreakdownDimension, (s: StatsResponse) => StatsBreakdownItem[]> = {
  model: (s) => s.models,
  provider: (s) => s.providers,
  key: (s) => s.keys,
};

function labelOf(dimension: StatsBreakdownDimension, value: string, keyNames: ReadonlyMap<string, string>): string {
  if (dimension !== 'key') return value;
  if (value === '') return NO_KEY_LABEL;
  return keyNames.get(value) ?? value;
}

/** Every value of one breakdown, busiest first (the API's order), labelled (a client key by its name). */
export function breakdownRows(stats: StatsResponse, dimension: StatsBreakdownDimension, keyNames: ReadonlyMap<string, string>): BreakdownRow[] {
  const items = ITEMS[dimension](stats);
  const top = Math.max(0, ...items.map((i) => i.requests));
  return items.map((i) => ({
    value: i.value,
    label: labelOf(dimension, i.value, keyNames),
    requests: i.requests,
    failures: i.failures,
    successRate: i.successRate,
    promptTokens: i.promptTokens,
    completionTokens: i.completionTokens,
    latencyP50Ms: i.latencyP50Ms,
    share: top ? i.requests / top : 0,
  }));
}
