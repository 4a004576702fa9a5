import { DOCUMENT, DestroyRef, Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { type Observable, firstValueFrom, tap } from 'rxjs';
import type { AddProviderKeyRequest, KeyTestResult, ProviderCheck, ProviderDetail, UpdateProviderRequest, UpstreamRequest } from '#contracts';
import { ApiService } from '../../core/api.service';
import { type PollStatus, pollingResource } from '../../core/polling';
import { providerRow, statusCounts } from './providers-view';

/** How often the page polls the provider list (ms). */
export const PROVIDERS_POLL_MS = new InjectionToken<number>('PROVIDERS_POLL_MS', { providedIn: 'root', factory: () => 5000 });

/** How often breaker countdowns move (ms). */
export const CLOCK_TICK_MS = 1000;

/** See PollStatus. */
export type ProvidersStatus = PollStatus;

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
  private readonly poll = pollingResource<ProviderDetail[]>({
    intervalMs: inject(PROVIDERS_POLL_MS),
    fetch: () => this.api.providers().pipe(tap(() => this.now.set(Date.now()))),
  });

  readonly providers = this.poll.data;
  /** The last poll's failure; cleared by the next success. */
  readonly failure = this.poll.failure;
  /** A poll is in flight. */
  readonly busy = this.poll.busy;
  /** When the shown list arrived (epoch ms). */
  readonly updatedAt = this.poll.updatedAt;
  /** Now (epoch ms), ticking every second while running: breaker countdowns follow it. */
  readonly now = signal(Date.now());
  /** Actions under way, by key (`toggle:DeepInfra`, `check:DeepInfra`, `check-all`, `key-test:<id>` …). */
  readonly pending = signal<ReadonlySet<string>>(new Set());

  readonly status = this.poll.status;
  /** Showing a list from before the latest failure. */
  readonly stale = this.poll.stale;
  readonly rows = computed(() => {
    const now = this.now();
    return (this.providers() ?? []).map((p) => providerRow(p, now));
  });
  readonly counts = computed(() => statusCounts(this.providers() ?? []));

  private clock: ReturnType<typeof setInterval> | undefined;

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
    if (this.poll.running) return;
    this.clock = setInterval(() => {
      if (!this.document.hidden) this.now.set(Date.now());
    }, CLOCK_TICK_MS);
    this.poll.start();
  }

  stop(): void {
    clearInterval(this.clock);
    this.clock = undefined;
    this.poll.stop();
  }

  /** Fetches now (cancelling a fetch under way), then schedules the next poll. */
  refresh(): void {
    void this.poll.refresh();
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
      if (reload && this.poll.running) this.refresh();
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
}
