import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  Observable,
  TimeoutError,
  catchError,
  defer,
  finalize,
  mergeMap,
  tap,
  throwError,
  timeout,
  type OperatorFunction,
  type Subscriber,
  type Subscription,
  type Unsubscribable,
} from 'rxjs';
import type { AttemptSummary, CatalogModel, CatalogRoute, ChatCompletionRequest, ContentPart } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { estimateTokens, type ModelFilter } from '../models/auto-models.ts';
import { AutoModelsService, type AutoChoice } from '../models/auto-models.service.ts';
import { CatalogService } from '../models/catalog.service.ts';
import { FEATURES, cannotHonour, requiredFeatures, routeHonours } from '../models/chat-features.ts';
import { largerContext } from '../models/context-length.ts';
import { CANNOT_TAKE_IMAGES, modelTakesImages, routeTakesImages } from '../models/vision.ts';
import { CAPABILITY_OF } from '../models/model-availability.ts';
import { UpstreamError, shortReason, type ChatEvent, type ChatFeature, type ChatRequest, type ClientFlow } from '../providers/provider-adapter.ts';
import { ProviderRegistry, type ProviderState } from '../providers/provider-registry.service.ts';
import { FailoverService, waitOut, type FailoverRun, type RouteFilter } from '../routing/failover.service.ts';
import type { PinnedRoute } from '../routing/affinity.ts';
import type { Candidate } from '../routing/router.service.ts';
import { Delivered, PrefillRefusals, resumePoint, resumeRequest, wholeAnswerUsage, type Resume } from './stream-resume.ts';

/** Emitted once, just before the first content, when a provider has been committed to. */
export interface ChatStart {
  type: 'start';
  provider: string;
  upstreamModel: string;
  /** The pooled key that answered (its id, never the key), for session affinity. */
  keyId: string;
  ttftMs: number;
}
export type ChatItem = ChatStart | ChatEvent;

export interface ChatRun {
  model: CatalogModel;
  /** The alias pattern the requested id matched, null for a catalog id. */
  alias: string | null;
  request: ChatRequest;
  /** Cold: subscribing starts the first attempt; unsubscribing aborts the upstream call. */
  items: Observable<ChatItem>;
  /** Filled in as attempts finish. */
  attempts: AttemptSummary[];
  /**
   * The route whose break after content ended the stream: the continuation's when a resumed
   * stream broke again, not the route that opened it. Undefined until a break.
   */
  readonly brokenOn?: { provider: string; upstreamModel: string };
}

/** Client fields the gateway consumes itself; everything else passes to the upstream. */
const GATEWAY_FIELDS = new Set(['model', 'messages', 'stream', 'stream_options', 'provider', 'n']);

/** Events without content held before the first content: finish and usage, normally one or two. */
const MAX_HELD = 64;

const isContent = (e: ChatEvent) => e.type === 'delta' && (!!e.content || !!e.reasoning || !!e.toolCalls?.length);

function hasImages(body: ChatCompletionRequest): boolean {
  return body.messages.some((m) => Array.isArray(m.content) && m.content.some((p: ContentPart) => p?.type === 'image_url'));
}

/** How long one stream attempt may take to its first content, and in all. */
interface StreamDeadlines {
  firstTokenMs: number;
  streamMs: number;
}

/**
 * What else an attempt's stream does per event, folded into holdUntilContent rather than piped as
 * operators of their own: each pipe() stage is a subscriber and a handful of closures that every
 * open stream holds for its whole life.
 */
interface StreamSteps {
  /** Sees every event as the upstream sent it (the key's usage). */
  seen(event: ChatEvent): void;
  /** A continuation: its usage is made the whole answer's (see wholeAnswerUsage), past this many tokens already sent. */
  resumedAfterTokens?: number;
  /** Sees every event let through to the client (a resumable stream's copy of its text). */
  sent?: (event: ChatEvent) => void;
}

/**
 * Lets events through only once content has arrived, prefixed by a `start` item; an upstream
 * that ends without content has failed. Until then nothing has reached the client, so the
 * attempt can still fail over. Keep-alive comments, empty chunks and role-only deltas reset the
 * idle timer but are not content: without content by `firstTokenMs` the attempt fails (and fails
 * over), and past `streamMs` any attempt ends (a mid-stream error once the client has content).
 */
function holdUntilContent(start: () => ChatStart | null, deadlines: StreamDeadlines, steps: StreamSteps): OperatorFunction<ChatEvent, ChatItem> {
  return (source) => new Observable<ChatItem>((sub) => new HeldStream(sub, start, deadlines, steps).subscribeTo(source));
}

/**
 * A whole (non-stream) answer: its events held until the upstream completes, then a `start` item
 * and the events, or an error when none of them is content (the attempt fails over). The
 * responder accumulates the answer; here it is enough to know there is one.
 *
 * One operator for what toArray() and mergeMap() did: measured at concurrency 1 (two builds,
 * alternating runs), about 0.65 MB of each young-generation collection survived with them (parts
 * of requests already answered), 0.48 MB with this; the CPU per request did not change measurably
 * (bench/README.md, "GC").
 */
export function wholeAnswer(start: () => ChatStart | null): OperatorFunction<ChatEvent, ChatItem> {
  return (source) =>
    new Observable<ChatItem>((sub) => {
      const all: ChatEvent[] = [];
      return source.subscribe({
        next: (event) => void all.push(event),
        error: (err: unknown) => sub.error(err),
        complete: () => {
          let first: ChatStart;
          try {
            if (!all.some(isContent)) throw new UpstreamError('invalid', 'the upstream answered without any content');
            first = start()!;
          } catch (err) {
            // Thrown in an observer, RxJS would report it to the process, not to this attempt.
            sub.error(err);
            return;
          }
          sub.next(first);
          for (const event of all) sub.next(event);
          sub.complete();
        },
      });
    });
}

/**
 * One attempt's stream in holdUntilContent: the source's observer (next, error, complete), its
 * state and its teardown (unsubscribe) as one object, not a closure each (and their scope) for
 * every open stream.
 */
class HeldStream {
  private held: ChatEvent[] | null = [];
  private firstToken: NodeJS.Timeout | undefined;
  private readonly whole: NodeJS.Timeout;
  private subscription: Subscription | undefined;

  constructor(
    private readonly sub: Subscriber<ChatItem>,
    private readonly start: () => ChatStart | null,
    { firstTokenMs, streamMs }: StreamDeadlines,
    private readonly steps: StreamSteps,
  ) {
    // The messages are made when a timer fires, not held by every open stream.
    this.firstToken = setTimeout(
      () => sub.error(new UpstreamError('timeout', `no content within ${firstTokenMs} ms (UPSTREAM_FIRST_TOKEN_TIMEOUT_MS)`)),
      firstTokenMs,
    );
    this.whole = setTimeout(
      () => sub.error(new UpstreamError('timeout', `the stream went on longer than ${streamMs} ms (UPSTREAM_STREAM_TIMEOUT_MS)`)),
      streamMs,
    );
  }

  subscribeTo(source: Observable<ChatEvent>): Unsubscribable {
    this.subscription = source.subscribe(this);
    return this;
  }

  next(event: ChatEvent): void {
    // As in a tap(): a step that throws fails this attempt, it does not reach the process.
    try {
      this.take(event);
    } catch (err) {
      this.sub.error(err);
    }
  }

  error(err: unknown): void {
    this.sub.error(err);
  }

  complete(): void {
    if (this.held !== null) this.sub.error(new UpstreamError('invalid', 'the upstream ended without any content'));
    else this.sub.complete();
  }

  unsubscribe(): void {
    clearTimeout(this.firstToken);
    clearTimeout(this.whole);
    this.subscription?.unsubscribe();
  }

  private take(raw: ChatEvent): void {
    const { seen, resumedAfterTokens } = this.steps;
    seen(raw);
    const resumed = resumedAfterTokens !== undefined;
    const event = resumed ? wholeAnswerUsage(raw, resumedAfterTokens) : raw;
    const held = this.held;
    if (held === null) return this.pass(event);
    // A continuation may have nothing left to add but its finish: the answer was all but done.
    if (!isContent(event) && !(resumed && event.type === 'finish')) {
      // An empty delta carries nothing to hold; anything else held is bounded.
      if (event.type === 'delta') return;
      if (held.length >= MAX_HELD) return this.sub.error(new UpstreamError('invalid', `the upstream sent ${MAX_HELD} events without any content`));
      held.push(event);
      return;
    }
    held.push(event);
    clearTimeout(this.firstToken);
    // Its timer (and the callback's scope) is not held for the rest of the stream.
    this.firstToken = undefined;
    const opened = this.start();
    if (opened) this.sub.next(opened);
    this.held = null;
    for (const e of held) this.pass(e);
  }

  private pass(event: ChatEvent): void {
    this.steps.sent?.(event);
    this.sub.next(event);
  }
}

const logger = new Logger('ChatService');

/** Orchestrates one chat request over the pool: resolve, plan, try candidates until one answers. */
@Injectable()
export class ChatService implements OnApplicationBootstrap {
  /** Routes that refused a prefill lately: left out of resumptions (see stream-resume.ts). */
  private readonly refusals = new PrefillRefusals();

  constructor(
    private readonly catalog: CatalogService,
    private readonly failover: FailoverService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
    private readonly autoModels: AutoModelsService,
  ) {}

  /**
   * A resumption counts the text already sent: the tokenizer loads at start (about a second), not
   * in the middle of the first broken answer.
   */
  onApplicationBootstrap(): void {
    if (this.config.streamResume.enabled) resumePoint('warm up', 'start');
  }

  /** The model's routes whose provider is known, narrowed to the forced provider's when there is one. */
  private eligibleRoutes(model: CatalogModel, forcedName: string | undefined) {
    const forced = forcedName === undefined ? undefined : this.registry.find(forcedName);
    const known = model.routes.flatMap((route) => {
      const provider = this.registry.find(route.provider);
      return provider ? [{ route, provider }] : [];
    });
    return { forced, known, eligible: forcedName === undefined ? known : known.filter((r) => r.provider === forced) };
  }

  /**
   * For a request that needs features some mappings drop (tools, JSON mode, stop…): a filter that
   * skips routes which would answer without them, after a 400 naming the first feature that no
   * route that could serve the request (the forced provider's, else any) carries together with
   * the ones before it. Never a silent downgrade, and never a 401/404 for it.
   */
  private featureFilter(model: CatalogModel, forcedName: string | undefined, features: ChatFeature[]): RouteFilter {
    const { forced, known, eligible } = this.eligibleRoutes(model, forcedName);
    const carries = (r: { route: CatalogRoute; provider: ProviderState }, f: ChatFeature) => routeHonours(r.provider.adapter, r.route.upstream_model, f);
    // An unknown or mismatched forced provider is FailoverService's 400 to give.
    let pool = eligible;
    for (const feature of features) {
      if (pool.length === 0) break;
      const next = pool.filter((r) => carries(r, feature));
      if (next.length === 0) {
        const info = FEATURES[feature];
        const othersCan = forced && known.some((r) => r.provider !== forced && features.every((f) => carries(r, f)));
        const message = othersCan
          ? `Provider \`${forced.name}\` cannot honour ${info.words} for the model \`${model.id}\`; drop the \`provider\` field to use one that can.`
          : `No provider of the model \`${model.id}\` can honour ${info.words}${features.length > 1 ? ' together with the rest of this request' : ''}; remove \`${info.param}\` or use another model.`;
        throw ApiError.badRequest(message, info.param, info.code);
      }
      pool = next;
    }
    return (route, provider) => {
      const missing = features.find((f) => !routeHonours(provider.adapter, route.upstream_model, f));
      return missing === undefined ? null : cannotHonour(missing);
    };
  }

  /**
   * For a request with image parts: a filter that skips routes which cannot take them, after
   * a 400 when no route that could serve the request (the forced provider's, else any known
   * provider's) ever can, since waiting or retrying would not help.
   */
  private visionFilter(model: CatalogModel, forcedName: string | undefined): RouteFilter {
    const { forced, known, eligible } = this.eligibleRoutes(model, forcedName);
    const takes = (r: { route: CatalogRoute; provider: ProviderState }) => routeTakesImages(model, r.route, r.provider.adapter);
    // An unknown or mismatched forced provider is FailoverService's 400 to give.
    if (eligible.length > 0 && !eligible.some(takes)) {
      const message =
        forced && known.some(takes)
          ? `Provider \`${forced.name}\` cannot take image input for the model \`${model.id}\`; drop the \`provider\` field to use one that can.`
          : modelTakesImages(model)
            ? `None of the providers of \`${model.id}\` can take image input; remove the image_url parts or use another vision model.`
            : `The model \`${model.id}\` cannot take image input; remove the image_url parts or use a vision model.`;
      throw ApiError.badRequest(message, 'messages', 'image_input_not_supported');
    }
    return (route, provider) => (routeTakesImages(model, route, provider.adapter) ? null : CANNOT_TAKE_IMAGES);
  }

  /** Every filter the request calls for, as one (undefined when it needs nothing special). */
  private routeFilter(model: CatalogModel, forcedName: string | undefined, request: ChatRequest): RouteFilter | undefined {
    const features = requiredFeatures(request);
    const filters: RouteFilter[] = [];
    if (request.hasImages) filters.push(this.visionFilter(model, forcedName));
    if (features.length > 0) filters.push(this.featureFilter(model, forcedName, features));
    if (filters.length <= 1) return filters[0];
    return (route, provider) => {
      for (const filter of filters) {
        const reason = filter(route, provider);
        if (reason !== null) return reason;
      }
      return null;
    };
  }

  /**
   * After a stream broke on `candidate` with content already sent: continues it on the first other
   * route that takes prefill (STREAM_RESUME), at most STREAM_RESUME_MAX times a stream, or ends it
   * with the break. Streams with tool calls or tools offered are not resumed: a continuation could
   * call a tool halfway through a sentence.
   */
  private resumeAfter(
    err: UpstreamError,
    candidate: Candidate,
    request: ChatRequest,
    delivered: Delivered,
    last: Resume | undefined,
    tryFrom: TryFrom,
  ): Observable<ChatItem> {
    const { enabled, maxResumes } = this.config.streamResume;
    const count = (last?.count ?? 0) + 1;
    if (!enabled || !request.stream || count > maxResumes || !delivered.resumable || requiredFeatures(request).includes('tools')) {
      return throwError(() => err);
    }
    const point = resumePoint(delivered.text, shortReason(err));
    const broken = { provider: candidate.provider.name, upstreamModel: candidate.upstreamModel };
    logger.log(`Resuming a stream that ${broken.provider} broke after ${point.chars} characters (${point.reason.slice(0, 200)})`);
    return tryFrom(0, { request: resumeRequest(request, delivered.text), point, broken, cause: err, count });
  }

  /**
   * For a request `run`'s model was too small for: a run of the catalog model that should take it
   * (see largerContext) and can serve it now, its attempts following this run's; undefined when
   * there is none, or the model's context length is not known.
   */
  private largerRun(run: FailoverRun, forcedName: string | undefined, request: ChatRequest, allowed: ModelFilter | undefined): FailoverRun | undefined {
    // Only to a model the client's key may use: a key allowed one model is never served by another.
    for (const model of largerContext(run.model, this.catalog.all()).filter((m) => !allowed || allowed(m))) {
      try {
        const next = this.failover.begin(model, forcedName, this.routeFilter(model, forcedName, request));
        next.attempts.push(...run.attempts);
        logger.log(`A request too long for ${run.model.id} goes to ${model.id} (context ${model.context_length} tokens)`);
        return next;
      } catch {
        // This one cannot take the request now (no route, a forced provider it lacks, a feature): the next.
      }
    }
    return undefined;
  }

  /** For a virtual id (`auto`…), the models to try for this request, best first; undefined for any other id. */
  private chooseAuto(body: ChatCompletionRequest, params: Record<string, unknown>, allowed: ModelFilter | undefined): AutoChoice | undefined {
    if (!this.autoModels.find(body.model)) return undefined;
    const needs = requiredFeatures({ params, messages: body.messages });
    const tokens = estimateTokens([body.messages, body.tools], body.max_completion_tokens ?? body.max_tokens);
    return this.autoModels.choose(body.model, { features: needs, images: hasImages(body), tokens, provider: body.provider, allowed });
  }

  /**
   * The run of the next model in `fallbacks` (taken from the front) that can begin now, its
   * attempts following `after`'s; undefined when none is left. With no run yet, the first
   * model's refusal (a 503, say) is the request's when no model can begin.
   */
  private nextAutoRun(
    fallbacks: CatalogModel[],
    after: FailoverRun | undefined,
    forcedName: string | undefined,
    request: ChatRequest,
  ): FailoverRun | undefined {
    let first: unknown;
    while (fallbacks.length > 0) {
      const model = fallbacks.shift()!;
      try {
        const next = this.failover.begin(model, forcedName, this.routeFilter(model, forcedName, request));
        if (after) {
          next.attempts.push(...after.attempts);
          logger.log(`Every route of ${after.model.id} failed; the request for an auto model goes on with ${model.id}`);
        }
        return next;
      } catch (err) {
        first ??= err;
      }
    }
    if (!after) throw first;
    return undefined;
  }

  /** Whether `candidate` may continue `resume`: another route, declared to take prefill, not refusing it lately. */
  private continues(candidate: Candidate, resume: Resume): boolean {
    const name = candidate.provider.name;
    if (name === resume.broken.provider && candidate.upstreamModel === resume.broken.upstreamModel) return false;
    if (!this.config.streamResume.prefillProviders.some((p) => p.toLowerCase() === name.toLowerCase())) return false;
    return !this.refusals.refuses(name, candidate.upstreamModel);
  }

  /**
   * Validates what the router needs and builds the run; throws ApiError for 4xx cases. A stream's
   * `flow` is its client's backpressure, passed to the upstream reader; `pinned`, the route of its
   * conversation (session affinity), goes first when it can serve. `allowed`, the client key's
   * allowed models, bounds the models the gateway may choose itself (`auto`, a larger context).
   */
  start(body: ChatCompletionRequest, signal: AbortSignal, flow?: ClientFlow, pinned?: PinnedRoute, allowed?: ModelFilter): ChatRun {
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (!GATEWAY_FIELDS.has(k) && v !== undefined && v !== null) params[k] = v;
    const choice = this.chooseAuto(body, params, allowed);
    const { model, alias } = choice ? { model: choice.models[0]!, alias: choice.auto.id } : this.catalog.requireResolved(body.model);
    if (CAPABILITY_OF[model.category] !== 'chat') {
      throw ApiError.badRequest(
        `The model \`${model.id}\` is a ${model.category} model and cannot be used for chat completions.`,
        'model',
        'model_not_supported',
      );
    }
    const request: ChatRequest = { model: model.id, messages: body.messages, stream: body.stream === true, params, hasImages: hasImages(body) };
    // The models an `auto` request may still move to when every route of the one in use failed first.
    const fallbacks = choice ? [...choice.models] : [];
    // The run in use: a request too long for its model moves to a larger-context one (see largerRun).
    // An auto request picks its model per request: a conversation's remembered route belongs to a model it may not pick.
    const live = new LiveRun(
      choice
        ? this.nextAutoRun(fallbacks, undefined, body.provider, request)!
        : this.failover.begin(model, body.provider, this.routeFilter(model, body.provider, request), pinned),
      choice ? undefined : model,
      alias,
      request,
    );
    let rerouted = 0;

    // Only a stream that may be resumed keeps a copy of its text (up to MAX_RESUME_CHARS each).
    const delivered = new Delivered();
    const keepText = this.config.streamResume.enabled;
    const tryFrom = (i: number, resume?: Resume): Observable<ChatItem> =>
      defer(() => {
        const run = live.active;
        if (i >= run.candidates.length && !resume && !refusedEverywhere(run)) {
          // `auto`: every route of this model failed before the first byte; the next model may answer.
          const next = this.nextAutoRun(fallbacks, run, body.provider, request);
          if (next) {
            live.active = next;
            return tryFrom(0);
          }
        }
        // A resumption no route could take ends as the break it was meant to mend.
        if (i >= run.candidates.length) return throwError(() => (resume ? resume.cause : run.allFailed()));
        const candidate = run.candidates[i]!;
        if (resume && !this.continues(candidate, resume)) return tryFrom(i + 1, resume);
        const lease = run.lease(candidate);
        if (!lease) return tryFrom(i + 1, resume);
        let committed = false;
        const start = (): ChatStart | null => {
          committed = true;
          const ttftMs = lease.succeed(resume?.point);
          // A resumed stream is already open: its client only sees more of the same answer.
          if (resume) return null;
          return { type: 'start', provider: lease.provider.name, upstreamModel: lease.upstreamModel, keyId: lease.key.id, ttftMs };
        };
        const events = lease.provider.adapter.chat(resume?.request ?? request, lease.context(signal, flow));
        const noteUsage = (e: ChatEvent) => {
          if (e.type === 'usage') lease.noteUsage(e.usage);
        };
        const answered: Observable<ChatItem> = request.stream
          ? events.pipe(
              holdUntilContent(start, this.config.timeouts, {
                seen: noteUsage,
                resumedAfterTokens: resume?.point.tokens,
                sent: keepText ? (e) => delivered.add(e) : undefined,
              }),
            )
          : events.pipe(tap(noteUsage), timeout({ first: this.config.timeouts.totalMs }), wholeAnswer(start));
        return answered.pipe(
          catchError((raw: unknown) => {
            const err = toUpstreamError(raw, this.config.timeouts.totalMs);
            const sameProviderAgain = lease.fail(err, committed);
            if (err.kind === 'aborted') return throwError(() => err);
            // After the first content the stream is the client's: continue it elsewhere, or report the break.
            if (committed) {
              live.brokenOn = { provider: candidate.provider.name, upstreamModel: candidate.upstreamModel };
              return this.resumeAfter(err, candidate, request, delivered, resume, tryFrom);
            }
            if (resume) {
              // A route that will not continue an answer is left out of resumptions for a while; whatever
              // the failure, the next route that takes prefill may still mend the break.
              if (err.kind === 'http' && err.status === 400) this.refusals.note(candidate.provider.name, candidate.upstreamModel);
              return tryFrom(i + 1, resume);
            }
            // The upstream judged the request itself (too long, refused by policy): its answer stands,
            // unless the catalog has a model with room for a request that was too long.
            if (run.isFinal(err)) {
              const larger =
                err.verdict === 'context_length_exceeded' && rerouted < MAX_REROUTES ? this.largerRun(run, body.provider, request, allowed) : undefined;
              if (!larger) return throwError(() => run.verdict(err));
              live.active = larger;
              rerouted++;
              return tryFrom(0);
            }
            // A key problem tries the same provider's next untried key before moving on; a
            // passing failure may try the same route once more, after a wait (see retryDelay).
            if (sameProviderAgain) return tryFrom(i);
            const delay = run.retryDelay(i, lease, err);
            if (delay === undefined) return tryFrom(i + 1);
            return delay > 0 ? waitOut(delay).pipe(mergeMap(() => tryFrom(i))) : tryFrom(i);
          }),
          finalize(() => lease.release()),
        );
      });
    live.items = tryFrom(0);
    return live;
  }
}

/**
 * The ChatRun a request's responder holds to its end, with the run in use, which moves (to a
 * larger-context model, to an `auto` request's next model). A class, not an object literal with
 * getters: that one is a dictionary of accessor pairs and a closure per getter, per open stream.
 */
class LiveRun implements ChatRun {
  items!: Observable<ChatItem>;
  brokenOn: ChatRun['brokenOn'];

  constructor(
    /** The run in use. */
    public active: FailoverRun,
    /** The catalog model asked for; undefined for `auto`, whose model is the run's. */
    private readonly asked: CatalogModel | undefined,
    readonly alias: string | null,
    readonly request: ChatRequest,
  ) {}

  /** The model in use: for `auto`, the one that served (or failed last); `alias` keeps the id asked for. */
  get model(): CatalogModel {
    return this.asked ?? this.active.model;
  }

  /** The run in use when asked: after a move to a larger model, its attempts follow the first model's. */
  get attempts(): AttemptSummary[] {
    return this.active.attempts;
  }
}

/**
 * Whether every route tried answered 400: the request itself is at fault (as allFailed() says),
 * so an `auto` request ends with the upstream's words rather than repeating it on every model.
 */
function refusedEverywhere(run: FailoverRun): boolean {
  const tried = run.attempts.filter((a) => !a.reason.startsWith('skipped'));
  return tried.length > 0 && tried.every((a) => a.status === 400);
}

/** Moves to a larger-context model per request, at most: each move is to a strictly larger context anyway. */
const MAX_REROUTES = 2;

type TryFrom = (i: number, resume?: Resume) => Observable<ChatItem>;

function toUpstreamError(err: unknown, totalMs: number): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof TimeoutError) return new UpstreamError('timeout', `no complete answer within ${totalMs} ms`);
  return new UpstreamError('invalid', (err as Error)?.message ?? String(err));
}
