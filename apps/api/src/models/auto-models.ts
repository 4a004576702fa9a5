/**
 * Virtual `auto` models as data, and how one request picks among their catalog models. Plain
 * functions (parsing with bounds, the needs of a request, the ranking); AutoModelsService applies
 * them to the live catalog and provider state.
 */
import type { AutoModel, AutoModelKind, CatalogModel } from '#contracts';
import type { ChatFeature } from '../providers/provider-adapter.ts';

/** Most virtual models one list may hold. */
export const MAX_AUTO_MODELS = 20;
/** Most catalog models one virtual model may prefer. */
export const MAX_AUTO_PREFERENCES = 50;
/** Longest virtual id, and longest description. */
export const MAX_AUTO_ID_CHARS = 64;
export const MAX_AUTO_DESCRIPTION_CHARS = 200;

const AUTO_KINDS: readonly AutoModelKind[] = ['chat', 'image'];
/** Printable ASCII without spaces or `*`: a model id a client can send. */
const ID_CHARS = /^[\x21-\x29\x2b-\x7e]+$/;

/** Shipped virtual models; the catalog file's `auto_models:` and the console replace them by id. */
export const DEFAULT_AUTO_MODELS: readonly AutoModel[] = [
  {
    id: 'auto',
    kind: 'chat',
    models: ['deepseek-v3', 'qwen-3-235b', 'llama-3.3-70b', 'gpt-4.1-mini', 'llama-4-maverick', 'qwen-2.5-72b', 'gpt-4o-mini'],
    others: true,
    vision: false,
    description: '任意可用的对话模型，按偏好列表、健康度与延迟挑选',
  },
  {
    id: 'auto-coder',
    kind: 'chat',
    models: ['qwen-2.5-coder-32b', 'kimi-k2', 'deepseek-v3', 'qwen-3-235b', 'gpt-4.1', 'llama-3.3-70b'],
    others: false,
    vision: false,
    description: '写代码：代码模型优先',
  },
  {
    id: 'auto-reasoning',
    kind: 'chat',
    models: ['deepseek-r1', 'deepseek-r1-0528', 'qwq-32b', 'o4-mini', 'deepseek-r1-distill-llama-70b', 'phi-4-reasoning-plus'],
    others: false,
    vision: false,
    description: '推理模型',
  },
  {
    id: 'auto-vision',
    kind: 'chat',
    models: ['llama-4-maverick', 'llama-4-scout', 'gpt-4.1-mini', 'qwen-2.5-vl-72b', 'gemma-3-27b', 'llama-3.2-90b', 'gpt-4o'],
    others: true,
    vision: true,
    description: '能看图的模型',
  },
  {
    id: 'auto-image',
    kind: 'image',
    models: ['flux', 'flux-schnell', 'flux-dev', 'sdxl-turbo', 'gpt-image'],
    others: true,
    vision: false,
    description: '图片生成',
  },
];

/** Which catalog categories a kind covers (chat covers every text category). */
export function ofKind(model: CatalogModel, kind: AutoModelKind): boolean {
  return kind === 'image' ? model.category === 'image' : ['chat', 'reasoning', 'code', 'vision'].includes(model.category);
}

/**
 * Checks a raw list of virtual models; `resolve` gives a preference's catalog id (or undefined).
 * Returns the clean list, or what is wrong with it, each problem naming the model.
 */
export function parseAutoModels(raw: unknown, resolve: (id: string) => CatalogModel | undefined): { models: AutoModel[]; problems: string[] } {
  const problems: string[] = [];
  const models: AutoModel[] = [];
  if (!Array.isArray(raw)) return { models, problems: ['expected a list of {id, kind, models}'] };
  if (raw.length > MAX_AUTO_MODELS) return { models, problems: [`at most ${MAX_AUTO_MODELS} auto models, got ${raw.length}`] };
  raw.forEach((item: unknown, i) => {
    const m = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const id = typeof m.id === 'string' ? m.id.trim() : '';
    const where = id ? `auto model ${JSON.stringify(id.slice(0, MAX_AUTO_ID_CHARS))}` : `auto model #${i + 1}`;
    if (!id || id.length > MAX_AUTO_ID_CHARS || !ID_CHARS.test(id)) {
      problems.push(`${where}: the id is 1 to ${MAX_AUTO_ID_CHARS} printable characters without spaces or "*"`);
      return;
    }
    if (resolve(id)) return void problems.push(`${where}: a catalog model has this id`);
    if (models.some((o) => o.id.toLowerCase() === id.toLowerCase())) return void problems.push(`${where}: given twice`);
    const kind = (m.kind ?? 'chat') as AutoModelKind;
    if (!AUTO_KINDS.includes(kind)) return void problems.push(`${where}: kind must be one of ${AUTO_KINDS.join(', ')}`);
    if (!Array.isArray(m.models) || m.models.length > MAX_AUTO_PREFERENCES) {
      return void problems.push(`${where}: models must be a list of at most ${MAX_AUTO_PREFERENCES} catalog model ids`);
    }
    const preferred: string[] = [];
    for (const raw of m.models as unknown[]) {
      const target = typeof raw === 'string' ? resolve(raw.trim()) : undefined;
      if (!target) problems.push(`${where}: ${JSON.stringify(String(raw).slice(0, 128))} is not a catalog model`);
      else if (!ofKind(target, kind)) problems.push(`${where}: ${target.id} is a ${target.category} model, not ${kind}`);
      else if (!preferred.includes(target.id)) preferred.push(target.id);
    }
    for (const flag of ['others', 'vision'] as const) {
      if (m[flag] !== undefined && typeof m[flag] !== 'boolean') problems.push(`${where}: ${flag} must be true or false`);
    }
    const others = m.others === true;
    if (preferred.length === 0 && !others) problems.push(`${where}: give at least one model, or others: true`);
    const description = typeof m.description === 'string' && m.description.trim() ? m.description.trim().slice(0, MAX_AUTO_DESCRIPTION_CHARS) : undefined;
    models.push({ id, kind, models: preferred, others, vision: m.vision === true, ...(description ? { description } : {}) });
  });
  return { models, problems };
}

/** Replaces the defaults of the same id (case-insensitively) and adds the rest, defaults first. */
export function overlay(base: readonly AutoModel[], over: readonly AutoModel[]): AutoModel[] {
  const replaced = base.map((b) => over.find((o) => o.id.toLowerCase() === b.id.toLowerCase()) ?? b);
  return [...replaced, ...over.filter((o) => !base.some((b) => b.id.toLowerCase() === o.id.toLowerCase()))];
}

/** Which catalog models one request may be served by (a client key's allowed models); absent, any. */
export type ModelFilter = (model: CatalogModel) => boolean;

/** What one request needs of a model beyond its kind. */
export interface AutoNeeds {
  features: ChatFeature[];
  images: boolean;
  /** A rough size of the prompt plus the answer asked for, in tokens; 0 when unknown (images). */
  tokens: number;
  /** A provider the client forced: the model must have a route on it. */
  provider?: string;
  /** The models the client's key may use: the only ones `auto` may pick. */
  allowed?: ModelFilter;
}

/**
 * A cheap, generous token estimate for the context-length check: about four characters a token
 * for the messages and tools as JSON, plus the answer length asked for. It only rules out models
 * whose context is clearly too small; an upstream's own verdict still moves a request that does
 * not fit (see largerContext).
 */
export function estimateTokens(parts: readonly unknown[], maxTokens: unknown): number {
  let chars = 0;
  for (const part of parts) chars += part === undefined ? 0 : (JSON.stringify(part)?.length ?? 0);
  const answer = typeof maxTokens === 'number' && Number.isFinite(maxTokens) && maxTokens > 0 ? maxTokens : 0;
  return Math.ceil(chars / 4) + answer;
}

/** How much of its free quota a route has left, as the quota ledger knows it. */
export type Headroom = 'plenty' | 'low' | 'exhausted' | 'unknown';

/** What ranking knows about a model's best route for one request. */
export interface ModelSignals {
  /** A route's provider is ready now (breaker closed). */
  ready: boolean;
  /** The best route's recent success score, 0..1. */
  successScore: number;
  /** The best route's recent latency, null when not measured. */
  latencyMs: number | null;
  headroom: Headroom;
}

export interface RankEntry {
  model: CatalogModel;
  /** Position in the preference list; the list's length for `others`. */
  preference: number;
  signals: ModelSignals;
}

/** Below this success score a ready model is ranked after healthy ones. */
export const HEALTHY_SCORE = 0.5;

/**
 * 0: ready, healthy and with headroom (or unknown headroom); 1: ready but failing often or low on
 * quota; 2: nothing ready now (cooling down) or out of quota, tried last.
 */
export function tier(s: ModelSignals): number {
  if (!s.ready || s.headroom === 'exhausted') return 2;
  if (s.successScore < HEALTHY_SCORE || s.headroom === 'low') return 1;
  return 0;
}

/**
 * The order a request tries the models in: by tier, then the operator's preference, then
 * measured latency (unmeasured after measured), then id for a stable order.
 */
export function rankModels(entries: readonly RankEntry[]): CatalogModel[] {
  const latency = (e: RankEntry) => e.signals.latencyMs ?? Number.MAX_SAFE_INTEGER;
  return [...entries]
    .sort(
      (a, b) =>
        tier(a.signals) - tier(b.signals) ||
        a.preference - b.preference ||
        latency(a) - latency(b) ||
        (a.model.id < b.model.id ? -1 : a.model.id > b.model.id ? 1 : 0),
    )
    .map((e) => e.model);
}
