import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ChatCompletionRequest } from '#contracts';
import { PoolEvents } from '../events/pool-events.service.ts';
import { AppLifecycle, shuttingDownError } from '../health/app-lifecycle.service.ts';
import { UpstreamError } from '../providers/provider-adapter.ts';
import { ChatAccumulator } from './chat-accumulator.ts';
import { ClientRequest, failureStatus } from './client-request.ts';
import type { ChatCompletionRequestDto } from './chat-request.dto.ts';
import { ChunkBuilder, buildCompletion, completionId } from './chat-response.ts';
import { ChatService, type ChatRun, type ChatStart } from './chat.service.ts';
import { SseWriter } from './sse-writer.ts';

const now = () => Math.floor(Date.now() / 1000);

/**
 * Answers one chat request on an Express response: SSE or a chat.completion, headers, the
 * request record. Shared by /v1/chat/completions and the console's playground.
 */
@Injectable()
export class ChatResponder {
  constructor(
    private readonly chat: ChatService,
    private readonly events: PoolEvents,
    private readonly lifecycle: AppLifecycle,
  ) {}

  async respond(dto: ChatCompletionRequestDto, req: Request, res: Response): Promise<void> {
    const body = dto as unknown as ChatCompletionRequest;
    const client = new ClientRequest(this.events, req, res, 'chat', body.stream === true);
    let run: ChatRun;
    try {
      run = this.chat.start(body, client.signal);
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
      if (run.request.stream) await this.stream(body, run, res, record);
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
    await new Promise<void>((resolve, reject) =>
      run.items.subscribe({
        next: (item) => (item.type === 'start' ? (start = item) : acc.add(item)),
        error: reject,
        complete: resolve,
      }),
    );
    const { usage } = acc.usage(body.messages, body.tools);
    res.setHeader('x-pool-provider', start!.provider);
    res.setHeader('x-pool-upstream-model', start!.upstreamModel);
    res.status(200).json(buildCompletion(completionId(), now(), body.model, acc, usage));
    record(200, start, acc, null);
  }

  private stream(body: ChatCompletionRequest, run: ChatRun, res: Response, record: RecordFn): Promise<void> {
    const includeUsage = body.stream_options?.include_usage === true;
    const chunks = new ChunkBuilder(completionId(), now(), body.model, includeUsage);
    const writer = new SseWriter(res);
    const acc = new ChatAccumulator();
    let start: ChatStart | undefined;
    let finishSent = false;
    const cut = this.lifecycle.cutSignal;

    return new Promise<void>((resolve, reject) => {
      const finishStream = (error: string | null) => {
        res.off('close', onClose);
        cut.removeEventListener('abort', onCut);
        record(200, start, acc, error);
        resolve();
      };
      const subscription = run.items.subscribe({
        next: (item) => {
          if (item.type === 'start') {
            start = item;
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
        },
        error: (err: unknown) => {
          if (!start) {
            res.off('close', onClose);
            cut.removeEventListener('abort', onCut);
            return reject(err);
          }
          // Content already reached the client: no failover now, end the stream honestly.
          const message = `The upstream provider ${start.provider} failed mid-stream: ${(err as Error).message}`;
          writer.send({ error: { message, type: 'upstream_error', param: null, code: 'stream_interrupted' } });
          writer.done();
          finishStream(message);
        },
        complete: () => {
          if (!finishSent) writer.send(chunks.finish(acc.finish));
          if (includeUsage) writer.send(chunks.usage(acc.usage(body.messages, body.tools).usage));
          writer.done();
          finishStream(null);
        },
      });
      // The client went away: unsubscribing aborts the upstream request.
      const onClose = () => {
        if (res.writableFinished) return;
        subscription.unsubscribe();
        if (start) finishStream('client disconnected');
        else {
          res.off('close', onClose);
          cut.removeEventListener('abort', onCut);
          reject(new UpstreamError('aborted', 'client disconnected'));
        }
      };
      res.once('close', onClose);
      // The shutdown grace period ran out: end the stream as honestly as a mid-stream failure.
      function onCut(): void {
        subscription.unsubscribe();
        if (!start) {
          res.off('close', onClose);
          return reject(shuttingDownError());
        }
        const message = 'The server is shutting down and its grace period (SHUTDOWN_GRACE_SECONDS) is over; the stream was cut.';
        writer.send({ error: { message, type: 'server_error', param: null, code: 'server_shutting_down' } });
        writer.done();
        finishStream(message);
      }
      if (cut.aborted) onCut();
      else cut.addEventListener('abort', onCut, { once: true });
    });
  }
}

type RecordFn = (status: number, start: ChatStart | undefined, acc: ChatAccumulator, error: string | null) => void;
