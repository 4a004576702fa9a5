import { DOCUMENT, DestroyRef, Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { type Observable, type Subscription, firstValueFrom } from 'rxjs';
import type { AddProviderKeyRequest, KeyTestResult, ProviderCheck, ProviderDetail, UpdateProviderRequest, UpstreamRequest } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { providerRow, statusCounts } from './providers-view';

/** How often the page polls the provider list (ms). */
export const PROVIDERS_POLL_MS = new InjectionToken<number>('PROVIDERS_POLL_MS', { providedIn: 'root', factory: () => 5000 });

/** How often breaker countdowns move (ms). */
export const CLOCK_TICK_MS = 1000;

/** `loading`: nothing yet; `ready`: data (perhaps stale, see `failure`); `unreachable` / `error`: the first load failed. */
export type ProvidersStatus = 'loading' | 'ready' | 'unreachable' | 'error';

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The providers (built-in and upstreams) and everything done to them: polls `GET /api/providers`
 * every few seconds while the page is visible, keeps the last list after a failure (and says so),
 * and runs the page's actions. An action's answer replaces the provider in the list at once, then
 * the list is fetched again (cancelling a poll under way, whose answer might predate the action).
 * Dialogs read the live list, so they stay current without losing what is typed in them.
 */
@Injectable()
export class ProvidersStore {
  private readonly api = inject(ApiService);
  private readonly document = inject(DOCUMENT);
  private readonly pollMs = inject(PROVIDERS_POLL_MS);

  readonly providers = signal<ProviderDetail[] | null>(null);
  /** The last poll's failure; cleared by the next success. */
  readonly failure = signal<ApiFailure | null>(null);
  /** A poll is in flight. */
  readonly busy = signal(false);
  /** When the shown list arrived (epoch ms). */
  readonly updatedAt = signal<number | null>(null);
  /** Now (epoch ms), ticking every second while running: breaker countdowns follow it. */
  readonly now = signal(Date.now());
  /** Actions under way, by key (`toggle:DeepInfra`, `check:DeepInfra`, `check-all`, `key-test:<id>` …). */
  readonly pending = signal<ReadonlySet<string>>(new Set());

  readonly status = computed<ProvidersStatus>(() => {
    if (this.providers()) return 'ready';
    const f = this.failure();
    if (!f) return 'loading';
    return f.kind === 'unreachable' ? 'unreachable' : 'error';
  });
  /** Showing a list from before the latest failure. */
  readonly stale = computed(() => this.providers() !== null && this.failure() !== null);
  readonly rows = computed(() => {
    const now = this.now();
    return (this.providers() ?? []).map((p) => providerRow(p, now));
  });
  readonly counts = computed(() => statusCounts(this.providers() ?? []));

  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private clock: ReturnType<typeof setInterval> | undefined;
  private inflight: Subscription | undefined;
  private readonly onVisibility = () => {
    if (this.running && !this.document.hidden) this.refresh();
  };

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
  }

  /** The provider named `name` (any case) in the current list, or null. */
  provider(name: string): ProviderDetail | null {
    return this.providers()?.find((p) => sameName(p.name, name)) ?? null;
  }

  isPending(key: string): boolean {
    return this.pending().has(key);
  }

  /** Loads now, then every pollMs while running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.document.addEventListener('visibilitychange', this.onVisibility);
    this.clock = setInterval(() => {
      if (!this.document.hidden) this.now.set(Date.now());
    }, CLOCK_TICK_MS);
    this.refresh();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    clearInterval(this.clock);
    this.timer = undefined;
    this.clock = undefined;
    this.inflight?.unsubscribe();
    this.inflight = undefined;
    this.busy.set(false);
    this.document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /** Fetches now (cancelling a fetch under way), then schedules the next poll. */
  refresh(): void {
    clearTimeout(this.timer);
    this.inflight?.unsubscribe();
    this.busy.set(true);
    this.inflight = this.api.providers().subscribe({
      next: (list) => {
        this.providers.set(list);
        this.failure.set(null);
        this.updatedAt.set(Date.now());
        this.now.set(Date.now());
        this.busy.set(false);
        this.schedule();
      },
      error: (err: unknown) => {
        const failure = describeApiError(err);
        this.failure.set(failure);
        this.busy.set(false);
        // 401/403: the interceptor has sent the admin to 登录; polling on would only fail again.
        if (failure.kind !== 'unauthorized') this.schedule();
      },
    });
  }

  // ------------------------------------------------------------ actions (reject with the HTTP error)

  /** Sets enabled to `enabled` (the row's switch), whatever it was: repeating it changes nothing. */
  setEnabled(name: string, enabled: boolean): Promise<ProviderDetail> {
    return this.run(`toggle:${name}`, this.api.updateProvider(name, { enabled }), (p) => this.upsert(p));
  }

  update(name: string, patch: UpdateProviderRequest): Promise<ProviderDetail> {
    return this.run(`update:${name}`, this.api.updateProvider(name, patch), (p) => this.upsert(p));
  }

  /** Probes one provider now; its `lastCheck` is the result. */
  check(name: string): Promise<ProviderDetail> {
    return this.run(`check:${name}`, this.api.checkProvider(name), (p) => this.upsert(p));
  }

  /** Probes every enabled, configured provider now. */
  async checkAll(): Promise<ProviderCheck[]> {
    return (await this.run('check-all', this.api.checkAllProviders())).results;
  }

  addKey(name: string, body: AddProviderKeyRequest): Promise<ProviderDetail> {
    return this.run(`key-add:${name}`, this.api.addProviderKey(name, body), (p) => this.upsert(p));
  }

  removeKey(name: string, keyId: string): Promise<void> {
    return this.run(`key-remove:${keyId}`, this.api.removeProviderKey(name, keyId), () =>
      this.patchProvider(name, (p) => ({ ...p, keys: p.keys.filter((k) => k.id !== keyId) })),
    );
  }

  /** Tries one key for real; does not change the list. */
  testKey(name: string, keyId: string): Promise<KeyTestResult> {
    return this.run(`key-test:${keyId}`, this.api.testProviderKey(name, keyId), undefined, false);
  }

  createUpstream(body: UpstreamRequest): Promise<ProviderDetail> {
    return this.run('upstream-create', this.api.createUpstream(body), (p) => this.upsert(p));
  }

  updateUpstream(name: string, body: UpstreamRequest): Promise<ProviderDetail> {
    return this.run(`upstream-update:${name}`, this.api.updateUpstream(name, body), (p) => this.upsert(p));
  }

  deleteUpstream(name: string): Promise<void> {
    return this.run(`upstream-delete:${name}`, this.api.deleteUpstream(name), () =>
      this.providers.update((list) => list && list.filter((p) => !sameName(p.name, name))),
    );
  }

  private async run<T>(key: string, call: Observable<T>, apply?: (value: T) => void, reload = true): Promise<T> {
    this.pending.update((s) => new Set(s).add(key));
    try {
      const value = (await firstValueFrom(call, { defaultValue: undefined })) as T;
      apply?.(value);
      if (reload && this.running) this.refresh();
      return value;
    } finally {
      this.pending.update((s) => {
        const next = new Set(s);
        next.delete(key);
        return next;
      });
    }
  }

  /** Puts an action's answer in the list: in place, or at the end for a new upstream. */
  private upsert(detail: ProviderDetail): void {
    this.providers.update((list) => {
      if (!list) return list;
      const i = list.findIndex((p) => sameName(p.name, detail.name));
      return i < 0 ? [...list, detail] : list.map((p, j) => (j === i ? detail : p));
    });
  }

  private patchProvider(name: string, change: (p: ProviderDetail) => ProviderDetail): void {
    this.providers.update((list) => list && list.map((p) => (sameName(p.name, name) ? change(p) : p)));
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    // A hidden tab skips polls; becoming visible again refreshes at once (onVisibility).
    this.timer = setTimeout(() => (this.document.hidden ? this.schedule() : this.refresh()), this.pollMs);
  }
}
