import { Delivered, MAX_RESUME_CHARS, PrefillRefusals, wholeAnswerUsage } from './stream-resume.ts';

describe('Delivered', () => {
  it('is resumable once plain text was sent and the answer is not over', () => {
    const d = new Delivered();
    expect(d.resumable).toBe(false);
    d.add({ type: 'delta', content: 'Hel' });
    d.add({ type: 'delta', reasoning: 'hmm' });
    d.add({ type: 'delta', content: 'lo' });
    expect(d.text).toBe('Hello');
    expect(d.resumable).toBe(true);
    d.add({ type: 'finish', reason: 'stop' });
    expect(d.resumable).toBe(false);
  });

  it('is not resumable after a tool call, nor past MAX_RESUME_CHARS (and then keeps no copy)', () => {
    const tools = new Delivered();
    tools.add({ type: 'delta', content: 'Let me look.' });
    tools.add({ type: 'delta', toolCalls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '' } }] });
    expect(tools.resumable).toBe(false);
    const long = new Delivered();
    long.add({ type: 'delta', content: 'x'.repeat(MAX_RESUME_CHARS) });
    expect(long.resumable).toBe(true);
    long.add({ type: 'delta', content: 'y' });
    expect(long.resumable).toBe(false);
    expect(long.text).toBe('');
  });
});

describe('wholeAnswerUsage', () => {
  it('moves the prefill from the prompt to the completion, the total unchanged', () => {
    const usage = { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 };
    expect(wholeAnswerUsage({ type: 'usage', usage, estimated: false }, 12)).toEqual({
      type: 'usage',
      usage: { prompt_tokens: 18, completion_tokens: 17, total_tokens: 35 },
      estimated: false,
    });
    // Never a negative prompt.
    expect(wholeAnswerUsage({ type: 'usage', usage, estimated: false }, 99)).toMatchObject({ usage: { prompt_tokens: 0, completion_tokens: 35 } });
    expect(wholeAnswerUsage({ type: 'delta', content: 'a' }, 3)).toEqual({ type: 'delta', content: 'a' });
  });
});

describe('PrefillRefusals', () => {
  it('remembers a route for a while, then forgets it', () => {
    let now = 1000;
    const refusals = new PrefillRefusals(500, 10, () => now);
    refusals.note('Together', 'm');
    expect(refusals.refuses('Together', 'm')).toBe(true);
    expect(refusals.refuses('Together', 'other')).toBe(false);
    now += 500;
    expect(refusals.refuses('Together', 'm')).toBe(false);
  });

  it('holds at most `max` routes, forgetting the oldest first', () => {
    const refusals = new PrefillRefusals(60_000, 2);
    refusals.note('A', 'm');
    refusals.note('B', 'm');
    refusals.note('C', 'm');
    expect([refusals.refuses('A', 'm'), refusals.refuses('B', 'm'), refusals.refuses('C', 'm')]).toEqual([false, true, true]);
  });
});
