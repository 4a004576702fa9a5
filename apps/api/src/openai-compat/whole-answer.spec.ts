import { Observable, Subject, firstValueFrom, toArray } from 'rxjs';
import { UpstreamError, type ChatEvent } from '../providers/provider-adapter.ts';
import { wholeAnswer, type ChatItem, type ChatStart } from './chat.service.ts';

const START: ChatStart = { type: 'start', provider: 'P', upstreamModel: 'm', keyId: 'k', ttftMs: 3 };

/** A start function that counts its calls, as the lease's succeed() must run once, and only for an answer. */
function counted(start: () => ChatStart | null = () => START): { start: () => ChatStart | null; calls: () => number } {
  let calls = 0;
  return {
    start: () => {
      calls++;
      return start();
    },
    calls: () => calls,
  };
}

const all = (source: Observable<ChatEvent>, start: () => ChatStart | null): Promise<ChatItem[]> => firstValueFrom(source.pipe(wholeAnswer(start), toArray()));

describe('wholeAnswer (a non-stream answer, held until it is whole)', () => {
  it('emits the start, then every event in order, once the upstream completes', async () => {
    const events: ChatEvent[] = [{ type: 'delta' }, { type: 'delta', content: 'Hel' }, { type: 'delta', content: 'lo' }, { type: 'finish', reason: 'stop' }];
    const source = new Subject<ChatEvent>();
    const s = counted();
    const items = all(source, s.start);
    for (const e of events) source.next(e);
    // Nothing is committed before the whole answer is here: the attempt could still fail over.
    expect(s.calls()).toBe(0);
    source.complete();
    expect(await items).toEqual([START, ...events]);
    expect(s.calls()).toBe(1);
  });

  it('fails an answer without content (the attempt fails over), without committing it', async () => {
    const s = counted();
    const events: ChatEvent[] = [{ type: 'delta' }, { type: 'delta', content: '' }, { type: 'finish', reason: 'stop' }];
    const err = await all(new Observable<ChatEvent>((sub) => (events.forEach((e) => sub.next(e)), sub.complete())), s.start).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ kind: 'invalid', message: 'the upstream answered without any content' });
    expect(s.calls()).toBe(0);
  });

  it('counts reasoning and tool calls as content', async () => {
    const reasoning: ChatEvent = { type: 'delta', reasoning: 'thinking' };
    const tool: ChatEvent = { type: 'delta', toolCalls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] };
    for (const e of [reasoning, tool]) {
      expect(await all(new Observable<ChatEvent>((sub) => (sub.next(e), sub.complete())), () => START)).toEqual([START, e]);
    }
  });

  it("passes the upstream's error through as it is, without committing", async () => {
    const s = counted();
    const failure = new UpstreamError('network', 'reset');
    const source = new Observable<ChatEvent>((sub) => {
      sub.next({ type: 'delta', content: 'partial' });
      sub.error(failure);
    });
    await expect(all(source, s.start)).rejects.toBe(failure);
    expect(s.calls()).toBe(0);
  });

  it('turns a throw while committing into this answer’s error, not an uncaught exception', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const bug = new Error('succeed() broke');
      const source = new Observable<ChatEvent>((sub) => (sub.next({ type: 'delta', content: 'x' }), sub.complete()));
      await expect(
        all(source, () => {
          throw bug;
        }),
      ).rejects.toBe(bug);
      await new Promise((r) => setTimeout(r, 20));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('unsubscribes from the upstream when the answer is abandoned (the client left)', () => {
    let unsubscribed = false;
    const source = new Observable<ChatEvent>((sub) => {
      sub.next({ type: 'delta', content: 'x' });
      return () => {
        unsubscribed = true;
      };
    });
    const s = counted();
    const subscription = source.pipe(wholeAnswer(s.start)).subscribe();
    expect(unsubscribed).toBe(false);
    subscription.unsubscribe();
    expect(unsubscribed).toBe(true);
    expect(s.calls()).toBe(0);
  });
});
