/** Pure derivations of 模型浏览's per-model routing editor (路由设置): rows, moves, checks, the change to save. */
import type { ModelRouting, SetModelRoutingRequest } from '#contracts';

/** The bounds of a per-model weight (the gateway's). */
export const WEIGHT_MAX = 100;

/** What each strategy makes of a model's own order and weights, in the operator's words. */
export const STRATEGY_EFFECT: Record<ModelRouting['strategy'], { label: string; effect: string }> = {
  random: {
    label: '按健康度加权随机',
    effect: '这里的权重生效：每个请求先试哪个提供商，机会与“权重 × 健康分”成正比；权重 0 表示只在别的都不可用时才用。顺序只在策略改为“按优先级”时生效。',
  },
  priority: { label: '按优先级', effect: '这里的顺序生效：从上到下依次尝试。权重只在策略改为“按健康度加权随机”时生效。' },
  latency: { label: '按延迟', effect: '按延迟路由时不看这里的顺序和权重（只有“强制”生效）；改用“按优先级”或“按健康度加权随机”后才生效。' },
};

/** What 强制 does, said once for the dialog, the tags and the docs. */
export const FORCE_HELP =
  '强制：这个模型的请求总是先发到所选的提供商。它冷却中、已停用或这次请求失败时，照常故障转移到其他路由（请求日志与网关日志会记下），请求不会因此失败。';

export interface EditorRow {
  provider: string;
  upstream: string;
  /** As typed: a number, or NaN while the field is empty or not a number. */
  weight: number;
  /** The provider's own weight and priority, shown beside (what applies without a per-model setting). */
  providerWeight: number;
  providerPriority: number | null;
}

export interface EditorState {
  rows: EditorRow[];
  forced: string | null;
  /** The operator changed the order or a weight (else the model's order and weights are not saved). */
  touched: boolean;
}

export function editorState(routing: ModelRouting): EditorState {
  return {
    rows: routing.routes.map((r) => ({
      provider: r.provider,
      upstream: r.upstream_model,
      weight: r.weight,
      providerWeight: r.providerWeight,
      providerPriority: r.providerPriority,
    })),
    forced: routing.forced,
    touched: false,
  };
}

/** The rows with row `index` moved `delta` places (clamped to the list). */
export function moveRow(rows: readonly EditorRow[], index: number, delta: number): EditorRow[] {
  const to = Math.min(rows.length - 1, Math.max(0, index + delta));
  const next = [...rows];
  const [row] = next.splice(index, 1);
  if (row) next.splice(to, 0, row);
  return next;
}

/** Why a weight cannot be saved, or null. */
export function weightError(weight: number): string | null {
  return Number.isInteger(weight) && weight >= 0 && weight <= WEIGHT_MAX ? null : `权重是 0–${WEIGHT_MAX} 的整数`;
}

/**
 * What 保存 sends: the forced provider always; the order and weights only when the operator
 * touched them, so choosing 强制 alone leaves them as they are (the providers' defaults, or the
 * model's own).
 */
export function routingChange(state: EditorState): Partial<SetModelRoutingRequest> {
  const change: Partial<SetModelRoutingRequest> = { forced: state.forced };
  if (state.touched) change.routes = state.rows.map((r) => ({ provider: r.provider, weight: r.weight }));
  return change;
}

/** The card's words for a model's own routing: null when it has none. */
export function routingTags(routing: ModelRouting | undefined): { forced: string | null; custom: boolean; title: string } | null {
  if (!routing || (!routing.custom && !routing.forced)) return null;
  const parts: string[] = [];
  if (routing.forced) parts.push(`强制先用 ${routing.forced}`);
  if (routing.custom) parts.push(`自定义顺序与权重：${routing.routes.map((r) => `${r.provider} ${r.weight}`).join('、')}`);
  return { forced: routing.forced, custom: routing.custom, title: parts.join('；') };
}
