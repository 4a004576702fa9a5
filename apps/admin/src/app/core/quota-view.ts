import type { KeyQuotaView, ProviderDetail, QuotaUsage } from '#contracts';
import { formatCount } from './format';

/*
 * The quota ledger in words: a key's (or a provider's) use per limit, its rest, and the dashboard's
 * warnings before a budget runs out. Pure functions over the API's answers.
 */

export type QuotaTone = 'success' | 'warning' | 'danger' | 'neutral';

/** A share used from which a budget is worth a warning. */
export const WARN_AT = 0.8;

const METRIC: Record<string, string> = { requests: '请求', tokens: 'Token', neurons: '神经元' };
const WINDOW: Record<string, string> = { minute: '每分钟', hour: '每小时', day: '今日', month: '本月' };

/** "今日请求", "每分钟 Token", "每 30 秒请求". */
export function limitLabel(limit: string): string {
  const [metric = '', window = ''] = limit.split('/');
  const w = WINDOW[window] ?? (/^\d+s$/.test(window) ? `每 ${window.slice(0, -1)} 秒` : window);
  const m = METRIC[metric] ?? metric;
  return `${w}${m === 'Token' ? ' ' : ''}${m}`;
}

/** "3 小时 5 分", "4 分 12 秒", "9 秒". */
export function untilText(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} 天 ${h} 小时`;
  if (h > 0) return `${h} 小时 ${m} 分`;
  if (m > 0) return `${m} 分 ${s % 60} 秒`;
  return `${s} 秒`;
}

export interface QuotaLine {
  limit: string;
  label: string;
  text: string;
  /** Share used, when the limit is known. */
  ratio: number | null;
  tone: QuotaTone;
}

function toneOf(ratio: number | null): QuotaTone {
  if (ratio === null) return 'neutral';
  return ratio >= 1 ? 'danger' : ratio >= WARN_AT ? 'warning' : 'success';
}

/** One limit's line: "今日请求 3 / 100 · 剩余 97 · 5 小时 12 分后重置", or "今日请求 3（上限未知）". */
export function quotaLine(u: QuotaUsage, now: number): QuotaLine {
  // Workers AI's neurons are the gateway's estimate from tokens, not a count: said so.
  const label = `${limitLabel(u.limit)}${u.estimated ? '（估算）' : ''}`;
  if (u.max === null) return { limit: u.limit, label, text: `${label} ${formatCount(u.used)}（上限未知）`, ratio: null, tone: 'neutral' };
  const ratio = u.max > 0 ? u.used / u.max : 1;
  const text = `${label} ${formatCount(u.used)} / ${formatCount(u.max)} · 剩余 ${formatCount(u.remaining ?? 0)} · ${untilText(u.resetAt - now)}后重置`;
  return { limit: u.limit, label, text, ratio, tone: toneOf(ratio) };
}

/**
 * What the console shows of a key's (or provider's) use: every known limit, then today's requests and
 * tokens when no limit covers them (used, limit unknown). Windows of other lengths with nothing
 * known are left out.
 */
export function quotaLines(usage: readonly QuotaUsage[], now: number): QuotaLine[] {
  const known = usage.filter((u) => u.max !== null);
  const today = usage.filter((u) => u.max === null && (u.limit === 'requests/day' || u.limit === 'tokens/day'));
  return [...known, ...today].map((u) => quotaLine(u, now));
}

/** Why and how long a key rests: "额度用尽，4 分 2 秒后恢复（requests/day used up (100)）"; null when it does not. */
export function restText(q: KeyQuotaView | undefined, now: number): string | null {
  if (!q || q.restingUntil === null || q.restingUntil <= now) return null;
  return `额度用尽，${untilText(q.restingUntil - now)}后恢复${q.restReason ? `（${q.restReason}）` : ''}`;
}

/** The upstream's own word on what is left, from its rate-limit headers: "上游：剩余请求 12 · 剩余 Token 9,000". */
export function upstreamText(q: KeyQuotaView | undefined, now: number): string | null {
  const u = q?.upstream;
  if (!u) return null;
  const parts = [
    u.remainingRequests === null ? null : `剩余请求 ${formatCount(u.remainingRequests)}`,
    u.remainingTokens === null ? null : `剩余 Token ${formatCount(u.remainingTokens)}`,
    u.resetAt !== null && u.resetAt > now ? `${untilText(u.resetAt - now)}后重置` : null,
  ].filter(Boolean);
  return parts.length ? `上游：${parts.join(' · ')}` : null;
}

export interface BudgetWarning {
  provider: string;
  text: string;
  tone: 'warning' | 'danger';
}

/**
 * The dashboard's warnings: a provider whose budget (summed over its keys) is used up, or past
 * WARN_AT of a known limit, or whose keys all rest. Enabled providers only; the worst first.
 */
export function budgetWarnings(providers: readonly ProviderDetail[], now: number): BudgetWarning[] {
  const out: Array<BudgetWarning & { ratio: number }> = [];
  for (const p of providers) {
    if (!p.enabled || p.keys.length === 0) continue;
    const resting = p.keys.filter((k) => k.quota && k.quota.restingUntil !== null && k.quota.restingUntil > now);
    if (resting.length === p.keys.length) {
      const back = Math.min(...resting.map((k) => k.quota!.restingUntil!));
      out.push({ provider: p.name, text: `${p.name} 的密钥额度都已用尽，${untilText(back - now)}后恢复`, tone: 'danger', ratio: 2 });
      continue;
    }
    const worst = quotaLines(p.quota ?? [], now)
      .filter((l) => l.ratio !== null && l.ratio >= WARN_AT)
      .sort((a, b) => b.ratio! - a.ratio!)[0];
    if (!worst) continue;
    const used = Math.min(100, Math.round(worst.ratio! * 100));
    out.push({
      provider: p.name,
      text: `${p.name} ${worst.label}已用 ${used}%：${worst.text}`,
      tone: worst.ratio! >= 1 ? 'danger' : 'warning',
      ratio: worst.ratio!,
    });
  }
  return out.sort((a, b) => b.ratio - a.ratio).map(({ provider, text, tone }) => ({ provider, text, tone }));
}
