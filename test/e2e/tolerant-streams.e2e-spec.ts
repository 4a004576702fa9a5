/**
 * A stream that garbles an event is not a broken answer: up to MAX_MALFORMED_EVENTS events that
 * are not JSON are skipped (counted on the attempt, in /metrics, logged once) and the answer
 * completes; a stream that keeps sending garbage fails over before the first byte, or ends with a
 * clean error event after it. Providers run in priority order DeepInfra → Together.
 */
import { PoolEvents, type RequestRecord } from '../../apps/api/src/events/pool-events.service.ts';
import { MAX_MALFORMED_EVENTS } from '../../apps/api/src/providers/sse-payloads.ts';
import { answerText } from '../emulators/answers.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { readSse, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const DEEPINFRA_UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const PROMPT = 'tell me a story';

interface Chunk {
  choices: { delta: { content?: string }; finish_reason: string | null }[];
}
const isChunk = (e: unknown): e is Chunk => typeof e === 'object' && e !== null && 'choices' in e;
const contentOf = (events: unknown[]) =>
  events
    .filter(isChunk)
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');

let emu: Emulator;
let gw: Gateway;
const records: RequestRecord[] = [];

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true, chunks: 6 });
  gw = await startGateway(emu, {
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
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

const stream = () =>
  fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream: true }),
  });

const malformedMetric = async () => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('g4f_upstream_malformed_events_total{provider="DeepInfra"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

it(`skips up to ${MAX_MALFORMED_EVENTS} events that are not JSON and completes the answer, counting them`, async () => {
  const before = await malformedMetric();
  emu.addFault({ provider: 'deepinfra', mode: 'malformedEvents', afterChunks: 2, count: MAX_MALFORMED_EVENTS, times: 1 });
  const res = await stream();
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
  const events = await readSse(res);
  expect(events.at(-1)).toBe('[DONE]');
  expect(events.some((e) => typeof e === 'object' && e !== null && 'error' in e)).toBe(false);
  // The whole answer, from the one provider, nothing of the garbage.
  expect(contentOf(events)).toBe(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT));
  expect(events.filter(isChunk).map((c) => c.choices[0]?.finish_reason)).toContain('stop');
  await new Promise((r) => setTimeout(r, 20));
  expect(records).toHaveLength(1);
  expect(records[0]!.attempts).toEqual([expect.objectContaining({ provider: 'DeepInfra', status: 200, malformed_events: MAX_MALFORMED_EVENTS })]);
  expect(records[0]!.error).toBeNull();
  expect((await malformedMetric()) - before).toBe(MAX_MALFORMED_EVENTS);
});

it('a stream that is garbage before any content fails over: the next provider answers, alone', async () => {
  emu.addFault({ provider: 'deepinfra', mode: 'malformedEvents', afterChunks: 0, count: MAX_MALFORMED_EVENTS + 1, times: 1 });
  const res = await stream();
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe('Together');
  const events = await readSse(res);
  expect(contentOf(events)).toMatch(/^Hello from together \(.+\)\. You said: tell me a story$/);
  await new Promise((r) => setTimeout(r, 20));
  expect(records[0]!.attempts.map((a) => a.provider)).toEqual(['DeepInfra', 'Together']);
  expect(records[0]!.attempts[0]!.reason).toMatch(/not JSON/);
});

it('garbage after content ends the stream with a clean error event, never a second provider’s text', async () => {
  emu.addFault({ provider: 'deepinfra', mode: 'malformedEvents', afterChunks: 2, count: MAX_MALFORMED_EVENTS + 1, times: 1 });
  const res = await stream();
  expect(res.status).toBe(200);
  const events = await readSse(res);
  expect(events.at(-1)).toBe('[DONE]');
  const error = events.at(-2) as { error: { code: string; message: string } };
  expect(error.error.code).toBe('stream_interrupted');
  expect(error.error.message).toMatch(/not JSON/);
  expect(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT).startsWith(contentOf(events))).toBe(true);
  expect(contentOf(events)).not.toContain('together');
});
