/**
 * Stream resumption (STREAM_RESUME): a chat stream cut or stalled after content continues on
 * another route that takes the text already sent as a trailing assistant message (prefill). The
 * client sees one answer: one id, the prefix then the continuation, one finish, usage for the
 * whole. A route that refuses the prefill (400) is remembered and the client gets the clean
 * mid-stream error; tool streams are not resumed; without STREAM_RESUME nothing changes.
 *
 * Providers run in priority order DeepInfra → Together → HuggingFace; the emulator's Together and
 * HuggingFace continue (or refuse) a trailing assistant message on command (setPrefill).
 */
import { PoolEvents, type RequestRecord } from '../../apps/api/src/events/pool-events.service.ts';
import { countTextTokens } from '../../apps/api/src/usage/token-counter.ts';
import { answerText, continuationText, estimateTokens, splitText } from '../emulators/answers.ts';
import { startEmulator, type Emulator, type ProviderId } from '../emulators/emulator.ts';
import { readSse, startGateway, type Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const UPSTREAM: Partial<Record<ProviderId, string>> = {
  deepinfra: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
  together: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
  huggingface: 'meta-llama/Llama-3.3-70B-Instruct',
};
const PROMPT = 'tell me a story';
const CHUNKS = 5;
const IDLE_MS = 300;

interface Chunk {
  id: string;
  choices: { delta: { content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}
interface ErrorEvent {
  error: { message: string; code: string };
}
const isChunk = (e: unknown): e is Chunk => typeof e === 'object' && e !== null && 'choices' in e;
const isError = (e: unknown): e is ErrorEvent => typeof e === 'object' && e !== null && 'error' in e;
const contentOf = (events: unknown[]) =>
  events
    .filter(isChunk)
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What DeepInfra sent before a break after `chunks` content chunks. */
const prefixOf = (chunks: number) =>
  splitText(answerText('deepinfra', UPSTREAM.deepinfra!, PROMPT), CHUNKS)
    .slice(0, chunks)
    .join('');
/** What `provider` sends to continue `prefix`. */
const continuationBy = (provider: ProviderId, prefix: string) => continuationText(provider, answerText(provider, UPSTREAM[provider]!, PROMPT), prefix);
/** The requests to `provider` that asked it to continue an answer. */
const prefillRequests = (emu: Emulator, provider: ProviderId) =>
  emu.requests(provider).filter((r) => (r.body as { messages: { role: string }[] }).messages.at(-1)?.role === 'assistant');

interface Setup {
  emu: Emulator;
  gw: Gateway;
  records: RequestRecord[];
}

async function setUp(env: Record<string, string>): Promise<Setup> {
  const emu = await startEmulator({ zeroLatency: true, chunks: CHUNKS });
  const gw = await startGateway(emu, {
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
    HUGGINGFACE_PRIORITY: '3',
    POLLINATIONS_ENABLED: 'false',
    CLOUDFLARE_ENABLED: 'false',
    BREAKER_FAILURE_THRESHOLD: '1000',
    UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_MS),
    ...env,
  });
  const records: RequestRecord[] = [];
  gw.app.get(PoolEvents).requests.subscribe((r) => records.push(r));
  return { emu, gw, records };
}

async function tearDown(s: Setup | undefined): Promise<void> {
  await s?.gw.close();
  await s?.emu.close();
}

function stream(s: Setup, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${s.gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream: true, stream_options: { include_usage: true }, ...extra }),
  });
}

/** The request's record, once the gateway has written it. */
async function recordOf(s: Setup): Promise<RequestRecord> {
  for (let i = 0; i < 50 && s.records.length === 0; i++) await sleep(10);
  expect(s.records).toHaveLength(1);
  return s.records[0]!;
}

describe('STREAM_RESUME=true', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp({ STREAM_RESUME: 'true', STREAM_RESUME_PROVIDERS: 'together, HuggingFace' });
  });
  afterAll(() => tearDown(s));
  beforeEach(() => {
    s.emu.reset();
    s.records.length = 0;
    s.emu.setPrefill('together', 'continue');
    s.emu.setPrefill('huggingface', 'continue');
  });

  it('a stream cut after content continues on the next route that takes prefill: one id, prefix + continuation, usage for the whole', async () => {
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const res = await stream(s);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.some(isError)).toBe(false);

    const prefix = prefixOf(2);
    const continuation = continuationBy('together', prefix);
    expect(contentOf(events)).toBe(prefix + continuation);
    const chunks = events.filter(isChunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter((f) => f)).toEqual(['stop']);

    // Together was asked to continue: the conversation, then the text already sent as the assistant's.
    const [asked] = prefillRequests(s.emu, 'together');
    expect((asked!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: PROMPT },
      { role: 'assistant', content: prefix },
    ]);

    // Usage: Together's total, its prompt's prefill counted as completion, not prompt.
    const upstreamPrompt = estimateTokens(`${PROMPT}\n${prefix}`);
    const upstreamCompletion = estimateTokens(continuation);
    const prefixTokens = countTextTokens(prefix);
    const usage = chunks.at(-1)!.usage!;
    expect(usage).toEqual({
      prompt_tokens: upstreamPrompt - prefixTokens,
      completion_tokens: upstreamCompletion + prefixTokens,
      total_tokens: upstreamPrompt + upstreamCompletion,
    });

    // The log shows both attempts and where the second picked up.
    const record = await recordOf(s);
    expect(record.status).toBe(200);
    expect(record.error).toBeNull();
    expect(record.attempts).toEqual([
      expect.objectContaining({ provider: 'DeepInfra', status: 200 }),
      expect.objectContaining({ provider: 'Together', status: 200, resumed_after: { chars: prefix.length, tokens: prefixTokens, reason: expect.any(String) } }),
    ]);
    expect(record.usage).toEqual(usage);
  });

  it('a stream that stalls after content (idle timeout) is resumed the same way', async () => {
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamStall', afterChunks: 3, times: 1 });
    const started = performance.now();
    const events = await readSse(await stream(s));
    expect(performance.now() - started).toBeLessThan(IDLE_MS + 2000);
    const prefix = prefixOf(3);
    expect(contentOf(events)).toBe(prefix + continuationBy('together', prefix));
    expect(events.some(isError)).toBe(false);
    const record = await recordOf(s);
    expect(record.attempts[1]).toMatchObject({
      provider: 'Together',
      resumed_after: { chars: prefix.length, reason: expect.stringMatching(/timeout|idle|silent/i) },
    });
  });

  it('resumes once by default: a continuation that breaks too ends with the clean mid-stream error', async () => {
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    s.emu.addFault({ provider: 'together', mode: 'midStreamCut', afterChunks: 1, times: 1 });
    const events = await readSse(await stream(s));
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.filter(isError).map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(contentOf(events).startsWith(prefixOf(2))).toBe(true);
    expect(prefillRequests(s.emu, 'huggingface')).toHaveLength(0);
  });

  it('a continuation that breaks is named in the error and the log, not the provider that opened the stream', async () => {
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    s.emu.addFault({ provider: 'together', mode: 'midStreamCut', afterChunks: 1, times: 1 });
    const res = await stream(s);
    // The stream opened on DeepInfra: its headers say so.
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    const errors = (await readSse(res)).filter(isError);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.message).toMatch(/^The upstream provider Together failed mid-stream: /);
    const record = await recordOf(s);
    expect(record.error).toMatch(/^The upstream provider Together failed mid-stream: /);
    expect(record.attempts.map((a) => a.provider)).toEqual(['DeepInfra', 'Together']);
  });

  it('a stream that offered tools is not resumed: the clean mid-stream error, no prefill sent', async () => {
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const tools = [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } }];
    const events = await readSse(await stream(s, { tools }));
    expect(events.filter(isError).map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(contentOf(events)).toBe(prefixOf(2));
    expect(prefillRequests(s.emu, 'together')).toHaveLength(0);
  });

  it('through /v1/messages too: one message, its text the prefix then the continuation', async () => {
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const res = await fetch(`${s.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 200, stream: true, messages: [{ role: 'user', content: PROMPT }] }),
    });
    expect(res.status).toBe(200);
    const events = (await readSse(res)) as { type: string; delta?: { type?: string; text?: string; stop_reason?: string } }[];
    const text = events
      .filter((e) => e.type === 'content_block_delta' && e.delta?.type === 'text_delta')
      .map((e) => e.delta!.text)
      .join('');
    const prefix = prefixOf(2);
    expect(text).toBe(prefix + continuationBy('together', prefix));
    expect(events.filter((e) => e.type === 'message_start')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'error')).toHaveLength(0);
    expect(events.find((e) => e.type === 'message_delta')?.delta?.stop_reason).toBe('end_turn');
  });

  it('a cut before any content still fails over as before (no prefill)', async () => {
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 0, times: 1 });
    const res = await stream(s);
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    expect(contentOf(await readSse(res))).toBe(answerText('together', UPSTREAM.together!, PROMPT));
    expect(prefillRequests(s.emu, 'together')).toHaveLength(0);
  });
});

describe('a route that refuses prefill', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp({ STREAM_RESUME: 'true', STREAM_RESUME_PROVIDERS: 'Together' });
  });
  afterAll(() => tearDown(s));

  it('ends the stream with the clean mid-stream error, never its 400, and is not asked again', async () => {
    s.emu.setPrefill('together', 'reject');
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 2 });
    const events = await readSse(await stream(s));
    expect(events.at(-1)).toBe('[DONE]');
    const errors = events.filter(isError);
    expect(errors.map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(errors[0]!.error.message).toMatch(/DeepInfra failed mid-stream/);
    expect(contentOf(events)).toBe(prefixOf(2));
    expect(prefillRequests(s.emu, 'together')).toHaveLength(1);
    const record = await recordOf(s);
    expect(record.attempts).toEqual([
      expect.objectContaining({ provider: 'DeepInfra', status: 200 }),
      expect.objectContaining({ provider: 'Together', status: 400 }),
    ]);

    // Learned: the next break is not offered to Together at all.
    s.records.length = 0;
    const again = await readSse(await stream(s));
    expect(again.filter(isError).map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(prefillRequests(s.emu, 'together')).toHaveLength(1);
  });
});

describe('a refusal then a route that continues', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp({ STREAM_RESUME: 'true', STREAM_RESUME_PROVIDERS: 'Together,HuggingFace' });
  });
  afterAll(() => tearDown(s));

  it('the next route that takes prefill mends the break', async () => {
    s.emu.setPrefill('together', 'reject');
    s.emu.setPrefill('huggingface', 'continue');
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const events = await readSse(await stream(s));
    const prefix = prefixOf(2);
    expect(contentOf(events)).toBe(prefix + continuationBy('huggingface', prefix));
    expect(events.some(isError)).toBe(false);
    const record = await recordOf(s);
    expect(record.attempts.map((a) => [a.provider, a.status])).toEqual([
      ['DeepInfra', 200],
      ['Together', 400],
      ['HuggingFace', 200],
    ]);
  });
});

describe('STREAM_RESUME unset', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp({ STREAM_RESUME_PROVIDERS: 'Together' });
  });
  afterAll(() => tearDown(s));

  it('a cut after content ends with the clean mid-stream error, as before', async () => {
    s.emu.setPrefill('together', 'continue');
    s.emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const events = await readSse(await stream(s));
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.filter(isError).map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(contentOf(events)).toBe(prefixOf(2));
    expect(s.emu.requests('together')).toHaveLength(0);
  });
});
