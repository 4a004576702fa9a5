/** What the dashboard shows, derived from the API's answers: pure functions, tested on their own. */
import type { AdminModelList, ProviderCondition, ProviderDetail, ProviderStatus, StatsGranularity, StatsRange, StatsResponse } from '#contracts';
import { reasonText } from '../../core/provider-reason';

/** One poll's answers. The model list is fetched less often, so it may be from an earlier poll. */
export interface DashboardSnapshot {
  stats: StatsResponse;
  providers: ProviderDetail[];
  models: AdminModelList | null;
}

export interface RangeOption {
  range: StatsRange;
  label: string;
  /** Minute buckets for short ranges (a live chart), hour buckets beyond (small answers). */
  granularity: StatsGranularity;
  /**
   * How often the range's stats are asked for again (ms; 0: on every poll); providers are polled
   * on every poll regardless. Up to a day, on every poll: the default view, where a request is watched arriving,
   * and answers of at most 360 buckets. Beyond, the newest hour is 1/168 of a week's chart (every
   * minute) and 1/720 to 1/2,160 of a month's or 90 days' (every 5 minutes: the largest answer and query).
   */
  statsEveryMs: number;
}

const MINUTE = 60_000;

export const RANGE_OPTIONS: readonly RangeOption[] = [
  { range: '1h', label: '近 1 小时', granularity: 'minute', statsEveryMs: 0 },
  { range: '6h', label: '近 6 小时', granularity: 'minute', statsEveryMs: 0 },
  { range: '24h', label: '近 24 小时', granularity: 'hour', statsEveryMs: 0 },
  { range: '7d', label: '近 7 天', granularity: 'hour', statsEveryMs: MINUTE },
  { range: '30d', label: '近 30 天', granularity: 'hour', statsEveryMs: 5 * MINUTE },
  { range: '90d', label: '近 90 天', granularity: 'hour', statsEveryMs: 5 * MINUTE },
];

export const DEFAULT_RANGE: StatsRange = '24h';

export function rangeOption(range: StatsRange): RangeOption {
  return RANGE_OPTIONS.find((o) => o.range === range) ?? RANGE_OPTIONS.find((o) => o.range === DEFAULT_RANGE)!;
}

/** The live indicator's words: how often the page polls, and how often the range's stats, when that is slower. */
export function liveLabel(pollMs: number, range: StatsRange): string {
  const every = (ms: number) => (ms >= MINUTE ? `${Math.round(ms / MINUTE)} 分钟` : `${Math.round(ms / 1000)} 秒`);
  const stats = rangeOption(range).statsEveryMs;
  return stats > pollMs ? `实时 · 每 ${every(pollMs)}刷新，统计每 ${every(stats)}` : `实时 · 每 ${every(pollMs)}刷新`;
}

export interface SummaryCards {
  requests: number;
  successes: number;
  failures: number;
  /** 0..1, null without requests. */
  successRate: number | null;
  latencyP50Ms: number | null;
  totalTokens: number;
  /** Models some available provider can serve now; null until the model list has loaded. */
  availableModels: number | null;
  totalModels: number | null;
  activeProviders: number;
  totalProviders: number;
}

const key = (name: string) => name.toLowerCase();

/**
 * Ids of the models that can be served right now: some route discovery allows goes to a provider
 * whose status is `available`.
 */
export function availableModelIds(models: AdminModelList | null, providers: ProviderDetail[]): Set<string> {
  const up = new Set(providers.filter((p) => p.status === 'available').map((p) => key(p.name)));
  return new Set((models?.models ?? []).filter((m) => m.routes.some((r) => r.routable && up.has(key(r.provider)))).map((m) => m.id));
}

export function summarize(s: DashboardSnapshot): SummaryCards {
  const t = s.stats.totals;
  return {
    requests: t.requests,
    successes: t.successes,
    failures: t.failures,
    successRate: t.successRate,
    latencyP50Ms: t.latencyP50Ms,
    totalTokens: t.totalTokens,
    availableModels: s.models ? availableModelIds(s.models, s.providers).size : null,
    totalModels: s.models?.total ?? null,
    activeProviders: s.providers.filter((p) => p.status === 'available').length,
    totalProviders: s.providers.length,
  };
}

export type Tone = 'success' | 'warning' | 'danger' | 'neutral';

/** A success rate's colour: green from 95 %, amber from 80 %, red below. */
export function rateTone(rate: number | null): Tone {
  if (rate === null) return 'neutral';
  return rate >= 0.95 ? 'success' : rate >= 0.8 ? 'warning' : 'danger';
}

export const STATUS_META: Record<ProviderStatus, { label: string; tone: Tone; order: number }> = {
  available: { label: '可用', tone: 'success', order: 0 },
  'cooling-down': { label: '冷却中', tone: 'warning', order: 1 },
  unconfigured: { label: '未配置', tone: 'neutral', order: 2 },
  disabled: { label: '已停用', tone: 'neutral', order: 3 },
};

export interface ConditionInfo {
  state: ProviderCondition['state'];
  /** 正常 / 降级 / 异常 / 未知. */
  label: string;
  tone: Tone;
  icon: string;
  /** Shown inline (not only in a tooltip): the failing status and why; null when healthy or unknown. */
  detail: string | null;
}

export const CONDITION_META: Record<ProviderCondition['state'], { label: string; tone: Tone; icon: string }> = {
  healthy: { label: '正常', tone: 'success', icon: 'check_circle' },
  degraded: { label: '降级', tone: 'warning', icon: 'warning' },
  failing: { label: '异常', tone: 'danger', icon: 'error' },
  unknown: { label: '未知', tone: 'neutral', icon: 'help' },
};

/** A provider's condition (live traffic and checks together) with its evidence in one line. */
export function conditionInfo(c: ProviderCondition): ConditionInfo {
  const meta = CONDITION_META[c.state];
  return { state: c.state, ...meta, detail: conditionDetail(c) };
}

function conditionDetail(c: ProviderCondition): string | null {
  if (c.state !== 'failing' && c.state !== 'degraded') return null;
  const status = c.status === null ? null : `HTTP ${c.status}`;
  // The status is said once: "HTTP 500 · model crashed", not "HTTP 500 · HTTP 500: model crashed".
  const why = reasonText(c.reason)?.replace(/^HTTP \d+:\s*/, '') || null;
  const evidence =
    c.source === 'live'
      ? c.state === 'failing'
        ? `实时请求连续失败 ${c.live.consecutiveFailures} 次`
        : `近期 ${c.live.recent} 次请求失败 ${c.live.failed} 次`
      : c.source === 'breaker'
        ? '熔断冷却中'
        : '最近一次检查失败';
  return [evidence, status, why].filter(Boolean).join(' · ');
}

export interface ProviderRow {
  name: string;
  status: ProviderStatus;
  statusLabel: string;
  tone: Tone;
  custom: boolean;
  /** Why it is not available, or the last error of an available one; null when all is well. */
  note: string | null;
  /** 成功率: successful / total upstream attempts in the dashboard's range; null without attempts. */
  successRate: number | null;
  /** 健康分: the smoothed success score routing weighs by (0..1); null before the provider has served anything. */
  healthScore: number | null;
  latencyMs: number | null;
  /** Upstream attempts in the dashboard's range. */
  requests: number;
  keys: number;
  models: number;
  /** The latest health probe; `listOnly` when it only read the model list (no inference tested). */
  lastCheck: { ok: boolean; at: number; latencyMs: number; listOnly: boolean } | null;
  /** Live traffic and checks together; its detail is the note when the provider is 异常 or 降级. */
  condition: ConditionInfo;
}

/** Providers for the status overview: available first, then cooling down, unconfigured, disabled. */
export function providerRows(providers: ProviderDetail[], stats: StatsResponse | null): ProviderRow[] {
  const attempts = new Map((stats?.providers ?? []).map((p) => [key(p.value), p.requests]));
  const rates = new Map((stats?.providers ?? []).map((p) => [key(p.value), p.successRate]));
  return providers
    .map((p): ProviderRow => {
      const meta = STATUS_META[p.status] ?? STATUS_META.disabled;
      const served = p.health.successes + p.health.failures > 0;
      const condition = conditionInfo(p.condition);
      // An available provider whose live requests fail is shown as 异常 / 降级, not 可用.
      const troubled = p.status === 'available' && condition.detail !== null;
      return {
        name: p.name,
        status: p.status,
        statusLabel: troubled ? condition.label : meta.label,
        tone: troubled ? condition.tone : meta.tone,
        custom: p.custom,
        note: troubled ? condition.detail : p.status === 'available' ? null : reasonText(p.reason),
        condition,
        successRate: rates.get(key(p.name)) ?? null,
        healthScore: served ? p.health.successScore : null,
        latencyMs: p.health.latencyMs,
        requests: attempts.get(key(p.name)) ?? 0,
        keys: p.keys.length,
        models: p.models,
        lastCheck:
          p.lastCheck && !p.lastCheck.inconclusive
            ? { ok: p.lastCheck.ok, at: p.lastCheck.checkedAt, latencyMs: p.lastCheck.latencyMs, listOnly: p.lastCheck.ok && p.lastCheck.probe === 'models' }
            : null,
      };
    })
    .sort((a, b) => STATUS_META[a.status].order - STATUS_META[b.status].order || a.name.localeCompare(b.name));
}

/** Models the snippets prefer, in order, when the pool can serve them. */
const PREFERRED_MODELS = ['gpt-4o-mini', 'gpt-4o', 'deepseek-v3', 'llama-3.3-70b'];
export const FALLBACK_MODEL = 'gpt-4o-mini';

/**
 * The model the quick-start snippets use: a well-known chat model the pool can serve now, else
 * any servable chat model, else the catalog's usual default. Stable from poll to poll.
 */
export function snippetModel(models: AdminModelList | null, providers: ProviderDetail[]): string {
  const available = availableModelIds(models, providers);
  const preferred = PREFERRED_MODELS.find((id) => available.has(id));
  if (preferred) return preferred;
  const chat = (models?.models ?? []).find((m) => m.category === 'chat' && available.has(m.id));
  return chat?.id ?? FALLBACK_MODEL;
}
