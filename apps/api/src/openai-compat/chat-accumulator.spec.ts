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

describe('ChatAccumulator text', () => {
  // The pieces are joined in batches (a rope node per delta is held for the life of a stream):
  // reads in the middle of a batch, at its edge and past it all see the whole text so far.
  it('keeps every piece in order however many arrive and whenever it is read', () => {
    const acc = new ChatAccumulator();
    let content = '';
    let reasoning = '';
    for (let i = 0; i < 100; i++) {
      const piece = `t${i} `;
      acc.add({ type: 'delta', content: piece, ...(i % 3 === 0 ? { reasoning: `r${i}` } : {}) });
      content += piece;
      if (i % 3 === 0) reasoning += `r${i}`;
      if (i % 7 === 0 || i === 15 || i === 16) {
        expect(acc.content).toBe(content);
        expect(acc.reasoning).toBe(reasoning);
      }
    }
    expect(acc.content).toBe(content);
    expect(acc.reasoning).toBe(reasoning);
    expect(acc.finish).toBe('stop');
  });

  it('has empty text, no reasoning and no calls before any content', () => {
    const acc = new ChatAccumulator();
    acc.add({ type: 'delta', content: '', toolCalls: [] });
    expect([acc.content, acc.reasoning, acc.calls, acc.finish]).toEqual(['', '', [], 'stop']);
  });

  it('assembles tool calls from their deltas, by index', () => {
    const acc = new ChatAccumulator();
    acc.add({ type: 'delta', toolCalls: [{ index: 1, id: 'b', function: { name: 'second', arguments: '{"y"' } }] });
    acc.add({ type: 'delta', toolCalls: [{ index: 0, id: 'a', function: { name: 'first', arguments: '{}' } }] });
    acc.add({ type: 'delta', toolCalls: [{ index: 1, function: { arguments: ':1}' } }] });
    expect(acc.calls).toEqual([
      { id: 'a', type: 'function', function: { name: 'first', arguments: '{}' } },
      { id: 'b', type: 'function', function: { name: 'second', arguments: '{"y":1}' } },
    ]);
    expect(acc.finish).toBe('tool_calls');
  });
});
