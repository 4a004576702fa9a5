import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Request } from 'express';
import { loadConfig } from '../config/app-config.ts';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.ts';
import type { ClientKeyRequest } from './api-key.guard.ts';
import { ResponseIds, messageItem, responseObject, type ResponseObject } from './responses-output.ts';
import { ResponsesStore, recordJson } from './responses-store.ts';

const echo = {
  instructions: null,
  max_output_tokens: null,
  model: 'm',
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  store: true,
  temperature: 1,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: 1,
  metadata: {},
  user: undefined,
};

function response(text: string): ResponseObject {
  const ids = new ResponseIds();
  return { ...responseObject(ids, 1, echo), status: 'completed', output: [messageItem(ids.item('message'), text, 'completed')] };
}

const request = (headers: Record<string, string>, clientKeyId?: string) => ({ headers, clientKeyId }) as unknown as ClientKeyRequest & Request;

let storage: SqliteStorage;

beforeEach(async () => {
  storage = new SqliteStorage({ file: ':memory:' });
  await storage.init();
});

afterEach(() => storage.close());

describe('ResponsesStore', () => {
  it('scopes responses by client key: a console key by id, an API_KEY key by a digest, none when no key is configured', () => {
    const keyed = new ResponsesStore(storage, loadConfig({ API_KEY: 'sk-one,sk-two' }));
    const a = keyed.ownerOf(request({ authorization: 'Bearer sk-one' }));
    const b = keyed.ownerOf(request({ authorization: 'Bearer sk-two' }));
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk-one');
    expect(keyed.ownerOf(request({ 'x-api-key': 'sk-one' }))).toBe(a);
    expect(keyed.ownerOf(request({ authorization: 'Bearer sk-g4f-x' }, 'ck_7'))).toBe('key:ck_7');
    expect(new ResponsesStore(storage, loadConfig({})).ownerOf(request({ authorization: 'Bearer anything' }))).toBe('open');
  });

  it('keeps a response for its owner only, for RESPONSES_TTL_SECONDS', async () => {
    const store = new ResponsesStore(storage, loadConfig({ RESPONSES_TTL_SECONDS: '60' }));
    const r = response('Hello');
    const now = Date.now();
    await store.save({ response: r, conversation: [{ role: 'user', content: 'Hi' }] }, 'key:a');
    expect(await store.load(r.id, 'key:a')).toEqual({ response: r, conversation: [{ role: 'user', content: 'Hi' }] });
    expect(await store.load(r.id, 'key:b')).toBeUndefined();
    expect(await store.remove(r.id, 'key:b')).toBe(false);
    const stored = await storage.responses.get(r.id, now);
    expect(stored!.expiresAt).toBeGreaterThanOrEqual(now + 60_000);
    expect(stored!.expiresAt).toBeLessThan(now + 61_000);
    expect(await store.references([r.output[0]!.id], 'key:a')).toEqual(new Map([[r.output[0]!.id, r.output[0]]]));
    await expect(store.references([r.output[0]!.id], 'key:b')).rejects.toMatchObject({ status: 404, param: 'input' });
    expect(await store.remove(r.id, 'key:a')).toBe(true);
    expect(await store.load(r.id, 'key:a')).toBeUndefined();
  });

  it('stores nothing over RESPONSES_MAX_STORED_BYTES, and says so in one bounded line', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const store = new ResponsesStore(storage, loadConfig({ RESPONSES_MAX_STORED_BYTES: '2kb' }));
      const big = response('x'.repeat(4096));
      await store.save({ response: big, conversation: [] }, 'open');
      expect(await store.load(big.id, 'open')).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('RESPONSES_MAX_STORED_BYTES'));
      const small = response('ok');
      await store.save({ response: small, conversation: [] }, 'open');
      expect((await store.load(small.id, 'open'))?.response).toEqual(small);
    } finally {
      warn.mockRestore();
    }
  });

  it('never rejects a save: a failed write is logged, the client has its answer anyway', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const store = new ResponsesStore(storage, loadConfig({}));
      await storage.close();
      await expect(store.save({ response: response('Hi'), conversation: [] }, 'open')).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('not stored'));
    } finally {
      warn.mockRestore();
    }
  });

  it('writes the saves of one turn in one batch, and reads a saved response before its batch is written', async () => {
    const put = jest.spyOn(storage.responses, 'put');
    const store = new ResponsesStore(storage, loadConfig({}));
    const answers = Array.from({ length: 5 }, (_, i) => response(`answer ${i}`));
    const saved = answers.map((r) => store.save({ response: r, conversation: [] }, 'key:a'));
    // Not written yet, yet this process finds each one, for its owner only.
    expect(put).not.toHaveBeenCalled();
    expect((await store.load(answers[2]!.id, 'key:a'))?.response).toEqual(answers[2]);
    expect(await store.load(answers[2]!.id, 'key:b')).toBeUndefined();
    await Promise.all(saved);
    expect(put).toHaveBeenCalledTimes(1);
    expect(put.mock.calls[0]![0].map((w) => w.id)).toEqual(answers.map((r) => r.id));
    for (const r of answers) expect((await storage.responses.get(r.id, Date.now()))?.document).toEqual({ response: r, conversation: [] });
  });

  it('deletes a response saved in this very turn, and shutdown writes what is still gathered', async () => {
    const store = new ResponsesStore(storage, loadConfig({}));
    const gone = response('gone');
    const kept = response('kept');
    void store.save({ response: gone, conversation: [] }, 'open');
    expect(await store.remove(gone.id, 'open')).toBe(true);
    expect(await store.load(gone.id, 'open')).toBeUndefined();
    void store.save({ response: kept, conversation: [] }, 'open');
    await store.beforeApplicationShutdown();
    expect((await storage.responses.get(kept.id, Date.now()))?.document).toEqual({ response: kept, conversation: [] });
  });

  it('rebuilds a conversation from its chain of turns, each record holding one turn, and extends the turns it is built from', async () => {
    const store = new ResponsesStore(storage, loadConfig({ RESPONSES_TTL_SECONDS: '3600' }));
    const [r1, r2, r3] = [response('one'), response('two'), response('three')];
    const user = (content: string) => ({ role: 'user' as const, content });
    const assistant = (content: string) => ({ role: 'assistant' as const, content });
    // The first was written by an older gateway: the whole conversation in one record.
    await store.save({ response: r1, conversation: [user('a'), assistant('one')] }, 'k');
    // The second as written for a while: input and output in `turn`.
    await store.save({ response: r2, turn: [user('b'), assistant('two')], previous: r1.id }, 'k', [r1.id]);
    const before = await store.conversation(r2.id, 'k');
    // Now: the input only; the output is the response's own.
    await store.save({ response: r3, asked: [user('c')], previous: r2.id }, 'k', before!.chain);
    const whole = await store.conversation(r3.id, 'k');
    expect(whole).toEqual({
      messages: [user('a'), assistant('one'), user('b'), assistant('two'), user('c'), assistant('three')],
      chain: [r3.id, r2.id, r1.id],
    });
    // One turn per record: the newest does not repeat the earlier ones.
    expect(JSON.stringify((await storage.responses.get(r3.id, Date.now()))!.document)).not.toContain('"two"');
    expect(await store.conversation(r3.id, 'other')).toBeUndefined();
    expect(await store.conversation('resp_missing', 'k')).toBeUndefined();
  });

  it('pushes out the expiry of the turns a new one is built from, and refuses a conversation with a turn gone', async () => {
    const store = new ResponsesStore(storage, loadConfig({ RESPONSES_TTL_SECONDS: '3600' }));
    const [r1, r2, r3] = [response('one'), response('two'), response('three')];
    await store.save({ response: r1, turn: [] }, 'k');
    const now = Date.now();
    // As if r1 were written long ago: it expires in a minute.
    await storage.responses.put([{ id: r1.id, owner: 'k', expiresAt: now + 60_000, json: JSON.stringify({ response: r1, turn: [] }) }]);
    await store.save({ response: r2, turn: [], previous: r1.id }, 'k', [r1.id]);
    await new Promise((r) => setTimeout(r, 50));
    expect((await storage.responses.get(r1.id, now))!.expiresAt).toBeGreaterThanOrEqual(now + 3_600_000);

    await store.save({ response: r3, turn: [], previous: r2.id }, 'k', [r2.id, r1.id]);
    expect(await store.remove(r2.id, 'k')).toBe(true);
    await expect(store.conversation(r3.id, 'k')).rejects.toMatchObject({ status: 400, param: 'previous_response_id', code: 'previous_response_not_found' });
  });
  it('writes a busy moment in small writes, a large document alone, and every saved response is stored', async () => {
    const store = new ResponsesStore(storage, loadConfig({ RESPONSES_MAX_STORED_BYTES: '1mb' }));
    const put = jest.spyOn(storage.responses, 'put');
    const small = Array.from({ length: 200 }, (_, i) => response(`answer ${i}`));
    const large = [response('x'.repeat(300_000)), response('y'.repeat(300_000))];
    await Promise.all([...small, ...large].map((r) => store.save({ response: r, conversation: [] }, 'open')));
    const sizes = put.mock.calls.map(([batch]) => batch.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(202);
    // At most 128 responses a write (what the storage thread's transactions are sized for).
    expect(Math.max(...sizes)).toBeLessThanOrEqual(128);
    expect(sizes.length).toBeGreaterThanOrEqual(4);
    for (const [batch] of put.mock.calls) {
      if (batch.length > 1) expect(batch.reduce((n, w) => n + w.json.length, 0)).toBeLessThanOrEqual(256 * 1024);
    }
    for (const r of [...small, ...large]) expect((await storage.responses.get(r.id, Date.now()))?.id).toBe(r.id);
  });
});

describe('recordJson', () => {
  it('is the record’s JSON with the response spliced in as given, whatever else the record holds', () => {
    const r = response('héllo "quoted" \u2028 text');
    const records = [
      { response: r },
      { response: r, asked: [{ role: 'user' as const, content: 'hi' }], previous: 'resp_0', input: [] },
      { response: r, asked: undefined, previous: undefined },
    ];
    for (const record of records) {
      const json = recordJson(record, JSON.stringify(r));
      expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(record)));
    }
  });

  it('stores what a stream made once, and GET reads it back whole', async () => {
    const store = new ResponsesStore(storage, loadConfig({}));
    const r = response('streamed');
    await store.save({ response: r, asked: [{ role: 'user', content: 'q' }] }, 'open', [], JSON.stringify(r));
    expect(await store.load(r.id, 'open')).toEqual({ response: r, asked: [{ role: 'user', content: 'q' }] });
    const stored = await storage.responses.get(r.id, Date.now());
    expect(stored?.document).toEqual({ response: r, asked: [{ role: 'user', content: 'q' }] });
  });
});
