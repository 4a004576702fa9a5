/**
 * A request too long for its model (context_length_exceeded) is not resent unchanged: it goes to
 * a catalog model with a larger context (catalog `context_length`; the same family and size
 * preferred), and the answer's `model` names the one that served. Without a larger model it is
 * the clean 400 as before. Shipped catalog: llama-3-8b (8192 tokens) → llama-3.1-8b (131072).
 * Priority Together → DeepInfra.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PoolEvents, type RequestRecord } from '../../apps/api/src/events/pool-events.service.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway, type Gateway } from '../support/gateway.ts';

const SMALL_UPSTREAM = 'meta-llama/Llama-3-8B-Instruct-Turbo';
const LARGE_UPSTREAM = 'meta-llama/Llama-3.1-8B-Instruct-Turbo';
const CONTEXT_MESSAGE = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.";

let emu: Emulator;
let gw: Gateway;
const records: RequestRecord[] = [];

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, {
    ROUTING_STRATEGY: 'priority',
    TOGETHER_PRIORITY: '1',
    DEEPINFRA_PRIORITY: '2',
    HUGGINGFACE_ENABLED: 'false',
    POLLINATIONS_ENABLED: 'false',
    CLOUDFLARE_ENABLED: 'false',
    BREAKER_FAILURE_THRESHOLD: '1000',
  });
  gw.app.get(PoolEvents).requests.subscribe((r) => records.push(r));
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => {
  emu.reset();
  records.length = 0;
});

const chat = (model: string, stream: boolean) =>
  postJson(`${gw.baseURL}/chat/completions`, { model, stream, messages: [{ role: 'user', content: 'a very long prompt' }] });

const recorded = async () => {
  for (let i = 0; i < 50 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return records[0]!;
};

describe.each([
  ['non-stream', false],
  ['stream', true],
] as const)('%s', (_label, stream) => {
  it('a request too long for llama-3-8b is answered by llama-3.1-8b, and the answer says so', async () => {
    emu.addFault({ provider: 'together', mode: 'status', status: 400, message: CONTEXT_MESSAGE, model: SMALL_UPSTREAM });
    const res = await chat('llama-3-8b', stream);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-upstream-model')).toBe(LARGE_UPSTREAM);
    if (stream) {
      const events = await readSse(res);
      expect(events.at(-1)).toBe('[DONE]');
      expect((events[0] as { model: string }).model).toBe(LARGE_UPSTREAM);
    } else {
      expect(((await res.json()) as { model: string }).model).toBe(LARGE_UPSTREAM);
    }
    // Never resent unchanged: one try of the small model, then the larger one.
    expect(emu.requests('together').map((r) => (r.body as { model: string }).model)).toEqual([SMALL_UPSTREAM, LARGE_UPSTREAM]);
    expect(emu.requests('deepinfra')).toHaveLength(0);
    const record = await recorded();
    expect(record.attempts.map((a) => [a.upstream_model, a.status])).toEqual([
      [SMALL_UPSTREAM, 400],
      [LARGE_UPSTREAM, 200],
    ]);
  });
});

it('when the larger model is too small as well, and none is larger still, the clean 400', async () => {
  emu.addFault({ provider: 'together', mode: 'status', status: 400, message: CONTEXT_MESSAGE });
  emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, message: CONTEXT_MESSAGE });
  const res = await chat('llama-3-8b', false);
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { code: string; attempts: { upstream_model: string }[] } };
  expect(body.error.code).toBe('context_length_exceeded');
  // llama-3-8b, then llama-3.1-8b: no catalog model has more than its 131072 tokens.
  expect(body.error.attempts.map((a) => a.upstream_model)).toEqual([SMALL_UPSTREAM, LARGE_UPSTREAM]);
});

it.each([
  [{ context_length: 0 }, /models\[0\]\.context_length: expected a whole number of tokens/],
  [{ context_length: '8k' }, /models\[0\]\.context_length: expected a whole number of tokens/],
  [{ family: '' }, /models\[0\]\.family: expected a name/],
])('a catalog file with %j stops the gateway from starting', async (bad, message) => {
  const file = join(mkdtempSync(join(tmpdir(), 'g4f-context-')), 'catalog.json');
  writeFileSync(file, JSON.stringify({ models: [{ id: 'bad', label: 'Bad', owned_by: 'x', category: 'chat', routes: [], ...bad }] }));
  await expect(startGateway(emu, { CATALOG_FILE: file })).rejects.toThrow(message);
});
