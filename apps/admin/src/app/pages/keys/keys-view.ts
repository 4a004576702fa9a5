import type { ClientKey, ClientKeyQuotaName, ClientKeyQuotaUsage, CreateClientKeyRequest } from '#contracts';
import { formatCount } from '../../core/format';

/** The highest rpm limit the API accepts (apps/api/src/client-keys/client-keys.controller.ts, MAX_RPM_LIMIT). */
export const MAX_RPM_LIMIT = 1_000_000;
/** The API's limit on a key's name. */
export const MAX_NAME_LENGTH = 100;

/**
 * What /v1 asks of clients, as far as the console can tell. The guard (api-key.guard.ts) lets
 * everyone in only while there is no API_KEY in the environment and no client key was ever
 * created, revoked ones included. The console cannot see API_KEY, so with no key it can only
 * say "open unless API_KEY is set".
 * - `open-unless-env`: no client key at all;
 * - `keys-required`: at least one active key;
 * - `all-revoked`: keys exist, all revoked: /v1 still wants a key, and only API_KEY's can pass.
 */
export type AccessMode = 'open-unless-env' | 'keys-required' | 'all-revoked';

export function accessMode(keys: readonly ClientKey[]): AccessMode {
  if (keys.length === 0) return 'open-unless-env';
  return keys.some((k) => !k.revoked) ? 'keys-required' : 'all-revoked';
}

/** 60 次/分钟 · 不限 */
export function formatRpm(limit: number | null): string {
  return limit === null ? '不限' : `${formatCount(limit)} 次/分钟`;
}

/** 2026-05-01 14:05 */
export function formatDateTime(ts: number): string {
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export interface KeyCounts {
  total: number;
  active: number;
  revoked: number;
}

export function keyCounts(keys: readonly ClientKey[]): KeyCounts {
  const revoked = keys.filter((k) => k.revoked).length;
  return { total: keys.length, active: keys.length - revoked, revoked };
}

/** Active keys first, each group newest first (the API's order within a group). */
export function sortKeys(keys: readonly ClientKey[]): ClientKey[] {
  return [...keys].sort((a, b) => Number(a.revoked) - Number(b.revoked) || b.createdAt - a.createdAt);
}

/** The highest quota the API accepts (apps/api/src/client-keys/key-limits.ts, MAX_QUOTA). */
export const MAX_QUOTA = 1_000_000_000_000;
/** The highest concurrency limit the API accepts (MAX_CONCURRENCY_LIMIT). */
export const MAX_CONCURRENCY = 10_000;
/** Most allowed models or addresses per key (MAX_ALLOW_ENTRIES), and the longest model pattern. */
export const MAX_ALLOW_ENTRIES = 100;
export const MAX_MODEL_PATTERN = 128;

/** Each quota as the console names it, in the API's order. */
export const QUOTA_FIELDS: readonly { field: ClientKeyQuotaName; label: string; unit: string }[] = [
  { field: 'requestsPerDay', label: '每日请求数', unit: '次' },
  { field: 'requestsPerMonth', label: '每月请求数', unit: '次' },
  { field: 'requestsTotal', label: '总请求数', unit: '次' },
  { field: 'tokensPerDay', label: '每日 Token', unit: 'Token' },
  { field: 'tokensPerMonth', label: '每月 Token', unit: 'Token' },
  { field: 'tokensTotal', label: '总 Token', unit: 'Token' },
];

/** The form's fields, as typed: '' for no limit. */
export interface KeyFormValue extends Record<ClientKeyQuotaName, string> {
  name: string;
  rpmLimit: string;
  /** `datetime-local`: 2026-12-31T23:59, local time. */
  expiresAt: string;
  /** One per line (or separated by commas / spaces). */
  allowedModels: string;
  allowedIps: string;
  concurrencyLimit: string;
}

export type KeyFormErrors = Partial<Record<keyof KeyFormValue, string>>;

/** An empty form: a name and no limit. */
export function emptyKeyForm(): KeyFormValue {
  return {
    name: '',
    rpmLimit: '',
    requestsPerDay: '',
    requestsPerMonth: '',
    requestsTotal: '',
    tokensPerDay: '',
    tokensPerMonth: '',
    tokensTotal: '',
    expiresAt: '',
    allowedModels: '',
    allowedIps: '',
    concurrencyLimit: '',
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as `datetime-local` shows it (local time, minutes). */
export function toLocalInput(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A key's settings as the form shows them. */
export function keyFormValue(key: ClientKey | null): KeyFormValue {
  if (!key) return emptyKeyForm();
  const num = (n: number | null) => (n === null ? '' : String(n));
  const value: KeyFormValue = {
    ...emptyKeyForm(),
    name: key.name,
    rpmLimit: num(key.rpmLimit),
    expiresAt: key.expiresAt === null ? '' : toLocalInput(key.expiresAt),
    allowedModels: key.allowedModels.join('\n'),
    allowedIps: key.allowedIps.join('\n'),
    concurrencyLimit: num(key.concurrencyLimit),
  };
  for (const { field } of QUOTA_FIELDS) value[field] = num(key[field]);
  return value;
}

/** Entries of a list field: split on lines, commas and spaces. */
export function listEntries(text: string): string[] {
  return text.split(/[\s,，]+/).filter(Boolean);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 or IPv6 address, with an optional prefix (the API checks IPv6 exactly). */
export function isIpOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) return false;
  if (IPV4.test(address)) return prefix === undefined || Number(prefix) <= 32;
  return /^[0-9a-f:.]+$/i.test(address) && address.includes(':') && (prefix === undefined || Number(prefix) <= 128);
}

function integerProblem(raw: string, max: number): string | undefined {
  const text = raw.trim();
  if (text && (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)) {
    return `请填写 1 到 ${max.toLocaleString('zh-CN')} 之间的整数，留空表示不限。`;
  }
  return undefined;
}

/** Checks the form the way the API will, in Chinese; {} when it is fine. */
export function validateKeyForm(value: KeyFormValue): KeyFormErrors {
  const errors: KeyFormErrors = {};
  const name = value.name.trim();
  if (!name) errors.name = '请填写名称。';
  else if (name.length > MAX_NAME_LENGTH) errors.name = `名称最多 ${MAX_NAME_LENGTH} 个字符。`;
  const numbers: [keyof KeyFormValue, number][] = [
    ['rpmLimit', MAX_RPM_LIMIT],
    ['concurrencyLimit', MAX_CONCURRENCY],
    ...QUOTA_FIELDS.map((q): [keyof KeyFormValue, number] => [q.field, MAX_QUOTA]),
  ];
  for (const [field, max] of numbers) {
    const problem = integerProblem(value[field], max);
    if (problem) errors[field] = problem;
  }
  if (value.expiresAt.trim() && Number.isNaN(new Date(value.expiresAt.trim()).getTime())) errors.expiresAt = '请填写有效的日期和时间，留空表示永不过期。';
  const models = listEntries(value.allowedModels);
  if (models.length > MAX_ALLOW_ENTRIES) errors.allowedModels = `最多 ${MAX_ALLOW_ENTRIES} 个。`;
  else if (models.some((m) => m.length > MAX_MODEL_PATTERN || !/^[\x21-\x7e]+$/.test(m)))
    errors.allowedModels = `每个模型 id 或通配最多 ${MAX_MODEL_PATTERN} 个字符，只能是 ASCII 可见字符。`;
  const ips = listEntries(value.allowedIps);
  if (ips.length > MAX_ALLOW_ENTRIES) errors.allowedIps = `最多 ${MAX_ALLOW_ENTRIES} 条。`;
  else {
    const bad = ips.find((ip) => !isIpOrCidr(ip));
    if (bad) errors.allowedIps = `「${bad.slice(0, 60)}」不是 IP 地址或 CIDR（如 10.0.0.0/8、2001:db8::/32）。`;
  }
  return errors;
}

/** The form as the API's body: trimmed name, null (or []) for no limit. */
export function keyFormBody(value: KeyFormValue): CreateClientKeyRequest & Required<Omit<CreateClientKeyRequest, 'name'>> {
  const num = (raw: string) => (raw.trim() ? Number(raw.trim()) : null);
  const expires = value.expiresAt.trim();
  const body = {
    name: value.name.trim(),
    rpmLimit: num(value.rpmLimit),
    requestsPerDay: num(value.requestsPerDay),
    requestsPerMonth: num(value.requestsPerMonth),
    requestsTotal: num(value.requestsTotal),
    tokensPerDay: num(value.tokensPerDay),
    tokensPerMonth: num(value.tokensPerMonth),
    tokensTotal: num(value.tokensTotal),
    expiresAt: expires ? new Date(expires).getTime() : null,
    allowedModels: listEntries(value.allowedModels),
    allowedIps: listEntries(value.allowedIps),
    concurrencyLimit: num(value.concurrencyLimit),
  };
  return body;
}

/** 每日请求数 3 / 10（剩 7，明天 08:00 重置） — one line per quota that is set. */
export function quotaLines(key: ClientKey): string[] {
  const byName = new Map<ClientKeyQuotaName, ClientKeyQuotaUsage>(key.quotaUsage.map((u) => [u.quota, u]));
  const lines: string[] = [];
  for (const { field, label } of QUOTA_FIELDS) {
    const usage = byName.get(field);
    if (!usage || usage.limit === null) continue;
    lines.push(`${label} ${formatCount(usage.used)} / ${formatCount(usage.limit)}（剩 ${formatCount(usage.remaining ?? 0)}）`);
  }
  return lines;
}

/** The other limits in a few words: expiry, concurrency, models, addresses. */
export function limitLines(key: ClientKey, now = Date.now()): string[] {
  const lines: string[] = [];
  if (key.expiresAt !== null) lines.push(key.expiresAt <= now ? `已于 ${formatDateTime(key.expiresAt)} 过期` : `${formatDateTime(key.expiresAt)} 过期`);
  if (key.concurrencyLimit !== null) lines.push(`并发 ≤ ${formatCount(key.concurrencyLimit)}`);
  if (key.allowedModels.length)
    lines.push(`模型：${key.allowedModels.slice(0, 3).join('、')}${key.allowedModels.length > 3 ? ` 等 ${key.allowedModels.length} 个` : ''}`);
  if (key.allowedIps.length) lines.push(`IP：${key.allowedIps.slice(0, 2).join('、')}${key.allowedIps.length > 2 ? ` 等 ${key.allowedIps.length} 条` : ''}`);
  return lines;
}

/** A curl line that uses the new key against this server. */
export function curlExample(origin: string, secret: string): string {
  return `curl ${origin}/v1/models -H "Authorization: Bearer ${secret}"`;
}
