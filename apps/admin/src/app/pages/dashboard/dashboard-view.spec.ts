import { condition, model, models, provider, stats } from '../../../testing/fixtures';
import { FALLBACK_MODEL, RANGE_OPTIONS, availableModelIds, liveLabel, providerRows, rangeOption, snippetModel, summarize } from './dashboard-view';

describe('dashboard view', () => {
  const providers = [
    provider('DeepInfra'),
    provider('Together', 'cooling-down'),
    provider('HuggingFace', 'unconfigured'),
    provider('CloudflareAI', 'disabled'),
  ];
  const catalog = models([
    model('llama-3.3-70b', [['DeepInfra'], ['Together']]),
    model('qwen-2.5', [['Together'], ['huggingface']]),
    model('missing-route', [['DeepInfra', false]]),
    model('flux', [['deepinfra']], 'image'),
  ]);

  it('counts a model as available when a routable route reaches an available provider', () => {
    expect([...availableModelIds(catalog, providers)].sort()).toEqual(['flux', 'llama-3.3-70b']);
    expect(availableModelIds(null, providers).size).toBe(0);
  });

  it('summarises the cards', () => {
    expect(summarize({ stats: stats([3, 1]), providers, models: catalog })).toEqual({
      requests: 4,
      successes: 4,
      failures: 0,
      successRate: 1,
      latencyP50Ms: 120,
      totalTokens: 120,
      availableModels: 2,
      totalModels: 4,
      activeProviders: 1,
      totalProviders: 4,
    });
    expect(summarize({ stats: stats(), providers: [], models: null })).toMatchObject({
      requests: 0,
      successRate: null,
      availableModels: null,
      totalModels: null,
    });
  });

  it('lists providers available first, with their range traffic and status in Chinese', () => {
    const rows = providerRows(
      [
        ...providers,
        provider('Zeta', 'available', {
          custom: true,
          health: { successScore: 0.8, latencyMs: 350, successes: 8, failures: 2, lastError: 'HTTP 500', lastUsedAt: 1 },
          lastCheck: { provider: 'Zeta', ok: false, latencyMs: 40, checkedAt: 5, error: 'down', probe: 'chat' },
        }),
      ],
      stats([2]),
    );
    expect(rows.map((r) => [r.name, r.statusLabel, r.tone])).toEqual([
      ['DeepInfra', '可用', 'success'],
      ['Zeta', '可用', 'success'],
      ['Together', '冷却中', 'warning'],
      ['HuggingFace', '未配置', 'neutral'],
      ['CloudflareAI', '已停用', 'neutral'],
    ]);
    // 成功率 is the range's (from the stats), 健康分 the routing score: two numbers, never mixed up.
    expect(rows[0]).toMatchObject({ requests: 2, successRate: 1, healthScore: null, keys: 1, models: 3, note: null, lastCheck: null });
    expect(rows[1]).toMatchObject({
      custom: true,
      requests: 0,
      successRate: null,
      healthScore: 0.8,
      latencyMs: 350,
      lastCheck: { ok: false, at: 5, latencyMs: 40 },
    });
    expect(rows[2]!.note).toBe('Together is cooling-down');
    // The API's reasons are English; the overview says them in Chinese.
    const [unconfigured] = providerRows([provider('DeepInfra', 'unconfigured', { reason: 'needs an API key (DEEPINFRA_API_KEY)' })], stats());
    expect(unconfigured!.note).toBe('缺少 API 密钥（DEEPINFRA_API_KEY）');
  });

  it('shows an available provider whose live requests fail as 异常, with the status and reason as its note', () => {
    const live = { recent: 3, failed: 3, consecutiveFailures: 3, lastFailure: null, lastSuccessAt: null };
    const [row] = providerRows(
      [
        provider('DeepInfra', 'available', {
          condition: condition('failing', { status: 500, reason: 'HTTP 500: model crashed', live }),
          lastCheck: { provider: 'DeepInfra', ok: true, latencyMs: 40, checkedAt: 5, error: null, probe: 'models' },
        }),
      ],
      stats(),
    );
    expect(row).toMatchObject({ statusLabel: '异常', tone: 'danger', note: '实时请求连续失败 3 次 · HTTP 500 · model crashed' });
    // The model list read is not shown as a passed check.
    expect(row!.lastCheck).toMatchObject({ ok: true, listOnly: true });
  });

  it('picks a model the pool can serve for the snippets', () => {
    expect(snippetModel(catalog, providers)).toBe('llama-3.3-70b');
    expect(snippetModel(models([model('gpt-4o-mini', [['DeepInfra']]), model('a', [['DeepInfra']])]), providers)).toBe('gpt-4o-mini');
    expect(snippetModel(models([model('zz-chat', [['DeepInfra']])]), providers)).toBe('zz-chat');
    expect(snippetModel(null, [])).toBe(FALLBACK_MODEL);
  });

  it('maps ranges to bucket sizes', () => {
    expect(rangeOption('1h').granularity).toBe('minute');
    expect(rangeOption('24h').granularity).toBe('hour');
    // The server keeps hour buckets 90 days: every range up to that is offered, in hours beyond a day.
    expect(rangeOption('30d').granularity).toBe('hour');
    expect(rangeOption('90d')).toEqual({ range: '90d', label: '近 90 天', granularity: 'hour', statsEveryMs: 300_000 });
  });

  it('asks for a long range’s stats less often, and says so', () => {
    expect(RANGE_OPTIONS.map((o) => [o.range, o.statsEveryMs])).toEqual([
      ['1h', 0],
      ['6h', 0],
      ['24h', 0],
      ['7d', 60_000],
      ['30d', 300_000],
      ['90d', 300_000],
    ]);
    expect(liveLabel(5000, '1h')).toBe('实时 · 每 5 秒刷新');
    expect(liveLabel(5000, '24h')).toBe('实时 · 每 5 秒刷新');
    expect(liveLabel(5000, '7d')).toBe('实时 · 每 5 秒刷新，统计每 1 分钟');
    expect(liveLabel(5000, '90d')).toBe('实时 · 每 5 秒刷新，统计每 5 分钟');
  });
});
