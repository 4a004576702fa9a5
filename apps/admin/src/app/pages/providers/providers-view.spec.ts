import type { BreakerSnapshot, ProviderCheck, ProviderKeyView } from '#contracts';
import { condition, provider } from '../../../testing/fixtures';
import {
  breakerInfo,
  checkInfo,
  conditionInfo,
  extraKeys,
  formatCountdown,
  keyRow,
  keySummary,
  providerKind,
  providerRow,
  rateTone,
  retryIn,
  statusCounts,
} from './providers-view';

const NOW = Date.UTC(2026, 10, 26, 6, 0);
const closed: BreakerSnapshot = { state: 'closed', consecutiveFailures: 0, openUntil: null, lastFailure: null };
const open = (ms: number): BreakerSnapshot => ({ state: 'open', consecutiveFailures: 3, openUntil: NOW + ms, lastFailure: 'HTTP 500' });
const key = (id: string, extra: Partial<ProviderKeyView> = {}): ProviderKeyView => ({
  id,
  source: 'console',
  label: null,
  masked: '****x9f2',
  breaker: closed,
  invalid: false,
  ...extra,
});
const check = (extra: Partial<ProviderCheck> = {}): ProviderCheck => ({
  provider: 'DeepInfra',
  ok: true,
  latencyMs: 42,
  checkedAt: NOW - 5000,
  error: null,
  probe: 'models',
  ...extra,
});

describe('providers view', () => {
  it('counts down', () => {
    expect(formatCountdown(42_000)).toBe('42 秒');
    expect(formatCountdown(41_001)).toBe('42 秒');
    expect(formatCountdown(-5)).toBe('0 秒');
    expect(formatCountdown(65_000)).toBe('1:05');
    expect(formatCountdown(3_725_000)).toBe('1:02:05');
    expect(retryIn(9_000)).toBe('9 秒后重试');
    expect(retryIn(600_000)).toBe('10:00 后重试');
  });

  it('describes breakers: closed, open with its countdown, half-open', () => {
    expect(breakerInfo(closed, NOW)).toEqual({ state: 'closed', label: '正常', tone: 'success', icon: 'check_circle', countdown: null, detail: null });
    expect(breakerInfo({ ...closed, consecutiveFailures: 2, lastFailure: 'HTTP 502' }, NOW)).toMatchObject({
      tone: 'warning',
      detail: '连续失败 2 次；最近一次：HTTP 502',
    });
    expect(breakerInfo(open(30_000), NOW)).toMatchObject({ state: 'open', label: '熔断', tone: 'danger', countdown: '30 秒后重试' });
    expect(breakerInfo({ ...open(0), openUntil: null }, NOW).countdown).toBeNull();
    expect(breakerInfo({ ...closed, state: 'half-open' }, NOW)).toMatchObject({ label: '半开', tone: 'warning', detail: '正在用一个请求试探是否恢复' });
  });

  it('describes the last health check', () => {
    expect(checkInfo(null)).toBeNull();
    expect(checkInfo(check({ probe: 'chat', model: 'gemma-2b' }))).toMatchObject({
      ok: true,
      label: '通过',
      tone: 'success',
      latencyMs: 42,
      at: NOW - 5000,
      tested: '对话 1 token（gemma-2b）',
    });
    // A model list that reads is not a passed check: inference was not tested.
    expect(checkInfo(check())).toMatchObject({ ok: true, label: '仅模型列表可读', tone: 'warning', tested: '只读取模型列表（未测试推理）' });
    expect(checkInfo(check({ ok: false, error: 'HTTP 503' }))).toMatchObject({ label: '失败', tone: 'danger', error: 'HTTP 503' });
    expect(checkInfo(check({ ok: false, inconclusive: true }))).toMatchObject({ label: '无法判断', tone: 'neutral', inconclusive: true });
  });

  it('summarises keys: the anonymous slot is not a key; invalid and cooling ones are counted', () => {
    expect(
      keySummary(provider('PollinationsAI', 'available', { requiresKey: false, keys: [key('anonymous', { source: 'env', masked: '(anonymous)' })] })),
    ).toEqual({
      total: 0,
      anonymous: true,
      invalid: 0,
      cooling: 0,
      note: '无需密钥',
    });
    const p = provider('DeepInfra', 'available', { keys: [key('a'), key('b', { invalid: true }), key('c', { breaker: open(5000) })] });
    expect(keySummary(p)).toEqual({ total: 3, anonymous: false, invalid: 1, cooling: 1, note: '1 个失效 · 1 个冷却中' });
    expect(keySummary(provider('Together', 'unconfigured', { keys: [] })).note).toBeNull();
  });

  it('makes a table row of a provider', () => {
    const p = provider('HuggingFace', 'cooling-down', {
      reason: 'cooling down after failures: HTTP 500',
      breaker: open(12_000),
      priority: 2,
      health: { successScore: 0.5, latencyMs: 320, successes: 3, failures: 1, lastError: 'HTTP 500', lastUsedAt: NOW },
      lastCheck: check({ ok: false, error: 'HTTP 503' }),
    });
    expect(providerRow(p, NOW)).toMatchObject({
      name: 'HuggingFace',
      kind: 'builtin',
      kindLabel: null,
      status: 'cooling-down',
      statusLabel: '冷却中',
      tone: 'warning',
      reason: '连续失败，冷却中：HTTP 500',
      score: 0.5,
      latencyMs: 320,
      successRate: 0.75,
      successes: 3,
      attempts: 4,
      priority: 2,
      breaker: { state: 'open', countdown: '12 秒后重试' },
      keys: { total: 1 },
      check: { ok: false, label: '失败' },
    });
    // Before any traffic: no score, no rate; an available provider has no reason.
    expect(providerRow(provider('DeepInfra', 'available', { reason: 'stale' }), NOW)).toMatchObject({ score: null, successRate: null, reason: null });
  });

  it('tells built-ins from upstreams defined in the file and in the console', () => {
    const upstream = (source: 'file' | 'console') =>
      provider('Mine', 'available', { custom: true, upstream: { source, models: {}, ownedBy: null, samplingParams: [] } });
    expect(providerKind(provider('DeepInfra'))).toBe('builtin');
    expect(providerKind(upstream('file'))).toBe('file');
    expect(providerKind(upstream('console'))).toBe('console');
    expect(providerRow(upstream('console'), NOW).kindLabel).toBe('自定义');
    expect(providerRow(upstream('file'), NOW).kindLabel).toBe('自定义 · 配置文件');
  });

  it('counts providers by status, available first, leaving out empty ones', () => {
    const counts = statusCounts([provider('A'), provider('B', 'disabled'), provider('C'), provider('D', 'cooling-down')]);
    expect(counts.map((c) => [c.label, c.count])).toEqual([
      ['可用', 2],
      ['冷却中', 1],
      ['已停用', 1],
    ]);
  });

  it('makes a key row: where it came from, its state, its countdown', () => {
    expect(keyRow(key('k', { source: 'env', label: '主账号' }), NOW)).toMatchObject({
      masked: '****x9f2',
      label: '主账号',
      readOnly: true,
      sourceLabel: '环境变量',
      stateLabel: '正常',
      tone: 'success',
      countdown: null,
    });
    expect(keyRow(key('k', { breaker: open(61_000) }), NOW)).toMatchObject({
      readOnly: false,
      sourceLabel: '控制台添加',
      stateLabel: '冷却中',
      countdown: '1:01 后重试',
    });
    expect(keyRow(key('k', { invalid: true, breaker: open(1000) }), NOW)).toMatchObject({ stateLabel: '已失效', tone: 'danger', countdown: null });
    expect(keyRow(key('k', { breaker: { ...closed, state: 'half-open' } }), NOW).stateLabel).toBe('试探中');
    expect(keyRow(key('anonymous', { source: 'env', masked: '(anonymous)' }), NOW)).toMatchObject({
      anonymous: true,
      masked: '匿名访问',
      sourceLabel: '无需密钥',
    });
  });

  it('shows what the quota ledger knows of a key: use per limit, a rest, a retest', () => {
    const day = { limit: 'requests/day', used: 100, max: 100, remaining: 0, resetAt: NOW + 3_600_000 };
    const resting = keyRow(
      key('k', {
        breaker: open(3_600_000),
        quota: { usage: [day], upstream: null, restingUntil: NOW + 3_600_000, restReason: 'requests/day used up (100)', headroom: 0 },
      }),
      NOW,
    );
    expect(resting).toMatchObject({
      stateLabel: '额度用尽',
      tone: 'warning',
      countdown: null,
      detail: '额度用尽，1 小时 0 分后恢复（requests/day used up (100)）',
      quota: [{ limit: 'requests/day', text: '今日请求 100 / 100 · 剩余 0 · 1 小时 0 分后重置', tone: 'danger' }],
      upstream: null,
    });
    expect(keyRow(key('k', { invalid: true, retestAt: NOW + 90_000 }), NOW).detail).toBe(
      '多次认证失败，已停止使用；1 分 30 秒后会自动重新测试一次；请检查或删除这个密钥。',
    );
    expect(keyRow(key('k'), NOW)).toMatchObject({ quota: [], upstream: null });
  });

  it('lists provider-specific settings: required ones first', () => {
    expect(extraKeys(provider('CloudflareAI', 'available', { requiredExtra: ['accountId'], extra: { region: 'x', accountId: 'a' } }))).toEqual([
      'accountId',
      'region',
    ]);
    expect(extraKeys(provider('DeepInfra'))).toEqual([]);
  });

  it('colours rates', () => {
    expect([null, 1, 0.9, 0.2].map(rateTone)).toEqual(['neutral', 'success', 'warning', 'danger']);
  });

  it('describes the condition from live traffic and checks, with the failing status and reason inline', () => {
    const live = { recent: 5, failed: 4, consecutiveFailures: 3, lastFailure: null, lastSuccessAt: null };
    expect(conditionInfo(condition('failing', { status: 500, reason: 'HTTP 500: model crashed', live }))).toEqual({
      state: 'failing',
      label: '异常',
      tone: 'danger',
      icon: 'error',
      detail: '实时请求连续失败 3 次 · HTTP 500 · model crashed',
    });
    expect(conditionInfo(condition('degraded', { status: 502, reason: 'network: socket hang up', live }))).toMatchObject({
      label: '降级',
      tone: 'warning',
      detail: '近期 5 次请求失败 4 次 · HTTP 502 · network: socket hang up',
    });
    expect(conditionInfo(condition('failing', { source: 'check', status: null, reason: 'timeout: health check timed out after 15000 ms' })).detail).toBe(
      '最近一次检查失败 · timeout: health check timed out after 15000 ms',
    );
    expect(conditionInfo(condition('failing', { source: 'breaker', status: null, reason: 'cooling down after failures: HTTP 500' })).detail).toBe(
      '熔断冷却中 · 连续失败，冷却中：HTTP 500',
    );
    expect(conditionInfo(condition('healthy'))).toMatchObject({ label: '正常', detail: null });
    expect(providerRow(provider('DeepInfra', 'available', { condition: condition('failing') }), NOW).condition).toMatchObject({ label: '异常' });
  });
});
