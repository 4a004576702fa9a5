import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Observable, defer, lastValueFrom, mergeMap, of, timer } from 'rxjs';
import type { AttemptSummary, CatalogModel, CatalogRoute, ResumePoint, Usage } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import type { CallKind } from '../providers/circuit-breaker.ts';
import { maskKey, type PooledKey } from '../providers/key-pool.ts';
import { UpstreamError, shortReason, type ClientFlow, type UpstreamContext } from '../providers/provider-adapter.ts';
import { attemptCode } from '../providers/upstream-errors.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { pinnedFirst, type PinnedRoute } from './affinity.ts';
import { RouterService, type Candidate } from './router.service.ts';

/** Says why a route cannot take this request (e.g. "cannot take images"), or null when it can. */
export type RouteFilter = (route: CatalogRoute, provider: ProviderState) => string | null;

/** The shortest wait before a same-route retry of a passing failure; up to twice this with jitter. */
const RETRY_BACKOFF_MS = 100;

/**
 * Completes once `ms` have passed by the clock the breakers read (Date.now). A timer alone can fire
 * a millisecond early by that clock (libuv counts on its own monotonic clock, whose milliseconds
 * are not Date.now's), and a retry that arrives before its key's cooldown ends is refused as
 * "cooling down": so it checks the clock when the timer fires and waits out the rest.
 */
export function waitOut(ms: number): Observable<void> {
  const until = Date.now() + ms;
  const rest = (): Observable<void> =>
    defer(() => {
      const left = until - Date.now();
      return left > 0 ? timer(left).pipe(mergeMap(rest)) : of(undefined);
    });
  return rest();
}

function retryAfterHeader(ms: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
}

/** The longest wait worth telling a client to retry after: the OpenAI SDKs honour a Retry-After of at most 60 s. */
const RETRY_HORIZON_MS = 60_000;

/**
 * The retry advice on an answer that no provider could give: `Retry-After` is when the first of
 * `providers` will be ready again (a breaker or key cooldown ending; `upstreamWaitMs`, an
 * upstream's own Retry-After, counts too), and `x-should-retry: false` (honoured by the OpenAI
 * SDKs) unless that is within RETRY_HORIZON_MS: a provider that just failed and is not cooling
 * would only fail again, so an SDK's own retries would multiply upstream calls for nothing.
 */
export function retryAdvice(providers: readonly ProviderState[], upstreamWaitMs?: number): Record<string, string> {
  const now = Date.now();
  const times = providers.map((p) => p.availableAt()).filter((t): t is number => t !== null && t > now);
  if (upstreamWaitMs !== undefined) times.push(now + upstreamWaitMs);
  if (times.length === 0) return { 'x-should-retry': 'false' };
  const wait = Math.min(...times) - now;
  return { ...retryAfterHeader(wait), 'x-should-retry': wait <= RETRY_HORIZON_MS ? 'true' : 'false' };
}

const logger = new Logger('Failover');

/** One try of one candidate: a leased key and, in half-open state, the provider's probe slot. */
export class Lease {
  private readonly t0 = performance.now();
  private settled = false;
  /** Stream events this try skipped for not being JSON. */
  private malformed = 0;
  /** This try's line in the attempts, once it has one (a skip after that updates it). */
  private summary: AttemptSummary | undefined;

  constructor(
    readonly candidate: Candidate,
    readonly key: PooledKey,
    private readonly run: FailoverRun,
    private readonly http: UpstreamHttp,
    private readonly config: AppConfig,
  ) {}

  get provider(): ProviderState {
    return this.candidate.provider;
  }

  get upstreamModel(): string {
    return this.candidate.upstreamModel;
  }

  elapsedMs(): number {
    return Math.round(performance.now() - this.t0);
  }

  context(signal: AbortSignal, flow?: ClientFlow): UpstreamContext {
    const p = this.provider;
    const onMalformed = (sample: string) => this.noteMalformed(sample);
    return {
      upstreamModel: this.upstreamModel,
      baseUrl: p.baseUrl,
      apiKey: this.key.value,
      extra: p.extra,
      signal,
      http: this.http,
      proxy: p.proxy,
      flow,
      onMalformed,
      onResponse: p.keys.responseObserver(this.key),
    };
  }

  /**
   * An answer's usage (the upstream's, else the gateway's estimate, as clients are told), counted
   * against the key that served it (the quota ledger): its tokens, and the neurons the provider
   * estimates from them.
   */
  noteUsage(usage: Usage): void {
    const tokens = usage.total_tokens || usage.prompt_tokens + usage.completion_tokens;
    this.provider.keys.countUse(this.key, tokens, this.provider.adapter.neurons?.(this.upstreamModel, usage));
  }

  /** A skipped stream event: counted on the attempt (and so in metrics), logged once per try. */
  private noteMalformed(sample: string): void {
    this.malformed++;
    if (this.summary) this.summary.malformed_events = this.malformed;
    if (this.malformed === 1)
      logger.warn(`${this.provider.name} (${this.upstreamModel.slice(0, 100)}) sent a stream event that is not JSON, skipped: ${JSON.stringify(sample)}`);
  }

  /** The attempt's line, with the skipped events counted so far. */
  private summarize(attempt: AttemptSummary): AttemptSummary {
    if (this.malformed > 0) attempt.malformed_events = this.malformed;
    this.summary = attempt;
    return attempt;
  }

  /**
   * The provider answered: close breakers, note health and the attempt (with where a resumed
   * stream picked up, for one that continues another's answer). Returns the latency.
   */
  succeed(resumedAfter?: ResumePoint): number {
    this.settled = true;
    const latency = this.elapsedMs();
    this.provider.breaker.onSuccess();
    this.provider.keys.recordSuccess(this.key);
    this.provider.recordOutcome(true, latency, undefined, { status: 200, kind: this.run.kind });
    this.run.note(
      this.summarize({
        provider: this.provider.name,
        upstream_model: this.upstreamModel,
        key: maskKey(this.key.value),
        status: 200,
        reason: 'ok',
        latency_ms: latency,
        code: 'ok',
        ...(resumedAfter ? { resumed_after: resumedAfter } : {}),
      }),
    );
    return latency;
  }

  /**
   * The try failed: cool what is at fault and note the attempt. `committed` means the client
   * already has part of this answer. Returns whether the same provider should be tried again
   * with another of its keys.
   */
  fail(err: UpstreamError, committed: boolean): boolean {
    this.settled = true;
    const { provider, key } = this;
    if (err.kind === 'aborted') {
      provider.breaker.release();
      key.breaker.release();
      // In the log too: the attempt was in flight, for this long, when the request ended.
      if (!committed) this.run.note(this.inFlightSummary(`aborted: ${err.message}`));
      return false;
    }
    const reason = shortReason(err);
    if (!committed) {
      this.run.noteError(
        err,
        this.summarize({
          provider: provider.name,
          upstream_model: this.upstreamModel,
          key: maskKey(key.value),
          status: err.status ?? null,
          reason,
          latency_ms: this.elapsedMs(),
          code: attemptCode(err),
        }),
      );
    }
    if (err.isKeyProblem) {
      // The key is at fault, not the provider: cool the key, keep the provider's other keys serving.
      // A Retry-After says exactly when the key may go again: that, not a growing guess.
      // A spent credit or free allocation rests the key until its documented reset, when the ledger knows it.
      if (provider.keys.restForCredit(key, err, reason)) {
        // Resting: its breaker is open until then.
      } else if (err.status === 429) key.breaker.onFailure({ immediate: true, retryAfterMs: err.retryAfterMs, cooldownMs: err.retryAfterMs, reason });
      else {
        key.breaker.onFailure({ immediate: true, cooldownMs: this.config.breaker.authCooldownMs, reason });
        provider.keys.recordAuthFailure(key);
      }
      provider.breaker.release();
      provider.recordOutcome(false, null, reason, { status: err.status, kind: this.run.kind });
      return !committed && this.run.hasUntriedKey(provider);
    }
    key.breaker.release();
    const clientSide = err.kind === 'http' && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 409;
    if (clientSide && !committed) {
      // A 400/404/422 says more about this request than about the provider's health.
      provider.breaker.release();
      return false;
    }
    provider.breaker.onFailure({ retryAfterMs: err.retryAfterMs, reason, kind: this.run.kind });
    provider.recordOutcome(false, null, reason, { status: err.status, kind: this.run.kind });
    return false;
  }

  /**
   * Ends a try that never got a verdict (the client left, or the gateway stopped waiting): frees
   * the probe slots it took and notes the attempt as aborted, with how long it had waited.
   */
  release(): void {
    if (this.settled) return;
    this.settled = true;
    this.provider.breaker.release();
    this.key.breaker.release();
    this.run.note(this.inFlightSummary('aborted: the request ended while this attempt waited for the upstream'));
  }

  private inFlightSummary(reason: string): AttemptSummary {
    return this.summarize({
      provider: this.provider.name,
      upstream_model: this.upstreamModel,
      key: maskKey(this.key.value),
      status: null,
      reason,
      latency_ms: this.elapsedMs(),
      code: 'aborted',
    });
  }
}

/** One request's way through the pool: its candidates, attempts, errors and the keys it tried. */
export class FailoverRun {
  readonly attempts: AttemptSummary[] = [];
  readonly errors: UpstreamError[] = [];
  private readonly triedKeys = new Set<PooledKey>();
  /**
   * Candidates already tried a second time after a passing failure (see retryDelay). Made on the
   * first retry: most requests have none, and an open stream holds its run to the end.
   */
  private retried: Set<Candidate> | undefined;
  private retries = 0;

  constructor(
    readonly model: CatalogModel,
    readonly candidates: Candidate[],
    private readonly http: UpstreamHttp,
    private readonly config: AppConfig,
    /** The route of the request's conversation (see AffinityService): its key is leased first. */
    private readonly pinned?: PinnedRoute,
  ) {}

  /** The kind of call this run makes, as breakers and live health record it. */
  get kind(): CallKind {
    const { category } = this.model;
    return category === 'image' ? 'image' : category === 'audio' ? 'speech' : 'chat';
  }

  note(attempt: AttemptSummary): void {
    this.attempts.push(attempt);
  }

  noteError(err: UpstreamError, attempt: AttemptSummary): void {
    this.errors.push(err);
    this.attempts.push(attempt);
  }

  hasUntriedKey(provider: ProviderState): boolean {
    return provider.keys.hasAvailable(this.triedKeys);
  }

  /**
   * After `lease` failed on candidate `i`: how long to wait before trying that same route once
   * more, or undefined to move on. A failure that may pass (a 5xx, a network error) is retried
   * after a short jittered backoff when no later route is ready (or always, with
   * RETRY_SAME_ROUTE); a 429 whose Retry-After is short (RETRY_AFTER_MAX_MS) is waited out when no
   * later route is ready. A timeout is never retried on the route that timed out. Each route is
   * retried at most once, and a request at most RETRY_BUDGET times. Frees the key for the retry;
   * the breaker still decides whether it may go.
   */
  retryDelay(i: number, lease: Lease, err: UpstreamError): number | undefined {
    const candidate = this.candidates[i]!;
    const { sameRoute, retryBudget } = this.config.failover;
    if (this.retried?.has(candidate) || this.retries >= retryBudget) return undefined;
    const delay = this.waitBeforeRetry(err);
    if (delay === undefined) return undefined;
    const another = this.candidates.slice(i + 1).some((c) => c.provider.breaker.isAvailable() && this.hasUntriedKey(c.provider));
    if (another && !(sameRoute && err.status !== 429)) return undefined;
    (this.retried ??= new Set()).add(candidate);
    this.retries++;
    this.triedKeys.delete(lease.key);
    return delay;
  }

  private waitBeforeRetry(err: UpstreamError): number | undefined {
    if (err.kind === 'network' || (err.kind === 'http' && err.status !== undefined && err.status >= 500)) {
      return RETRY_BACKOFF_MS + Math.floor(Math.random() * RETRY_BACKOFF_MS);
    }
    const { retryAfterMaxMs } = this.config.failover;
    if (err.kind === 'http' && err.status === 429 && err.retryAfterMs !== undefined && err.retryAfterMs <= retryAfterMaxMs) return err.retryAfterMs;
    return undefined;
  }

  /** Leases a key not yet tried in this request, and the provider's breaker; null when cooling down. */
  lease(candidate: Candidate): Lease | null {
    const { provider, upstreamModel } = candidate;
    const preferKey = this.pinned?.provider === provider.name ? this.pinned.keyId : undefined;
    const key = provider.keys.acquire(this.triedKeys, { preferId: preferKey });
    if (!key || !provider.breaker.tryAcquire()) {
      key?.breaker.release();
      this.note({
        provider: provider.name,
        upstream_model: upstreamModel,
        status: null,
        reason: 'skipped: cooling down',
        latency_ms: 0,
        code: 'skipped_cooling',
      });
      return null;
    }
    this.triedKeys.add(key);
    return new Lease(candidate, key, this, this.http, this.config);
  }

  /**
   * Tries candidates in order until `call` resolves, for one-shot calls (images, speech).
   * A rejection must be an UpstreamError; an 'aborted' one stops the run.
   */
  async execute<T>(call: (lease: Lease) => Promise<T>): Promise<{ value: T; lease: Lease }> {
    for (let i = 0; i < this.candidates.length;) {
      const lease = this.lease(this.candidates[i]!);
      if (!lease) {
        i++;
        continue;
      }
      try {
        const value = await call(lease);
        lease.succeed();
        return { value, lease };
      } catch (raw) {
        const err = raw instanceof UpstreamError ? raw : new UpstreamError('invalid', (raw as Error)?.message ?? String(raw));
        const again = lease.fail(err, false);
        if (err.kind === 'aborted') throw err;
        const delay = again ? 0 : this.retryDelay(i, lease, err);
        if (delay === undefined) i++;
        else if (delay > 0) await lastValueFrom(waitOut(delay));
      } finally {
        lease.release();
      }
    }
    throw this.allFailed();
  }

  /**
   * Whether `err` ends the request as the upstream's verdict on it (see UpstreamVerdict) rather
   * than failing over: always for a context too long, for a content policy unless the operator
   * set FAILOVER_ON_CONTENT_POLICY.
   */
  isFinal(err: UpstreamError): boolean {
    return err.verdict === 'context_length_exceeded' || (err.verdict === 'content_policy_violation' && !this.config.failover.onContentPolicy);
  }

  /** The 400 for a verdict: the provider's own words and OpenAI's code for it, each attempt listed. */
  verdict(err: UpstreamError): ApiError {
    const message = err.message.replace(/^HTTP \d+: /, '');
    return new ApiError(400, message, 'invalid_request_error', err.verdict ?? 'upstream_bad_request', 'messages', this.attempts);
  }

  /** The error for a request every candidate failed: 400, 429, 504 or 502, each attempt listed. */
  allFailed(): ApiError {
    const { attempts, errors } = this;
    const model = this.model.id;
    const tried = attempts.filter((a) => !a.reason.startsWith('skipped'));
    const list = attempts.map((a) => `${a.provider} (${a.upstream_model}): ${a.status ?? '-'} ${a.reason}`).join('; ');
    const every = (pred: (a: AttemptSummary) => boolean) => tried.length > 0 && tried.every(pred);
    if (every((a) => a.status === 400)) {
      // The upstream's own words, in full: they usually say exactly what to fix.
      const message = errors.find((e) => e.status === 400)?.message.replace(/^HTTP 400: /, '') ?? 'bad request';
      return new ApiError(400, message, 'invalid_request_error', 'upstream_bad_request', null, attempts);
    }
    const providers = this.candidates.map((c) => c.provider);
    if (every((a) => a.status === 429)) {
      const retryAfter = errors.flatMap((e) => (e.retryAfterMs === undefined ? [] : [e.retryAfterMs]));
      const headers = retryAdvice(providers, retryAfter.length ? Math.min(...retryAfter) : undefined);
      return new ApiError(
        429,
        `Every provider for \`${model}\` is rate-limited: ${list}`,
        'rate_limit_exceeded',
        'rate_limit_exceeded',
        null,
        attempts,
        headers,
      );
    }
    if (every((a) => a.reason.startsWith('timeout'))) {
      return new ApiError(
        504,
        `Every provider for \`${model}\` timed out: ${list}`,
        'timeout_error',
        'upstream_timeout',
        null,
        attempts,
        retryAdvice(providers),
      );
    }
    return new ApiError(
      502,
      `Every provider for \`${model}\` failed: ${list}`,
      'upstream_error',
      'all_providers_failed',
      null,
      attempts,
      retryAdvice(providers),
    );
  }
}

/**
 * The provider-agnostic rules every endpoint shares: which provider a client may force, which
 * candidates there are, and how each try is leased and judged.
 */
@Injectable()
export class FailoverService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly router: RouterService,
    private readonly http: UpstreamHttp,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Starts a run for `model`, optionally forced to one provider. Throws a 400 for an unknown
   * or unsuitable forced provider and a 503 when no route can take the request now. A `pinned`
   * route (the conversation's, see AffinityService) goes first when it is a candidate.
   */
  begin(model: CatalogModel, forcedName: string | undefined, filter?: RouteFilter, pinned?: PinnedRoute): FailoverRun {
    const forced = forcedName === undefined ? undefined : this.forced(model, forcedName);
    const plan = this.router.plan(model, forced, filter);
    if (plan.candidates.length === 0) {
      const why = plan.skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
      // Say when the first of them will be ready again, and whether an SDK should wait for it.
      const skipped = plan.skipped.flatMap((s) => this.registry.find(s.provider) ?? []);
      const headers = retryAdvice(skipped);
      throw new ApiError(
        503,
        `No provider is available for \`${model.id}\` right now (${why}).`,
        'server_error',
        'no_available_provider',
        null,
        undefined,
        headers,
      );
    }
    return new FailoverRun(model, pinnedFirst(plan.candidates, pinned), this.http, this.config, pinned);
  }

  private forced(model: CatalogModel, name: string): ProviderState {
    const forced = this.registry.find(name);
    if (!forced) throw ApiError.badRequest(this.registry.unknownMessage(name), 'provider', 'unknown_provider');
    if (!model.routes.some((r) => this.registry.find(r.provider) === forced)) {
      throw ApiError.badRequest(`Provider \`${forced.name}\` does not serve the model \`${model.id}\`.`, 'provider', 'provider_model_mismatch');
    }
    return forced;
  }
}
