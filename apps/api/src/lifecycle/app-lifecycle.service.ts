import type { Server } from 'node:http';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../common/api-error.ts';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';

/** After the grace period, how long cut requests get to write their last event before their connections are closed. */
const CUT_SETTLE_MS = 2_000;

/** What a request that arrives during shutdown (on a connection that was already open) gets. */
export function shuttingDownError(): ApiError {
  return new ApiError(503, 'The server is shutting down. Please retry your request.', 'server_error', 'server_shutting_down', null, undefined, {
    'retry-after': '1',
  });
}

const isHealthPath = (path: string) => path === '/health' || path.startsWith('/health/');

/**
 * Where the application is in its life, and its graceful shutdown. Not ready until Nest has
 * initialised every module. On SIGTERM/SIGINT (or app.close()), before any module's shutdown
 * hook runs:
 *
 * 1. `/health/ready` answers 503 and the server stops accepting connections; a request arriving
 *    on a connection that was already open gets a clean 503 (`server_shutting_down`) with
 *    `Connection: close`; `/health/live` keeps answering 200.
 * 2. Requests and streams already running go on, up to SHUTDOWN_GRACE_SECONDS (a second signal
 *    stops waiting).
 * 3. Then `cutSignal` aborts: streams end with an OpenAI error event and `[DONE]`, other requests
 *    with a 503 where they can; what is still open after a short settle is closed.
 *
 * After that Nest's shutdown hooks run as usual (stats and the request log are flushed, storage
 * closes) and main exits 0.
 */
@Injectable()
export class AppLifecycle implements OnApplicationBootstrap {
  private readonly log = new Logger('Lifecycle');
  private initialised = false;
  private shuttingDown = false;
  private readonly inFlight = new Set<Response>();
  private idleWaiters: Array<() => void> = [];
  private readonly cut = new AbortController();
  private draining?: Promise<void>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get isInitialised(): boolean {
    return this.initialised;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Requests that arrived before shutdown and have not finished yet. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Aborts when the shutdown grace period is over: long-running handlers end what they are doing, cleanly. */
  get cutSignal(): AbortSignal {
    return this.cut.signal;
  }

  onApplicationBootstrap(): void {
    this.initialised = true;
  }

  /**
   * Express middleware, installed before the routes: counts the requests in flight; once shutdown
   * has begun, refuses new ones (health probes excepted) and closes their connections.
   */
  readonly gate = (req: Request, res: Response, next: NextFunction): void => {
    if (this.shuttingDown) {
      res.setHeader('connection', 'close');
      return isHealthPath(req.path) ? next() : next(shuttingDownError());
    }
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      if (!this.inFlight.size) for (const wake of this.idleWaiters.splice(0)) wake();
    });
    next();
  };

  /** Runs the shutdown steps 1–3 once; later calls share the first one's promise. */
  drain(server?: Server): Promise<void> {
    this.draining ??= this.runDrain(server);
    return this.draining;
  }

  private async runDrain(server?: Server): Promise<void> {
    this.shuttingDown = true;
    // Stop accepting connections now; Nest closes the server again after the hooks, which is harmless.
    server?.close();
    // Responses not started yet close their connection when done, rather than wait for a request that would be refused.
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    const graceMs = this.config.shutdownGraceMs;
    if (this.inFlight.size) {
      this.log.log(`Shutting down: new requests are refused; waiting up to ${graceMs / 1000} s for ${this.inFlight.size} request(s) in flight`);
      const hurry = new AbortController();
      const again = () => {
        this.log.warn('Second stop signal: not waiting for the requests in flight any longer');
        hurry.abort();
      };
      process.once('SIGTERM', again).once('SIGINT', again);
      try {
        if (!(await this.settled(graceMs, hurry.signal))) {
          this.log.warn(`Shutdown grace period over: cutting ${this.inFlight.size} request(s) still running`);
          this.cut.abort();
          if (!(await this.settled(CUT_SETTLE_MS))) for (const res of this.inFlight) res.destroy();
        }
      } finally {
        process.off('SIGTERM', again).off('SIGINT', again);
      }
    } else {
      this.log.log('Shutting down: no request in flight');
    }
    // Nothing is being answered now. Connections still open (idle keep-alive ones, or one whose next
    // request was only half received) would otherwise hold the server's close for up to its 65 s
    // keep-alive: end them all.
    server?.closeAllConnections();
  }

  /** True once no request is in flight; false when `ms` (or `hurry`) ran out first. */
  private settled(ms: number, hurry?: AbortSignal): Promise<boolean> {
    if (!this.inFlight.size) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        hurry?.removeEventListener('abort', onHurry);
        this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
        resolve(value);
      };
      const onIdle = () => done(true);
      const onHurry = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      hurry?.addEventListener('abort', onHurry, { once: true });
      this.idleWaiters.push(onIdle);
    });
  }
}

/**
 * Express, plus the drain above at the very start of `app.close()`: Nest awaits the adapter's
 * beforeClose before it runs any module's shutdown hook (which would close upstream connections
 * and storage under the requests still running).
 */
export class DrainingExpressAdapter extends ExpressAdapter {
  private drainStep?: () => Promise<void>;

  drainWith(step: () => Promise<void>): void {
    this.drainStep = step;
  }

  override async beforeClose(): Promise<void> {
    super.beforeClose();
    await this.drainStep?.();
  }
}
