import type { ClientKey } from '#contracts';
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

/** The form's two fields, as typed. */
export interface KeyFormValue {
  name: string;
  /** '' for no limit. */
  rpmLimit: string;
}

export type KeyFormErrors = Partial<Record<keyof KeyFormValue, string>>;

/** Checks the form the way the API will, in Chinese; {} when it is fine. */
export function validateKeyForm(value: KeyFormValue): KeyFormErrors {
  const errors: KeyFormErrors = {};
  const name = value.name.trim();
  if (!name) errors.name = '请填写名称。';
  else if (name.length > MAX_NAME_LENGTH) errors.name = `名称最多 ${MAX_NAME_LENGTH} 个字符。`;
  const rpm = value.rpmLimit.trim();
  if (rpm && (!/^\d+$/.test(rpm) || Number(rpm) < 1 || Number(rpm) > MAX_RPM_LIMIT)) {
    errors.rpmLimit = `请填写 1 到 ${MAX_RPM_LIMIT.toLocaleString('zh-CN')} 之间的整数，留空表示不限。`;
  }
  return errors;
}

/** The form as the API's body: trimmed name, rpmLimit null for no limit. */
export function keyFormBody(value: KeyFormValue): { name: string; rpmLimit: number | null } {
  const rpm = value.rpmLimit.trim();
  return { name: value.name.trim(), rpmLimit: rpm ? Number(rpm) : null };
}

/** A curl line that uses the new key against this server. */
export function curlExample(origin: string, secret: string): string {
  return `curl ${origin}/v1/models -H "Authorization: Bearer ${secret}"`;
}
