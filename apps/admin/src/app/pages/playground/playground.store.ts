import { DestroyRef, Injectable, computed, inject, signal } from '@angular/core';
import { HttpErrorResponse } from '@angular/common/http';
import { type Subscription, forkJoin } from 'rxjs';
import type { AdminModel, AttemptSummary, ChatCompletionRequest, ImageData, OpenAIErrorEnvelope, ProviderDetail } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { BROWSER_STORAGE, readJson, writeJson } from '../../core/browser';
import { ChatRequestError, ChatStreamClient, type ChatStreamEvent } from './chat-stream';
import { loadConversation, saveConversation } from './conversation-storage';
import {
  type AnswerError,
  type AnswerTurn,
  IMAGE_SIZES,
  type PlaygroundMode,
  type Turn,
  chatMessages,
  initialModel,
  isActive,
  modeOf,
  modelGroups,
  providerOptions,
} from './playground-view';

/** The settings the playground remembers between visits (the conversation is kept apart: conversation-storage.ts). */
export interface PlaygroundSettings {
  model: string | null;
  /** A provider to pin, or null for 自动 (the gateway routes and fails over). */
  provider: string | null;
  /** null: the provider's default. */
  temperature: number | null;
  /** null: no limit sent. */
  maxTokens: number | null;
  system: string;
  imageSize: string;
  imageCount: number;
}

export const PLAYGROUND_STORAGE_KEY = 'g4f.console.playground';
export const MAX_TOKENS_LIMIT = 200_000;
export const MAX_IMAGES = 4;

const DEFAULT_SETTINGS: PlaygroundSettings = {
  model: null,
  provider: null,
  temperature: null,
  maxTokens: null,
  system: '',
  imageSize: '1024x1024',
  imageCount: 1,
};

export type PlaygroundStatus = 'loading' | 'ready' | 'empty' | 'unreachable' | 'error';

interface Catalog {
  models: AdminModel[];
  providers: ProviderDetail[];
}

/** The image's type from the first bytes of its base64 (providers send PNG, JPEG or WebP). */
export function imageDataUrl(b64: string): string {
  const mime = b64.startsWith('/9j/') ? 'image/jpeg' : b64.startsWith('UklGR') ? 'image/webp' : b64.startsWith('R0lGOD') ? 'image/gif' : 'image/png';
  return `data:${mime};base64,${b64}`;
}

const imageSrc = (d: ImageData) => ('b64_json' in d ? imageDataUrl(d.b64_json) : d.url);

/** The failure in words; when the gateway tried upstreams and all failed, it says so rather than "server error". */
function answerError(failure: ApiFailure, attempts: AttemptSummary[] = []): AnswerError {
  let message = failure.message;
  if (attempts.length && failure.status === 502) message = `所有提供商都失败了（HTTP 502），尝试了 ${attempts.length} 次。`;
  if (attempts.length && failure.status === 504) message = `所有提供商都超时了（HTTP 504），尝试了 ${attempts.length} 次。`;
  return { message, detail: failure.detail, code: failure.code, kind: failure.kind };
}

/**
 * 在线对话测试: the model catalog to pick from, the settings, and one conversation. Chat answers
 * stream in through ChatStreamClient (fetch + SSE); image models go through /api/images/test.
 * One request at a time; stop() aborts it and keeps what arrived.
 */
@Injectable()
export class PlaygroundStore {
  private readonly api = inject(ApiService);
  private readonly chat = inject(ChatStreamClient);
  private readonly storage = inject(BROWSER_STORAGE);

  readonly catalog = signal<Catalog | null>(null);
  readonly loadFailure = signal<ApiFailure | null>(null);
  readonly loading = signal(false);
  readonly settings = signal<PlaygroundSettings>({
    ...DEFAULT_SETTINGS,
    ...(readJson<Partial<PlaygroundSettings>>(this.storage, PLAYGROUND_STORAGE_KEY) ?? {}),
  });
  readonly turns = signal<Turn[]>([]);

  readonly status = computed<PlaygroundStatus>(() => {
    const c = this.catalog();
    if (c) return c.models.some((m) => modeOf(m) !== null) ? 'ready' : 'empty';
    const f = this.loadFailure();
    if (!f) return 'loading';
    return f.kind === 'unreachable' ? 'unreachable' : 'error';
  });
  readonly model = computed(() => this.catalog()?.models.find((m) => m.id === this.settings().model) ?? null);
  readonly mode = computed<PlaygroundMode>(() => modeOf(this.model()) ?? 'chat');
  readonly providerChoices = computed(() => providerOptions(this.model(), this.catalog()?.providers ?? []));
  /** A request is under way. */
  readonly busy = computed(() => this.turns().some(isActive));
  /** The pinned provider's option, when the pin is one this model has. */
  readonly pinned = computed(() => this.providerChoices().find((p) => p.name === this.settings().provider) ?? null);

  private nextId = 1;
  private current: { id: number; stop(): void } | null = null;
  private lookups = new Set<Subscription>();

  constructor() {
    // The conversation survives a reload (changeTurns stores it).
    const restored = loadConversation(this.storage);
    this.turns.set(restored);
    this.nextId = Math.max(0, ...restored.map((t) => t.id)) + 1;
    inject(DestroyRef).onDestroy(() => {
      this.current?.stop();
      this.lookups.forEach((s) => s.unsubscribe());
    });
  }

  /** The model groups for the picker, filtered by what the admin typed. */
  groups(query: string) {
    const c = this.catalog();
    return c ? modelGroups(c.models, c.providers, query) : [];
  }

  /** Loads the catalog and provider states (again, after a failure or to refresh the pickers). */
  load(): void {
    this.loading.set(true);
    forkJoin({ models: this.api.models(), providers: this.api.providers() }).subscribe({
      next: ({ models, providers }) => {
        this.catalog.set({ models: models.models, providers });
        this.loadFailure.set(null);
        this.loading.set(false);
        const model = initialModel(models.models, providers, this.settings().model);
        if (model !== this.settings().model) this.setModel(model);
      },
      error: (err: unknown) => {
        this.loadFailure.set(describeApiError(err));
        this.loading.set(false);
      },
    });
  }

  update(patch: Partial<PlaygroundSettings>): void {
    this.settings.update((s) => ({ ...s, ...patch }));
    writeJson(this.storage, PLAYGROUND_STORAGE_KEY, this.settings());
  }

  /** Picks a model; a pinned provider that does not serve it goes back to 自动. */
  setModel(id: string | null): void {
    const model = this.catalog()?.models.find((m) => m.id === id) ?? null;
    const provider = this.settings().provider;
    const keep = provider !== null && model?.routes.some((r) => r.provider.toLowerCase() === provider.toLowerCase());
    this.update({ model: id, provider: keep ? provider : null });
  }

  /** Sends `text` to the chosen model (a chat turn, or an image prompt). False when nothing was sent. */
  send(text: string): boolean {
    const model = this.model();
    const mode = modeOf(model);
    const prompt = text.trim();
    if (!model || !mode || !prompt || this.busy()) return false;
    const s = this.settings();
    const messages = chatMessages(s.system, this.turns(), prompt);
    const userId = this.nextId++;
    const answer: AnswerTurn = {
      kind: 'answer',
      id: this.nextId++,
      replyTo: userId,
      mode,
      model: model.id,
      pinned: this.pinned()?.name ?? null,
      status: 'pending',
      content: '',
      reasoning: '',
      images: [],
      revisedPrompt: null,
      provider: null,
      upstreamModel: null,
      requestId: null,
      startedAt: Date.now(),
      ttftMs: null,
      totalMs: null,
      usage: null,
      finishReason: null,
      attempts: null,
      error: null,
    };
    this.changeTurns((t) => [...t, { kind: 'user', id: userId, text: prompt, mode }, answer]);
    if (mode === 'chat') void this.runChat(answer, messages);
    else this.runImage(answer, prompt);
    return true;
  }

  /** Stops the request under way; the answer keeps what arrived and says it was stopped. */
  stop(): void {
    this.current?.stop();
  }

  /** Stops what is under way and forgets the conversation (the settings stay). */
  clear(): void {
    this.stop();
    this.current = null;
    this.changeTurns(() => []);
  }

  /** Sends a failed exchange's question again (the failed pair leaves the conversation). */
  retry(answerId: number): void {
    const answer = this.turns().find((t): t is AnswerTurn => t.kind === 'answer' && t.id === answerId);
    const question = answer && this.turns().find((t) => t.kind === 'user' && t.id === answer.replyTo);
    if (!answer || !question || question.kind !== 'user' || this.busy()) return;
    this.changeTurns((t) => t.filter((x) => x.id !== answer.id && x.id !== question.id));
    this.send(question.text);
  }

  /**
   * Every change of the conversation goes through here: it is stored whenever no answer is
   * arriving (so not at every streamed token); an empty one (清空对话) removes it.
   */
  private changeTurns(change: (turns: Turn[]) => Turn[]): void {
    this.turns.update(change);
    if (!this.busy()) saveConversation(this.storage, this.turns());
  }

  private patch(id: number, change: Partial<AnswerTurn> | ((a: AnswerTurn) => Partial<AnswerTurn>)): void {
    this.changeTurns((turns) => turns.map((t) => (t.kind === 'answer' && t.id === id ? { ...t, ...(typeof change === 'function' ? change(t) : change) } : t)));
  }

  private async runChat(answer: AnswerTurn, messages: ChatCompletionRequest['messages']): Promise<void> {
    const s = this.settings();
    const body: ChatCompletionRequest = { model: answer.model, messages };
    if (answer.pinned) body.provider = answer.pinned;
    if (s.temperature !== null) body.temperature = s.temperature;
    if (s.maxTokens !== null) body.max_tokens = s.maxTokens;

    const controller = new AbortController();
    const elapsed = () => Date.now() - answer.startedAt;
    this.current = {
      id: answer.id,
      stop: () => {
        controller.abort();
        this.patch(answer.id, { status: 'stopped', totalMs: elapsed() });
      },
    };
    try {
      await this.chat.stream(body, controller.signal, (e) => this.onChatEvent(answer.id, e, elapsed));
      if (controller.signal.aborted) throw new DOMException('stopped', 'AbortError');
      this.patch(answer.id, (a) => ({ status: a.status === 'error' ? 'error' : 'done', totalMs: elapsed() }));
      this.lookUpAttempts(answer.id, answer.model);
    } catch (err) {
      if (controller.signal.aborted) {
        this.patch(answer.id, (a) => ({ status: 'stopped', totalMs: a.totalMs ?? elapsed() }));
      } else if (err instanceof ChatRequestError) {
        this.patch(answer.id, {
          status: 'error',
          totalMs: elapsed(),
          error: answerError(err.failure, err.attempts),
          attempts: err.attempts,
          requestId: err.requestId,
        });
      } else {
        // The connection broke while the answer streamed in.
        this.patch(answer.id, {
          status: 'error',
          totalMs: elapsed(),
          error: { message: '连接中断，回答不完整。', detail: (err as Error)?.message ?? null, code: null, kind: 'unreachable' },
        });
      }
    } finally {
      if (this.current?.id === answer.id) this.current = null;
    }
  }

  private onChatEvent(id: number, e: ChatStreamEvent, elapsed: () => number): void {
    const answer = this.turns().find((t): t is AnswerTurn => t.kind === 'answer' && t.id === id);
    // Stopped (or cleared away): whatever was still in flight is dropped.
    if (!answer || answer.status === 'stopped') return;
    switch (e.type) {
      case 'open':
        this.patch(id, { provider: e.provider, upstreamModel: e.upstreamModel, requestId: e.requestId, status: 'streaming' });
        break;
      case 'delta':
        this.patch(id, (a) => ({ content: a.content + e.content, reasoning: a.reasoning + e.reasoning, ttftMs: a.ttftMs ?? elapsed() }));
        break;
      case 'finish':
        this.patch(id, { finishReason: e.reason });
        break;
      case 'usage':
        this.patch(id, { usage: e.usage });
        break;
      case 'error':
        this.patch(id, {
          status: 'error',
          error: { message: '提供商在输出途中出错，回答不完整。', detail: e.message || null, code: e.code, kind: 'stream' },
        });
        break;
    }
  }

  /** The request log knows every upstream try of the answer (failover shows there). */
  private lookUpAttempts(id: number, model: string): void {
    const requestId = this.turns().find((t): t is AnswerTurn => t.kind === 'answer' && t.id === id)?.requestId;
    if (!requestId) return;
    const sub = this.api.recentRequests(model).subscribe({
      next: (page) => {
        const entry = page.items.find((e) => e.requestId === requestId);
        if (entry) this.patch(id, { attempts: entry.attempts });
      },
      // Only a detail: the answer stands without it.
      error: () => undefined,
    });
    this.lookups.add(sub);
    sub.add(() => this.lookups.delete(sub));
  }

  private runImage(answer: AnswerTurn, prompt: string): void {
    const s = this.settings();
    const size = (IMAGE_SIZES as readonly string[]).includes(s.imageSize) ? s.imageSize : '1024x1024';
    const n = Math.min(MAX_IMAGES, Math.max(1, Math.round(s.imageCount) || 1));
    const elapsed = () => Date.now() - answer.startedAt;
    const done = () => {
      if (this.current?.id === answer.id) this.current = null;
    };
    const sub = this.api
      .testImage({ model: answer.model, prompt, n, size, response_format: 'b64_json', ...(answer.pinned ? { provider: answer.pinned } : {}) })
      .subscribe({
        next: (res) => {
          const body = res.body;
          this.patch(answer.id, {
            status: 'done',
            images: (body?.data ?? []).map(imageSrc),
            revisedPrompt: body?.data.find((d) => d.revised_prompt)?.revised_prompt ?? null,
            provider: res.headers.get('x-pool-provider'),
            upstreamModel: res.headers.get('x-pool-upstream-model'),
            requestId: res.headers.get('x-request-id'),
            totalMs: elapsed(),
          });
          done();
          this.lookUpAttempts(answer.id, answer.model);
        },
        error: (err: unknown) => {
          const attempts: AttemptSummary[] =
            err instanceof HttpErrorResponse ? ((err.error as Partial<OpenAIErrorEnvelope> | null)?.error?.attempts ?? []) : [];
          this.patch(answer.id, {
            status: 'error',
            totalMs: elapsed(),
            error: answerError(describeApiError(err), attempts),
            attempts,
            requestId: err instanceof HttpErrorResponse ? (err.headers?.get('x-request-id') ?? null) : null,
          });
          done();
        },
      });
    // (An answer that came synchronously has already finished.)
    if (!sub.closed) {
      this.current = {
        id: answer.id,
        stop: () => {
          sub.unsubscribe();
          this.patch(answer.id, { status: 'stopped', totalMs: elapsed() });
          done();
        },
      };
    }
  }
}
