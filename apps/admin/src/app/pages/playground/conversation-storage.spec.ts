import { createHarness, MemoryStorage, type Harness } from '../../../testing/harness';
import { model, models, provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { FETCH } from './chat-stream';
import {
  CONVERSATION_STORAGE_KEY,
  MAX_STORED_CHARS,
  MAX_STORED_IMAGE_CHARS,
  MAX_STORED_TURNS,
  loadConversation,
  saveConversation,
  storableTurns,
} from './conversation-storage';
import type { AnswerTurn, Turn, UserTurn } from './playground-view';
import { PlaygroundStore } from './playground.store';
import { FakeFetch, chunk, flush } from './playground.testing';

const user = (id: number, text = `question ${id}`): UserTurn => ({ kind: 'user', id, text, mode: 'chat' });
const answer = (id: number, extra: Partial<AnswerTurn> = {}): AnswerTurn => ({
  kind: 'answer',
  id,
  replyTo: id - 1,
  mode: 'chat',
  model: 'llama-3.3-70b',
  pinned: null,
  status: 'done',
  content: `answer ${id}`,
  reasoning: '',
  images: [],
  revisedPrompt: null,
  provider: 'DeepInfra',
  upstreamModel: null,
  requestId: null,
  startedAt: 0,
  ttftMs: 5,
  totalMs: 9,
  usage: null,
  finishReason: 'stop',
  attempts: null,
  error: null,
  ...extra,
});
const exchanges = (n: number, extra: Partial<AnswerTurn> = {}): Turn[] =>
  Array.from({ length: n }, (_, i) => [user(2 * i + 1), answer(2 * i + 2, extra)]).flat();

describe('playground conversation storage', () => {
  it('keeps the newest turns, from a question on, under its size bound, without big images', () => {
    const many = exchanges(MAX_STORED_TURNS);
    const kept = storableTurns(many);
    expect(kept).toHaveLength(MAX_STORED_TURNS);
    expect(kept[0]).toEqual(many[MAX_STORED_TURNS]);

    // An odd cut would start at an answer: it starts at the next question instead.
    expect(storableTurns(exchanges(3).slice(1))[0]).toEqual(user(3));

    const long = exchanges(8, { content: 'x'.repeat(MAX_STORED_CHARS / 4) });
    const bounded = storableTurns(long);
    expect(JSON.stringify(bounded).length).toBeLessThanOrEqual(MAX_STORED_CHARS);
    expect(bounded.length).toBeGreaterThan(0);
    expect(bounded.at(-1)).toEqual(long.at(-1));
    expect(bounded[0]!.kind).toBe('user');

    const small = 'data:image/png;base64,AAAA';
    const big = `data:image/png;base64,${'A'.repeat(MAX_STORED_IMAGE_CHARS)}`;
    const [, stored] = storableTurns([user(1), answer(2, { mode: 'image', images: [big, small] })]);
    expect((stored as AnswerTurn).images).toEqual([small]);

    // One answer bigger than the bound on its own: nothing is stored rather than too much.
    expect(storableTurns([user(1), answer(2, { content: 'x'.repeat(MAX_STORED_CHARS) })])).toEqual([]);
  });

  it('reads back what it stored; anything else reads as no conversation; an answer cut off by the reload reads as stopped', () => {
    const storage = new MemoryStorage();
    saveConversation(storage, [user(1), answer(2), user(3), answer(4, { status: 'streaming', content: 'half' })]);
    expect(loadConversation(storage).map((t) => (t.kind === 'answer' ? t.status : t.text))).toEqual(['question 1', 'done', 'question 3', 'stopped']);

    saveConversation(storage, []);
    expect(storage.getItem(CONVERSATION_STORAGE_KEY)).toBeNull();
    for (const junk of ['not json', '{"a":1}', '[{"kind":"user"}]', '[{"kind":"answer","id":1}]', 'null']) {
      storage.setItem(CONVERSATION_STORAGE_KEY, junk);
      expect(loadConversation(storage)).toEqual([]);
    }
    expect(loadConversation(null)).toEqual([]);
  });

  describe('PlaygroundStore', () => {
    const harnesses: Harness[] = [];
    const storage = new MemoryStorage();

    function open(fake = new FakeFetch()): PlaygroundStore {
      const h = createHarness([PlaygroundStore, { provide: FETCH, useValue: fake.fn }], storage);
      harnesses.push(h);
      storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
      const store = h.get(PlaygroundStore);
      store.load();
      h.http.expectOne('/api/models').flush(models([model('llama-3.3-70b', [['DeepInfra']])]));
      h.http.expectOne('/api/providers').flush([provider('DeepInfra')]);
      return store;
    }

    afterAll(() => harnesses.forEach((h) => h.destroy()));

    it('keeps the conversation across a reload, stores it once the answer is in, and 清空对话 forgets it', async () => {
      const fake = new FakeFetch();
      const store = open(fake);
      store.send('你好');
      await flush();
      const s = fake.stream();
      s.send(chunk('Hel'));
      await flush();
      // Not at every token: the stored copy waits for the answer to finish.
      expect(storage.getItem(CONVERSATION_STORAGE_KEY)).toBeNull();
      s.send(chunk('lo', { finish: 'stop' }));
      s.send('[DONE]');
      await flush();
      expect(loadConversation(storage).map((t) => (t.kind === 'user' ? t.text : t.content))).toEqual(['你好', 'Hello']);

      const reloaded = open();
      expect(reloaded.turns()).toEqual(store.turns());
      // New turns get ids after the restored ones.
      reloaded.send('再说一遍');
      const ids = reloaded.turns().map((t) => t.id);
      expect(new Set(ids).size).toBe(ids.length);
      reloaded.clear();
      expect(storage.getItem(CONVERSATION_STORAGE_KEY)).toBeNull();
      expect(open().turns()).toEqual([]);
    });
  });
});
