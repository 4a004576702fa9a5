import { CircuitBreaker, type BreakerOptions, type BreakerSnapshot } from '../routing/circuit-breaker.ts';

export interface PooledKey {
  /** Undefined for the anonymous slot of a provider that works without a key. */
  readonly value: string | undefined;
  readonly breaker: CircuitBreaker;
  /** Auth failures in a row; past a few the key is marked invalid. */
  authFailures: number;
  invalid: boolean;
}

export interface KeyView {
  masked: string;
  breaker: BreakerSnapshot;
  invalid: boolean;
}

/** Shows a key's shape without revealing it: "sk-a…x9f2". */
export function maskKey(key: string | undefined): string {
  if (key === undefined) return '(anonymous)';
  if (key.length <= 8) return '****';
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}

const INVALID_AFTER_AUTH_FAILURES = 3;

/**
 * A provider's keys, used round-robin among the healthy ones. A key that answers
 * 401/402/403 or 429 cools down on its own while the others keep serving.
 */
export class KeyPool {
  private keys: PooledKey[] = [];
  private cursor = 0;

  constructor(
    private readonly breakerOptions: BreakerOptions,
    keys: readonly string[],
    /** Providers that work without a key get one anonymous slot when they have no keys. */
    private readonly allowAnonymous: boolean,
  ) {
    this.replace(keys);
  }

  replace(keys: readonly string[]): void {
    const previous = new Map(this.keys.map((k) => [k.value, k]));
    const values: Array<string | undefined> = keys.length > 0 ? [...new Set(keys)] : this.allowAnonymous ? [undefined] : [];
    this.keys = values.map((value) => previous.get(value) ?? { value, breaker: new CircuitBreaker(this.breakerOptions), authFailures: 0, invalid: false });
    this.cursor = 0;
  }

  get size(): number {
    return this.keys.filter((k) => k.value !== undefined).length;
  }

  /** True when some key (other than those excluded) could serve now. */
  hasAvailable(exclude?: ReadonlySet<PooledKey>): boolean {
    return this.keys.some((k) => !k.invalid && !exclude?.has(k) && k.breaker.isAvailable());
  }

  /** The next healthy key, round-robin, skipping `exclude`; undefined when none is left. */
  acquire(exclude?: ReadonlySet<PooledKey>): PooledKey | undefined {
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

  view(): KeyView[] {
    return this.keys.map((k) => ({ masked: maskKey(k.value), breaker: k.breaker.snapshot(), invalid: k.invalid }));
  }
}
