import { createHash } from 'node:crypto';
import { maskSecret } from '../common/redact.ts';
import { CircuitBreaker, type BreakerOptions } from './circuit-breaker.ts';
import type { UpstreamError } from './upstream-errors.ts';
import type { KeyQuotaView, KeySource, ProviderKeyView, QuotaUsage } from '#contracts';

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
  /** For an invalid key: when it may be tried again (epoch ms); see KeyRetest. */
  retestAt?: number;
}

/**
 * What the key pool asks the quota ledger (providers/quota-ledger.ts), per key id. Attached by the
 * ledger at start; a pool without one (tests, the console's key test) behaves as before.
 */
export interface KeyLedger {
  /** Epoch ms until which the key must not be sent (a limit used up, remaining 0, credit spent); null when it may. */
  restingUntil(keyId: string, now: number): number | null;
  /** The smallest share left of the key's known limits, 0–1; 1 when none is known. */
  headroom(keyId: string, now: number): number;
  /** An upstream answer for this key: its status and headers (rate-limit headers, use). */
  observe(keyId: string, status: number, headers: Readonly<Record<string, string | undefined>>): void;
  /** Tokens (or neurons) an answer reported. */
  count(keyId: string, use: { tokens?: number; neurons?: number }): void;
  /** Rests the key until the next reset of its credit window; the end, or null when that reset is unknown. */
  restUntilCreditReset(keyId: string, reason: string, now: number): number | null;
  view(keyId: string, now: number): KeyQuotaView;
}

/** How an invalid key is tried again: once after `firstMs`, then every `laterMs` while it keeps failing. */
export interface KeyRetest {
  firstMs: number;
  laterMs: number;
}

export const DEFAULT_RETEST: KeyRetest = { firstMs: 3_600_000, laterMs: 24 * 3_600_000 };

/** The headroom a key must have to be handed out (health probes ask for some, so that checks never spend the last of a quota). */
export interface AcquireOptions {
  /** Keys with less headroom (0..1) are skipped. */
  minHeadroom?: number;
  /** This key goes first when it can serve and has room (session affinity). */
  preferId?: string;
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
 * Below this share of its known limits left, a provider's best key is low on headroom: the router
 * sends it traffic only after the providers with room (or unknown limits), and auto models rank it
 * lower. A fifth keeps a reserve for when the others fail, and a per-minute limit's last requests
 * for the minute's end, without moving traffic while most of a budget is still there.
 */
export const LOW_HEADROOM = 0.2;

/** Words of a 429 that is a spent allowance rather than a pace (Cloudflare's 3036 "daily free allocation"). */
const SPENT_ALLOWANCE = /free allocation|daily allocation|credits? (are |is )?(exhausted|used up|depleted)|out of credits?|insufficient (balance|credits?)/i;

/** A 402, or a 429 that says the key's allowance is spent: no use retrying before the allowance resets. */
export function isCreditRefusal(err: UpstreamError): boolean {
  return err.kind === 'http' && (err.status === 402 || (err.status === 429 && SPENT_ALLOWANCE.test(err.message)));
}

/**
 * A provider's keys, used round-robin among the healthy ones, those with the most headroom first
 * (when the quota ledger knows limits). A key that answers 401/402/403 or 429 cools down on its
 * own while the others keep serving; one the ledger says is used up rests until its reset; one
 * that keeps failing auth is marked invalid and tried again on a slow schedule.
 */
export class KeyPool {
  private keys: PooledKey[] = [];
  private cursor = 0;
  /** Told when one of the keys' breakers opens on its own verdict (see CircuitBreaker.onOpen). */
  onKeyOpen?: (keyId: string, openUntil: number, reason: string | null) => void;
  /** The quota ledger's view of these keys; set by QuotaLedger at start. */
  ledger?: KeyLedger;

  constructor(
    private readonly breakerOptions: BreakerOptions,
    keys: readonly (string | KeyEntry)[],
    /** Providers that work without a key get one anonymous slot when they have no keys. */
    private readonly allowAnonymous: boolean,
    private readonly retest: KeyRetest = DEFAULT_RETEST,
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
        : { ...fresh(e), ...(old ? { breaker: old.breaker, authFailures: old.authFailures, invalid: old.invalid, retestAt: old.retestAt } : {}) };
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
    const now = Date.now();
    return this.keys.some((k) => this.usable(k, now) && !exclude?.has(k) && k.breaker.isAvailable());
  }

  /**
   * The most headroom (0..1) any usable key has, as the quota ledger knows it: 0 when every key
   * rests (or is invalid), null when no ledger counts for this pool.
   */
  bestHeadroom(now = Date.now()): number | null {
    if (!this.ledger) return null;
    let best = 0;
    for (const k of this.keys) if (this.usable(k, now)) best = Math.max(best, this.ledger.headroom(k.id, now));
    return best;
  }

  /** True when the ledger knows every usable key is below LOW_HEADROOM (never when limits are unknown). */
  lowOnHeadroom(now = Date.now()): boolean {
    const best = this.bestHeadroom(now);
    return best !== null && best < LOW_HEADROOM;
  }

  /**
   * The next healthy key, skipping `exclude`; undefined when none is left. Round-robin among the
   * keys with the most headroom, so a key near its limit is spared while another has room; a key
   * resting for quota, or invalid and not yet due for its retest, is never handed out. The key
   * `preferId` goes first when it can serve and has room (session affinity: a conversation keeps its key).
   */
  acquire(exclude?: ReadonlySet<PooledKey>, options: AcquireOptions = {}): PooledKey | undefined {
    const now = Date.now();
    const n = this.keys.length;
    const preferred = options.preferId === undefined ? undefined : this.keys.find((k) => k.id === options.preferId);
    if (preferred && !exclude?.has(preferred) && this.usable(preferred, now) && (this.ledger?.headroom(preferred.id, now) ?? 1) > (options.minHeadroom ?? 0)) {
      if (preferred.breaker.tryAcquire()) {
        if (preferred.invalid) preferred.retestAt = now + this.retest.laterMs;
        return preferred;
      }
    }
    const order: Array<{ key: PooledKey; room: number; i: number }> = [];
    for (let i = 0; i < n; i++) {
      const key = this.keys[(this.cursor + i) % n]!;
      if (exclude?.has(key) || !this.usable(key, now)) continue;
      const room = this.ledger?.headroom(key.id, now) ?? 1;
      if (options.minHeadroom !== undefined && room < options.minHeadroom) continue;
      order.push({ key, room, i });
    }
    // Stable: equal headroom (every key when no limit is known) keeps the round-robin order.
    order.sort((a, b) => b.room - a.room || a.i - b.i);
    for (const { key, i } of order) {
      if (!key.breaker.tryAcquire()) continue;
      this.cursor = (this.cursor + i + 1) % n;
      // An invalid key's trial: one request per retest period, the next trial a period later.
      if (key.invalid) key.retestAt = now + this.retest.laterMs;
      return key;
    }
    return undefined;
  }

  /** Not marked invalid (or due for its retest), and not resting for quota. */
  private usable(key: PooledKey, now: number): boolean {
    if (key.invalid && (key.retestAt === undefined || key.retestAt > now)) return false;
    return (this.ledger?.restingUntil(key.id, now) ?? null) === null;
  }

  /** When the first key that is only cooling down or resting may serve again (epoch ms); null when none is. */
  nextAvailableAt(now = Date.now()): number | null {
    let first: number | null = null;
    for (const k of this.keys) {
      const times = [k.breaker.snapshot().openUntil, this.ledger?.restingUntil(k.id, now) ?? null, k.invalid ? (k.retestAt ?? null) : null];
      const at = Math.max(...times.map((t) => t ?? 0));
      if (at > now && (first === null || at < first)) first = at;
    }
    return first;
  }

  /**
   * Records an auth failure; a key that keeps failing auth is marked invalid, to be tried again
   * after `retest.firstMs`, and every `retest.laterMs` while its trials fail.
   */
  recordAuthFailure(key: PooledKey): void {
    key.authFailures++;
    const now = Date.now();
    if (key.invalid) key.retestAt = now + this.retest.laterMs;
    else if (key.authFailures >= INVALID_AFTER_AUTH_FAILURES) {
      key.invalid = true;
      key.retestAt = now + this.retest.firstMs;
    }
  }

  /**
   * A 402, or a spent free allocation: when the ledger knows when the key's credit comes back, the
   * key rests until then (its breaker open as long, for the console) and true is returned; false
   * leaves the caller to treat it as before (a cooldown, an auth failure).
   */
  restForCredit(key: PooledKey, err: UpstreamError, reason: string): boolean {
    if (!isCreditRefusal(err)) return false;
    const now = Date.now();
    const until = this.ledger?.restUntilCreditReset(key.id, reason, now) ?? null;
    if (until === null) return false;
    key.breaker.onFailure({ immediate: true, cooldownMs: Math.max(1, until - now), reason });
    return true;
  }

  /** Succeeded: a key that was invalid (its retest passed) serves again. */
  recordSuccess(key: PooledKey): void {
    key.authFailures = 0;
    key.invalid = false;
    key.retestAt = undefined;
    key.breaker.onSuccess();
  }

  /** The hook an upstream call reports its answer's status and headers to, for the ledger; undefined without one. */
  responseObserver(key: PooledKey): ((status: number, headers: Readonly<Record<string, string | undefined>>) => void) | undefined {
    const ledger = this.ledger;
    return ledger ? (status, headers) => ledger.observe(key.id, status, headers) : undefined;
  }

  /** Tokens an answer reported and the neurons it was estimated to cost, counted against the key. */
  countUse(key: PooledKey, tokens: number, neurons?: number): void {
    const some = (n: number | undefined) => n !== undefined && Number.isFinite(n) && n > 0;
    if (some(tokens) || some(neurons)) this.ledger?.count(key.id, some(neurons) ? { tokens, neurons } : { tokens });
  }

  /** The keys themselves, for the secret scrubber only: never shown. */
  secretValues(): string[] {
    return this.keys.flatMap((k) => (k.value === undefined ? [] : [k.value]));
  }

  view(): KeyView[] {
    const now = Date.now();
    return this.keys.map((k) => ({
      id: k.id,
      source: k.source,
      label: k.label ?? null,
      masked: maskKey(k.value),
      breaker: k.breaker.snapshot(),
      invalid: k.invalid,
      retestAt: k.invalid ? (k.retestAt ?? null) : null,
      ...(this.ledger ? { quota: this.ledger.view(k.id, now) } : {}),
    }));
  }
}

/** The keys' use per limit, summed: a limit unknown on any key is unknown in total; the earliest reset. */
export function sumQuotaUsage(keys: ReadonlyArray<{ quota?: KeyQuotaView }>): QuotaUsage[] {
  const totals = new Map<string, QuotaUsage>();
  for (const u of keys.flatMap((k) => k.quota?.usage ?? [])) {
    const t = totals.get(u.limit);
    if (!t) totals.set(u.limit, { ...u });
    else {
      t.used += u.used;
      t.max = t.max === null || u.max === null ? null : t.max + u.max;
      t.remaining = t.remaining === null || u.remaining === null ? null : t.remaining + u.remaining;
      t.resetAt = Math.min(t.resetAt, u.resetAt);
    }
  }
  return [...totals.values()];
}
