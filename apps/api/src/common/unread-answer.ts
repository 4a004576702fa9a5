import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Drops a client that leaves a finished answer unread for `stallMs` (CLIENT_STALL_TIMEOUT_MS, as
 * for streams, whose SseWriter watches each write). Once an answer is ended, what the socket could
 * not take waits in the process's memory; a client that never reads would hold it, and its
 * connection, forever. Most answers leave nothing behind (the kernel took them whole): no timer.
 */
export function dropUnreadAnswers(stallMs: number): RequestHandler {
  // One listener for every response ('prefinish' comes once per response): a closure and a once()
  // wrapper per request would be held by each open stream for its whole life.
  function onPrefinish(this: Response): void {
    if (this.writableFinished || !this.socket?.writableLength) return;
    const timer = setTimeout(() => this.destroy(), stallMs);
    const clear = (): void => clearTimeout(timer);
    this.once('finish', clear).once('close', clear);
  }
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.on('prefinish', onPrefinish);
    next();
  };
}
