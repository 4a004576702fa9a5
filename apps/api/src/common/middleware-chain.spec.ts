import { jest } from '@jest/globals';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { middlewareChain } from './middleware-chain.ts';

const req = {} as Request;
const res = {} as Response;

/** Runs the chain once; resolves with what it handed on (undefined when every middleware called next()). */
function run(chain: RequestHandler): Promise<unknown> {
  return new Promise((resolve) => chain(req, res, ((err?: unknown) => resolve(err)) as NextFunction));
}

describe('middlewareChain', () => {
  it('runs every middleware in order, each when the one before calls next()', async () => {
    const seen: string[] = [];
    const step =
      (name: string): RequestHandler =>
      (_q, _s, next) => {
        seen.push(name);
        setImmediate(next);
      };
    await expect(run(middlewareChain(step('a'), step('b'), step('c')))).resolves.toBeUndefined();
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('stops at a middleware that answers without calling next()', async () => {
    const seen: string[] = [];
    let answered!: () => void;
    const done = new Promise<void>((r) => (answered = r));
    const chain = middlewareChain(
      (_q, _s, next) => (seen.push('a'), next()),
      () => (seen.push('answer'), answered()),
      () => seen.push('never'),
    );
    const handedOn = jest.fn();
    chain(req, res, handedOn);
    await done;
    expect(seen).toEqual(['a', 'answer']);
    expect(handedOn).not.toHaveBeenCalled();
  });

  it('hands on an error passed to next(), thrown, or rejected, and skips the rest', async () => {
    const boom = new Error('boom');
    const never = jest.fn();
    await expect(run(middlewareChain((_q, _s, next) => next(boom), never))).resolves.toBe(boom);
    await expect(
      run(
        middlewareChain(() => {
          throw boom;
        }, never),
      ),
    ).resolves.toBe(boom);
    await expect(run(middlewareChain((() => Promise.reject(boom)) as RequestHandler, never))).resolves.toBe(boom);
    expect(never).not.toHaveBeenCalled();
  });

  it("treats next('route') as next(), as the router does for middleware", async () => {
    const after = jest.fn((_q: Request, _s: Response, next: NextFunction) => next());
    await expect(run(middlewareChain((_q, _s, next) => next('route'), after))).resolves.toBeUndefined();
    expect(after).toHaveBeenCalledTimes(1);
  });
});
