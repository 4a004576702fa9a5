/** Answers of the admin API, shaped by libs/contracts, for the console's unit tests. */
import type {
  AdminModel,
  AdminModelList,
  ProviderCondition,
  ProviderDetail,
  ProviderLive,
  ProviderStatus,
  StatsPoint,
  StatsResponse,
  StatsSummary,
} from '#contracts';

const MINUTE = 60_000;

export function point(bucket: number, requests = 0, failures = 0): StatsPoint {
  const successes = requests - failures;
  return {
    bucket,
    requests,
    successes,
    failures,
    successRate: requests ? successes / requests : null,
    promptTokens: requests * 10,
    completionTokens: requests * 20,
    latencyP50Ms: requests ? 120 : null,
    latencyP95Ms: requests ? 480 : null,
    ttftP50Ms: requests ? 90 : null,
    ttftP95Ms: requests ? 300 : null,
  };
}

export function summary(requests: number, failures = 0): StatsSummary {
  const { bucket: _bucket, ...p } = point(0, requests, failures);
  return {
    ...p,
    totalTokens: p.promptTokens + p.completionTokens,
    latencyAvgMs: p.latencyP50Ms,
    latencyP99Ms: p.latencyP95Ms,
    ttftAvgMs: p.ttftP50Ms,
    ttftP99Ms: p.ttftP95Ms,
  };
}

/** A 1h minute-bucket report whose last buckets hold `perBucket` requests each. */
export function stats(perBucket: number[] = [], overrides: Partial<StatsResponse> = {}): StatsResponse {
  const to = Date.UTC(2026, 10, 26, 6, 0);
  const from = to - 60 * MINUTE;
  const series = Array.from({ length: 60 }, (_, i) => point(from + i * MINUTE, perBucket[i - (60 - perBucket.length)] ?? 0));
  const requests = perBucket.reduce((a, b) => a + b, 0);
  return {
    range: '1h',
    granularity: 'minute',
    bucketMs: MINUTE,
    from,
    to,
    generatedAt: to - 1000,
    totals: summary(requests),
    series,
    providers: requests ? [{ ...summary(requests), value: 'DeepInfra' }] : [],
    models: [],
    keys: [],
    dimension: null,
    seriesBy: [],
    ...overrides,
  };
}

/** No live traffic in the window. */
export const QUIET: ProviderLive = { recent: 0, failed: 0, consecutiveFailures: 0, lastFailure: null, lastSuccessAt: null };

/** A provider condition for the console's tests: failing/degraded ones carry a status and reason. */
export function condition(state: ProviderCondition['state'], extra: Partial<ProviderCondition> = {}): ProviderCondition {
  const bad = state === 'failing' || state === 'degraded';
  return { state, source: bad ? 'live' : null, status: bad ? 500 : null, reason: bad ? 'HTTP 500: boom' : null, at: bad ? 1_000 : null, live: QUIET, ...extra };
}

export function provider(name: string, status: ProviderStatus = 'available', extra: Partial<ProviderDetail> = {}): ProviderDetail {
  const breaker = { state: 'closed' as const, consecutiveFailures: 0, openUntil: null, lastFailure: null };
  return {
    id: name.toLowerCase(),
    name,
    custom: false,
    enabled: status !== 'disabled',
    baseUrl: `https://${name.toLowerCase()}.example`,
    requiresKey: true,
    status,
    reason: status === 'available' ? null : `${name} is ${status}`,
    priority: null,
    weight: 1,
    proxy: null,
    extra: {},
    requiredExtra: [],
    overridden: [],
    breaker,
    keys: [{ id: 'k1', source: 'env', label: null, masked: '****x9f2', breaker, invalid: false }],
    health: { successScore: 1, latencyMs: null, successes: 0, failures: 0, lastError: null, lastUsedAt: null },
    models: 3,
    lastCheck: null,
    condition: { state: 'unknown', source: null, status: null, reason: null, at: null, live: QUIET },
    upstream: null,
    ...extra,
  };
}

export function model(id: string, routes: Array<[provider: string, routable?: boolean]>, category: AdminModel['category'] = 'chat'): AdminModel {
  return {
    id,
    label: id,
    owned_by: 'test',
    category,
    routes: routes.map(([p, routable = true]) => ({
      provider: p,
      upstream_model: id,
      state: routable ? 'confirmed' : 'missing',
      pinned: false,
      pinnedBy: null,
      checkedAt: null,
      routable,
    })),
    routable: routes.some(([, r = true]) => r),
    available: routes.some(([, r = true]) => r),
    reason: null,
    aliases: [],
  };
}

export function models(list: AdminModel[]): AdminModelList {
  return { total: list.length, categories: [], models: list, aliases: [], autoModels: [], discovery: { intervalMinutes: 0, providers: [] } };
}
