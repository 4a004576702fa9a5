/** Pure derivations shared by the playground's 嵌入 and 语音识别 tabs: which tab, which models, what went wrong. */
import type { AdminModel, AttemptSummary, ModelCategory, ProviderDetail } from '#contracts';
import type { ApiFailure } from '../../core/api-error';
import { isServable, upProviders } from './playground-view';

export const PLAYGROUND_TABS = ['chat', 'embeddings', 'transcription'] as const;
export type PlaygroundTab = (typeof PLAYGROUND_TABS)[number];

/** The catalog category each of the newer tabs tests. */
export const TAB_CATEGORY: Record<Exclude<PlaygroundTab, 'chat'>, ModelCategory> = { embeddings: 'embedding', transcription: 'speech-to-text' };

/** `?tab=` of the address: chat (对话与图像) unless it names another tab. */
export function tabOf(param: string | null | undefined): PlaygroundTab {
  return (PLAYGROUND_TABS as readonly string[]).includes(param ?? '') ? (param as PlaygroundTab) : 'chat';
}

export interface TabModelOption {
  id: string;
  label: string;
  /** Some provider can serve it now. */
  servable: boolean;
  /** "DeepInfra · CloudflareAI" */
  providers: string;
  /** Embedding models: the vector length the catalog states. */
  dimensions: number | null;
}

/** The catalog's models of one category, servable ones first. */
export function tabModels(models: AdminModel[], providers: ProviderDetail[], category: ModelCategory): TabModelOption[] {
  const up = upProviders(providers);
  return models
    .filter((m) => m.category === category)
    .map((m) => ({
      id: m.id,
      label: m.label,
      servable: isServable(m, up),
      providers: m.routes.map((r) => r.provider).join(' · '),
      dimensions: m.dimensions ?? null,
    }))
    .sort((a, b) => Number(b.servable) - Number(a.servable));
}

/** The model to start with: the remembered one if it is still in the list, else the first (servable first). */
export function initialTabModel(options: TabModelOption[], remembered: string | null): string | null {
  if (remembered && options.some((o) => o.id === remembered)) return remembered;
  return options[0]?.id ?? null;
}

export interface TabError {
  message: string;
  /** The API's own words (English), when it sent them. */
  detail: string | null;
  code: string | null;
  kind: ApiFailure['kind'];
  /** Every upstream try, when the gateway listed them. */
  attempts: AttemptSummary[];
}

/** The failure in words; when the gateway tried upstreams and all failed, it says so rather than "server error". */
export function tabError(failure: ApiFailure, attempts: AttemptSummary[] = []): TabError {
  let message = failure.message;
  if (attempts.length && failure.status === 502) message = `所有提供商都失败了（HTTP 502），尝试了 ${attempts.length} 次。`;
  if (attempts.length && failure.status === 504) message = `所有提供商都超时了（HTTP 504），尝试了 ${attempts.length} 次。`;
  if (failure.status === 400 && failure.detail) message = '请求参数有误（HTTP 400），见下方说明。';
  return { message, detail: failure.detail, code: failure.code, kind: failure.kind, attempts };
}
