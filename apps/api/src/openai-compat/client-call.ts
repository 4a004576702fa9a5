import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { RequestLogEntry } from '#contracts';
import { ApiError } from '../common/api-error.ts';
import { requestIdOf } from '../common/request-id.middleware.ts';
import type { PoolEvents } from '../events/pool-events.service.ts';
import { UpstreamError } from '../providers/provider-adapter.ts';

const logger = new Logger('Requests');

/** Unix time in seconds, as OpenAI's `created` and `created_at` fields are (not milliseconds). */
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A failure's status as the request log keeps it (499: the client went away). */
export function failureStatus(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  return err instanceof UpstreamError && err.kind === 'aborted' ? 499 : 500;
}

/** What an endpoint knows about its outcome; everything else in the record is common. */
export type Outcome = Pick<RequestLogEntry, 'model' | 'status' | 'attempts' | 'error'> &
  Partial<Pick<RequestLogEntry, 'provider' | 'upstreamModel' | 'ttftMs' | 'usage' | 'usageEstimated' | 'alias'>>;

/**
 * One /v1 request's plumbing shared by every endpoint: a signal that aborts the upstream work
 * when the client goes away, and the request record emitted for stats and the log.
 */
export class ClientCall {
  private readonly startedAt = Date.now();
  private readonly controller = new AbortController();
  /**
   * Bound, not an arrow function over `this`. Measured in the gateway on Node 24 (V8 13.6), at
   * concurrency 1: with the arrow function, every request's whole graph (its req and res, their
   * headers, the router's state) survived a young-generation collection after the request had
   * ended, about 1 MB per scavenge, and was promoted, to be freed only by a full collection; with
   * the bound listener that stage leaves 0.06 MB. Why V8 keeps it was not pinned down (see
   * bench/README.md, "GC").
   */
  private readonly onClose = this.abortUnlessFinished.bind(this);

  constructor(
    private readonly events: PoolEvents,
    private readonly req: Request,
    private readonly res: Response,
    private readonly endpoint: RequestLogEntry['endpoint'],
    private readonly stream = false,
  ) {
    // Not once(): 'close' comes once, and done() removes it; a once() wrapper is ~180 bytes more per open stream.
    res.on('close', this.onClose);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts the upstream work from the gateway's side (e.g. the shutdown grace period ran out). */
  abort(): void {
    this.controller.abort();
  }

  /** Best effort: a failure to record is logged (bounded), never the request's or the process's. */
  record(outcome: Outcome): void {
    try {
      this.events.emit({
        requestId: requestIdOf(this.res),
        endpoint: this.endpoint,
        stream: this.stream,
        startedAt: this.startedAt,
        latencyMs: Date.now() - this.startedAt,
        provider: null,
        upstreamModel: null,
        ttftMs: null,
        usage: null,
        usageEstimated: false,
        clientKey: (this.req as Request & { clientKeyId?: string }).clientKeyId ?? null,
        ...outcome,
      });
    } catch (err) {
      logger.warn(`Request ${String(requestIdOf(this.res)).slice(0, 64)} not recorded: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
    }
  }

  /** The 'close' listener: the client went away before the answer was complete. */
  private abortUnlessFinished(): void {
    if (!this.res.writableFinished) this.controller.abort();
  }

  /** Stops listening to the connection; call once the answer is complete. */
  done(): void {
    this.res.off('close', this.onClose);
  }
}
