import type { Response } from 'express';

/** Writes OpenAI-style server-sent events: `data: {json}\n\n`, ending in `data: [DONE]`. */
export class SseWriter {
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

  send(payload: unknown): void {
    if (this.isOpen) this.res.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  done(): void {
    if (!this.isOpen) return;
    this.res.write('data: [DONE]\n\n');
    this.res.end();
  }
}
