import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Runs path-less Express middleware in order as one middleware, as the router would run them one
 * `app.use` layer each: `next()` goes on to the next one, `next(err)` (or a throw, or a rejected
 * promise) skips the rest and hands the error on.
 *
 * Every request passes through all of them, so the router's work per layer (matching the path,
 * a closure, a params object and its debug calls) was paid once per middleware on every request:
 * some 6 KB of garbage and 2–3% of the gateway's CPU per answer, for no choice ever made.
 */
export function middlewareChain(...handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, done: NextFunction): void => {
    let i = 0;
    const next = (err?: unknown): void => {
      // As the router does, 'route' only skips the rest of a route's handlers: none here.
      if (err && err !== 'route') return done(err);
      const handler = handlers[i++];
      if (!handler) return done();
      try {
        const ret = handler(req, res, next) as unknown;
        if (ret instanceof Promise) ret.catch((e: unknown) => next(e ?? new Error('Rejected promise')));
      } catch (e) {
        next(e);
      }
    };
    next();
  };
}
