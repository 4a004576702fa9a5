import { DOCUMENT, DestroyRef, Injectable, InjectionToken, computed, inject, signal } from '@angular/core';
import { type Observable, type Subscription, tap } from 'rxjs';
import type { ClientKey, CreateClientKeyRequest, CreatedClientKey, UpdateClientKeyRequest } from '#contracts';
import { type ApiFailure, describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { accessMode, keyCounts, sortKeys } from './keys-view';

/** How often the key list (with its usage) is refreshed (ms). */
export const KEYS_POLL_MS = new InjectionToken<number>('KEYS_POLL_MS', { providedIn: 'root', factory: () => 10_000 });

export type KeysStatus = 'loading' | 'ready' | 'unreachable' | 'error';

/**
 * The client keys and their live usage: polls `/api/keys` while the page is open (skipping polls
 * in a hidden tab), refreshes right after every change, keeps the last list when a poll fails.
 */
@Injectable()
export class KeysStore {
  private readonly api = inject(ApiService);
  private readonly document = inject(DOCUMENT);
  private readonly pollMs = inject(KEYS_POLL_MS);

  readonly keys = signal<ClientKey[] | null>(null);
  readonly failure = signal<ApiFailure | null>(null);
  readonly busy = signal(false);
  readonly updatedAt = signal<number | null>(null);

  readonly status = computed<KeysStatus>(() => {
    if (this.keys()) return 'ready';
    const f = this.failure();
    if (!f) return 'loading';
    return f.kind === 'unreachable' ? 'unreachable' : 'error';
  });
  readonly stale = computed(() => this.keys() !== null && this.failure() !== null);
  readonly rows = computed(() => sortKeys(this.keys() ?? []));
  readonly counts = computed(() => keyCounts(this.keys() ?? []));
  readonly access = computed(() => accessMode(this.keys() ?? []));

  private running = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Subscription | undefined;
  private readonly onVisibility = () => {
    if (this.running && !this.document.hidden) this.refresh();
  };

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.document.addEventListener('visibilitychange', this.onVisibility);
    this.refresh();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
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
    this.inflight = this.api.clientKeys().subscribe({
      next: (list) => {
        this.keys.set(list.data);
        this.failure.set(null);
        this.updatedAt.set(Date.now());
        this.busy.set(false);
        this.schedule();
      },
      error: (err: unknown) => {
        const failure = describeApiError(err);
        this.failure.set(failure);
        this.busy.set(false);
        if (failure.kind !== 'unauthorized') this.schedule();
      },
    });
  }

  /** Creates a key; the list is updated at once and refreshed. The answer holds the secret: show it once. */
  create(body: CreateClientKeyRequest): Observable<CreatedClientKey> {
    return this.api.createClientKey(body).pipe(
      tap((created) => {
        const { secret: _secret, ...key } = created;
        this.put(key, true);
        this.refresh();
      }),
    );
  }

  update(id: string, body: UpdateClientKeyRequest): Observable<ClientKey> {
    return this.api.updateClientKey(id, body).pipe(
      tap((key) => {
        this.put(key);
        this.refresh();
      }),
    );
  }

  revoke(id: string): Observable<ClientKey> {
    return this.api.revokeClientKey(id).pipe(
      tap((key) => {
        this.put(key);
        this.refresh();
      }),
    );
  }

  /** Puts an answer into the list now, so the page does not wait for the refresh. */
  private put(key: ClientKey, prepend = false): void {
    const list = this.keys() ?? [];
    const i = list.findIndex((k) => k.id === key.id);
    if (i >= 0) this.keys.set(list.map((k) => (k.id === key.id ? key : k)));
    else this.keys.set(prepend ? [key, ...list] : [...list, key]);
  }

  private schedule(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => (this.document.hidden ? this.schedule() : this.refresh()), this.pollMs);
  }
}
