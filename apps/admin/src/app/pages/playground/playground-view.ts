/** Pure derivations for 在线对话测试: model and provider choices, messages to send, answer details. */
import type { AdminModel, AttemptSummary, ChatMessage, FinishReason, ModelCategory, ProviderDetail, ProviderStatus, Usage } from '#contracts';
import type { ApiFailure } from '../../core/api-error';
import { formatDuration } from '../../core/format';
import { attemptText } from '../../core/attempt-text';

/** Categories whose models answer chat completions; `image` models generate images instead. */
export const CHAT_CATEGORIES: readonly ModelCategory[] = ['chat', 'reasoning', 'code', 'vision'];
export const CATEGORY_LABELS: Record<ModelCategory, string> = {
  chat: '对话',
  reasoning: '推理',
  code: '代码',
  vision: '视觉',
  image: '图像生成',
  audio: '音频',
  embedding: '嵌入',
  'speech-to-text': '语音识别',
};
const PLAYGROUND_CATEGORIES: readonly ModelCategory[] = [...CHAT_CATEGORIES, 'image'];

export type PlaygroundMode = 'chat' | 'image';

export function modeOf(model: Pick<AdminModel, 'category'> | null | undefined): PlaygroundMode | null {
  if (!model) return null;
  if (model.category === 'image') return 'image';
  return CHAT_CATEGORIES.includes(model.category) ? 'chat' : null;
}

const key = (name: string) => name.toLowerCase();

/** Providers that can take requests now, by lower-cased name. */
export function upProviders(providers: ProviderDetail[]): Set<string> {
  return new Set(providers.filter((p) => p.status === 'available').map((p) => key(p.name)));
}

/** Whether some route of the model can serve it now (discovery allows it and its provider is up). */
export function isServable(model: AdminModel, up: Set<string>): boolean {
  return model.routes.some((r) => r.routable && up.has(key(r.provider)));
}

export interface ModelOption {
  id: string;
  label: string;
  category: ModelCategory;
  /** Some provider can serve it now. */
  servable: boolean;
  /** "PollinationsAI · DeepInfra" */
  providers: string;
}

export interface ModelGroup {
  category: ModelCategory;
  label: string;
  models: ModelOption[];
}

/**
 * The models the playground can use (chat-capable and image models), grouped by category in the
 * catalog's order and filtered by `query` (id, name or maker); servable models first in a group.
 */
export function modelGroups(models: AdminModel[], providers: ProviderDetail[], query = ''): ModelGroup[] {
  const up = upProviders(providers);
  const q = query.trim().toLowerCase();
  const groups: ModelGroup[] = [];
  for (const category of PLAYGROUND_CATEGORIES) {
    const options = models
      .filter((m) => m.category === category)
      .filter((m) => !q || m.id.toLowerCase().includes(q) || m.label.toLowerCase().includes(q) || m.owned_by.toLowerCase().includes(q))
      .map((m) => ({
        id: m.id,
        label: m.label,
        category,
        servable: isServable(m, up),
        providers: m.routes.map((r) => r.provider).join(' · '),
      }))
      .sort((a, b) => Number(b.servable) - Number(a.servable));
    if (options.length) groups.push({ category, label: CATEGORY_LABELS[category], models: options });
  }
  return groups;
}

/** Well-known chat models the playground starts with, in order, when the pool can serve them. */
const PREFERRED_MODELS = ['gpt-4o-mini', 'gpt-4o', 'deepseek-v3', 'llama-3.3-70b'];

/** The model to start with: the remembered one if it still exists, else a well-known servable chat model, else any. */
export function initialModel(models: AdminModel[], providers: ProviderDetail[], remembered: string | null): string | null {
  const usable = models.filter((m) => modeOf(m) !== null);
  if (remembered && usable.some((m) => m.id === remembered)) return remembered;
  const up = upProviders(providers);
  const servable = usable.filter((m) => isServable(m, up));
  const preferred = PREFERRED_MODELS.find((id) => servable.some((m) => m.id === id && m.category !== 'image'));
  return preferred ?? servable.find((m) => m.category !== 'image')?.id ?? servable[0]?.id ?? usable[0]?.id ?? null;
}

const STATUS_LABELS: Record<ProviderStatus, string> = { available: '可用', 'cooling-down': '冷却中', unconfigured: '未配置', disabled: '已停用' };

export interface ProviderOption {
  name: string;
  /** What the picker says next to the name: 可用 / 冷却中 / 未配置 / 已停用 / 模型列表中没有. */
  note: string;
  /** Whether routing could use it now. */
  ready: boolean;
}

/** The model's routes as provider choices (pinning one sends `provider`, which turns failover off). */
export function providerOptions(model: AdminModel | null, providers: ProviderDetail[]): ProviderOption[] {
  if (!model) return [];
  const byName = new Map(providers.map((p) => [key(p.name), p]));
  const seen = new Set<string>();
  const options: ProviderOption[] = [];
  for (const route of model.routes) {
    if (seen.has(key(route.provider))) continue;
    seen.add(key(route.provider));
    const p = byName.get(key(route.provider));
    const status: ProviderStatus = p?.status ?? 'unconfigured';
    const note = !route.routable ? '模型列表中没有' : STATUS_LABELS[status];
    options.push({ name: p?.name ?? route.provider, note, ready: route.routable && status === 'available' });
  }
  return options.sort((a, b) => Number(b.ready) - Number(a.ready));
}

// ---------------------------------------------------------------------------------------------
// The conversation

export type AnswerStatus = 'pending' | 'streaming' | 'done' | 'stopped' | 'error';

export interface UserTurn {
  kind: 'user';
  id: number;
  text: string;
  mode: PlaygroundMode;
}

export interface AnswerError {
  message: string;
  /** The API's own words (English), when it sent them. */
  detail: string | null;
  code: string | null;
  kind: ApiFailure['kind'] | 'stream';
}

export interface AnswerTurn {
  kind: 'answer';
  id: number;
  /** The user turn it answers. */
  replyTo: number;
  mode: PlaygroundMode;
  model: string;
  /** The provider asked for, or null for 自动. */
  pinned: string | null;
  status: AnswerStatus;
  content: string;
  reasoning: string;
  /** Image mode: data: URLs of the generated images. */
  images: string[];
  revisedPrompt: string | null;
  provider: string | null;
  upstreamModel: string | null;
  requestId: string | null;
  /** Epoch ms when the request was sent. */
  startedAt: number;
  ttftMs: number | null;
  totalMs: number | null;
  usage: Usage | null;
  finishReason: FinishReason | null;
  /** Every upstream try (from the error, or looked up in the request log afterwards); null while unknown. */
  attempts: AttemptSummary[] | null;
  error: AnswerError | null;
}

export type Turn = UserTurn | AnswerTurn;

/**
 * The messages of the next chat request: the system prompt, then every earlier chat exchange that
 * got an answer (a stopped answer counts with what it said), then `text`. Image turns and failed
 * exchanges are left out, so roles alternate as models expect.
 */
export function chatMessages(system: string, turns: Turn[], text: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (system.trim()) messages.push({ role: 'system', content: system.trim() });
  const users = new Map(turns.filter((t): t is UserTurn => t.kind === 'user').map((t) => [t.id, t]));
  for (const t of turns) {
    if (t.kind !== 'answer' || t.mode !== 'chat' || !t.content || (t.status !== 'done' && t.status !== 'stopped')) continue;
    const question = users.get(t.replyTo);
    if (!question) continue;
    messages.push({ role: 'user', content: question.text }, { role: 'assistant', content: t.content });
  }
  messages.push({ role: 'user', content: text });
  return messages;
}

/** Answers still coming in. */
export const isActive = (t: Turn): t is AnswerTurn => t.kind === 'answer' && (t.status === 'pending' || t.status === 'streaming');

const FINISH_NOTES: Partial<Record<FinishReason, string>> = {
  length: '已达到最大输出长度，回答被截断',
  content_filter: '回答被内容过滤截断',
  tool_calls: '模型请求调用工具（本页不执行工具）',
};

export interface AnswerDetail {
  /** Short items for the line under an answer: 提供商 / 首字 / 总耗时 / Token. */
  items: Array<{ label: string; value: string; testId: string; hint?: string }>;
  /** A note on how the answer ended, when it is not the normal end. */
  note: string | null;
  /** Failover: every try, when more than one was made. */
  attempts: AttemptSummary[];
}

/** What the line under a finished (or stopped, or failed) answer shows. */
export function answerDetail(a: AnswerTurn): AnswerDetail {
  const items: AnswerDetail['items'] = [];
  if (a.provider) {
    const upstream = a.upstreamModel && a.upstreamModel !== a.model ? a.upstreamModel : undefined;
    items.push({
      label: a.pinned ? '指定提供商' : '提供商',
      value: a.provider,
      testId: 'answer-provider',
      ...(upstream ? { hint: `上游模型：${upstream}` } : {}),
    });
  }
  if (a.mode === 'chat' && a.ttftMs !== null) items.push({ label: '首字', value: formatDuration(a.ttftMs), testId: 'answer-ttft' });
  if (a.totalMs !== null) items.push({ label: '总耗时', value: formatDuration(a.totalMs), testId: 'answer-total' });
  if (a.usage) {
    items.push({
      label: 'Token',
      value: `${a.usage.prompt_tokens} + ${a.usage.completion_tokens} = ${a.usage.total_tokens}`,
      testId: 'answer-tokens',
      hint: `输入 ${a.usage.prompt_tokens} · 输出 ${a.usage.completion_tokens} · 合计 ${a.usage.total_tokens}`,
    });
  }
  const note = a.status === 'stopped' ? '已停止生成' : a.finishReason ? (FINISH_NOTES[a.finishReason] ?? null) : null;
  // A failure lists its attempts in the error itself.
  return { items, note, attempts: !a.error && a.attempts && a.attempts.length > 1 ? a.attempts : [] };
}

/** "DeepInfra · 上游服务器错误（HTTP 500） · HTTP 500: upstream error · 120 ms": what happened in Chinese, then the original words. */
export function attemptLine(a: AttemptSummary): string {
  return [a.provider, attemptText(a), a.reason, formatDuration(a.latency_ms)].join(' · ');
}

/** Image sizes offered (any WIDTHxHEIGHT from 64 to 4096 works; these are the usual ones). */
export const IMAGE_SIZES = ['512x512', '768x768', '1024x1024', '1024x1792', '1792x1024'] as const;
