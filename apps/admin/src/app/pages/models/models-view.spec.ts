import type { AdminModel, AdminModelList, DiscoveredRoute, DiscoveryRefreshResult, ProviderDiscovery } from '#contracts';
import { provider } from '../../../testing/fixtures';
import {
  categoryChips,
  discoveryRow,
  discoverySummary,
  filterModels,
  intervalLabel,
  matchesQuery,
  modelCard,
  parseCategory,
  providerIndex,
  refreshResultRow,
  routeRow,
  skipReasonLabel,
  summarizeRefresh,
  withRoutes,
} from './models-view';

function route(p: string, upstream: string, extra: Partial<DiscoveredRoute> = {}): DiscoveredRoute {
  return { provider: p, upstream_model: upstream, state: 'confirmed', pinned: false, pinnedBy: null, checkedAt: 1000, routable: true, ...extra };
}

function model(id: string, category: AdminModel['category'], routes: DiscoveredRoute[], extra: Partial<AdminModel> = {}): AdminModel {
  const routable = routes.some((r) => r.routable);
  return { id, label: id.toUpperCase(), owned_by: 'Meta', category, routes, routable, available: routable, reason: null, aliases: [], ...extra };
}

const LLAMA = model('llama-3.3-70b', 'chat', [route('DeepInfra', 'meta-llama/Llama-3.3-70B-Instruct-Turbo'), route('PollinationsAI', 'llama')], {
  label: 'Llama 3.3 70B',
});
const R1 = model('deepseek-r1', 'reasoning', [route('DeepInfra', 'deepseek-ai/DeepSeek-R1', { state: 'missing', routable: false })], { owned_by: 'DeepSeek' });
const FLUX = model('flux', 'image', [route('Together', 'black-forest-labs/FLUX.1-schnell', { state: 'unknown', checkedAt: null })], {
  owned_by: 'Black Forest Labs',
});

const LIST: AdminModelList = {
  total: 3,
  categories: [
    { id: 'chat', label: '对话', count: 1 },
    { id: 'reasoning', label: '推理', count: 1 },
    { id: 'code', label: '代码', count: 0 },
    { id: 'vision', label: '视觉', count: 0 },
    { id: 'image', label: '图像生成', count: 1 },
    { id: 'audio', label: '音频', count: 0 },
  ],
  aliases: [],
  autoModels: [],
  models: [LLAMA, R1, FLUX],
  discovery: { intervalMinutes: 60, providers: [] },
};

describe('模型浏览 view', () => {
  it('puts 全部 with the total before the API categories and their counts', () => {
    expect(categoryChips(LIST).map((c) => `${c.id}:${c.label}:${c.count}`)).toEqual([
      'all:全部:3',
      'chat:对话:1',
      'reasoning:推理:1',
      'code:代码:0',
      'vision:视觉:0',
      'image:图像生成:1',
      'audio:音频:0',
      'embedding:嵌入:0',
      'speech-to-text:语音识别:0',
    ]);
    // A list without categories still gets every chip, in Chinese.
    expect(categoryChips({ ...LIST, categories: [] }).map((c) => c.label)).toEqual([
      '全部',
      '对话',
      '推理',
      '代码',
      '视觉',
      '图像生成',
      '音频',
      '嵌入',
      '语音识别',
    ]);
  });

  it('reads ?category= leniently', () => {
    expect(parseCategory('image')).toBe('image');
    expect(parseCategory('IMAGE')).toBe('all');
    expect(parseCategory('nope')).toBe('all');
    expect(parseCategory(null)).toBe('all');
  });

  it('searches ids, names, makers, upstream ids and providers, every term', () => {
    expect(matchesQuery(LLAMA, '')).toBe(true);
    expect(matchesQuery(LLAMA, '  ')).toBe(true);
    expect(matchesQuery(LLAMA, 'LLAMA-3.3')).toBe(true);
    expect(matchesQuery(LLAMA, 'llama 3.3 70b')).toBe(true);
    expect(matchesQuery(LLAMA, 'meta')).toBe(true);
    expect(matchesQuery(LLAMA, 'instruct-turbo')).toBe(true);
    expect(matchesQuery(LLAMA, 'pollinations')).toBe(true);
    expect(matchesQuery(LLAMA, 'llama deepseek')).toBe(false);
    expect(filterModels(LIST.models, 'all', 'deepseek').map((m) => m.id)).toEqual(['deepseek-r1']);
    expect(filterModels(LIST.models, 'image', '').map((m) => m.id)).toEqual(['flux']);
    expect(filterModels(LIST.models, 'image', 'llama')).toEqual([]);
    expect(filterModels(LIST.models, 'all', '')).toHaveLength(3);
  });

  it('shows a route’s discovery state, pin and whether it can be used now', () => {
    const confirmed = routeRow(LLAMA, LLAMA.routes[0]!, null);
    expect(confirmed).toMatchObject({
      stateLabel: '已发现',
      stateTone: 'success',
      usable: true,
      usableLabel: '可路由',
      canPin: true,
      canUnpin: false,
      judged: true,
      pinLabel: null,
    });

    const missing = routeRow(R1, R1.routes[0]!, null);
    expect(missing).toMatchObject({ state: 'missing', stateLabel: '列表中没有', stateTone: 'danger', usable: false, usableLabel: '路由时跳过', canPin: true });
    expect(missing.stateHint).toContain('跳过');

    const operatorPin = routeRow(R1, { ...R1.routes[0]!, pinned: true, pinnedBy: 'operator', routable: true }, null);
    expect(operatorPin).toMatchObject({ usable: true, pinLabel: '手动固定', canPin: false, canUnpin: true });
    expect(operatorPin.stateHint).toContain('已固定');

    const catalogPin = routeRow(LLAMA, { ...LLAMA.routes[0]!, pinned: true, pinnedBy: 'catalog' }, null);
    expect(catalogPin).toMatchObject({ pinLabel: '目录固定', canPin: false, canUnpin: false });

    // Image and audio routes are never judged: neutral, no pinning.
    const image = routeRow(FLUX, FLUX.routes[0]!, null);
    expect(image).toMatchObject({ stateLabel: '未知', stateTone: 'neutral', judged: false, canPin: false, usable: true });
    expect(image.stateHint).toContain('不参与模型发现');
  });

  it('takes the providers’ status into account when it is known', () => {
    const providers = providerIndex([provider('DeepInfra', 'cooling-down'), provider('PollinationsAI', 'disabled')]);
    expect(routeRow(LLAMA, LLAMA.routes[0]!, providers)).toMatchObject({ usable: false, usableLabel: '提供商冷却中', usableTone: 'warning' });
    expect(routeRow(LLAMA, LLAMA.routes[1]!, providers)).toMatchObject({ usable: false, usableLabel: '提供商已停用', usableTone: 'neutral' });
    // A route to a provider the gateway does not know.
    expect(routeRow(FLUX, FLUX.routes[0]!, providers)).toMatchObject({ usable: false, usableLabel: '提供商不存在', usableTone: 'danger' });
    // Provider names match case-insensitively.
    const lower = providerIndex([provider('deepinfra')]);
    expect(routeRow(LLAMA, LLAMA.routes[0]!, lower).usable).toBe(true);
  });

  it('sums a model up: usable, temporarily not, or not at all (and why)', () => {
    expect(modelCard(LLAMA, LIST, null)).toMatchObject({
      categoryLabel: '对话',
      usableRoutes: 2,
      statusLabel: '可用',
      statusTone: 'success',
      statusHint: null,
    });
    const cooling = modelCard(LLAMA, LIST, providerIndex([provider('DeepInfra', 'cooling-down'), provider('PollinationsAI', 'disabled')]));
    expect(cooling).toMatchObject({ usableRoutes: 0, statusLabel: '暂不可用', statusTone: 'warning' });
    expect(cooling.statusHint).toBe('DeepInfra：提供商冷却中；PollinationsAI：提供商已停用');
    expect(modelCard(R1, LIST, null)).toMatchObject({ statusLabel: '不可用', statusTone: 'danger', statusHint: 'DeepInfra：路由时跳过' });
    expect(modelCard(model('empty', 'chat', []), null, null)).toMatchObject({ statusLabel: '没有路由', categoryLabel: '对话' });
  });

  it('describes each provider’s model-list fetches', () => {
    const base: ProviderDiscovery = {
      provider: 'DeepInfra',
      fetchedAt: 5000,
      ok: true,
      error: null,
      modelCount: 42,
      listedAt: 5000,
      skipped: null,
      refreshing: false,
    };
    const t = (ts: number) => `@${ts}`;
    expect(discoveryRow(base, t)).toEqual({ provider: 'DeepInfra', tone: 'success', label: '42 个模型', detail: '列表读取于 @5000', listedAt: 5000 });
    expect(discoveryRow({ ...base, ok: false, error: 'HTTP 500' }, t)).toMatchObject({
      tone: 'danger',
      label: '读取失败',
      detail: 'HTTP 500；沿用上次的列表（42 个模型）',
    });
    expect(discoveryRow({ ...base, ok: false, error: 'timeout', modelCount: null, listedAt: null }, t)).toMatchObject({ detail: 'timeout' });
    expect(discoveryRow({ ...base, skipped: 'disabled by the operator' }, t)).toMatchObject({ tone: 'neutral', label: '已跳过', detail: '提供商已停用' });
    expect(discoveryRow({ ...base, refreshing: true }, t).label).toBe('读取中…');
    expect(discoveryRow({ ...base, ok: null, fetchedAt: null, modelCount: null, listedAt: null }, t)).toMatchObject({ label: '未读取', listedAt: null });
  });

  it('translates the skip reasons it knows and keeps the others', () => {
    expect(skipReasonLabel('this provider cannot list its models')).toBe('该提供商不能列出模型');
    expect(skipReasonLabel('disabled by the operator')).toBe('提供商已停用');
    expect(skipReasonLabel('needs an API key (TOGETHER_API_KEY)')).toBe('提供商未配置：缺少 API 密钥（TOGETHER_API_KEY）');
    expect(skipReasonLabel('needs CLOUDFLARE_ACCOUNT_ID')).toBe('提供商未配置：缺少 CLOUDFLARE_ACCOUNT_ID');
    expect(skipReasonLabel('the gateway is shutting down')).toBe('服务正在关闭');
    expect(skipReasonLabel('something new')).toBe('something new');
  });

  it('says how often discovery runs, and how the last lists went', () => {
    expect(intervalLabel(0)).toBe('仅在手动刷新时读取');
    expect(intervalLabel(60)).toBe('每 1 小时自动读取');
    expect(intervalLabel(90)).toBe('每 90 分钟自动读取');
    const p = (name: string, extra: Partial<ProviderDiscovery>): ProviderDiscovery => ({
      provider: name,
      fetchedAt: 1,
      ok: true,
      error: null,
      modelCount: 1,
      listedAt: 1,
      skipped: null,
      refreshing: false,
      ...extra,
    });
    expect(discoverySummary([p('A', { listedAt: 10 }), p('B', { listedAt: 30 }), p('C', { ok: false }), p('D', { skipped: 'x' })])).toEqual({
      text: '4 个提供商中 2 个已读取列表，1 个读取失败，1 个跳过',
      tone: 'danger',
      latest: 30,
    });
    expect(discoverySummary([p('A', { ok: null, listedAt: null })])).toEqual({ text: '1 个提供商中 0 个已读取列表', tone: 'neutral', latest: null });
  });

  it('sums a refresh up and lists each provider’s outcome', () => {
    const result = (name: string, extra: Partial<DiscoveryRefreshResult>): DiscoveryRefreshResult => ({
      provider: name,
      fetchedAt: 1,
      ok: true,
      error: null,
      modelCount: 10,
      listedAt: 1,
      skipped: null,
      refreshing: false,
      attempted: true,
      routes: { confirmed: 5, missing: 0, unknown: 0 },
      changed: [],
      ...extra,
    });
    const results = [
      result('DeepInfra', {
        routes: { confirmed: 3, missing: 1, unknown: 0 },
        changed: [{ model: 'deepseek-r1', upstream_model: 'deepseek-ai/DeepSeek-R1', from: 'confirmed', to: 'missing' }],
      }),
      result('Together', {}),
      result('HuggingFace', { ok: false, error: 'HTTP 503', routes: { confirmed: 0, missing: 0, unknown: 4 } }),
      result('CloudflareAI', { attempted: false, ok: null, skipped: 'needs CLOUDFLARE_ACCOUNT_ID', routes: { confirmed: 0, missing: 0, unknown: 2 } }),
    ];
    const summary = summarizeRefresh(results);
    expect(summary).toMatchObject({ providers: 4, ok: 2, failed: 1, skipped: 1, routes: { confirmed: 8, missing: 1, unknown: 6 } });
    expect(summary.changes).toEqual([
      { provider: 'DeepInfra', model: 'deepseek-r1', upstream_model: 'deepseek-ai/DeepSeek-R1', from: 'confirmed', to: 'missing' },
    ]);
    expect(summary.message).toBe('已读取 2 个提供商的模型列表，1 个读取失败，1 个跳过：已发现 8 条路由，列表中没有 1 条，1 条状态有变化。');
    expect(summarizeRefresh([result('A', {})]).message).toBe('已读取 1 个提供商的模型列表：已发现 5 条路由，列表中没有 0 条。');
    expect(results.map((r) => refreshResultRow(r).outcome)).toEqual([
      '读取成功，10 个模型',
      '读取成功，10 个模型',
      '读取失败：HTTP 503',
      '已跳过：提供商未配置：缺少 CLOUDFLARE_ACCOUNT_ID',
    ]);
    expect(results.map((r) => refreshResultRow(r).tone)).toEqual(['success', 'success', 'danger', 'neutral']);
  });

  it('takes a pin’s answer into a model, recomputing whether it is routable', () => {
    const pinned = withRoutes(R1, [{ ...R1.routes[0]!, pinned: true, pinnedBy: 'operator', routable: true }]);
    expect(pinned.routable).toBe(true);
    expect(pinned.routes[0]!.pinnedBy).toBe('operator');
    expect(R1.routable).toBe(false);
  });
});
