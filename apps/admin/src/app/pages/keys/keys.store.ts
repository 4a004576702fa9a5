import { Injectable, InjectionToken, computed, inject } from '@angular/core';
import { type Observable, map, tap } from 'rxjs';
import type { ClientKey, CreateClientKeyRequest, CreatedClientKey, UpdateClientKeyRequest } from '#contracts';
import { ApiService } from '../../core/api.service';
import { type PollStatus, pollingResource } from '../../core/polling';
import { accessMode, keyCounts, sortKeys } from './keys-view';

/** How often the key list (with its usage) is refreshed (ms). */
export const KEYS_POLL_MS = new InjectionToken<number>('KEYS_POLL_MS', { providedIn: 'root', factory: () => 10_000 });

export type KeysStatus = PollStatus;

/**
 * The client keys and their live usage: polls `/api/keys` while the page is open (skipping polls
 * in a hidden tab), refreshes right after every change, keeps the last list when a poll fails.
 */
@Injectable()
export class KeysStore {
  private readonly api = inject(ApiService);
  private readonly poll = pollingResource<ClientKey[]>({
    intervalMs: inject(KEYS_POLL_MS),
    fetch: () => this.api.clientKeys().pipe(map((list) => list.data)),
  });

  readonly keys = this.poll.data;
  readonly failure = this.poll.failure;
  readonly busy = this.poll.busy;
  readonly updatedAt = this.poll.updatedAt;
  readonly status = this.poll.status;
  readonly stale = this.poll.stale;
  readonly rows = computed(() => sortKeys(this.keys() ?? []));
  readonly counts = computed(() => keyCounts(this.keys() ?? []));
  readonly access = computed(() => accessMode(this.keys() ?? []));

  start(): void {
    this.poll.start();
  }

  stop(): void {
    this.poll.stop();
  }

  /** Fetches now (cancelling a fetch under way), then schedules the next poll. */
  refresh(): void {
    void this.poll.refresh();
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
}
