import { HttpClient, type HttpResponse } from '@angular/common/http';
import { DestroyRef, type WritableSignal, computed, inject, signal } from '@angular/core';
import type { Observable, Subscription } from 'rxjs';
import type { AttemptSummary, ModelCategory } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { BROWSER_STORAGE, writeJson } from '../../core/browser';
import { providerOptions } from './playground-view';
import { PlaygroundStore } from './playground.store';
import { AttemptsLookup, PlaygroundLimitsLoader, errorAttempts, requestIdOf } from './tab-support';
import { type TabError, initialTabModel, tabError, tabModels } from './tab-view';

/** What every newer tab remembers: its model and the provider pinned (null: 自动). */
export interface TabSettings {
  model: string | null;
  provider: string | null;
}

/** One request of a tab and how it went; each tab adds what its answer shows. */
export interface TabRun {
  status: 'pending' | 'done' | 'error' | 'stopped';
  model: string;
  pinned: string | null;
  startedAt: number;
  totalMs: number | null;
  provider: string | null;
  upstreamModel: string | null;
  requestId: string | null;
  error: TabError | null;
  /** Every upstream try of a successful request, from the request log (failover shows there). */
  attempts: AttemptSummary[] | null;
}

/**
 * What the 嵌入 and 语音识别 tabs share: the catalog's models of their category (from the
 * page's PlaygroundStore), the pinned provider, remembered settings, and one request at a time
 * that can be stopped. (No decorator: its dependencies come from inject(), in the subclass's injector.)
 */
export abstract class TabStore<S extends TabSettings, R extends TabRun> {
  protected readonly http = inject(HttpClient);
  protected readonly storage = inject(BROWSER_STORAGE);
  private readonly playground = inject(PlaygroundStore);
  private readonly lookup = inject(AttemptsLookup);
  protected readonly limits = inject(PlaygroundLimitsLoader).limits;

  abstract readonly settings: WritableSignal<S>;
  protected abstract readonly storageKey: string;
  protected abstract readonly category: ModelCategory;

  readonly run = signal<R | null>(null);
  readonly options = computed(() => {
    const c = this.playground.catalog();
    return c ? tabModels(c.models, c.providers, this.category) : [];
  });
  readonly modelId = computed(() => initialTabModel(this.options(), this.settings().model));
  readonly model = computed(() => this.playground.catalog()?.models.find((m) => m.id === this.modelId()) ?? null);
  readonly providerChoices = computed(() => providerOptions(this.model(), this.playground.catalog()?.providers ?? []));
  readonly pinned = computed(() => this.providerChoices().find((p) => p.name === this.settings().provider) ?? null);
  readonly busy = computed(() => this.run()?.status === 'pending');

  private current: Subscription | null = null;

  constructor() {
    inject(PlaygroundLimitsLoader).load();
    inject(DestroyRef).onDestroy(() => this.current?.unsubscribe());
  }

  update(patch: Partial<S>): void {
    this.settings.update((s) => ({ ...s, ...patch }));
    writeJson(this.storage, this.storageKey, this.settings());
  }

  /** Picks a model; a pinned provider that does not serve it goes back to 自动. */
  setModel(id: string): void {
    const model = this.playground.catalog()?.models.find((m) => m.id === id);
    const provider = this.settings().provider;
    const keep = provider !== null && model?.routes.some((r) => r.provider.toLowerCase() === provider.toLowerCase());
    this.update({ model: id, provider: keep ? provider : null } as Partial<S>);
  }

  /** Stops the request under way (the gateway stops trying once the connection is gone). */
  stop(): void {
    if (!this.current) return;
    this.current.unsubscribe();
    this.current = null;
    this.patch({ status: 'stopped', totalMs: Date.now() - (this.run()?.startedAt ?? Date.now()) } as Partial<R>);
  }

  /**
   * Sends `request` as the run `extra` describes: the answer's headers say who served it, `read`
   * turns its body into what the tab shows, `failed` may put a failure in the tab's own words.
   */
  protected submit<T>(
    request: Observable<HttpResponse<T>>,
    extra: Omit<R, keyof TabRun>,
    read: (body: T | null) => Partial<R>,
    failed: (failure: ApiFailure) => string | null = () => null,
  ): void {
    const model = this.modelId()!;
    const startedAt = Date.now();
    const elapsed = () => Date.now() - startedAt;
    const base: TabRun = {
      status: 'pending',
      model,
      pinned: this.pinned()?.name ?? null,
      startedAt,
      totalMs: null,
      provider: null,
      upstreamModel: null,
      requestId: null,
      error: null,
      attempts: null,
    };
    this.run.set({ ...base, ...extra } as R);
    this.current = request.subscribe({
      next: (res) => {
        const requestId = res.headers.get('x-request-id');
        this.patch({
          status: 'done',
          totalMs: elapsed(),
          provider: res.headers.get('x-pool-provider'),
          upstreamModel: res.headers.get('x-pool-upstream-model'),
          requestId,
          ...read(res.body),
        } as Partial<R>);
        this.current = null;
        this.lookup.find(model, requestId, (attempts) => {
          if (this.run()?.requestId === requestId) this.patch({ attempts } as Partial<R>);
        });
      },
      error: (err: unknown) => {
        const failure = describeApiError(err);
        const error = tabError(failure, errorAttempts(err));
        const message = failed(failure);
        this.patch({ status: 'error', totalMs: elapsed(), error: message ? { ...error, message } : error, requestId: requestIdOf(err) } as Partial<R>);
        this.current = null;
      },
    });
  }

  private patch(change: Partial<R>): void {
    this.run.update((r) => (r ? { ...r, ...change } : r));
  }
}
