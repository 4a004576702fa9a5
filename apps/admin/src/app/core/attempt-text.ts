/**
 * The request log's codes in the console's words: each upstream attempt's stable `code` (see
 * AttemptCode) and a request's final status, in Chinese. The upstream's own text stays beside
 * them, untranslated, for copying.
 */
import type { AttemptCode, AttemptSummary, RequestLogEntry } from '#contracts';

const CODE_TEXT: Record<AttemptCode, (status: number | null) => string> = {
  ok: () => '成功',
  skipped_cooling: () => '已跳过：提供商在冷却中，没有发送',
  upstream_html: (s) => `上游返回了 HTML 网页而不是 API 响应${s ? `（HTTP ${s}）` : ''}，常见于代理、CDN 的报错页或登录页`,
  upstream_5xx: (s) => `上游服务器错误（HTTP ${s ?? '5xx'}）`,
  upstream_timeout: () => '上游超时：在限定时间内没有回应',
  network_error: () => '无法连接上游（网络错误：连接被拒绝、重置或域名解析失败）',
  rate_limited: () => '上游限流（HTTP 429）',
  auth_failed: (s) => `上游拒绝了密钥（HTTP ${s ?? '401'}）`,
  payment_required: () => '上游额度不足（HTTP 402）',
  upstream_4xx: (s) => `上游拒绝了这个请求（HTTP ${s ?? '4xx'}）`,
  invalid_answer: () => '上游的回答无法使用（为空或无法解析）',
  aborted: () => '已中止：请求结束时这次尝试仍在等待上游（客户端断开，或网关停止等待）',
};

/** An attempt's code; records from before codes are read from their reason. */
export function attemptCodeOf(a: Pick<AttemptSummary, 'code' | 'reason' | 'status'>): AttemptCode {
  if (a.code && a.code in CODE_TEXT) return a.code;
  const r = a.reason;
  if (r === 'ok') return 'ok';
  if (r.startsWith('skipped')) return 'skipped_cooling';
  if (r.startsWith('aborted')) return 'aborted';
  if (r.startsWith('timeout')) return 'upstream_timeout';
  if (r.startsWith('network')) return 'network_error';
  if (r.startsWith('invalid')) return /\bHTML\b/.test(r) ? 'upstream_html' : 'invalid_answer';
  const s = a.status ?? 0;
  if (s === 429) return 'rate_limited';
  if (s === 401 || s === 403) return 'auth_failed';
  if (s === 402) return 'payment_required';
  return s >= 500 ? 'upstream_5xx' : s >= 400 ? 'upstream_4xx' : 'invalid_answer';
}

/** What happened to one attempt, in Chinese. */
export function attemptText(a: Pick<AttemptSummary, 'code' | 'reason' | 'status'>): string {
  return CODE_TEXT[attemptCodeOf(a)](a.status);
}

/** Why a request ended without a (whole) answer, in Chinese; null when it did not fail. */
export function finalErrorText(entry: Pick<RequestLogEntry, 'status' | 'error'>): string | null {
  const { status, error } = entry;
  if (status >= 200 && status < 300) return error ? '回答已经开始，但中途中断' : null;
  switch (status) {
    case 400:
    case 404:
    case 413:
    case 422:
      return '请求被拒绝：参数、模型或内容有误';
    case 401:
    case 403:
      return '未授权：API 密钥缺失或无效';
    case 429:
      return '被限流：所有提供商或这个密钥的请求太多';
    case 499:
      return '客户端在收到回答之前断开了';
    case 502:
      return '所有提供商都失败了';
    case 503:
      return '当前没有可用的提供商（都在冷却、停用或未配置），或网关正在关闭';
    case 504:
      return '所有提供商都超时了';
    default:
      return `请求失败（HTTP ${status}）`;
  }
}
