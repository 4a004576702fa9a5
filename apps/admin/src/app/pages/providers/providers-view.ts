/** What 提供商管理 shows, derived from the API's answers: pure functions, tested on their own. */
import type { BreakerSnapshot, ProviderCheck, ProviderDetail, ProviderKeyView, ProviderStatus } from '#contracts';
import { formatDuration } from '../../core/format';
import { reasonText } from '../../core/provider-reason';
import { type QuotaLine, quotaLines, restText, untilText, upstreamText } from '../../core/quota-view';
import { STATUS_META, conditionInfo, type ConditionInfo, type Tone } from '../dashboard/dashboard-view';

export { conditionInfo, type ConditionInfo, type Tone };

/** Built-in, or an operator's upstream from PROVIDERS_FILE (read-only) or from the console. */
export type ProviderKind = 'builtin' | 'file' | 'console';

export function providerKind(p: ProviderDetail): ProviderKind {
  if (!p.custom) return 'builtin';
  return p.upstream?.source === 'console' ? 'console' : 'file';
}

export const KIND_LABEL: Record<ProviderKind, string | null> = {
  builtin: null,
  file: '自定义 · 配置文件',
  console: '自定义',
};

/** `1:05` for a minute or more, `42 秒` below; `0 秒` once past. */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} 秒`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "26 秒后重试", "1:05 后重试". */
export function retryIn(ms: number): string {
  const left = formatCountdown(ms);
  return left.endsWith('秒') ? `${left}后重试` : `${left} 后重试`;
}

export interface BreakerInfo {
  state: BreakerSnapshot['state'];
  label: string;
  tone: Tone;
  icon: string;
  /** "1:05 后重试" while open; null otherwise. */
  countdown: string | null;
  /** Failures in a row and the last one, for a tooltip. */
  detail: string | null;
}

export function breakerInfo(b: BreakerSnapshot, now: number): BreakerInfo {
  const failures = b.consecutiveFailures > 0 ? `连续失败 ${b.consecutiveFailures} 次` : null;
  const detail = [failures, b.lastFailure ? `最近一次：${b.lastFailure}` : null].filter(Boolean).join('；') || null;
  switch (b.state) {
    case 'open':
      return {
        state: 'open',
        label: '熔断',
        tone: 'danger',
        icon: 'block',
        countdown: b.openUntil === null ? null : retryIn(b.openUntil - now),
        detail,
      };
    case 'half-open':
      return { state: 'half-open', label: '半开', tone: 'warning', icon: 'change_circle', countdown: null, detail: detail ?? '正在用一个请求试探是否恢复' };
    default:
      return { state: 'closed', label: '正常', tone: failures ? 'warning' : 'success', icon: 'check_circle', countdown: null, detail };
  }
}

export interface CheckInfo {
  ok: boolean;
  inconclusive: boolean;
  label: string;
  tone: Tone;
  icon: string;
  at: number;
  latencyMs: number;
  error: string | null;
  /** What the check sent: "对话 1 token（gemma-2b）", "只读取模型列表（未测试推理）". */
  tested: string;
}

/** What a check sent, in words: a model-list read is never passed off as an inference test. */
export function probeText(c: Pick<ProviderCheck, 'probe' | 'model'>): string {
  if (c.probe === 'chat') return c.model ? `对话 1 token（${c.model}）` : '对话 1 token';
  if (c.probe === 'models') return '只读取模型列表（未测试推理）';
  return '未发送请求';
}

export function checkInfo(c: ProviderCheck | null): CheckInfo | null {
  if (!c) return null;
  const inconclusive = c.inconclusive === true;
  // A model list that reads fine says nothing about inference: never "通过" for it.
  const listOnly = c.ok && c.probe === 'models';
  return {
    ok: c.ok,
    inconclusive,
    label: inconclusive ? '无法判断' : listOnly ? '仅模型列表可读' : c.ok ? '通过' : '失败',
    tone: inconclusive ? 'neutral' : listOnly ? 'warning' : c.ok ? 'success' : 'danger',
    icon: inconclusive ? 'help' : listOnly ? 'list' : c.ok ? 'check_circle' : 'error',
    at: c.checkedAt,
    latencyMs: c.latencyMs,
    error: c.error,
    tested: probeText(c),
  };
}

/** 提供商管理's and the dashboard's one sentence on a check's outcome (the 检查 button's notice). */
export function checkSentence(name: string, c: ProviderCheck | null): string {
  if (!c) return `${name}：没有可用的探测方式`;
  const tested = probeText(c);
  if (c.inconclusive) return `${name}：检查无法判断${c.error ? `（${c.error}）` : ''}`;
  if (c.ok && c.probe === 'models') return `${name}：${tested}，成功，${formatDuration(c.latencyMs)}`;
  if (c.ok) return `${name}：${tested}，通过，${formatDuration(c.latencyMs)}`;
  return `${name}：${tested}，失败：${c.error ?? '原因不明'}`;
}

export interface KeySummary {
  /** Real keys (the anonymous slot of a provider that needs none is not one). */
  total: number;
  anonymous: boolean;
  invalid: number;
  cooling: number;
  /** "1 个失效 · 1 个冷却中", "无需密钥", or null. */
  note: string | null;
}

export const isAnonymous = (k: ProviderKeyView) => k.id === 'anonymous';

export function keySummary(p: ProviderDetail): KeySummary {
  const keys = p.keys.filter((k) => !isAnonymous(k));
  const invalid = keys.filter((k) => k.invalid).length;
  const cooling = keys.filter((k) => !k.invalid && k.breaker.state === 'open').length;
  const anonymous = keys.length === 0 && !p.requiresKey;
  const parts = [invalid ? `${invalid} 个失效` : null, cooling ? `${cooling} 个冷却中` : null].filter(Boolean);
  return { total: keys.length, anonymous, invalid, cooling, note: parts.length ? parts.join(' · ') : anonymous ? '无需密钥' : null };
}

export interface ProviderRow {
  name: string;
  kind: ProviderKind;
  kindLabel: string | null;
  enabled: boolean;
  baseUrl: string;
  priority: number | null;
  /** Weighted-random routing weight (1 unless set). */
  weight: number;
  models: number;
  status: ProviderStatus;
  statusLabel: string;
  tone: Tone;
  /** Why it is not available (in Chinese); null when it is. */
  reason: string | null;
  /** Smoothed success score (0..1); null before it has served or been probed by traffic. */
  score: number | null;
  latencyMs: number | null;
  /** successes / attempts since start; null without attempts. */
  successRate: number | null;
  successes: number;
  attempts: number;
  lastError: string | null;
  breaker: BreakerInfo;
  keys: KeySummary;
  check: CheckInfo | null;
  /** Live traffic and checks together (正常 / 降级 / 异常), with the evidence inline. */
  condition: ConditionInfo;
}

/** One row of the table (a card on phones), in the API's order (built-ins, then upstreams). */
export function providerRow(p: ProviderDetail, now: number): ProviderRow {
  const meta = STATUS_META[p.status] ?? STATUS_META.disabled;
  const attempts = p.health.successes + p.health.failures;
  const kind = providerKind(p);
  return {
    name: p.name,
    kind,
    kindLabel: KIND_LABEL[kind],
    enabled: p.enabled,
    baseUrl: p.baseUrl,
    priority: p.priority,
    weight: p.weight,
    models: p.models,
    status: p.status,
    statusLabel: meta.label,
    tone: meta.tone,
    reason: p.status === 'available' ? null : reasonText(p.reason),
    score: attempts > 0 ? p.health.successScore : null,
    latencyMs: p.health.latencyMs,
    successRate: attempts > 0 ? p.health.successes / attempts : null,
    successes: p.health.successes,
    attempts,
    lastError: p.health.lastError,
    breaker: breakerInfo(p.breaker, now),
    keys: keySummary(p),
    check: checkInfo(p.lastCheck),
    condition: conditionInfo(p.condition),
  };
}

export interface StatusCount {
  status: ProviderStatus;
  label: string;
  tone: Tone;
  count: number;
}

/** How many providers are in each status (the ones with none left out), in STATUS_META order. */
export function statusCounts(providers: ProviderDetail[]): StatusCount[] {
  return (Object.keys(STATUS_META) as ProviderStatus[])
    .sort((a, b) => STATUS_META[a].order - STATUS_META[b].order)
    .map((status) => ({ status, ...STATUS_META[status], count: providers.filter((p) => p.status === status).length }))
    .filter((c) => c.count > 0);
}

export interface KeyRow {
  id: string;
  masked: string;
  label: string | null;
  anonymous: boolean;
  /** Keys from the environment or PROVIDERS_FILE can only be removed there. */
  readOnly: boolean;
  sourceLabel: string;
  stateLabel: string;
  tone: Tone;
  /** "0:42 后重试" while the key cools down. */
  countdown: string | null;
  detail: string | null;
  /** The quota ledger's lines for this key: use per limit, reset (see core/quota-view). */
  quota: QuotaLine[];
  /** What the upstream's rate-limit headers last said is left, when it sends them. */
  upstream: string | null;
}

export function keyRow(k: ProviderKeyView, now: number): KeyRow {
  const anonymous = isAnonymous(k);
  const b = breakerInfo(k.breaker, now);
  const rest = restText(k.quota, now);
  const state = k.invalid
    ? { stateLabel: '已失效', tone: 'danger' as Tone }
    : rest
      ? { stateLabel: '额度用尽', tone: 'warning' as Tone }
      : b.state === 'open'
        ? { stateLabel: '冷却中', tone: 'warning' as Tone }
        : b.state === 'half-open'
          ? { stateLabel: '试探中', tone: 'warning' as Tone }
          : { stateLabel: '正常', tone: 'success' as Tone };
  return {
    id: k.id,
    masked: anonymous ? '匿名访问' : k.masked,
    label: k.label,
    anonymous,
    readOnly: k.source !== 'console',
    sourceLabel: anonymous ? '无需密钥' : k.source === 'console' ? '控制台添加' : '环境变量',
    ...state,
    countdown: !k.invalid && !rest && b.state === 'open' ? b.countdown : null,
    detail: k.invalid ? invalidText(k, now) : (rest ?? b.detail),
    quota: k.quota ? quotaLines(k.quota.usage, now) : [],
    upstream: upstreamText(k.quota, now),
  };
}

/** An invalid key's note: when it is tried again, if the gateway says. */
function invalidText(k: ProviderKeyView, now: number): string {
  const retest = k.retestAt && k.retestAt > now ? `${untilText(k.retestAt - now)}后会自动重新测试一次；` : '';
  return `多次认证失败，已停止使用；${retest}请检查或删除这个密钥。`;
}

/** Names of provider-specific settings in words. */
export const EXTRA_LABELS: Record<string, string> = {
  accountId: '账户 ID（accountId）',
};

export const extraLabel = (key: string) => EXTRA_LABELS[key] ?? key;

/** The provider-specific settings a settings form shows: the required ones first, then any other set. */
export function extraKeys(p: ProviderDetail): string[] {
  return [...new Set([...p.requiredExtra, ...Object.keys(p.extra)])];
}

/** A success rate's colour: green from 95 %, amber from 80 %, red below (as on the dashboard). */
export function rateTone(rate: number | null): Tone {
  if (rate === null) return 'neutral';
  return rate >= 0.95 ? 'success' : rate >= 0.8 ? 'warning' : 'danger';
}
