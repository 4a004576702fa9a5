import { HttpErrorResponse } from '@angular/common/http';
import type { OpenAIErrorEnvelope } from '#contracts';

/**
 * What went wrong with an API call, in the console's terms:
 * - `unreachable`: no answer from the server (network down, server stopped, a proxy's 502/503/504);
 * - `unauthorized`: 401/403, the session is missing or expired (the interceptor sends you to 登录);
 * - `rate-limited`: 429;
 * - `server`: the API answered with a 5xx error of its own;
 * - `request`: any other 4xx.
 */
export type ApiFailureKind = 'unreachable' | 'unauthorized' | 'rate-limited' | 'server' | 'request';

export interface ApiFailure {
  kind: ApiFailureKind;
  /** HTTP status; 0 when there was no answer. */
  status: number;
  /** A sentence for the user, in Chinese. */
  message: string;
  /** The API's own `error.message` (English), when it sent one. */
  detail: string | null;
  /** The API's `error.code`, when it sent one. */
  code: string | null;
  /** Seconds to wait, from a 429's Retry-After. */
  retryAfter: number | null;
}

function envelope(body: unknown): OpenAIErrorEnvelope['error'] | null {
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return null;
    }
  }
  const error = (body as Partial<OpenAIErrorEnvelope> | null)?.error;
  return error && typeof error === 'object' && typeof error.message === 'string' ? error : null;
}

export function describeApiError(err: unknown): ApiFailure {
  if (!(err instanceof HttpErrorResponse)) {
    return {
      kind: 'server',
      status: 0,
      message: '发生了意外错误，请稍后重试。',
      detail: err instanceof Error ? err.message : null,
      code: null,
      retryAfter: null,
    };
  }
  const body = envelope(err.error);
  const base = { status: err.status, detail: body?.message ?? null, code: body?.code ?? null, retryAfter: null };
  if (err.status === 0 || (!body && err.status >= 502 && err.status <= 504)) {
    return { ...base, kind: 'unreachable', message: '无法连接到服务器，请检查服务是否在运行、网络是否通畅。' };
  }
  if (err.status === 401 || err.status === 403) {
    return { ...base, kind: 'unauthorized', message: '登录已过期或无权访问，请重新登录。' };
  }
  if (err.status === 429) {
    const header = Number(err.headers?.get('retry-after'));
    const retryAfter = Number.isFinite(header) && header > 0 ? header : null;
    return { ...base, kind: 'rate-limited', retryAfter, message: retryAfter ? `请求过于频繁，请 ${retryAfter} 秒后再试。` : '请求过于频繁，请稍后再试。' };
  }
  if (err.status >= 500) return { ...base, kind: 'server', message: `服务器出错（HTTP ${err.status}），请稍后重试。` };
  return { ...base, kind: 'request', message: `请求失败（HTTP ${err.status}）。` };
}
