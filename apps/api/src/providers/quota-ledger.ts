import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { KeyQuotaView, ProviderQuotaView, QuotaUsage } from '#contracts';
import {
  CALENDAR_WINDOWS,
  applyQuotaOverride,
  metricOf,
  parseQuotaOverride,
  windowBounds,
  windowOf,
  type QuotaMetric,
  type QuotaOverride,
  type QuotaSpec,
} from '../common/quota-spec.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { MAX_REASON_CHARS, truncate } from '../events/record-bounds.ts';
import { STORAGE, type Storage } from '../storage/storage.ts';
import { FREE_TIERS, UNKNOWN_TIER } from './free-tiers.ts';
import { LOW_HEADROOM, sumQuotaUsage, type KeyLedger } from './key-pool.ts';
import { ProviderRegistry, type ProviderState } from './provider-registry.service.ts';
import { parseRetryAfter } from './upstream-errors.ts';

/** Settings namespace of the counters: `<provider>|<key id>|<window>|<window end>` → {requests, tokens, neurons}; `…|rest` → {until}. */
export const QUOTA_COUNTERS_NS = 'provider-quota';
/** Settings namespace of the console's overrides: `<provider>` or `<provider>#<key id>` → QuotaOverride. */
export const QUOTA_OVERRIDES_NS = 'provider-quota-limits';

/** Without a reset header, a key an upstream says has nothing left rests this long (most such limits are per minute). */
const HEADER_REST_FALLBACK_MS = 60_000;
/** Counters of a window are deleted this long after it ended. */
const KEEP_ENDED_MS = 60_000;
/** Upstream rate-limit numbers above this are not believed (nor stored). */
const MAX_HEADER_NUMBER = 1e12;

type Counter = Record<QuotaMetric, number>;
const zero = (): Counter => ({ requests: 0, tokens: 0, neurons: 0 });

const METRICS = ['requests', 'tokens', 'neurons'] as const;

/** Adds a use to one window's counter in `map` (made at zero when it is the window's first). */
function addUse(map: Map<string, Counter>, doc: string, use: Partial<Counter>): void {
  let c = map.get(doc);
  if (!c) map.set(doc, (c = zero()));
  for (const m of METRICS) {
    const by = use[m];
    if (by !== undefined && Number.isFinite(by) && by > 0) c[m] += Math.round(by);
  }
}

/** What an upstream's `x-ratelimit-*` headers last said about a key. */
interface Observed {
  remainingRequests: number | null;
  remainingTokens: number | null;
  limitRequests: number | null;
  limitTokens: number | null;
  resetRequestsAt: number | null;
  resetTokensAt: number | null;
  at: number;
}

interface Rest {
  until: number;
  reason: string;
}

/**
 * The providers' quota ledger: per key, what it used in each window (requests from every answer,
 * tokens from the answers' usage), what the upstream's rate-limit headers say is left, and the
 * limits that apply (documented free tiers, QUOTA_LIMITS, the console). Key pools ask it which
 * keys have headroom and which must rest; a used-up key rests until its window resets, then comes
 * back by itself.
 *
 * Counters live in memory and are added to the settings store every QUOTA_SYNC_MS with its atomic
 * `increment` (SQLite, or Redis in cluster mode), then read back: so a restart keeps the day's use,
 * and replicas sharing a Redis see each other's use within a sync. A crash loses at most the last
 * QUOTA_SYNC_MS of counts; between syncs each replica only knows its own new use.
 */
@Injectable()
export class QuotaLedger implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('QuotaLedger');
  /** Stored counts (as of the last sync) plus what was counted here since. */
  private counts = new Map<string, Counter>();
  private pending = new Map<string, Counter>();
  private readonly rests = new Map<string, Rest>();
  private pendingRests = new Map<string, number>();
  private readonly observed = new Map<string, Observed>();
  /**
   * `<provider>|<key id>` of the keys last seen below LOW_HEADROOM: a superset of those that are now,
   * since headroom only shrinks through what is noted here (use, headers, other replicas' use, new
   * limits) and only grows with time (a window's reset), which the next look or sync clears.
   */
  private readonly lowKeys = new Set<string>();
  /** Estimated neurons below one, per `<provider>|<key id>`, carried to the key's next answer (counters are whole). */
  private readonly neuronCarry = new Map<string, number>();
  /** The console's overrides, by `<provider>` or `<provider>#<key id>`: as written, and parsed. */
  private written: Record<string, Record<string, unknown>> = {};
  private stored: Record<string, QuotaOverride> = {};
  private readonly specs = new Map<string, QuotaSpec>();
  private readonly windowsOf = new WeakMap<QuotaSpec, readonly string[]>();
  private readonly bounds = new Map<string, { start: number; end: number }>();
  private timer?: NodeJS.Timeout;
  private syncing: Promise<void> = Promise.resolve();
  private failing = false;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.attach();
    this.subscriptions.push(this.registry.upstreamsChanged.subscribe(() => this.attach()));
    this.subscriptions.push(
      this.storage.settings.changes.subscribe(({ namespace }) => {
        if (namespace === QUOTA_OVERRIDES_NS) void this.loadOverrides();
      }),
    );
    await this.loadOverrides();
    await this.sync();
    this.timer = setInterval(() => void this.sync(), this.config.providerQuota.syncMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sync();
  }

  /** Gives every provider's key pool its ledger (again after operators' upstreams change). */
  private attach(): void {
    for (const p of this.registry.all()) if (!p.keys.ledger) p.keys.ledger = this.forProvider(p.adapter.id);
  }

  /** The ledger as one provider's key pool sees it. */
  forProvider(provider: string): KeyLedger {
    return {
      restingUntil: (keyId, now) => this.restingUntil(provider, keyId, now)?.until ?? null,
      headroom: (keyId, now) => this.headroom(provider, keyId, now),
      observe: (keyId, status, headers) => this.observe(provider, keyId, status, headers),
      count: (keyId, use) => {
        const now = Date.now();
        this.add(provider, keyId, use.neurons === undefined ? use : { ...use, neurons: this.wholeNeurons(provider, keyId, use.neurons) }, now);
        this.noteHeadroom(provider, keyId, now);
      },
      restUntilCreditReset: (keyId, reason, now) => this.restUntilCreditReset(provider, keyId, reason, now),
      view: (keyId, now) => this.keyView(provider, keyId, now),
    };
  }

  // --- limits ------------------------------------------------------------------------------

  /** The limits in effect for a provider, or one of its keys: documented, then QUOTA_LIMITS, then the console. */
  spec(provider: string, keyId?: string): QuotaSpec {
    const id = keyId === undefined ? provider : `${provider}#${keyId}`;
    let spec = this.specs.get(id);
    if (!spec) {
      const env = this.config.providerQuota.overrides;
      if (keyId === undefined) {
        const base = FREE_TIERS[provider] ?? UNKNOWN_TIER;
        const name = this.registry.find(provider)?.name.toLowerCase();
        spec = applyQuotaOverride(applyQuotaOverride(base, env[provider] ?? (name ? env[name] : undefined)), this.stored[provider]);
      } else {
        const name = this.registry.find(provider)?.name.toLowerCase();
        const fromEnv = env[`${provider}#${keyId}`.toLowerCase()] ?? (name ? env[`${name}#${keyId}`.toLowerCase()] : undefined);
        spec = applyQuotaOverride(applyQuotaOverride(this.spec(provider), fromEnv), this.stored[id]);
      }
      this.specs.set(id, spec);
    }
    return spec;
  }

  /** Sets (or with null clears) the console's override of a provider or one of its keys; validated here. */
  async setOverride(provider: ProviderState, keyId: string | undefined, body: unknown): Promise<void> {
    const id = keyId === undefined ? provider.adapter.id : `${provider.adapter.id}#${keyId}`;
    if (body === null) await this.storage.settings.delete(QUOTA_OVERRIDES_NS, id);
    else {
      // Stored as the operator wrote it (flat, as QUOTA_LIMITS takes it), once it is known to be valid.
      parseQuotaOverride(body, keyId === undefined ? 'limits' : `limits of key ${keyId}`);
      await this.storage.settings.set(QUOTA_OVERRIDES_NS, id, body);
    }
    await this.loadOverrides();
  }

  private async loadOverrides(): Promise<void> {
    try {
      const raw = await this.storage.settings.list<Record<string, unknown>>(QUOTA_OVERRIDES_NS);
      const next: Record<string, QuotaOverride> = {};
      const written: Record<string, Record<string, unknown>> = {};
      for (const [id, value] of Object.entries(raw)) {
        try {
          next[id] = parseQuotaOverride(value, id);
          written[id] = value;
        } catch (err) {
          this.logger.warn(`Ignoring the stored quota limits of ${id.slice(0, 100)}: ${(err as Error).message}`);
        }
      }
      this.stored = next;
      this.written = written;
      this.specs.clear();
      this.refreshLow(Date.now());
    } catch (err) {
      this.logger.warn(`Could not read the stored quota limits: ${(err as Error).message}`);
    }
  }

  // --- counting ----------------------------------------------------------------------------

  /**
   * An upstream answer for a key: counts the request (unless the upstream refused it: a 401/402/
   * 403/429, or failed: a 5xx) and keeps what its rate-limit headers say.
   */
  observe(provider: string, keyId: string, status: number, headers: Readonly<Record<string, string | undefined>>): void {
    const now = Date.now();
    const refused = status === 401 || status === 402 || status === 403 || status === 429 || status >= 500;
    if (!refused) this.add(provider, keyId, { requests: 1 }, now);
    const seen = readRateLimitHeaders(headers, now, status);
    if (seen) this.observed.set(`${provider}|${keyId}`, seen);
    if (seen || !refused) this.noteHeadroom(provider, keyId, now);
  }

  private add(provider: string, keyId: string, use: Partial<Counter>, now: number): void {
    const spec = this.spec(provider, keyId);
    for (const window of this.windows(spec)) {
      const { end } = this.window(window, spec, now);
      const doc = `${provider}|${keyId}|${window}|${end}`;
      addUse(this.counts, doc, use);
      addUse(this.pending, doc, use);
    }
  }

  /**
   * The whole neurons to count of an estimate: a small answer costs a fraction of one, and rounding
   * each would count none (or one) every time; the fraction is carried to the next answer instead.
   */
  private wholeNeurons(provider: string, keyId: string, neurons: number): number {
    const id = `${provider}|${keyId}`;
    const total = (this.neuronCarry.get(id) ?? 0) + neurons;
    const whole = Math.floor(total);
    // Bounded: one entry per key that was ever estimated.
    this.neuronCarry.set(id, total - whole);
    return whole;
  }

  /** The windows counted for a key: those of its limits, and always day and month (shown in the console). */
  private windows(spec: QuotaSpec): readonly string[] {
    let out = this.windowsOf.get(spec);
    if (!out) {
      const names = new Set<string>(CALENDAR_WINDOWS);
      for (const name of Object.keys(spec.limits)) names.add(windowOf(name));
      // A spec is never changed once made (new limits make new specs): its windows are worked out once.
      this.windowsOf.set(spec, (out = [...names]));
    }
    return out;
  }

  private window(window: string, spec: QuotaSpec, now: number): { start: number; end: number } {
    const id = `${window}|${spec.timeZone}|${spec.resetHour}`;
    const cached = this.bounds.get(id);
    if (cached && cached.start <= now && now < cached.end) return cached;
    const fresh = windowBounds(window, now, spec.timeZone, spec.resetHour);
    // Bounded: one entry per window name, zone and hour in use.
    this.bounds.set(id, fresh);
    return fresh;
  }

  private used(provider: string, keyId: string, window: string, spec: QuotaSpec, now: number): { used: Counter; end: number } {
    const { end } = this.window(window, spec, now);
    return { used: this.counts.get(`${provider}|${keyId}|${window}|${end}`) ?? zero(), end };
  }

  // --- rest and headroom -------------------------------------------------------------------

  /**
   * True while some key may be below LOW_HEADROOM: the router reorders providers by headroom only
   * then, so a pool where nothing is low pays one property read per request.
   */
  get anyLow(): boolean {
    return this.lowKeys.size > 0;
  }

  /** Keeps lowKeys right for one key after its use or headers changed. */
  private noteHeadroom(provider: string, keyId: string, now: number): void {
    // Nothing known limits this key: it cannot be low (and nothing is allocated to say so).
    if (!hasLimits(this.spec(provider, keyId)) && this.observed.size === 0 && this.lowKeys.size === 0) return;
    const id = `${provider}|${keyId}`;
    if (this.headroom(provider, keyId, now) < LOW_HEADROOM) this.lowKeys.add(id);
    else this.lowKeys.delete(id);
  }

  /** Looks again at every key with counts or headers (after a sync brought other replicas' use, or limits changed). */
  private refreshLow(now: number): void {
    const ids = new Set<string>(this.lowKeys);
    for (const doc of this.counts.keys()) ids.add(doc.slice(0, doc.indexOf('|', doc.indexOf('|') + 1)));
    for (const id of this.observed.keys()) ids.add(id);
    for (const id of ids) {
      const cut = id.indexOf('|');
      this.noteHeadroom(id.slice(0, cut), id.slice(cut + 1), now);
    }
  }

  /** Why and until when a key must not be sent; null when it may. */
  restingUntil(provider: string, keyId: string, now: number): Rest | null {
    let rest: Rest | null = null;
    const later = (until: number, reason: string) => {
      if (until > now && (rest === null || until > rest.until)) rest = { until, reason };
    };
    const credit = this.rests.get(`${provider}|${keyId}`);
    if (credit) later(credit.until, credit.reason);
    const spec = this.spec(provider, keyId);
    for (const [name, max] of Object.entries(spec.limits)) {
      const { used, end } = this.used(provider, keyId, windowOf(name), spec, now);
      if (used[metricOf(name)] >= max) later(end, `${name} used up (${max})`);
    }
    const seen = this.observed.get(`${provider}|${keyId}`);
    if (seen) {
      if (seen.remainingRequests === 0) later(seen.resetRequestsAt ?? seen.at + HEADER_REST_FALLBACK_MS, 'the upstream says no requests are left');
      if (seen.remainingTokens === 0) later(seen.resetTokensAt ?? seen.at + HEADER_REST_FALLBACK_MS, 'the upstream says no tokens are left');
    }
    return rest;
  }

  /** The smallest share left of any known limit (counted, or from the upstream's headers); 1 when none is known. */
  headroom(provider: string, keyId: string, now: number): number {
    let room = 1;
    const spec = this.spec(provider, keyId);
    for (const [name, max] of Object.entries(spec.limits)) {
      const { used } = this.used(provider, keyId, windowOf(name), spec, now);
      room = Math.min(room, max <= 0 ? 0 : Math.max(0, max - used[metricOf(name)]) / max);
    }
    const seen = this.observed.get(`${provider}|${keyId}`);
    if (seen) {
      const share = (left: number | null, limit: number | null, reset: number | null) =>
        left !== null && limit !== null && limit > 0 && (reset === null || reset > now) ? Math.min(1, left / limit) : 1;
      room = Math.min(
        room,
        share(seen.remainingRequests, seen.limitRequests, seen.resetRequestsAt),
        share(seen.remainingTokens, seen.limitTokens, seen.resetTokensAt),
      );
    }
    return room;
  }

  /** A refused payment or spent allowance: rests the key until its credit window resets; null when that is unknown. */
  restUntilCreditReset(provider: string, keyId: string, reason: string, now: number): number | null {
    const spec = this.spec(provider, keyId);
    if (!spec.creditWindow) return null;
    const { end } = this.window(spec.creditWindow, spec, now);
    this.rests.set(`${provider}|${keyId}`, { until: end, reason: truncate(`credit spent: ${reason}`, MAX_REASON_CHARS) });
    this.pendingRests.set(`${provider}|${keyId}|rest`, end);
    return end;
  }

  // --- storage -----------------------------------------------------------------------------

  /** Writes what was counted since the last sync, then reads every replica's counts back. Never overlaps itself. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce()).catch(() => undefined);
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const rests = this.pendingRests;
    this.pendingRests = new Map();
    const settings = this.storage.settings;
    try {
      for (const [doc, c] of batch) {
        const add: Record<string, number> = {};
        for (const m of METRICS) if (c[m] > 0) add[m] = c[m];
        await settings.increment(QUOTA_COUNTERS_NS, doc, { add });
        batch.delete(doc);
      }
      for (const [doc, until] of rests) {
        await settings.increment(QUOTA_COUNTERS_NS, doc, { max: { until } });
        rests.delete(doc);
      }
      const stored = await settings.list<Record<string, unknown>>(QUOTA_COUNTERS_NS);
      await this.readBack(stored);
      if (this.failing) this.logger.log('Quota counters are being written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing)
        this.logger.warn(`Could not sync quota counters (kept, retried every ${this.config.providerQuota.syncMs} ms): ${(err as Error).message}`);
      this.failing = true;
      // What was not written goes back in front of what was counted meanwhile.
      for (const [doc, c] of batch) {
        const later = this.pending.get(doc) ?? zero();
        for (const m of METRICS) later[m] += c[m];
        this.pending.set(doc, later);
      }
      for (const [doc, until] of rests) this.pendingRests.set(doc, Math.max(until, this.pendingRests.get(doc) ?? 0));
    }
  }

  /** Counts become the stored ones plus what was counted since the batch was taken; ended windows are dropped. */
  private async readBack(stored: Record<string, Record<string, unknown>>): Promise<void> {
    const now = Date.now();
    const next = new Map<string, Counter>();
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
    for (const [doc, value] of Object.entries(stored)) {
      const parts = doc.split('|');
      if (parts.length === 3 && parts[2] === 'rest') {
        const until = num(value?.until);
        const id = `${parts[0]}|${parts[1]}`;
        if (until <= now) await this.storage.settings.delete(QUOTA_COUNTERS_NS, doc);
        else if ((this.rests.get(id)?.until ?? 0) < until) this.rests.set(id, { until, reason: 'credit spent' });
        continue;
      }
      const end = Number(parts[3]);
      if (parts.length !== 4 || !Number.isFinite(end) || end + KEEP_ENDED_MS <= now) {
        await this.storage.settings.delete(QUOTA_COUNTERS_NS, doc);
        continue;
      }
      next.set(doc, { requests: num(value?.requests), tokens: num(value?.tokens), neurons: num(value?.neurons) });
    }
    for (const [doc, c] of this.pending) {
      const s = next.get(doc) ?? zero();
      next.set(doc, { requests: s.requests + c.requests, tokens: s.tokens + c.tokens, neurons: s.neurons + c.neurons });
    }
    this.counts = next;
    for (const [id, rest] of this.rests) if (rest.until <= now) this.rests.delete(id);
    this.refreshLow(now);
  }

  // --- views -------------------------------------------------------------------------------

  keyView(provider: string, keyId: string, now: number): KeyQuotaView {
    const spec = this.spec(provider, keyId);
    const usage: QuotaUsage[] = [];
    const names = new Set(Object.keys(spec.limits));
    for (const w of CALENDAR_WINDOWS) for (const m of ['requests', 'tokens'] as const) names.add(`${m}/${w}`);
    for (const name of names) {
      const { used, end } = this.used(provider, keyId, windowOf(name), spec, now);
      const max = spec.limits[name] ?? null;
      const n = used[metricOf(name)];
      const row: QuotaUsage = { limit: name, used: n, max, remaining: max === null ? null : Math.max(0, max - n), resetAt: end };
      // No upstream reports neurons: what is counted is the gateway's estimate from tokens (估算).
      if (metricOf(name) === 'neurons') row.estimated = true;
      usage.push(row);
    }
    const seen = this.observed.get(`${provider}|${keyId}`);
    const rest = this.restingUntil(provider, keyId, now);
    const resets = [seen?.resetRequestsAt, seen?.resetTokensAt].filter((t): t is number => typeof t === 'number');
    return {
      usage,
      upstream: seen
        ? {
            remainingRequests: seen.remainingRequests,
            remainingTokens: seen.remainingTokens,
            resetAt: resets.length ? Math.min(...resets) : null,
            observedAt: seen.at,
          }
        : null,
      restingUntil: rest?.until ?? null,
      restReason: rest?.reason ?? null,
      headroom: this.headroom(provider, keyId, now),
    };
  }

  /** Every provider's limits in effect and use, its keys' too (`GET /api/quotas`). */
  views(now = Date.now()): ProviderQuotaView[] {
    return this.registry.all().map((p) => this.providerView(p, now));
  }

  providerView(p: ProviderState, now = Date.now()): ProviderQuotaView {
    const provider = p.adapter.id;
    const spec = this.spec(provider);
    const keys = p.keys.view().map((k) => ({
      id: k.id,
      masked: k.masked,
      override: this.written[`${provider}#${k.id}`] ?? null,
      quota: k.quota ?? this.keyView(provider, k.id, now),
    }));
    return {
      provider,
      name: p.name,
      limits: { ...spec.limits },
      timeZone: spec.timeZone,
      resetHour: spec.resetHour,
      creditWindow: spec.creditWindow ?? null,
      override: this.written[provider] ?? null,
      usage: sumQuotaUsage(keys),
      keys,
    };
  }
}

/** Whether a spec states any limit (without listing them: this runs once per answer). */
function hasLimits(spec: QuotaSpec): boolean {
  for (const name in spec.limits) if (Object.hasOwn(spec.limits, name)) return true;
  return false;
}

/**
 * What an answer's rate-limit headers say: `x-ratelimit-remaining-requests`/`-tokens`,
 * `x-ratelimit-limit-*`, `x-ratelimit-reset-*` (OpenAI's "1m30s", seconds, or epoch seconds), and a
 * 429's `retry-after`. Undefined when it sent none of them. Numbers out of range are ignored.
 */
export function readRateLimitHeaders(headers: Readonly<Record<string, string | undefined>>, now: number, status: number): Observed | undefined {
  const count = (name: string) => {
    const raw = headers[name]?.trim();
    if (raw === undefined || !/^\d{1,13}(\.\d+)?$/.test(raw)) return null;
    const n = Math.floor(Number(raw));
    return n <= MAX_HEADER_NUMBER ? n : null;
  };
  const generalReset = resetTime(headers['x-ratelimit-reset'], now);
  const seen: Observed = {
    remainingRequests: count('x-ratelimit-remaining-requests') ?? count('x-ratelimit-remaining'),
    remainingTokens: count('x-ratelimit-remaining-tokens'),
    limitRequests: count('x-ratelimit-limit-requests') ?? count('x-ratelimit-limit'),
    limitTokens: count('x-ratelimit-limit-tokens'),
    resetRequestsAt: resetTime(headers['x-ratelimit-reset-requests'], now) ?? generalReset,
    resetTokensAt: resetTime(headers['x-ratelimit-reset-tokens'], now) ?? generalReset,
    at: now,
  };
  if (status === 429) {
    const wait = parseRetryAfter(headers['retry-after'], now);
    if (wait !== undefined) {
      seen.remainingRequests = 0;
      seen.resetRequestsAt = now + wait;
    }
  }
  const said = [seen.remainingRequests, seen.remainingTokens, seen.limitRequests, seen.limitTokens].some((v) => v !== null);
  return said ? seen : undefined;
}

/** A reset header as an instant: "1m30s"/"20ms"/"6m0s" durations, plain seconds, or epoch seconds (over 10⁹). */
export function resetTime(raw: string | undefined, now: number): number | null {
  const text = raw?.trim();
  if (!text || text.length > 32) return null;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    if (n > 1e12) return n; // epoch milliseconds
    if (n > 1e9) return n * 1000; // epoch seconds
    return now + Math.round(n * 1000);
  }
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m || m[0] === '') return null;
  const ms = Number(m[1] ?? 0) * 3_600_000 + Number(m[2] ?? 0) * 60_000 + Number(m[3] ?? 0) * 1000 + Number(m[4] ?? 0);
  return Number.isFinite(ms) ? now + Math.round(ms) : null;
}
