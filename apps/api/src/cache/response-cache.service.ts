import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import type { CacheSavings, CacheSettings, SetCacheRequest, Usage } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import type { RedisConnection } from '../storage/redis/redis-connection.ts';
import { REDIS_CONNECTION, STORAGE, type Storage } from '../storage/storage.ts';
import { FailOpen, MemoryCacheStore, type CacheStore } from './cache-store.ts';
import { RedisCacheStore } from './redis-cache-store.ts';
import { CACHE_FILE_NAME, SqliteCacheStore } from './sqlite-cache-store.ts';
import { parseEntry, type CachedAnswer } from './response-cache.ts';

/** Settings namespace of the console's cache settings and of the savings counters. */
export const CACHE_NS = 'cache';
const SETTINGS_KEY = 'settings';
const SAVED_KEY = 'saved';
/** A lookup or write slower than this is a miss (or no write): the request goes on upstream. */
const STORE_DEADLINE_MS = 250;
const MAX_MODELS = 200;
const MAX_MODEL_ID = 200;

interface StoredCacheSettings {
  enabled?: boolean;
  models?: string[];
}

const isStored = (v: unknown): v is StoredCacheSettings => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The response cache in force: its switch and forced models (the console's, stored so that a
 * restart and every replica use them, else the environment's), its store, and what it saved.
 */
@Injectable()
export class ResponseCacheService implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly log = new Logger('ResponseCache');
  private readonly store: CacheStore;
  private readonly failOpen: FailOpen;
  private stored: StoredCacheSettings = {};
  private changesSub?: Subscription;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(REDIS_CONNECTION) redis: RedisConnection | null,
  ) {
    this.store = this.storeFor(redis);
    this.failOpen = new FailOpen(this.log, 'The response cache', STORE_DEADLINE_MS);
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.changesSub = this.storage.settings.changes.subscribe(({ namespace, key }) => {
      if (namespace === CACHE_NS && (key === SETTINGS_KEY || key === '')) void this.reload();
    });
    // A cache in use is ready before the first request; one switched off opens when switched on.
    if (this.enabled) await this.store.open?.();
  }

  onModuleDestroy(): void {
    this.changesSub?.unsubscribe();
  }

  /** In the last phase of shutdown: answers that requests finishing during it save are written first. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close?.();
  }

  /** Redis in cluster mode; otherwise as RESPONSE_CACHE_STORE says, a file in DATA_DIR by default. */
  private storeFor(redis: RedisConnection | null): CacheStore {
    const { maxBytes, store } = this.config.responseCache;
    if (redis) return new RedisCacheStore(redis, maxBytes);
    if (store === 'memory') return new MemoryCacheStore(maxBytes);
    return new SqliteCacheStore(join(this.config.dataDir, CACHE_FILE_NAME), maxBytes, this.log);
  }

  get enabled(): boolean {
    return this.stored.enabled ?? this.config.responseCache.enabled;
  }

  /** Models cached whatever the request's temperature. */
  get forcedModels(): string[] {
    return [...this.config.responseCache.models, ...(this.stored.models ?? [])];
  }

  /** The answer stored under `key`, if any; a store that fails or is slow is a miss. */
  async lookup(key: string): Promise<CachedAnswer | undefined> {
    const json = await this.failOpen.run(() => this.store.get(key, Date.now()), undefined);
    return json === undefined ? undefined : parseEntry(json);
  }

  /** Stores an answer, unless it is larger than RESPONSE_CACHE_MAX_ENTRY_BYTES. Never throws. */
  async save(key: string, answer: CachedAnswer): Promise<void> {
    const json = JSON.stringify(answer);
    if (Buffer.byteLength(json) > this.config.responseCache.maxEntryBytes) return;
    const now = Date.now();
    await this.failOpen.run(() => this.store.put(key, json, now + this.config.responseCache.ttlMs, now), undefined);
  }

  /** Counts an answer served from the cache, with the tokens its upstream did not have to spend. Never throws. */
  async countHit(usage: Usage | null): Promise<void> {
    const add = { requests: 1, promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0 };
    try {
      await this.storage.settings.increment(CACHE_NS, SAVED_KEY, { add });
    } catch (err) {
      this.log.warn(`A cache hit was not counted: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
    }
  }

  async view(): Promise<CacheSettings> {
    const { enabled: byDefault, ttlMs, maxBytes, maxEntryBytes, models: configModels } = this.config.responseCache;
    const [size, saved] = await Promise.all([this.failOpen.run(() => this.store.size(Date.now()), { entries: 0, bytes: 0 }), this.saved()]);
    return {
      enabled: this.enabled,
      source: this.stored.enabled === undefined ? 'config' : 'console',
      default: byDefault,
      ttlMs,
      maxBytes,
      maxEntryBytes,
      models: this.stored.models ?? [],
      configModels,
      ...size,
      saved,
    };
  }

  /** Stores and applies the console's settings (400 for a bad model list). */
  async set(change: SetCacheRequest): Promise<CacheSettings> {
    const next: StoredCacheSettings = { ...this.stored };
    if (change.enabled === null) delete next.enabled;
    else if (change.enabled !== undefined) next.enabled = change.enabled;
    if (change.models !== undefined) next.models = checkedModels(change.models);
    await this.storage.settings.set(CACHE_NS, SETTINGS_KEY, next);
    this.stored = next;
    if (this.enabled) await this.store.open?.();
    return this.view();
  }

  private async saved(): Promise<CacheSavings> {
    const doc = await this.storage.settings.get<Record<string, unknown>>(CACHE_NS, SAVED_KEY).catch(() => undefined);
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    return { requests: num(doc?.requests), promptTokens: num(doc?.promptTokens), completionTokens: num(doc?.completionTokens) };
  }

  private async reload(): Promise<void> {
    try {
      const raw = await this.storage.settings.get<unknown>(CACHE_NS, SETTINGS_KEY);
      this.stored = isStored(raw) ? { enabled: typeof raw.enabled === 'boolean' ? raw.enabled : undefined, models: storedModels(raw.models) } : {};
    } catch (err) {
      this.log.error(`cannot load the stored cache settings: ${String((err as Error)?.message ?? err).slice(0, 500)}`);
    }
  }
}

function storedModels(raw: unknown): string[] | undefined {
  return Array.isArray(raw) ? raw.filter((m): m is string => typeof m === 'string').slice(0, MAX_MODELS) : undefined;
}

function checkedModels(models: string[]): string[] {
  if (models.length > MAX_MODELS) throw ApiError.badRequest(`models may list at most ${MAX_MODELS} model ids`, 'models', 'invalid_value');
  const ids = models.map((m) => m.trim());
  if (ids.some((m) => m.length === 0 || m.length > MAX_MODEL_ID)) {
    throw ApiError.badRequest(`each model id must be 1 to ${MAX_MODEL_ID} characters`, 'models', 'invalid_value');
  }
  return [...new Set(ids)];
}
