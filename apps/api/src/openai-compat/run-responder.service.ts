import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { tap, type Subscription } from 'rxjs';
import type { ChatCompletionRequest, RequestLogEntry, Usage } from '#contracts';
import { AnswerRecorder, cacheControl, cacheKey, deterministic, type CachedAnswer } from '../cache/response-cache.ts';
import { ResponseCacheService } from '../cache/response-cache.service.ts';
import { ClientKeysService } from '../client-keys/client-keys.service.ts';
import { describe } from '../common/last-resort.ts';
import { requestIdOf } from '../common/request-id.middleware.ts';
import { sendJson } from '../common/send-json.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { AppLifecycle, shuttingDownError } from '../lifecycle/app-lifecycle.service.ts';
import { UpstreamError } from '../providers/provider-adapter.ts';
import { AffinityService } from '../routing/affinity.ts';
import type { AnswerProtocol, StreamEncoder, StreamFailure } from './answer-protocol.ts';
import { requestModelFilter } from './api-key.guard.ts';
import { ChatAccumulator } from './chat-accumulator.ts';
import { ChatService, type ChatRun, type ChatStart } from './chat.service.ts';
import { ClientCall, failureStatus } from './client-call.ts';
import { ResponsesStore } from './responses-store.ts';
import { SseWriter } from './sse-writer.ts';

/** What a reply says when its usage could not be counted (logged by ChatAccumulator). */
const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

type RecordFn = (status: number, start: ChatStart | undefined, acc: ChatAccumulator, error: string | null) => void;

/**
 * What an answer leaves behind for the next request, written before its last byte: a turn sent the
 * moment this answer arrives, on any replica, must find them.
 */
interface AnswerHooks {
  /** The answer has a route (its first byte came): the conversation is pinned to it from now on. */
  started(start: ChatStart): void;
  /** The whole answer is here and about to end: the pin has landed, and the answer is cached. */
  finishing(start: ChatStart, acc: ChatAccumulator): Promise<void>;
}

/** How one request uses the response cache: its entry's key, and whether it may read it (not with Cache-Control: no-cache). */
interface CachePlan {
  key: string;
  read: boolean;
}

const header = (req: Request, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Answers one request of a chat-like front door on an Express response, whatever its protocol:
 * runs it through the failover core, streams it with backpressure or sends it whole, ends it
 * honestly on a mid-stream failure, a client that leaves or a shutdown, and records it. `body` is
 * the request in chat-completion form (the front door translates its own into it).
 */
@Injectable()
export class RunResponder {
  private readonly logger = new Logger('RunResponder');

  constructor(
    private readonly chat: ChatService,
    private readonly events: PoolEvents,
    private readonly lifecycle: AppLifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: ResponseCacheService,
    private readonly affinity: AffinityService,
    /** Only for the client's scope, which cache entries and conversations are kept under. */
    private readonly responses: ResponsesStore,
    private readonly clientKeys: ClientKeysService,
  ) {}

  async respond(body: ChatCompletionRequest, req: Request, res: Response, protocol: AnswerProtocol, endpoint: RequestLogEntry['endpoint']): Promise<void> {
    const client = new ClientCall(this.events, req, res, endpoint, body.stream === true);
    const writer = body.stream === true ? new SseWriter(res, this.config.limits.clientStallMs) : undefined;
    const scope = this.responses.ownerOf(req);
    const cache = this.cachePlan(body, req, endpoint, scope);
    const hit = cache?.read ? await this.cache.lookup(cache.key) : undefined;
    if (hit) return this.replay(hit, res, writer, protocol, client);
    if (cache) res.setHeader('x-pool-cache', cache.read ? 'miss' : 'bypass');
    // A request that names its provider is the client's choice for that one request: it neither
    // follows its conversation's route nor moves it (a playground turn pinned to one provider, say).
    const session = body.provider === undefined ? this.affinity.sessionOf(body, header(req, 'x-session-id'), scope) : undefined;
    const pinned = await this.affinity.routeOf(session);
    let run: ChatRun;
    try {
      run = this.chat.start(body, client.signal, writer, pinned, requestModelFilter(this.clientKeys, req));
    } catch (err) {
      // Refused before any provider was tried (unknown model, say): in the log too.
      client.record({ model: body.model, status: failureStatus(err), attempts: [], error: (err as Error).message });
      client.done();
      throw err;
    }
    // The shutdown grace period ran out: a non-stream answer gives up with a 503 (a stream ends itself, see stream()).
    const cut = this.lifecycle.cutSignal;
    const onCut = () => {
      if (!run.request.stream) client.abort();
    };
    cut.addEventListener('abort', onCut, { once: true });
    const recorder = cache ? new AnswerRecorder(this.config.responseCache.maxEntryBytes) : undefined;
    if (recorder) run.items = run.items.pipe(tap((item) => item.type !== 'start' && recorder.add(item)));
    let pinning: Promise<void> = Promise.resolve();
    const hooks: AnswerHooks = {
      started: (start) => {
        pinning = this.affinity.remember(session, { provider: start.provider, upstreamModel: start.upstreamModel, keyId: start.keyId });
      },
      finishing: async (start, acc) => {
        // Only a whole answer: never an error, a cut or abandoned stream, or a tool call (see AnswerRecorder).
        // Sent before the answer ends, not awaited: a lost entry only costs a later miss.
        if (cache && recorder?.keepable) {
          const { provider, upstreamModel } = start;
          const { usage } = acc.usage(body.messages, body.tools);
          void this.cache.save(cache.key, { provider, upstreamModel, model: run.model.id, alias: run.alias, events: recorder.events, usage });
        }
        // Bounded by the store's own deadline, and most often landed long before (it was sent at the first byte).
        await pinning;
      },
    };
    const record: RecordFn = (status, start, acc, error) => {
      const { usage, estimated } = start ? acc.usage(body.messages, body.tools) : { usage: null, estimated: false };
      client.record({
        model: run.model.id,
        alias: run.alias,
        status,
        provider: start?.provider ?? null,
        upstreamModel: start?.upstreamModel ?? null,
        ttftMs: start?.ttftMs ?? null,
        usage,
        usageEstimated: estimated,
        attempts: run.attempts,
        error,
      });
    };

    try {
      if (writer) await this.stream(body, run, res, writer, protocol.encoder(writer), hooks, record);
      else await this.complete(body, run, res, protocol, hooks, record);
    } catch (caught) {
      const err = cut.aborted && !res.headersSent && !res.destroyed ? shuttingDownError() : caught;
      record(failureStatus(err), undefined, new ChatAccumulator(), (err as Error).message);
      throw err;
    } finally {
      client.done();
      cut.removeEventListener('abort', onCut);
    }
  }

  /** The cache's part in this request, or undefined when the cache is off or the request is not deterministic. */
  private cachePlan(body: ChatCompletionRequest, req: Request, endpoint: string, scope: string): CachePlan | undefined {
    if (!this.cache.enabled || !deterministic(body, this.cache.forcedModels)) return undefined;
    const control = cacheControl(header(req, 'cache-control'));
    if (control === 'skip') return undefined;
    return { key: cacheKey(endpoint, scope, body), read: control === 'use' };
  }

  /**
   * Answers from the cache as the protocol would answer live: a stream stays a stream, with the
   * stored events in their order. The id and `created` are new (the protocol makes them per
   * answer): clients keep answers by id, and two turns with one id would overwrite each other.
   * The usage is the original's; the request log shows no provider and no usage (no upstream
   * spent anything), and the savings are counted apart (ResponseCacheService.countHit).
   */
  private replay(hit: CachedAnswer, res: Response, writer: SseWriter | undefined, protocol: AnswerProtocol, client: ClientCall): void {
    const start: ChatStart = { type: 'start', provider: hit.provider, upstreamModel: hit.upstreamModel, keyId: '', ttftMs: 0 };
    const usage = hit.usage ?? NO_USAGE;
    const acc = new ChatAccumulator();
    const headers = { 'x-pool-provider': hit.provider, 'x-pool-upstream-model': hit.upstreamModel, 'x-pool-cache': 'hit' };
    try {
      if (writer) {
        writer.open(headers);
        const encoder = protocol.encoder(writer);
        encoder.open(start);
        for (const event of hit.events) {
          acc.add(event);
          encoder.event(event, acc);
        }
        encoder.complete(acc, () => usage);
      } else {
        for (const event of hit.events) acc.add(event);
        res
          .set(headers)
          .status(200)
          .json(protocol.answer(start, acc, usage));
      }
      client.record({ model: hit.model, alias: hit.alias, status: 200, attempts: [], error: null });
      void this.cache.countHit(hit.usage);
    } finally {
      client.done();
    }
  }

  private async complete(
    body: ChatCompletionRequest,
    run: ChatRun,
    res: Response,
    protocol: AnswerProtocol,
    hooks: AnswerHooks,
    record: RecordFn,
  ): Promise<void> {
    const acc = new ChatAccumulator();
    let start: ChatStart | undefined;
    await new Promise<void>((resolve, reject) => {
      const subscription: Subscription = run.items.subscribe({
        next: (item) => {
          // Thrown here it would reach the process (RxJS rethrows it asynchronously), not this request.
          try {
            if (item.type === 'start') {
              start = item;
              hooks.started(item);
            } else acc.add(item);
          } catch (err) {
            reject(err);
            queueMicrotask(() => subscription.unsubscribe());
          }
        },
        error: reject,
        complete: resolve,
      });
    });
    await hooks.finishing(start!, acc);
    const { usage } = acc.usage(body.messages, body.tools);
    const answer = protocol.answer(start!, acc, usage ?? NO_USAGE);
    res.setHeader('x-pool-provider', start!.provider);
    res.setHeader('x-pool-upstream-model', start!.upstreamModel);
    sendJson(res, 200, answer);
    record(200, start, acc, null);
  }

  private stream(
    body: ChatCompletionRequest,
    run: ChatRun,
    res: Response,
    writer: SseWriter,
    encoder: StreamEncoder,
    hooks: AnswerHooks,
    record: RecordFn,
  ): Promise<void> {
    const acc = new ChatAccumulator();
    let start: ChatStart | undefined;
    const cut = this.lifecycle.cutSignal;

    return new Promise<void>((resolve, reject) => {
      // Not a const: settle() may run while subscribe() is still running, before it is assigned.
      // eslint-disable-next-line prefer-const
      let subscription: Subscription | undefined;
      let settled = false;
      /** Ends this request once: the stream's outcome, whatever path (or bug) got there first. */
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        subscription?.unsubscribe();
        res.off('close', onClose);
        cut.removeEventListener('abort', onCut);
        outcome();
      };
      const finishStream = (error: string | null, status = 200) =>
        settle(() => {
          try {
            record(status, start, acc, error);
          } finally {
            resolve();
          }
        });
      const fail = (err: unknown) => settle(() => reject(err));
      /** The stream ends with an error event after content, or fails the request before any. */
      const breakStream = (failure: StreamFailure, err: unknown) => {
        if (!start) return fail(err);
        if (!settled) encoder.error(failure);
        finishStream(failure.message);
      };
      // A throw in these callbacks would reach the process (RxJS rethrows it asynchronously): it
      // is this request's failure, answered as such.
      const guarded =
        <A extends unknown[]>(fn: (...args: A) => void) =>
        (...args: A): void => {
          try {
            fn(...args);
          } catch (err) {
            if (start) this.logger.error(`Stream ${requestIdOf(res)} ended by a bug: ${describe(err)}`);
            breakStream({ message: 'The server had an error while processing the stream.', type: 'server_error', code: 'internal_error' }, err);
          }
        };
      subscription = run.items.subscribe({
        next: guarded((item) => {
          if (item.type === 'start') {
            start = item;
            hooks.started(item);
            writer.open({ 'x-pool-provider': item.provider, 'x-pool-upstream-model': item.upstreamModel });
            encoder.open(item);
            return;
          }
          acc.add(item);
          encoder.event(item, acc);
        }),
        error: guarded((err: unknown) => {
          // Content already reached the client: no failover now, end the stream honestly, naming the
          // provider that broke it (a resumed stream's continuation, not the one that opened it).
          const failed = run.brokenOn?.provider ?? start?.provider;
          const message = start ? `The upstream provider ${failed} failed mid-stream: ${(err as Error).message}` : '';
          breakStream({ message, type: 'upstream_error', code: 'stream_interrupted' }, err);
        }),
        complete: guarded(() => {
          const end = guarded(() => {
            // The client left, or the grace period ran out, while the pin was landing: already ended.
            if (settled) return;
            encoder.complete(acc, () => acc.usage(body.messages, body.tools).usage ?? NO_USAGE);
            finishStream(null);
          });
          if (start) void hooks.finishing(start, acc).then(end, end);
          else end();
        }),
      });
      // Settled while subscribing (a synchronous failure): stop the source now.
      if (settled) subscription.unsubscribe();
      // The client went away, or was dropped for not reading: unsubscribing aborts the upstream request.
      function onClose(): void {
        if (res.writableFinished) return;
        if (!start) return fail(new UpstreamError('aborted', 'client disconnected'));
        if (writer.stalled) finishStream(`the client read nothing for ${writer.stallMs} ms (CLIENT_STALL_TIMEOUT_MS)`, 499);
        else finishStream('client disconnected');
      }
      // Not once(): 'close' comes once, and settle() removes it; a once() wrapper is ~180 bytes more per open stream.
      res.on('close', onClose);
      // The shutdown grace period ran out: end the stream as honestly as a mid-stream failure.
      function onCut(): void {
        const message = 'The server is shutting down and its grace period (SHUTDOWN_GRACE_SECONDS) is over; the stream was cut.';
        breakStream({ message, type: 'server_error', code: 'server_shutting_down' }, shuttingDownError());
      }
      if (cut.aborted) onCut();
      else cut.addEventListener('abort', onCut, { once: true });
    });
  }
}
