/**
 * The free-tier limits form (额度设置 / 额度) as plain values: which limits it offers, what it
 * starts with, the body of `PUT /api/quotas/{name}[/keys/{id}]`, and the API's objections in
 * Chinese. Pure functions, tested on their own.
 */
import type { ProviderQuotaView } from '#contracts';
import { limitLabel } from '../../core/quota-view';

/** Limits every provider's form offers; Cloudflare's also has neurons/day, and any other limit in effect or set is added. */
export const BASE_LIMITS = ['requests/minute', 'requests/day', 'requests/month', 'tokens/minute', 'tokens/day', 'tokens/month'] as const;

/** The API's bound on a limit (MAX_QUOTA_VALUE). */
export const MAX_LIMIT_VALUE = 1e12;

/** One limit's row: what applies now, and what the console sets. */
export interface QuotaRow {
  limit: string;
  label: string;
  /** What applies now, in words: "10,000" (exact, as it would be typed) or "未知". */
  current: string;
  /** The console's setting for it: a number typed, '' for none. */
  value: string;
  /** The console set it to unknown (null): kept as is unless a number is typed. */
  unknownSet: boolean;
}

export interface QuotaFormValue {
  rows: QuotaRow[];
  /** '' for the value in effect (not set here). */
  timeZone: string;
  resetHour: string;
  /** What applies now, shown as placeholders. */
  currentTimeZone: string;
  currentResetHour: number;
  /** The override's fields this form does not edit (creditWindow …): sent back untouched, since a PUT replaces. */
  kept: Record<string, unknown>;
}

/** A limit as a setting: "每日请求", "每月 Token" (the quota lines say 今日 / 本月: they show the current window). */
export function settingLabel(limit: string): string {
  return limitLabel(limit).replace(/^今日/, '每日').replace(/^本月/, '每月');
}

/** Which limits the form lists, in a steady order: the base ones, neurons for Cloudflare, then any other in play. */
export function limitNames(view: ProviderQuotaView, override: Record<string, unknown> | null, effective: Record<string, number>): string[] {
  const names: string[] = [...BASE_LIMITS];
  if (view.provider === 'cloudflare') names.push('neurons/day');
  const extra = [...Object.keys(view.limits), ...Object.keys(effective), ...Object.keys(override ?? {})].filter((n) => n.includes('/'));
  for (const n of extra.sort()) if (!names.includes(n)) names.push(n);
  return names;
}

/** The limits in effect for the provider, or for one of its keys (its use lists each known limit's most). */
export function effectiveLimits(view: ProviderQuotaView, keyId?: string): Record<string, number> {
  if (keyId === undefined) return view.limits;
  const key = view.keys.find((k) => k.id === keyId);
  if (!key) return view.limits;
  const out: Record<string, number> = {};
  for (const u of key.quota.usage) if (u.max !== null) out[u.limit] = u.max;
  return out;
}

/** The form's start for the provider (no keyId) or one of its keys. */
export function quotaFormValue(view: ProviderQuotaView, keyId?: string): QuotaFormValue {
  const override = keyId === undefined ? view.override : (view.keys.find((k) => k.id === keyId)?.override ?? null);
  const effective = effectiveLimits(view, keyId);
  const rows = limitNames(view, override, effective).map((limit): QuotaRow => {
    const set = override?.[limit];
    const now = effective[limit];
    return {
      limit,
      label: settingLabel(limit),
      current: now === undefined ? '未知' : now.toLocaleString('zh-CN'),
      value: typeof set === 'number' ? String(set) : '',
      unknownSet: set === null,
    };
  });
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(override ?? {})) if (!k.includes('/') && k !== 'timeZone' && k !== 'resetHour') kept[k] = v;
  return {
    rows,
    timeZone: typeof override?.['timeZone'] === 'string' ? override['timeZone'] : '',
    resetHour: typeof override?.['resetHour'] === 'number' ? String(override['resetHour']) : '',
    currentTimeZone: view.timeZone,
    currentResetHour: view.resetHour,
    kept,
  };
}

/** A limit field: empty (not set here) or a whole number from 0 to 10¹²; null when fine. */
export function limitProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  return /^\d{1,13}$/.test(v) && Number(v) <= MAX_LIMIT_VALUE ? null : '请输入 0 到 1 万亿之间的整数，留空表示不设置';
}

/** The reset hour field: empty or 0–23. */
export function resetHourProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  return /^\d{1,2}$/.test(v) && Number(v) <= 23 ? null : '请输入 0 到 23 的整数';
}

/**
 * The PUT body: each limit typed, each limit the console had set to unknown (unless a number was
 * typed), the time zone and reset hour when given, and the fields the form does not edit.
 */
export function quotaBody(v: QuotaFormValue): Record<string, unknown> {
  const body: Record<string, unknown> = { ...v.kept };
  for (const row of v.rows) {
    const value = row.value.trim();
    if (value) body[row.limit] = Number(value);
    else if (row.unknownSet) body[row.limit] = null;
  }
  if (v.timeZone.trim()) body['timeZone'] = v.timeZone.trim();
  if (v.resetHour.trim()) body['resetHour'] = Number(v.resetHour.trim());
  return body;
}

/** Which field an objection of the API's (QuotaSpecError) is about: a limit's name, timeZone, resetHour, or null. */
export function quotaErrorField(detail: string): string | null {
  const limit = /\["([^"]+)"\] must be/.exec(detail);
  if (limit) return limit[1]!;
  if (/\.timeZone must be/.test(detail)) return 'timeZone';
  if (/\.resetHour must be/.test(detail)) return 'resetHour';
  return null;
}

/** The API's objection to the limits, in Chinese (its words beside when it is one this form does not know). */
export function quotaErrorText(detail: string): string {
  const field = quotaErrorField(detail);
  if (field === 'timeZone') return '时区无效：请填写 IANA 时区名，如 UTC、Asia/Shanghai 或 America/Los_Angeles';
  if (field === 'resetHour') return '重置时刻无效：请填写 0 到 23 的整数';
  if (field) return `「${settingLabel(field)}」无效：请填写 0 到 1 万亿之间的整数`;
  if (/may set at most/.test(detail)) return '限额太多：最多设置 20 项';
  if (/has an unknown field/.test(detail)) return `有无法识别的限额项（服务器：${detail}）`;
  return `服务器拒绝了这些限额：${detail}`;
}
