import type { ChatCompletionRequest } from '#contracts';
import { AnswerRecorder, cacheControl, cacheKey, deterministic, parseEntry } from './response-cache.ts';

const body = (extra: Record<string, unknown> = {}) =>
  ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0, ...extra }) as ChatCompletionRequest;

describe('cacheKey', () => {
  it('is one key for one request however it is spelled or delivered', () => {
    const key = cacheKey('chat', 'open', body({ top_p: 1, stop: ['a'] }));
    const reordered = { stop: ['a'], top_p: 1, temperature: 0, messages: [{ content: 'hi', role: 'user' }], model: 'm' } as unknown as ChatCompletionRequest;
    expect(cacheKey('chat', 'open', reordered)).toBe(key);
    expect(cacheKey('chat', 'open', body({ top_p: 1, stop: ['a'], stream: true, stream_options: { include_usage: true }, user: 'u' }))).toBe(key);
  });

  it('differs by front door, scope, and anything that shapes the answer', () => {
    const key = cacheKey('chat', 'open', body());
    expect(cacheKey('responses', 'open', body())).not.toBe(key);
    expect(cacheKey('chat', 'key:abc', body())).not.toBe(key);
    expect(cacheKey('chat', 'open', body({ max_tokens: 5 }))).not.toBe(key);
    expect(cacheKey('chat', 'open', body({ messages: [{ role: 'user', content: 'hi!' }] }))).not.toBe(key);
  });
});

describe('deterministic', () => {
  it('temperature 0 or a seed; otherwise only a forced model (any case)', () => {
    expect(deterministic(body(), [])).toBe(true);
    expect(deterministic(body({ temperature: 0.2, seed: 1 }), [])).toBe(true);
    expect(deterministic(body({ temperature: 0.2 }), [])).toBe(false);
    expect(deterministic(body({ temperature: undefined }), [])).toBe(false);
    expect(deterministic(body({ temperature: 0.2 }), ['M'])).toBe(true);
  });
});

describe('cacheControl', () => {
  it.each([
    [undefined, 'use'],
    ['max-age=0', 'use'],
    ['No-Cache', 'refresh'],
    ['no-cache, no-store', 'skip'],
  ] as const)('%s → %s', (header, plan) => expect(cacheControl(header)).toBe(plan));
});

describe('AnswerRecorder', () => {
  it('keeps an answer of text', () => {
    const r = new AnswerRecorder(1000);
    r.add({ type: 'delta', content: 'Hello' });
    r.add({ type: 'finish', reason: 'stop' });
    expect(r.keepable).toBe(true);
    expect(r.events).toHaveLength(2);
  });

  it('never keeps a tool call, nor an answer over its bound, nor nothing', () => {
    const tool = new AnswerRecorder(1000);
    tool.add({ type: 'delta', content: 'let me look' });
    tool.add({ type: 'delta', toolCalls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }] });
    tool.add({ type: 'finish', reason: 'tool_calls' });
    expect(tool.keepable).toBe(false);
    const long = new AnswerRecorder(50);
    for (let i = 0; i < 5; i++) long.add({ type: 'delta', content: 'words words' });
    expect(long.keepable).toBe(false);
    expect(long.events).toHaveLength(0);
    expect(new AnswerRecorder(50).keepable).toBe(false);
  });
});

describe('parseEntry', () => {
  it('reads back an entry, and nothing else', () => {
    const entry = { provider: 'P', upstreamModel: 'u', model: 'm', alias: null, events: [], usage: null };
    expect(parseEntry(JSON.stringify(entry))).toEqual(entry);
    expect(parseEntry('{"provider":1}')).toBeUndefined();
    expect(parseEntry('not json')).toBeUndefined();
  });
});
