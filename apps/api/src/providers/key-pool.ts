import { createHash } from 'node:crypto';
import { maskSecret } from '../common/redact.ts';
import { CircuitBreaker, type BreakerOptions } from './circuit-breaker.ts';
import type { KeySource, ProviderKeyView } from '#contracts';

export type { KeySource };
export interface KeyEntry {
  /** Stable id: for env keys derived from the key's hash, so it survives restarts. */
  id: string;
  value: string;
  source: KeySource;
  label?: string;
  /**
   * The origin (scheme://host:port) of the base URL the key was entered for; the key is only sent
   * there. Unset for keys from the environment or PROVIDERS_FILE (bound to the configured base URL
   * by ProviderState) and for console keys stored before keys were bound.
   */
  origin?: string;
}

/** An env key's id: a hash prefix, stable across restarts and revealing nothing. */
export const envKeyId = (value: string) => `env-${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;

export interface PooledKey {
  readonly id: string;
  readonly source: KeySource;
  readonly label?: string;
  /** Undefined for the anonymous slot of a provider that works without a key. */
  readonly value: string | undefined;
  readonly breaker: CircuitBreaker;
  /** Auth failures in a row; past a few the key is marked invalid. */
  authFailures: number;
  invalid: boolean;
}

/** A pooled key as every API read shows it: masked, never the secret. */
export type KeyView = ProviderKeyView;

/** Tells keys apart without revealing them: at most the last 4 characters ("****x9f2"). */
export function maskKey(key: string | undefined): string {
  if (key === undefined) return '(anonymous)';
  return maskSecret(key);
}

const INVALID_AFTER_AUTH_FAILURES = 3;

/**
 * A provider's keys, used round-robin among the healthy ones. A key that answers
 * 401/402/403 or 429 cools down on its own while the others keep serving.
 */
export class KeyPool {
  private keys: PooledKey[] = [];
  private cursor = 0;
  /** Told when one of the keys' breakers opens on its own verdict (see CircuitBreaker.onOpen). */
  onKeyOpen?: (keyId: string, openUntil: number, reason: string | null) => void;

  constructor(
    private readonly breakerOptions: BreakerOptions,
    keys: readonly (string | KeyEntry)[],
    /** Providers that work without a key get one anonymous slot when they have no keys. */
    private readonly allowAnonymous: boolean,
  ) {
    this.replace(keys);
  }

  /** Sets the pool's keys; keys that stay keep their cooldown and invalid marks. Plain strings are env keys. */
  replace(keys: readonly (string | KeyEntry)[]): void {
    const previous = new Map(this.keys.map((k) => [k.value, k]));
    const entries = new Map<string, KeyEntry>();
    for (const k of keys) {
      const entry: KeyEntry = typeof k === 'string' ? { id: envKeyId(k), value: k, source: 'env' } : k;
      if (!entries.has(entry.value)) entries.set(entry.value, entry);
    }
    const fresh = (e: KeyEntry | undefined): PooledKey => ({
      id: e?.id ?? 'anonymous',
      source: e?.source ?? 'env',
      label: e?.label,
      value: e?.value,
      breaker: new CircuitBreaker(this.breakerOptions),
      authFailures: 0,
      invalid: false,
    });
    const list = entries.size > 0 ? [...entries.values()] : this.allowAnonymous ? [undefined] : [];
    this.keys = list.map((e) => {
      const old = previous.get(e?.value);
      return old && old.id === (e?.id ?? 'anonymous') && old.label === e?.label
        ? old
        : { ...fresh(e), ...(old ? { breaker: old.breaker, authFailures: old.authFailures, invalid: old.invalid } : {}) };
    });
    // (Re)bound after every replace: a kept breaker may now belong to a key with another id.
    for (const k of this.keys) k.breaker.onOpen = (until, reason) => this.onKeyOpen?.(k.id, until, reason);
    this.cursor = 0;
  }

  /** The pooled key with this id (for testing one key from the console). */
  get(id: string): PooledKey | undefined {
    return this.keys.find((k) => k.id === id);
  }

  get size(): number {
    return this.keys.filter((k) => k.value !== undefined).length;
  }

  /** True when some key (other than those excluded) could serve now. */
  hasAvailable(exclude?: ReadonlySet<PooledKey>): boolean {
    return this.keys.some((k) => !k.invalid && !exclude?.has(k) && k.breaker.isAvailable());
  }

  /**
   * The next healthy key, round-robin, skipping `exclude`; undefined when none is left. The key
   * `preferId` goes first when it can serve (session affinity: a conversation keeps its key).
   */
  acquire(exclude?: ReadonlySet<PooledKey>, preferId?: string): PooledKey | undefined {
    const preferred = preferId === undefined ? undefined : this.keys.find((k) => k.id === preferId);
    if (preferred && !preferred.invalid && !exclude?.has(preferred) && preferred.breaker.tryAcquire()) return preferred;
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[(this.cursor + i) % this.keys.length]!;
      if (!key.invalid && !exclude?.has(key) && key.breaker.tryAcquire()) {
        this.cursor = (this.cursor + i + 1) % this.keys.length;
        return key;
      }
    }
    return undefined;
  }

  /** Records an auth failure; a key that keeps failing auth is marked invalid. */
  recordAuthFailure(key: PooledKey): void {
    key.authFailures++;
    if (key.authFailures >= INVALID_AFTER_AUTH_FAILURES) key.invalid = true;
  }

  recordSuccess(key: PooledKey): void {
    key.authFailures = 0;
    key.breaker.onSuccess();
  }

  /** The keys themselves, for the secret scrubber only: never shown. */
  secretValues(): string[] {
    return this.keys.flatMap((k) => (k.value === undefined ? [] : [k.value]));
  }

  view(): KeyView[] {
    return this.keys.map((k) => ({
      id: k.id,
      source: k.source,
      label: k.label ?? null,
      masked: maskKey(k.value),
      breaker: k.breaker.snapshot(),
      invalid: k.invalid,
    }));
  }
}
