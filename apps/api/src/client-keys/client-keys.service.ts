import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { BlockList } from 'node:net';
import type { Subscription } from 'rxjs';
import type { ClientKey, ClientKeyInfo, ClientKeyLimits, ClientKeyList, ClientKeyQuotaUsage, CreatedClientKey } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { QUOTAS, compileIps, limitsOf, periodEndsAt, quotaPeriods, type QuotaPeriods } from './key-limits.ts';
import { QUOTA_STORE, type KeyUsage, type QuotaStore } from './quota-store.ts';

/** Key records: id, name, secret hash, display hint, limit. Written only by admin actions. */
export const CLIENT_KEY_NS = 'client-key';
/**
 * Revocations, one write-once document per key. Kept apart from the record so that a
 * concurrent rename on another replica (read, modify, write) can never undo a revocation.
 */
export const CLIENT_KEY_REVOKED_NS = 'client-key-revoked';
/** Usage counters, written in batches; apart so that they never touch the records or wake the guard's cache. */
export const CLIENT_KEY_USAGE_NS = 'client-key-usage';

export const CLIENT_KEY_PREFIX = 'sk-g4f-';

/** A key record; the limits (ClientKeyLimits) are absent in records written before they existed. */
export interface StoredClientKey extends Partial<ClientKeyLimits> {
  id: string;
  name: string;
  /** SHA-256 of the whole secret, base64url. */
  hash: string;
  /**
   * `sk-g4f-…wxyz`. Rows written before masks were cut to 4 characters hold `sk-g4f-ab…wxyz`;
   * they are shown through shownMask(), never as stored.
   */
  masked: string;
  createdAt: number;
}

interface StoredRevocation {
  revokedAt: number;
}

export interface StoredUsage {
  requests: number;
  tokens: number;
  lastUsedAt: number | null;
}

/** What the /v1 guard needs to know about a presented client key. */
export interface ClientKeyMatch {
  readonly id: string;
  readonly revoked: boolean;
  readonly limits: ClientKeyLimits;
  /** The allowed client addresses, compiled; undefined: anywhere. */
  readonly ips: BlockList | undefined;
}

interface Entry {
  record: StoredClientKey;
  hash: Buffer;
  limits: ClientKeyLimits;
  ips: BlockList | undefined;
}

/** The digest the guard and the store agree on (one-shot: no Hash object per request). */
export const secretDigest = (secret: string): Buffer => hash('sha256', secret, 'buffer');

const notFound = (id: string) => new ApiError(404, `No API key with id '${id}'.`, 'invalid_request_error', 'client_key_not_found', 'id');

/**
 * Client API keys for /v1. Admin actions read and write the settings store; the /v1 guard
 * only reads an in-memory index (hash → key) that follows the store through `changes`, so a
 * key created or revoked on any replica takes effect everywhere without a storage read per
 * request. Secrets are never stored, logged or returned after creation.
 */
@Injectable()
export class ClientKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ClientKeys');
  private readonly byId = new Map<string, Entry>();
  /** Base64url SHA-256 of the secret → key id. */
  private readonly byHash = new Map<string, string>();
  private readonly revokedAt = new Map<string, number>();
  /** Per id, the latest reload started: an older one finishing late must not win. */
  private readonly reloads = new Map<string, number>();
  private readonly subscription: Subscription;

  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(QUOTA_STORE) private readonly quotas: QuotaStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Subscribed before the first load, so a change made meanwhile is not missed.
    this.subscription = storage.settings.changes.subscribe(({ namespace, key }) => {
      if (namespace !== CLIENT_KEY_NS && namespace !== CLIENT_KEY_REVOKED_NS) return;
      const reload = key ? this.reload(key) : this.loadAll();
      reload.catch((err: unknown) => this.logger.warn(`Could not reload client key ${key || '(all)'}: ${(err as Error).message}`));
    });
  }

  async onModuleInit(): Promise<void> {
    await this.loadAll();
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  /** Whether any client key exists, revoked ones included: once one does, /v1 needs a key. */
  any(): boolean {
    return this.byId.size > 0;
  }

  /** The key whose secret has this SHA-256 digest, revoked or not. */
  match(digest: Buffer): ClientKeyMatch | undefined {
    const id = this.byHash.get(digest.toString('base64url'));
    const entry = id === undefined ? undefined : this.byId.get(id);
    // The map lookup found it by hash; comparing the digests again keeps the final word constant-time.
    if (!entry || !timingSafeEqual(entry.hash, digest)) return undefined;
    return { id: entry.record.id, revoked: this.revokedAt.has(entry.record.id), limits: entry.limits, ips: entry.ips };
  }

  /** The models a key may use ([] for all), as far as this process knows; undefined for an unknown key. */
  allowedModels(id: string): readonly string[] | undefined {
    return this.byId.get(id)?.limits.allowedModels;
  }

  /** Whether a key with this id exists (revoked or not) as far as this process knows. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** The day and month quotas count in now (QUOTA_TIME_ZONE). */
  periods(now = Date.now()): QuotaPeriods {
    return quotaPeriods(now, this.config.quotaTimeZone);
  }

  async create(name: string, limits: Partial<ClientKeyLimits>): Promise<CreatedClientKey> {
    const id = `ck_${randomBytes(9).toString('base64url')}`;
    const body = randomBytes(32).toString('base64url');
    const secret = `${CLIENT_KEY_PREFIX}${body}`;
    const record: StoredClientKey = {
      id,
      name,
      hash: secretDigest(secret).toString('base64url'),
      masked: maskClientKey(secret),
      createdAt: Date.now(),
      ...limitsOf(limits),
    };
    await this.storage.settings.set(CLIENT_KEY_NS, id, record);
    this.apply(id, record, undefined);
    this.logger.log(`Created API key ${id} (${shownMask(record)}, "${name}")`);
    return { ...(await this.view(record, undefined, undefined)), secret };
  }

  async list(): Promise<ClientKeyList> {
    const [records, revocations, usage] = await Promise.all([
      this.storage.settings.list<StoredClientKey>(CLIENT_KEY_NS),
      this.storage.settings.list<StoredRevocation>(CLIENT_KEY_REVOKED_NS),
      this.storage.settings.list<StoredUsage>(CLIENT_KEY_USAGE_NS),
    ]);
    const sorted = Object.values(records).sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
    const data = await Promise.all(sorted.map((r) => this.view(r, revocations[r.id], usage[r.id])));
    return { data };
  }

  async get(id: string): Promise<ClientKey> {
    const [record, revocation, usage] = await Promise.all([
      this.storage.settings.get<StoredClientKey>(CLIENT_KEY_NS, id),
      this.storage.settings.get<StoredRevocation>(CLIENT_KEY_REVOKED_NS, id),
      this.storage.settings.get<StoredUsage>(CLIENT_KEY_USAGE_NS, id),
    ]);
    if (!record) throw notFound(id);
    return this.view(record, revocation, usage);
  }

  /** What `GET /v1/key` shows the holder of an active key (the guard found it). */
  async info(id: string): Promise<ClientKeyInfo> {
    const entry = this.byId.get(id);
    if (!entry) throw notFound(id);
    return {
      object: 'client_key',
      id,
      name: entry.record.name,
      ...entry.limits,
      quotaTimeZone: this.config.quotaTimeZone,
      quotaUsage: await this.quotaUsage(id, entry.limits),
    };
  }

  /** Every quota of a key with what is used of it in the current periods. */
  async quotaUsage(id: string, limits: ClientKeyLimits): Promise<ClientKeyQuotaUsage[]> {
    const periods = this.periods();
    const used: KeyUsage = await this.quotas.used(id, periods);
    return QUOTAS.map((q) => {
      const limit = limits[q.name];
      const n = used[q.period][q.kind];
      return { quota: q.name, limit, used: n, remaining: limit === null ? null : Math.max(0, limit - n), resetsAt: periodEndsAt(q.period, periods) };
    });
  }

  /** Renames and/or changes limits; `undefined` leaves a field as it is, `null` (or `[]`) removes a limit. */
  async update(id: string, changes: { name?: string } & Partial<ClientKeyLimits>): Promise<ClientKey> {
    const record = await this.storage.settings.get<StoredClientKey>(CLIENT_KEY_NS, id);
    if (!record) throw notFound(id);
    const given = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<ClientKeyLimits>;
    const next: StoredClientKey = {
      ...record,
      ...limitsOf({ ...limitsOf(record), ...given }),
      name: changes.name ?? record.name,
    };
    await this.storage.settings.set(CLIENT_KEY_NS, id, next);
    this.apply(id, next, undefined);
    return this.get(id);
  }

  /** Revokes for good (idempotent). The record stays, so logs and stats can still name the key. */
  async revoke(id: string): Promise<ClientKey> {
    const record = await this.storage.settings.get<StoredClientKey>(CLIENT_KEY_NS, id);
    if (!record) throw notFound(id);
    const existing = await this.storage.settings.get<StoredRevocation>(CLIENT_KEY_REVOKED_NS, id);
    if (!existing) {
      const revocation: StoredRevocation = { revokedAt: Date.now() };
      await this.storage.settings.set(CLIENT_KEY_REVOKED_NS, id, revocation);
      this.apply(id, record, revocation);
      this.logger.log(`Revoked API key ${id} (${shownMask(record)})`);
    }
    return this.get(id);
  }

  /** Counts an answered request's tokens against the key's token quotas (after the fact: the request that crosses a quota is answered). */
  countTokens(id: string, tokens: number): Promise<void> {
    if (!(tokens > 0) || !this.byId.has(id)) return Promise.resolve();
    return this.quotas.addTokens(id, this.periods(), tokens);
  }

  /**
   * Adds usage to one key. A key this process does not know (deleted, or never existed) is
   * skipped, so usage never resurrects a record.
   */
  async addUsage(id: string, delta: StoredUsage): Promise<void> {
    if (!this.byId.has(id)) return;
    // Atomic in the store: several replicas flushing the same key's usage at once all count.
    await this.storage.settings.increment(CLIENT_KEY_USAGE_NS, id, {
      add: { requests: delta.requests, tokens: delta.tokens },
      max: delta.lastUsedAt === null ? {} : { lastUsedAt: delta.lastUsedAt },
    });
  }

  private async view(record: StoredClientKey, revocation: StoredRevocation | undefined, usage: StoredUsage | undefined): Promise<ClientKey> {
    const limits = limitsOf(record);
    return {
      id: record.id,
      name: record.name,
      maskedKey: shownMask(record),
      createdAt: record.createdAt,
      lastUsedAt: usage?.lastUsedAt ?? null,
      requests: usage?.requests ?? 0,
      tokens: usage?.tokens ?? 0,
      ...limits,
      revoked: revocation !== undefined,
      revokedAt: revocation?.revokedAt ?? null,
      quotaUsage: await this.quotaUsage(record.id, limits),
    };
  }

  private async loadAll(): Promise<void> {
    const [records, revocations] = await Promise.all([
      this.storage.settings.list<StoredClientKey>(CLIENT_KEY_NS),
      this.storage.settings.list<StoredRevocation>(CLIENT_KEY_REVOKED_NS),
    ]);
    for (const id of [...this.byId.keys()]) if (!(id in records)) this.apply(id, undefined, undefined);
    for (const [id, record] of Object.entries(records)) this.apply(id, record, revocations[id]);
  }

  private async reload(id: string): Promise<void> {
    const seq = (this.reloads.get(id) ?? 0) + 1;
    this.reloads.set(id, seq);
    const [record, revocation] = await Promise.all([
      this.storage.settings.get<StoredClientKey>(CLIENT_KEY_NS, id),
      this.storage.settings.get<StoredRevocation>(CLIENT_KEY_REVOKED_NS, id),
    ]);
    if (this.reloads.get(id) !== seq) return;
    this.reloads.delete(id);
    this.apply(id, record, revocation);
  }

  /** Puts one key's state into the index. A revocation is never undone by a stale read. */
  private apply(id: string, record: StoredClientKey | undefined, revocation: StoredRevocation | undefined): void {
    const old = this.byId.get(id);
    if (old) this.byHash.delete(old.record.hash);
    if (!record) {
      this.byId.delete(id);
      this.revokedAt.delete(id);
      return;
    }
    const limits = limitsOf(record);
    this.byId.set(id, { record, hash: Buffer.from(record.hash, 'base64url'), limits, ips: compileIps(limits.allowedIps) });
    this.byHash.set(record.hash, id);
    if (revocation && !this.revokedAt.has(id)) this.revokedAt.set(id, revocation.revokedAt);
  }
}

/** How many characters of a secret a mask shows at most (the `sk-g4f-` prefix is not secret). */
const MASK_TAIL = 4;

/** `sk-g4f-…wxyz`: the prefix and the last 4 characters, enough to recognise a key, not to use it. */
export function maskClientKey(secret: string): string {
  return `${CLIENT_KEY_PREFIX}…${secret.slice(-MASK_TAIL)}`;
}

/**
 * The mask of a stored record as shown, whatever its age: older rows hold `sk-g4f-ab…wxyz`
 * (6 characters of the secret), so the mask is rebuilt from its last 4 characters, which every
 * format ends with.
 */
export function shownMask(record: Pick<StoredClientKey, 'masked'>): string {
  const stored = typeof record.masked === 'string' ? record.masked : '';
  const tail = stored.slice(stored.lastIndexOf('…') + 1).slice(-MASK_TAIL);
  return `${CLIENT_KEY_PREFIX}…${/^[\w-]{4}$/.test(tail) ? tail : '****'}`;
}

/** Sums two usage records (lastUsedAt: the later one). */
export function addUsage(a: StoredUsage, b: StoredUsage): StoredUsage {
  return { requests: a.requests + b.requests, tokens: a.tokens + b.tokens, lastUsedAt: Math.max(a.lastUsedAt ?? 0, b.lastUsedAt ?? 0) || null };
}
