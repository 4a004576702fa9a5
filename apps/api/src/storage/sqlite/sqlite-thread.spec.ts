import { Worker } from 'node:worker_threads';
import { ThreadCalls, type InlineOps } from './sqlite-thread.ts';

type Op = { op: 'put'; args: [key: string] };

/** A thread that takes every call and answers none: the calls are still waiting when it dies. */
function silentThread(): Worker {
  return new Worker("require('node:worker_threads').parentPort.on('message', () => {})", { eval: true, execArgv: [] });
}

async function kill(worker: Worker): Promise<void> {
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  await worker.terminate();
  await exited;
}

describe('ThreadCalls', () => {
  it('makes the calls still waiting again on the fallback when the thread dies, and the later ones there too', async () => {
    const worker = silentThread();
    const made: string[] = [];
    const reasons: string[] = [];
    const inline: InlineOps<Op> = async ({ args: [key] }) => {
      made.push(key);
      return `inline ${key}`;
    };
    const calls = new ThreadCalls<Op>(
      worker,
      (reason) => {
        reasons.push(reason);
        return inline;
      },
      'the test store',
    );
    const waiting = [calls.call({ op: 'put', args: ['a'] }), calls.call({ op: 'put', args: ['b'] })];
    expect(calls.thread).toBe(worker);
    await kill(worker);
    expect(await Promise.all(waiting)).toEqual(['inline a', 'inline b']);
    expect(await calls.call({ op: 'put', args: ['c'] })).toBe('inline c');
    expect(made).toEqual(['a', 'b', 'c']);
    expect(reasons).toEqual([expect.stringMatching(/^exit code \d+$/)]);
    expect(calls.thread).toBeUndefined();
    await calls.close();
    await expect(calls.call({ op: 'put', args: ['d'] })).rejects.toThrow('the test store is closed');
  });

  it('fails the calls waiting, and the later ones, with the error of a fallback that cannot open', async () => {
    const worker = silentThread();
    const calls = new ThreadCalls<Op>(
      worker,
      () => {
        throw new Error('cannot open the file here');
      },
      'the test store',
    );
    const waiting = calls.call({ op: 'put', args: ['a'] });
    await kill(worker);
    await expect(waiting).rejects.toThrow('cannot open the file here');
    await expect(calls.call({ op: 'put', args: ['b'] })).rejects.toThrow('cannot open the file here');
    expect(calls.thread).toBeUndefined();
  });
});
