/** Request log answers shaped by libs/contracts, for the unit tests of 请求日志 (not used by the app). */
import type { AttemptSummary, RequestLogEntry, RequestLogPage } from '#contracts';

export function attempt(
  provider: string,
  status: number | null,
  reason = status === 200 ? 'ok' : `HTTP ${status}`,
  extra: Partial<AttemptSummary> = {},
): AttemptSummary {
  return { provider, upstream_model: `${provider.toLowerCase()}/llama-3.3-70b`, status, reason, latency_ms: 120, ...extra };
}

export function logEntry(requestId: string, extra: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    requestId,
    endpoint: 'chat',
    model: 'llama-3.3-70b',
    stream: false,
    startedAt: Date.UTC(2026, 10, 26, 6, 0),
    status: 200,
    provider: 'DeepInfra',
    upstreamModel: 'meta-llama/Llama-3.3-70B-Instruct',
    latencyMs: 850,
    ttftMs: 300,
    usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
    usageEstimated: false,
    attempts: [attempt('DeepInfra', 200)],
    error: null,
    clientKey: null,
    ...extra,
  };
}

export function logPage(items: RequestLogEntry[], extra: Partial<RequestLogPage> = {}): RequestLogPage {
  return { page: 1, pageSize: 50, total: items.length, items, ...extra };
}
