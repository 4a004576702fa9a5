import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Subscription } from 'rxjs';
import type { ChatCompletionRequest, Usage } from '#contracts';
import { describe } from '../common/last-resort.ts';
import { requestIdOf } from '../common/request-id.middleware.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { answerModel } from '../models/answer-model.ts';
import { AppLifecycle, shuttingDownError } from '../lifecycle/app-lifecycle.service.ts';
import { UpstreamError } from '../providers/provider-adapter.ts';
import { ChatAccumulator } from './chat-accumulator.ts';
import { ClientCall, failureStatus } from './client-call.ts';
import type { ChatCompletionRequestDto } from './chat-request.dto.ts';
import { ChunkBuilder, buildCompletion, completionId } from './chat-response.ts';
import { ChatService, type ChatRun, type ChatStart } from './chat.service.ts';
import { SseWriter } from './sse-writer.ts';

/** OpenAI's `created` is Unix time in seconds, not milliseconds. */
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** What a reply says when its usage could not be counted (logged by ChatAccumulator). */
const NO_USAGE: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/**
 * Answers one chat request on an Express response: SSE or a chat.completion, headers, the
 * request record. Shared by /v1/chat/completions and the console's playground.
 */
@Injectable()
export class ChatResponder {
  private readonly logger = new Logger('ChatResponder');

  constructor(
    private readonly chat: ChatService,
    private readonly events: PoolEvents,
    private readonly lifecycle: AppLifecycle,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async respond(dto: ChatCompletionRequestDto, req: Request, res: Response): Promise<void> {
    const body = dto as unknown as ChatCompletionRequest;
    const client = new ClientCall(this.events, req, res, 'chat', body.stream === true);
    const writer = body.stream === true ? new SseWriter(res, this.config.limits.clientStallMs) : undefined;
    let run: ChatRun;
    try {
      run = this.chat.start(body, client.signal, writer);
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
    const record = (status: number, start: ChatStart | undefined, acc: ChatAccumulator, error: string | null) => {
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
      if (writer) await this.stream(body, run, res, writer, record);
      else await this.complete(body, run, res, record);
    } catch (caught) {
      const err = cut.aborted && !res.headersSent && !res.destroyed ? shuttingDownError() : caught;
      record(failureStatus(err), undefined, new ChatAccumulator(), (err as Error).message);
      throw err;
    } finally {
      client.done();
      cut.removeEventListener('abort', onCut);
    }
  }

  private async complete(body: ChatCompletionRequest, run: ChatRun, res: Response, record: RecordFn): Promise<void> {
    const acc = new ChatAccumulator();
    let start: ChatStart | undefined;
    await new Promise<void>((resolve, reject) => {
      const subscription: Subscription = run.items.subscribe({
        next: (item) => {
          // Thrown here it would reach the process (RxJS rethrows it asynchronously), not this request.
          try {
            if (item.type === 'start') start = item;
            else acc.add(item);
          } catch (err) {
            reject(err);
            queueMicrotask(() => subscription.unsubscribe());
          }
        },
        error: reject,
        complete: resolve,
      });
    });
    const { usage } = acc.usage(body.messages, body.tools);
    res.setHeader('x-pool-provider', start!.provider);
    res.setHeader('x-pool-upstream-model', start!.upstreamModel);
    const model = answerModel(this.config.responseModel, body.model, start!.upstreamModel);
    res.status(200).json(buildCompletion(completionId(), nowSeconds(), model, acc, usage ?? NO_USAGE));
    record(200, start, acc, null);
  }

  private stream(body: ChatCompletionRequest, run: ChatRun, res: Response, writer: SseWriter, record: RecordFn): Promise<void> {
    const includeUsage = body.stream_options?.include_usage === true;
    const id = completionId();
    const created = nowSeconds();
    // Made at the start, when the provider that serves (and so the answer's model) is known.
    let chunks: ChunkBuilder;
    const acc = new ChatAccumulator();
    let start: ChatStart | undefined;
    let finishSent = false;
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
      const breakStream = (message: string, type: string, code: string, err: unknown) => {
        if (!start) return fail(err);
        writer.send({ error: { message, type, param: null, code } });
        writer.done();
        finishStream(message);
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
            breakStream('The server had an error while processing the stream.', 'server_error', 'internal_error', err);
          }
        };
      subscription = run.items.subscribe({
        next: guarded((item) => {
          if (item.type === 'start') {
            start = item;
            chunks = new ChunkBuilder(id, created, answerModel(this.config.responseModel, body.model, item.upstreamModel), includeUsage);
            writer.open({ 'x-pool-provider': item.provider, 'x-pool-upstream-model': item.upstreamModel });
            writer.send(chunks.role());
            return;
          }
          acc.add(item);
          if (item.type === 'delta') {
            const chunk = chunks.delta(item);
            if (chunk) writer.send(chunk);
          } else if (item.type === 'finish' && !finishSent) {
            finishSent = true;
            writer.send(chunks.finish(item.reason));
          }
        }),
        error: guarded((err: unknown) => {
          // Content already reached the client: no failover now, end the stream honestly.
          const message = start ? `The upstream provider ${start.provider} failed mid-stream: ${(err as Error).message}` : '';
          breakStream(message, 'upstream_error', 'stream_interrupted', err);
        }),
        complete: guarded(() => {
          if (!finishSent) writer.send(chunks.finish(acc.finish));
          if (includeUsage) writer.send(chunks.usage(acc.usage(body.messages, body.tools).usage ?? NO_USAGE));
          writer.done();
          finishStream(null);
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
      res.once('close', onClose);
      // The shutdown grace period ran out: end the stream as honestly as a mid-stream failure.
      function onCut(): void {
        const message = 'The server is shutting down and its grace period (SHUTDOWN_GRACE_SECONDS) is over; the stream was cut.';
        breakStream(message, 'server_error', 'server_shutting_down', shuttingDownError());
      }
      if (cut.aborted) onCut();
      else cut.addEventListener('abort', onCut, { once: true });
    });
  }
}

type RecordFn = (status: number, start: ChatStart | undefined, acc: ChatAccumulator, error: string | null) => void;
