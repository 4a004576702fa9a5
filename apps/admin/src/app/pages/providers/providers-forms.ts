/**
 * The forms of 提供商管理 as plain values: what a form starts with, what request it makes, its
 * checks, and which field an API error belongs to. Pure functions, tested on their own.
 */
import { HttpErrorResponse } from '@angular/common/http';
import type { AbstractControl, ValidationErrors } from '@angular/forms';
import { EXTRA_SAMPLING_PARAMS, type ExtraSamplingParam, type ProviderDetail, type UpdateProviderRequest, type UpstreamRequest } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';

// ---------------------------------------------------------------- checks

/** A form validator from a check that says what is wrong (Chinese): the error `problem` holds its words. */
export const problem =
  (check: (value: string) => string | null) =>
  (c: AbstractControl<string>): ValidationErrors | null => {
    const p = check(c.value ?? '');
    return p ? { problem: p } : null;
  };

/** Upstream names: what the API accepts (UpstreamDto). */
export const UPSTREAM_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/;

/** The password the API hides in a proxy URL it shows. */
export const MASKED_PASSWORD = ':****@';

/** An http(s) URL with a host; null when fine, else what is wrong (Chinese). */
export function urlProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return '请输入完整的地址，以 http:// 或 https:// 开头';
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return '地址的格式不对，如 http://127.0.0.1:8000/v1';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return '只支持 http:// 或 https:// 开头的地址';
  if (!url.hostname) return '地址缺少主机名';
  return null;
}

/** A priority field: empty (none) or an integer ≥ 0. */
export function priorityProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  return /^\d{1,9}$/.test(v) ? null : '请输入 0 或正整数（越小越先尝试）';
}

/** A weight field: empty (the default, 1) or an integer from 0 to 100. */
export function weightProblem(value: string): string | null {
  const v = value.trim();
  if (!v) return null;
  return /^\d{1,3}$/.test(v) && Number(v) <= 100 ? null : '请输入 0 到 100 的整数（0 表示只在别的提供商都不可用时才用）';
}

/**
 * A proxy URL that still holds the API's `****` instead of its password would replace the
 * password with four stars: refused unless it is the value shown, untouched (`unchanged`).
 */
export function proxyProblem(value: string, unchanged: boolean): string | null {
  const v = value.trim();
  if (v.includes(MASKED_PASSWORD) && !unchanged) return '代理密码已隐藏（****），请重新输入完整的代理地址';
  return urlProblem(v);
}

/**
 * Whether a base URL change moves to another host (scheme, host or port): the API sends a
 * provider's keys only to the host they were given for, so the form asks for the new host's key.
 */
export function movesHost(from: string, to: string): boolean {
  const origin = (v: string): string | null => {
    try {
      return new URL(v.trim()).origin.toLowerCase();
    } catch {
      return null;
    }
  };
  const a = origin(from);
  const b = origin(to);
  return a !== null && b !== null && a !== b;
}

/** Whether the provider has keys of its own (not only the anonymous slot of a provider that needs none). */
export const hasKeys = (p: ProviderDetail): boolean => p.keys.some((k) => k.id !== 'anonymous');

const parsePriority = (value: string): number | null => (value.trim() ? Number(value.trim()) : null);

// ---------------------------------------------------------------- provider settings

export interface SettingsValue {
  baseUrl: string;
  proxy: string;
  priority: string;
  /** '' when the provider has the default weight (1) and the console never set one. */
  weight: string;
  extra: Record<string, string>;
}

export function settingsValue(p: ProviderDetail): SettingsValue {
  const weight = p.overridden.includes('weight') ? String(p.weight) : '';
  return { baseUrl: p.baseUrl, proxy: p.proxy ?? '', priority: p.priority === null ? '' : String(p.priority), weight, extra: { ...p.extra } };
}

/**
 * `PATCH /api/providers/:name` for what the form changed, `{}` when nothing. An emptied proxy or
 * priority clears the console's setting (null): the environment's applies again.
 */
export function settingsPatch(p: ProviderDetail, v: SettingsValue): UpdateProviderRequest {
  const patch: UpdateProviderRequest = {};
  const baseUrl = v.baseUrl.trim();
  if (baseUrl && baseUrl !== p.baseUrl) patch.baseUrl = baseUrl;
  const proxy = v.proxy.trim();
  if (proxy !== (p.proxy ?? '')) patch.proxy = proxy || null;
  const priority = parsePriority(v.priority);
  if (priority !== p.priority) patch.priority = priority;
  if (v.weight.trim() !== settingsValue(p).weight) patch.weight = parsePriority(v.weight);
  const extra: Record<string, string> = {};
  for (const [key, raw] of Object.entries(v.extra)) {
    const value = raw.trim();
    if (value && value !== (p.extra[key] ?? '')) extra[key] = value;
  }
  if (Object.keys(extra).length) patch.extra = extra;
  return patch;
}

// ---------------------------------------------------------------- upstreams

export interface ModelRow {
  /** The gateway's model id (what clients send). */
  id: string;
  /** The upstream's model id; empty means the same as `id`. */
  upstream: string;
}

export interface UpstreamValue {
  name: string;
  baseUrl: string;
  ownedBy: string;
  priority: string;
  proxy: string;
  models: ModelRow[];
  /** The extra sampling fields (EXTRA_SAMPLING_PARAMS) the upstream takes. */
  samplingParams: ExtraSamplingParam[];
}

export function upstreamValue(p?: ProviderDetail): UpstreamValue {
  if (!p) return { name: '', baseUrl: '', ownedBy: '', priority: '', proxy: '', models: [{ id: '', upstream: '' }], samplingParams: [] };
  const models = Object.entries(p.upstream?.models ?? {}).map(([id, upstream]) => ({ id, upstream: upstream === id ? '' : upstream }));
  return {
    name: p.name,
    baseUrl: p.baseUrl,
    ownedBy: p.upstream?.ownedBy ?? '',
    priority: p.priority === null ? '' : String(p.priority),
    proxy: p.proxy ?? '',
    models: models.length ? models : [{ id: '', upstream: '' }],
    samplingParams: [...(p.upstream?.samplingParams ?? [])],
  };
}

/** The model map from the form's rows; `problem` says what is wrong with them (Chinese), if anything. */
export function modelMap(rows: ModelRow[]): { models: Record<string, string>; problem: string | null } {
  const models: Record<string, string> = {};
  for (const row of rows) {
    const id = row.id.trim();
    const upstream = row.upstream.trim();
    if (!id && !upstream) continue;
    if (!id) return { models, problem: `请填写上游模型「${upstream}」对应的网关模型 ID` };
    if (/\s/.test(id)) return { models, problem: `网关模型 ID「${id}」不能包含空白` };
    if (id in models) return { models, problem: `网关模型 ID「${id}」重复了` };
    models[id] = upstream || id;
  }
  if (!Object.keys(models).length) return { models, problem: '至少添加一个模型' };
  return { models, problem: null };
}

/** `POST /api/upstreams` or `PATCH /api/upstreams/:name` from the form (checked already). */
export function upstreamRequest(v: UpstreamValue): UpstreamRequest {
  const body: UpstreamRequest = { name: v.name.trim(), baseUrl: v.baseUrl.trim(), models: modelMap(v.models).models };
  const ownedBy = v.ownedBy.trim();
  if (ownedBy) body.ownedBy = ownedBy;
  const priority = parsePriority(v.priority);
  if (priority !== null) body.priority = priority;
  const proxy = v.proxy.trim();
  if (proxy) body.proxy = proxy;
  // Absent means none: a save replaces the whole definition, so unticking all of them clears the list.
  if (v.samplingParams.length) body.samplingParams = EXTRA_SAMPLING_PARAMS.filter((name) => v.samplingParams.includes(name));
  return body;
}

// ---------------------------------------------------------------- API errors

export interface FormFailure {
  /** The form field the API blamed (its `param`, mapped), or null for the form as a whole. */
  field: string | null;
  /** What to show, in Chinese. */
  message: string;
  failure: ApiFailure;
}

const CODE_MESSAGES: Record<string, string> = {
  provider_exists: '已有同名的提供商（内置提供商或另一个上游），请换一个名字。',
  upstream_read_only: '这个上游定义在 PROVIDERS_FILE 中，只能在文件里修改或删除。',
  key_read_only: '这个密钥来自环境变量或 PROVIDERS_FILE，只能在那里删除。',
  provider_not_found: '这个提供商已不存在（可能刚被删除）。',
  key_not_found: '这个密钥已不存在（可能刚被删除）。',
  key_required_for_new_host: '上游地址改到了另一个主机：原来的密钥（包括环境变量中的）不会发给新主机，请同时输入新主机的 API 密钥。',
  credentials_hidden: '地址中的账号密码已隐藏（****），改到另一个主机时请输入完整的地址（含账号密码）。',
};

function errorParam(err: unknown): string | null {
  if (!(err instanceof HttpErrorResponse)) return null;
  let body: unknown = err.error;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return null;
    }
  }
  const param = (body as { error?: { param?: unknown } } | null)?.error?.param;
  return typeof param === 'string' && param ? param : null;
}

/**
 * An API error as a form shows it: a 400 that names a field of this form goes under that field
 * (`fields` lists the form's fields; `models.x` and `extra.accountId` count as `models`, `extra`).
 */
export function formFailure(err: unknown, fields: readonly string[]): FormFailure {
  const failure = describeApiError(err);
  const param = errorParam(err)?.split(/[.[]/)[0] ?? null;
  const field = param && fields.includes(param) && (failure.status === 400 || failure.status === 409) ? param : null;
  const known = failure.code ? CODE_MESSAGES[failure.code] : undefined;
  if (known) return { field, message: known, failure };
  if (failure.kind === 'request' && failure.detail) return { field, message: `服务器拒绝了这个请求：${failure.detail}`, failure };
  return { field: null, message: failure.message, failure };
}
