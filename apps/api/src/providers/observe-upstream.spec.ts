import { firstValueFrom, of, toArray } from 'rxjs';
import { observeUpstream } from './observe-upstream.ts';
import { UpstreamError } from './provider-adapter.ts';

describe('observeUpstream', () => {
  it('emits what the call resolves to', async () => {
    expect(await firstValueFrom(observeUpstream(() => Promise.resolve(of(1, 2))).pipe(toArray()))).toEqual([1, 2]);
  });

  it('turns an answer that cannot be subscribed to into an UpstreamError, not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const broken = observeUpstream(() => Promise.resolve(42 as unknown as number[]));
      const hung = new Promise((resolve) => setTimeout(() => resolve('no answer within 1 s'), 1000));
      const err = await Promise.race([firstValueFrom(broken).catch((e: unknown) => e), hung]);
      expect(err).toBeInstanceOf(UpstreamError);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('aborts the call when unsubscribed before it finished', async () => {
    let seen: AbortSignal | undefined;
    const sub = observeUpstream((signal) => {
      seen = signal;
      return new Promise<number[]>(() => undefined);
    }).subscribe();
    sub.unsubscribe();
    expect(seen?.aborted).toBe(true);
  });
});
