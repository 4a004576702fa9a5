import { Inject, Injectable } from '@nestjs/common';
import { Observable, TimeoutError, catchError, defer, finalize, mergeMap, throwError, timeout, toArray, type OperatorFunction } from 'rxjs';
import type { AttemptSummary, CatalogModel, ChatCompletionRequest, ContentPart } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { maskKey, type PooledKey } from '../providers/key-pool.ts';
import { UpstreamError, type ChatEvent, type ChatRequest } from '../providers/provider-adapter.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { UpstreamHttp } from '../providers/upstream-http.ts';
import { RouterService, type Candidate } from '../routing/router.service.ts';
import { ChatAccumulator } from './chat-accumulator.ts';

/** Emitted once, just before the first content, when a provider has been committed to. */
export interface ChatStart {
  type: 'start';
  provider: string;
  upstreamModel: string;
  ttftMs: number;
}
export type ChatItem = ChatStart | ChatEvent;

export interface ChatRun {
  model: CatalogModel;
  request: ChatRequest;
  /** Cold: subscribing starts the first attempt; unsubscribing aborts the upstream call. */
  items: Observable<ChatItem>;
  /** Filled in as attempts finish. */
  attempts: AttemptSummary[];
}

/** Client fields the gateway consumes itself; everything else passes to the upstream. */
const GATEWAY_FIELDS = new Set(['model', 'messages', 'stream', 'stream_options', 'provider', 'n']);

const isContent = (e: ChatEvent) => e.type === 'delta' && (!!e.content || !!e.reasoning || !!e.toolCalls?.length);

function hasImages(body: ChatCompletionRequest): boolean {
  return body.messages.some((m) => Array.isArray(m.content) && m.content.some((p: ContentPart) => p?.type === 'image_url'));
}

/**
 * Lets events through only once content has arrived, prefixed by a `start` item; an upstream
 * that ends without content has failed. Until then nothing has reached the client, so the
 * attempt can still fail over.
 */
function holdUntilContent(start: () => ChatStart): OperatorFunction<ChatEvent, ChatItem> {
  return (source) =>
    new Observable<ChatItem>((sub) => {
      let held: ChatEvent[] | null = [];
      return source.subscribe({
        next(event) {
          if (held === null) return sub.next(event);
          held.push(event);
          if (!isContent(event)) return;
          sub.next(start());
          for (const e of held) sub.next(e);
          held = null;
        },
        error: (err) => sub.error(err),
        complete() {
          if (held !== null) sub.error(new UpstreamError('invalid', 'the upstream ended without any content'));
          else sub.complete();
        },
      });
    });
}

/** Orchestrates one chat request over the pool: resolve, plan, try candidates until one answers. */
@Injectable()
export class ChatService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly registry: ProviderRegistry,
    private readonly router: RouterService,
    private readonly http: UpstreamHttp,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Validates what the router needs and builds the run; throws ApiError for 4xx cases. */
  start(body: ChatCompletionRequest, signal: AbortSignal): ChatRun {
    const model = this.catalog.resolve(body.model);
    if (!model) {
      throw new ApiError(
        404,
        `The model \`${body.model}\` does not exist or you do not have access to it.`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    }
    if (model.category === 'image' || model.category === 'audio') {
      throw ApiError.badRequest(
        `The model \`${model.id}\` is a ${model.category} model and cannot be used for chat completions.`,
        'model',
        'model_not_supported',
      );
    }
    let forced: ProviderState | undefined;
    if (body.provider !== undefined) {
      forced = this.registry.find(body.provider);
      if (!forced) {
        const names = this.registry
          .all()
          .map((p) => p.name)
          .join(', ');
        throw ApiError.badRequest(`Unknown provider \`${body.provider}\`. Known providers: ${names}.`, 'provider', 'unknown_provider');
      }
      if (!model.routes.some((r) => this.registry.find(r.provider) === forced)) {
        throw ApiError.badRequest(`Provider \`${forced.name}\` does not serve the model \`${model.id}\`.`, 'provider', 'provider_model_mismatch');
      }
    }

    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!GATEWAY_FIELDS.has(k) && v !== undefined && v !== null) params[k] = v;
    const request: ChatRequest = { model: model.id, messages: body.messages, stream: body.stream === true, params, hasImages: hasImages(body) };

    const plan = this.router.plan(model, forced);
    if (plan.candidates.length === 0) {
      const why = plan.skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
      // When everything is only cooling down, say when to come back.
      const times = plan.skipped.map((s) => this.registry.find(s.provider)?.availableAt() ?? null);
      const soonest = times.length && times.every((t) => t !== null) ? Math.min(...(times as number[])) : null;
      const headers: Record<string, string> = soonest === null ? {} : { 'retry-after': String(Math.max(1, Math.ceil((soonest - Date.now()) / 1000))) };
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

    const attempts: AttemptSummary[] = [];
    const errors: UpstreamError[] = [];
    // Keys already tried in this request: a key problem retries the provider with another key only.
    const triedKeys = new Set<PooledKey>();
    const tryFrom = (i: number): Observable<ChatItem> =>
      defer(() => {
        if (i >= plan.candidates.length) return throwError(() => this.allFailed(model.id, attempts, errors));
        return this.attempt(plan.candidates[i]!, request, signal, attempts, errors, triedKeys).pipe(
          // A key problem tries the same provider's next healthy key before moving on.
          catchError((err: unknown) => (err instanceof AttemptFailed ? tryFrom(err.sameProviderAgain ? i : i + 1) : throwError(() => err))),
        );
      });
    return { model, request, items: tryFrom(0), attempts };
  }

  /**
   * One upstream try. Errors before commit become `AttemptFailed` (the caller moves on);
   * errors after commit are rethrown as they are (the stream is already the client's).
   */
  private attempt(
    candidate: Candidate,
    request: ChatRequest,
    signal: AbortSignal,
    attempts: AttemptSummary[],
    errors: UpstreamError[],
    triedKeys: Set<PooledKey>,
  ): Observable<ChatItem> {
    return defer(() => {
      const { provider, upstreamModel } = candidate;
      const key = provider.keys.acquire(triedKeys);
      if (!key || !provider.breaker.tryAcquire()) {
        key?.breaker.release();
        attempts.push({ provider: provider.name, upstream_model: upstreamModel, status: null, reason: 'skipped: cooling down', latency_ms: 0 });
        return throwError(() => new AttemptFailed(false));
      }
      triedKeys.add(key);
      const t0 = performance.now();
      let committed = false;
      let settled = false;
      const elapsed = () => Math.round(performance.now() - t0);
      const start = (): ChatStart => {
        committed = settled = true;
        const ttftMs = elapsed();
        provider.breaker.onSuccess();
        provider.keys.recordSuccess(key);
        provider.recordOutcome(true, ttftMs);
        attempts.push({ provider: provider.name, upstream_model: upstreamModel, key: maskKey(key.value), status: 200, reason: 'ok', latency_ms: ttftMs });
        return { type: 'start', provider: provider.name, upstreamModel, ttftMs };
      };

      const events = provider.adapter.chat(request, {
        upstreamModel,
        baseUrl: provider.baseUrl,
        apiKey: key.value,
        extra: provider.extra,
        signal,
        http: this.http,
        proxy: provider.proxy,
      });
      const answered: Observable<ChatItem> = request.stream
        ? events.pipe(holdUntilContent(start))
        : events.pipe(
            timeout({ first: this.config.timeouts.totalMs }),
            toArray(),
            mergeMap((all) => {
              const acc = new ChatAccumulator();
              all.forEach((e) => acc.add(e));
              if (!acc.hasAnswer) return throwError(() => new UpstreamError('invalid', 'the upstream answered without any content'));
              return [start(), ...all] as ChatItem[];
            }),
          );

      return answered.pipe(
        catchError((raw: unknown) => {
          const err = toUpstreamError(raw, this.config.timeouts.totalMs);
          settled = true;
          this.recordFailure(provider, key, err, committed);
          if (committed) return throwError(() => err);
          if (err.kind !== 'aborted') {
            errors.push(err);
            attempts.push({
              provider: provider.name,
              upstream_model: upstreamModel,
              key: maskKey(key.value),
              status: err.status ?? null,
              reason: shortReason(err),
              latency_ms: elapsed(),
            });
          }
          return throwError(() => (err.kind === 'aborted' ? err : new AttemptFailed(err.isKeyProblem && provider.keys.hasAvailable(triedKeys))));
        }),
        finalize(() => {
          // The client left before a verdict: free the half-open probe slots we took.
          if (!settled) {
            provider.breaker.release();
            key.breaker.release();
          }
        }),
      );
    });
  }

  private recordFailure(provider: ProviderState, key: PooledKey, err: UpstreamError, committed: boolean): void {
    if (err.kind === 'aborted') {
      provider.breaker.release();
      key.breaker.release();
      return;
    }
    const reason = shortReason(err);
    if (err.isKeyProblem) {
      // The key is at fault, not the provider: cool the key, keep the provider's other keys serving.
      if (err.status === 429) key.breaker.onFailure({ immediate: true, retryAfterMs: err.retryAfterMs, reason });
      else {
        key.breaker.onFailure({ immediate: true, cooldownMs: this.config.breaker.authCooldownMs, reason });
        provider.keys.recordAuthFailure(key);
      }
      provider.breaker.release();
      provider.recordOutcome(false, null, reason);
      return;
    }
    key.breaker.release();
    const clientSide = err.kind === 'http' && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 409;
    if (clientSide && !committed) {
      // A 400/404/422 says more about this request than about the provider's health.
      provider.breaker.release();
      return;
    }
    provider.breaker.onFailure({ retryAfterMs: err.retryAfterMs, reason });
    provider.recordOutcome(false, null, reason);
  }

  private allFailed(model: string, attempts: AttemptSummary[], errors: UpstreamError[]): ApiError {
    const tried = attempts.filter((a) => !a.reason.startsWith('skipped'));
    const list = attempts.map((a) => `${a.provider} (${a.upstream_model}): ${a.status ?? '-'} ${a.reason}`).join('; ');
    const every = (pred: (a: AttemptSummary) => boolean) => tried.length > 0 && tried.every(pred);
    if (every((a) => a.status === 400)) {
      // The upstream's own words, in full: they usually say exactly what to fix.
      const message = errors.find((e) => e.status === 400)?.message.replace(/^HTTP 400: /, '') ?? 'bad request';
      return new ApiError(400, message, 'invalid_request_error', 'upstream_bad_request', null, attempts);
    }
    if (every((a) => a.status === 429)) {
      const retryAfter = errors.flatMap((e) => (e.retryAfterMs === undefined ? [] : [e.retryAfterMs]));
      const headers: Record<string, string> = retryAfter.length ? { 'retry-after': String(Math.max(1, Math.ceil(Math.min(...retryAfter) / 1000))) } : {};
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
      return new ApiError(504, `Every provider for \`${model}\` timed out: ${list}`, 'timeout_error', 'upstream_timeout', null, attempts);
    }
    return new ApiError(502, `Every provider for \`${model}\` failed: ${list}`, 'upstream_error', 'all_providers_failed', null, attempts);
  }
}

/** Marks "this candidate is done, try the next one". */
class AttemptFailed extends Error {
  constructor(readonly sameProviderAgain: boolean) {
    super('attempt failed');
  }
}

function toUpstreamError(err: unknown, totalMs: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof TimeoutError) return new UpstreamError('timeout', `no complete answer within ${totalMs} ms`);
  return new UpstreamError('invalid', (err as Error)?.message ?? String(err));
}

/** "timeout: …", "HTTP 500: …", "invalid: …", kept short for logs and error messages. */
function shortReason(err: UpstreamError): string {
  const text = err.kind === 'http' ? err.message : `${err.kind}: ${err.message}`;
  return text.length > 160 ? text.slice(0, 157) + '…' : text;
}
