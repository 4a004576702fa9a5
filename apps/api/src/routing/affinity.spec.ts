import type { ChatCompletionRequest } from '#contracts';
import type { AppConfig } from '../config/app-config.ts';
import { AffinityService, conversationOf, pinnedFirst } from './affinity.ts';
import type { Candidate } from './router.service.ts';

const request = (messages: { role: string; content: string }[], extra: Record<string, unknown> = {}) =>
  ({ model: 'm', messages, ...extra }) as ChatCompletionRequest;
const opening = [
  { role: 'system', content: 'be brief' },
  { role: 'user', content: 'hello' },
];

describe('conversationOf', () => {
  it('prefers the names a client gives: prompt_cache_key, then x-session-id, then user', () => {
    expect(conversationOf(request(opening, { prompt_cache_key: 'p', user: 'u' }), 's')).toEqual({ id: 'named:p', continues: true });
    expect(conversationOf(request(opening, { user: 'u' }), 's')).toEqual({ id: 'named:s', continues: true });
    expect(conversationOf(request(opening, { user: 'u' }), undefined)).toEqual({ id: 'named:u', continues: true });
  });

  it('else its opening: the same for every turn of one chat, continued once an answer is in it', () => {
    const first = conversationOf(request(opening), undefined)!;
    const later = conversationOf(request([...opening, { role: 'assistant', content: 'hi' }, { role: 'user', content: 'more' }]), undefined)!;
    expect(first.continues).toBe(false);
    expect(later).toEqual({ id: first.id, continues: true });
    expect(conversationOf(request([{ role: 'system', content: 'other' }, opening[1]!]), undefined)!.id).not.toBe(first.id);
    expect(conversationOf(request([{ role: 'system', content: 'only' }]), undefined)).toBeUndefined();
  });
});

describe('pinnedFirst', () => {
  const c = (name: string) => ({ provider: { name }, upstreamModel: 'u' }) as unknown as Candidate;
  const names = (list: Candidate[]) => list.map((x) => x.provider.name);

  it('moves the pinned route to the front, when it is a candidate at all', () => {
    const list = [c('A'), c('B'), c('C')];
    expect(names(pinnedFirst(list, { provider: 'C', upstreamModel: 'u', keyId: 'k' }))).toEqual(['C', 'A', 'B']);
    expect(names(pinnedFirst(list, { provider: 'C', upstreamModel: 'other', keyId: 'k' }))).toEqual(['A', 'B', 'C']);
    expect(names(pinnedFirst(list, { provider: 'D', upstreamModel: 'u', keyId: 'k' }))).toEqual(['A', 'B', 'C']);
    expect(names(pinnedFirst(list, undefined))).toEqual(['A', 'B', 'C']);
  });
});

describe('AffinityService in memory', () => {
  const config = (over: Partial<AppConfig['sessionAffinity']> = {}) =>
    ({ sessionAffinity: { enabled: true, ttlMs: 60_000, maxSessions: 2, ...over } }) as AppConfig;
  const route = (provider: string) => ({ provider, upstreamModel: 'u', keyId: 'k' });
  const named = (sut: AffinityService, name: string, scope = 'open') => sut.sessionOf(request(opening, { user: name }), undefined, scope);

  it('remembers per scope and model, forgetting the least recently used beyond its bound', async () => {
    const sut = new AffinityService(config(), null);
    await sut.remember(named(sut, 'a'), route('A'));
    expect(await sut.routeOf(named(sut, 'a'))).toEqual(route('A'));
    expect(await sut.routeOf(named(sut, 'a', 'key:other'))).toBeUndefined();
    await sut.remember(named(sut, 'b'), route('B'));
    await sut.routeOf(named(sut, 'a'));
    await sut.remember(named(sut, 'c'), route('C'));
    expect(await sut.routeOf(named(sut, 'b'))).toBeUndefined();
    expect(await sut.routeOf(named(sut, 'a'))).toEqual(route('A'));
    expect(await sut.routeOf(named(sut, 'c'))).toEqual(route('C'));
  });

  it('forgets after its TTL, and knows nothing when switched off', async () => {
    const sut = new AffinityService(config({ ttlMs: 1 }), null);
    await sut.remember(named(sut, 'a'), route('A'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await sut.routeOf(named(sut, 'a'))).toBeUndefined();
    const off = new AffinityService(config({ enabled: false }), null);
    expect(named(off, 'a')).toBeUndefined();
  });
});
