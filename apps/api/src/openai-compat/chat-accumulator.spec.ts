import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ChatMessage } from '#contracts';
import { ChatAccumulator } from './chat-accumulator.ts';

const messages: ChatMessage[] = [{ role: 'user', content: 'Hello world' }];

describe('ChatAccumulator.usage', () => {
  it("believes the upstream's usage when it has one", () => {
    const acc = new ChatAccumulator();
    acc.add({ type: 'delta', content: 'Hi' });
    acc.add({ type: 'usage', usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }, estimated: false });
    expect(acc.usage(messages, undefined)).toEqual({ usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }, estimated: false });
  });

  // The reply (or the stream's usage chunk) and the request record both need it: one count, not two.
  it('counts once per answer', () => {
    const acc = new ChatAccumulator();
    acc.add({ type: 'delta', content: 'Hi there' });
    let reads = 0;
    const counted = [
      {
        role: 'user',
        get content() {
          reads += 1;
          return 'Hello world';
        },
      },
    ] as ChatMessage[];
    const first = acc.usage(counted, undefined);
    expect(first.estimated).toBe(true);
    expect(first.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(acc.usage(counted, undefined)).toBe(first);
    expect(reads).toBe(1);
  });

  it('answers without usage instead of throwing when counting fails, and logs one bounded line', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const acc = new ChatAccumulator();
      acc.add({ type: 'delta', content: 'Hi' });
      const hostile = [
        {
          role: 'user',
          get content(): string {
            throw new Error('x'.repeat(100_000));
          },
        },
      ] as ChatMessage[];
      expect(acc.usage(hostile, undefined)).toEqual({ usage: null, estimated: false });
      expect(new ChatAccumulator().usage(hostile, undefined)).toEqual({ usage: null, estimated: false });
      // The second failure within the minute is counted, not logged again.
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0]).length).toBeLessThan(400);
    } finally {
      warn.mockRestore();
    }
  });
});
