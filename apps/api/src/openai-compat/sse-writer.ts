import type { Response } from 'express';

/** Writes OpenAI-style server-sent events: `data: {json}\n\n`, ending in `data: [DONE]`. */
export class SseWriter {
  /** Whether a socket write is being gathered (see send). */
  private corked = false;

  constructor(private readonly res: Response) {}

  open(headers: Record<string, string>): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and other reverse proxies must not buffer the stream.
      'x-accel-buffering': 'no',
      ...headers,
    });
  }

  get isOpen(): boolean {
    return this.res.headersSent && !this.res.writableEnded && !this.res.destroyed;
  }

  /**
   * Events written in the same turn of the event loop (an upstream read often carries several)
   * leave in one socket write: corked on the first, uncorked once the turn's work is done. That
   * delays nothing (no timer) and saves a system call per event.
   */
  send(payload: unknown): void {
    if (!this.isOpen) return;
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      process.nextTick(this.uncork);
    }
    this.res.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  done(): void {
    if (!this.isOpen) return;
    this.uncork();
    this.res.end('data: [DONE]\n\n');
  }

  private readonly uncork = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.res.uncork();
  };
}
