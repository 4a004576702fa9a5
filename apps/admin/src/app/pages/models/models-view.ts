/** Pure derivations of the 模型浏览 page: filters, route rows, discovery status, refresh results. */
import {
  type AdminModel,
  type AdminModelList,
  type DiscoveredRoute,
  type DiscoveryRefreshResult,
  MODEL_CATEGORIES,
  type ModelCategory,
  type ModelRouting,
  type ProviderDetail,
  type ProviderDiscovery,
  type RouteState,
  type RouteStateChange,
} from '#contracts';
import { routingTags } from './routing-editor';

export type CategoryFilter = ModelCategory | 'all';
export type Tone = 'success' | 'warning' | 'danger' | 'neutral';

export interface CategoryChip {
  id: CategoryFilter;
  label: string;
  count: number;
}

/** The seed's words, used when the API's list has no label for a category. */
const FALLBACK_CATEGORY_LABELS: Record<ModelCategory, string> = {
  chat: '对话',
  reasoning: '推理',
  code: '代码',
  vision: '视觉',
  image: '图像生成',
  audio: '音频',
  embedding: '嵌入',
  'speech-to-text': '语音识别',
};

/**
 * Categories whose routes discovery judges (as the API does): the providers' list endpoints are
 * chat lists, so image and audio routes always stay `unknown` and pinning them changes nothing.
 */
export const JUDGED_CATEGORIES: ReadonlySet<ModelCategory> = new Set<ModelCategory>(['chat', 'reasoning', 'code', 'vision']);

export const ROUTE_STATE_LABELS: Record<RouteState, string> = { confirmed: '已发现', missing: '列表中没有', unknown: '未知' };

const ROUTE_STATE_TONES: Record<RouteState, Tone> = { confirmed: 'success', missing: 'danger', unknown: 'neutral' };

/** 全部 first, then the API's categories with their counts (over the whole catalog). */
export function categoryChips(list: AdminModelList): CategoryChip[] {
  const counts = new Map(list.categories.map((c) => [c.id, c]));
  return [
    { id: 'all', label: '全部', count: list.total },
    ...MODEL_CATEGORIES.map((id) => ({ id, label: counts.get(id)?.label ?? FALLBACK_CATEGORY_LABELS[id], count: counts.get(id)?.count ?? 0 })),
  ];
}

export function categoryLabel(list: AdminModelList | null, id: ModelCategory): string {
  return list?.categories.find((c) => c.id === id)?.label ?? FALLBACK_CATEGORY_LABELS[id];
}

/** A `?category=` value: a known category, or 全部. */
export function parseCategory(value: string | null | undefined): CategoryFilter {
  return (MODEL_CATEGORIES as readonly string[]).includes(value ?? '') ? (value as ModelCategory) : 'all';
}

/** Whitespace-separated terms, every one of which must appear (case-insensitive). */
function terms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

/** Whether a model matches a search: its id, name, maker, upstream ids or providers. */
export function matchesQuery(model: AdminModel, query: string): boolean {
  const wanted = terms(query);
  if (wanted.length === 0) return true;
  const haystack = [model.id, model.label, model.owned_by, ...model.routes.flatMap((r) => [r.upstream_model, r.provider])].join('\n').toLowerCase();
  return wanted.every((t) => haystack.includes(t));
}

export function filterModels(models: readonly AdminModel[], category: CategoryFilter, query: string): AdminModel[] {
  return models.filter((m) => (category === 'all' || m.category === category) && matchesQuery(m, query));
}

/** What the console shows of one route. */
export interface RouteRow {
  /** Unique within the page: model, provider and upstream id. */
  key: string;
  provider: string;
  upstream: string;
  state: RouteState;
  stateLabel: string;
  stateTone: Tone;
  /** A sentence on what the state means (tooltip). */
  stateHint: string;
  /** When the provider's list that decided the state was fetched. */
  checkedAt: number | null;
  pinned: boolean;
  pinnedBy: DiscoveredRoute['pinnedBy'];
  /** 目录固定 / 手动固定, or null. */
  pinLabel: string | null;
  /** Whether discovery judges this route at all (chat-like categories only). */
  judged: boolean;
  /** The operator may pin it (judged, not pinned yet). */
  canPin: boolean;
  /** The operator may unpin it (pinned at run time, not in the catalog). */
  canUnpin: boolean;
  /** Whether a request could be routed here right now (discovery and the provider's status). */
  usable: boolean;
  usableLabel: string;
  usableTone: Tone;
  /** The model is forced to this route's provider (路由设置 → 强制). */
  forced: boolean;
}

export interface ModelCard {
  model: AdminModel;
  categoryLabel: string;
  routes: RouteRow[];
  usableRoutes: number;
  statusLabel: string;
  statusTone: Tone;
  /** Why no route is usable, when none is. */
  statusHint: string | null;
  /** The model's own routing (路由设置), or null when it routes by the providers' settings. */
  routing: ReturnType<typeof routingTags>;
}

const PROVIDER_STATUS_LABELS: Record<ProviderDetail['status'], string> = {
  available: '可路由',
  'cooling-down': '提供商冷却中',
  disabled: '提供商已停用',
  unconfigured: '提供商未配置',
};

function stateHint(route: DiscoveredRoute, judged: boolean): string {
  if (!judged) return '图像和音频模型的路由不参与模型发现（提供商的模型列表只列对话模型），始终照常路由。';
  switch (route.state) {
    case 'confirmed':
      return '提供商最近一次返回的模型列表里有这个上游模型。';
    case 'missing':
      return route.pinned
        ? '提供商的模型列表里没有这个上游模型，但路由已固定，仍照常使用。'
        : '提供商的模型列表里没有这个上游模型，路由时会跳过它（可以固定以继续使用）。';
    default:
      return '还没有读到这个提供商的模型列表（未读取、读取失败，或该提供商不能列出模型），照常路由。';
  }
}

/** One route as shown, given the providers' runtime status (null when that is unknown). */
export function routeRow(model: AdminModel, route: DiscoveredRoute, providers: ReadonlyMap<string, ProviderDetail> | null): RouteRow {
  const judged = JUDGED_CATEGORIES.has(model.category);
  const provider = providers?.get(route.provider.toLowerCase());
  let usable = route.routable;
  let usableLabel = route.routable ? '可路由' : '路由时跳过';
  let usableTone: Tone = route.routable ? 'success' : 'danger';
  if (providers && !provider) {
    usable = false;
    usableLabel = '提供商不存在';
    usableTone = 'danger';
  } else if (provider && provider.status !== 'available') {
    usable = false;
    usableLabel = PROVIDER_STATUS_LABELS[provider.status];
    usableTone = provider.status === 'cooling-down' ? 'warning' : 'neutral';
  }
  return {
    key: `${model.id}\n${route.provider}\n${route.upstream_model}`,
    provider: route.provider,
    upstream: route.upstream_model,
    state: route.state,
    stateLabel: ROUTE_STATE_LABELS[route.state],
    stateTone: judged ? ROUTE_STATE_TONES[route.state] : 'neutral',
    stateHint: stateHint(route, judged),
    checkedAt: route.checkedAt,
    pinned: route.pinned,
    pinnedBy: route.pinnedBy,
    pinLabel: route.pinnedBy === 'catalog' ? '目录固定' : route.pinnedBy === 'operator' ? '手动固定' : null,
    judged,
    canPin: judged && !route.pinned,
    canUnpin: route.pinnedBy === 'operator',
    usable,
    usableLabel,
    usableTone,
    forced: false,
  };
}

export function providerIndex(providers: readonly ProviderDetail[] | null): ReadonlyMap<string, ProviderDetail> | null {
  return providers ? new Map(providers.map((p) => [p.name.toLowerCase(), p])) : null;
}

export function modelCard(
  model: AdminModel,
  list: AdminModelList | null,
  providers: ReadonlyMap<string, ProviderDetail> | null,
  routing?: ModelRouting,
): ModelCard {
  const forced = routing?.forced?.toLowerCase();
  const routes = model.routes.map((r) => ({ ...routeRow(model, r, providers), forced: r.provider.toLowerCase() === forced }));
  const usableRoutes = routes.filter((r) => r.usable).length;
  let statusLabel = '可用';
  let statusTone: Tone = 'success';
  let statusHint: string | null = null;
  if (routes.length === 0) {
    statusLabel = '没有路由';
    statusTone = 'danger';
    statusHint = '模型目录中没有这个模型的路由。';
  } else if (usableRoutes === 0) {
    const cooling = routes.some((r) => r.usableLabel === PROVIDER_STATUS_LABELS['cooling-down']);
    statusLabel = cooling ? '暂不可用' : '不可用';
    statusTone = cooling ? 'warning' : 'danger';
    statusHint = [...new Set(routes.map((r) => `${r.provider}：${r.usableLabel}`))].join('；');
  }
  return {
    model,
    categoryLabel: categoryLabel(list, model.category),
    routes,
    usableRoutes,
    statusLabel,
    statusTone,
    statusHint,
    routing: routingTags(routing),
  };
}

/** One provider's model-list fetches, as the discovery panel shows them. */
export interface DiscoveryProviderRow {
  provider: string;
  tone: Tone;
  /** 12 个模型 · 读取失败 · 已跳过 · 未读取 · 读取中 */
  label: string;
  /** More words (tooltip): the error, the skip reason, the times. */
  detail: string;
  /** When the list the states rest on was fetched. */
  listedAt: number | null;
}

/** A skip reason (the API's English words) in Chinese when it is a known one, else as given. */
export function skipReasonLabel(reason: string): string {
  if (/cannot list/i.test(reason)) return '该提供商不能列出模型';
  if (/disabled/i.test(reason)) return '提供商已停用';
  if (/shutting down/i.test(reason)) return '服务正在关闭';
  const key = /^needs an API key \(([^)]+)\)/i.exec(reason);
  if (key) return `提供商未配置：缺少 API 密钥（${key[1]}）`;
  const extra = /^needs (.+)$/i.exec(reason);
  if (extra) return `提供商未配置：缺少 ${extra[1]}`;
  return reason;
}

export function discoveryRow(p: ProviderDiscovery, formatTime: (ts: number) => string): DiscoveryProviderRow {
  const listed = p.listedAt !== null ? `列表读取于 ${formatTime(p.listedAt)}` : null;
  if (p.refreshing) return { provider: p.provider, tone: 'neutral', label: '读取中…', detail: listed ?? '正在读取模型列表', listedAt: p.listedAt };
  if (p.skipped) {
    return { provider: p.provider, tone: 'neutral', label: '已跳过', detail: skipReasonLabel(p.skipped), listedAt: p.listedAt };
  }
  if (p.ok === false) {
    const kept = p.modelCount !== null ? `；沿用上次的列表（${p.modelCount} 个模型）` : '';
    return { provider: p.provider, tone: 'danger', label: '读取失败', detail: `${p.error ?? '读取失败'}${kept}`, listedAt: p.listedAt };
  }
  if (p.modelCount !== null) {
    return { provider: p.provider, tone: 'success', label: `${p.modelCount} 个模型`, detail: listed ?? '', listedAt: p.listedAt };
  }
  return { provider: p.provider, tone: 'neutral', label: '未读取', detail: '还没有读取过这个提供商的模型列表', listedAt: null };
}

/** One line on every provider's lists: how many were read, failed, skipped; the latest list. */
export function discoverySummary(providers: readonly ProviderDiscovery[]): { text: string; tone: Tone; latest: number | null } {
  const read = providers.filter((p) => !p.skipped && p.ok === true).length;
  const failed = providers.filter((p) => !p.skipped && p.ok === false).length;
  const skipped = providers.filter((p) => p.skipped).length;
  const latest = providers.reduce<number | null>((max, p) => (p.listedAt !== null && (max === null || p.listedAt > max) ? p.listedAt : max), null);
  const parts = [`${providers.length} 个提供商中 ${read} 个已读取列表`];
  if (failed) parts.push(`${failed} 个读取失败`);
  if (skipped) parts.push(`${skipped} 个跳过`);
  const tone: Tone = failed ? 'danger' : read > 0 ? 'success' : 'neutral';
  return { text: parts.join('，'), tone, latest };
}

export function intervalLabel(minutes: number): string {
  if (minutes <= 0) return '仅在手动刷新时读取';
  if (minutes % 60 === 0) return `每 ${minutes / 60} 小时自动读取`;
  return `每 ${minutes} 分钟自动读取`;
}

/** A route-state change with the provider it happened on. */
export interface RefreshChange extends RouteStateChange {
  provider: string;
}

/** What one 刷新发现 did, summed over the providers. */
export interface RefreshSummary {
  providers: number;
  ok: number;
  failed: number;
  skipped: number;
  routes: Record<RouteState, number>;
  changes: RefreshChange[];
  /** One sentence for the snackbar. */
  message: string;
}

export function summarizeRefresh(results: readonly DiscoveryRefreshResult[]): RefreshSummary {
  const routes: Record<RouteState, number> = { confirmed: 0, missing: 0, unknown: 0 };
  let ok = 0;
  let failed = 0;
  let skipped = 0;
  const changes: RefreshChange[] = [];
  for (const r of results) {
    if (!r.attempted) skipped++;
    else if (r.ok) ok++;
    else failed++;
    for (const s of ['confirmed', 'missing', 'unknown'] as const) routes[s] += r.routes[s] ?? 0;
    for (const c of r.changed) changes.push({ ...c, provider: r.provider });
  }
  const parts = [`已读取 ${ok} 个提供商的模型列表`];
  if (failed) parts.push(`${failed} 个读取失败`);
  if (skipped) parts.push(`${skipped} 个跳过`);
  const tail = `已发现 ${routes.confirmed} 条路由，列表中没有 ${routes.missing} 条${changes.length ? `，${changes.length} 条状态有变化` : ''}`;
  return { providers: results.length, ok, failed, skipped, routes, changes, message: `${parts.join('，')}：${tail}。` };
}

/** One provider's line in the refresh result. */
export interface RefreshResultRow {
  provider: string;
  tone: Tone;
  outcome: string;
  routes: Record<RouteState, number>;
}

export function refreshResultRow(r: DiscoveryRefreshResult): RefreshResultRow {
  if (!r.attempted) return { provider: r.provider, tone: 'neutral', outcome: `已跳过：${skipReasonLabel(r.skipped ?? '')}`, routes: r.routes };
  if (!r.ok) return { provider: r.provider, tone: 'danger', outcome: `读取失败：${r.error ?? '未知错误'}`, routes: r.routes };
  return { provider: r.provider, tone: 'success', outcome: `读取成功，${r.modelCount ?? 0} 个模型`, routes: r.routes };
}

/** The model with the routes a pin or unpin answered (ModelDiscovery), recomputing `routable`. */
export function withRoutes(model: AdminModel, routes: DiscoveredRoute[]): AdminModel {
  return { ...model, routes, routable: routes.some((r) => r.routable) };
}
