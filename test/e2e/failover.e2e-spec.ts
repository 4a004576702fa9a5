/**
 * Failover before the first byte: every upstream fault mode on the first candidate is
 * absorbed by the next one, and a request that fails everywhere gets a real HTTP error
 * that lists each attempt.
 *
 * Routing is made deterministic with ROUTING_STRATEGY=priority:
 * DeepInfra (1) → Together (2) → HuggingFace (3) → PollinationsAI (4) for `llama-3.3-70b`.
 * The provider breaker threshold is high and key cooldowns are tiny so one test's faults
 * never leak into the next; afterEach proves DeepInfra serves again before moving on.
 */
import { answerText } from '../emulators/answers.ts';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, Fault, ProviderId } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const MODEL = 'llama-3.3-70b';
const PROMPT = 'failover please';
const FIRST_BYTE_MS = 300;

/** The candidates of MODEL in priority order, as the gateway names them. */
const CANDIDATES: readonly { id: ProviderId; name: string; upstream: string }[] = [
  { id: 'deepinfra', name: 'DeepInfra', upstream: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' },
  { id: 'together', name: 'Together', upstream: 'meta-llama/Llama-3.3-70B-Instruct-Turbo' },
  { id: 'huggingface', name: 'HuggingFace', upstream: 'meta-llama/Llama-3.3-70B-Instruct' },
  { id: 'pollinations', name: 'PollinationsAI', upstream: 'llama' },
];
const [DEEPINFRA, TOGETHER] = CANDIDATES as [(typeof CANDIDATES)[number], (typeof CANDIDATES)[number]];

interface Attempt {
  provider: string;
  upstream_model: string;
  status: number | null;
  reason: string;
  latency_ms: number;
}
interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null; attempts?: Attempt[] };
}
interface Completion {
  choices: { message: { role: string; content: string | null }; finish_reason: string }[];
}
interface StreamChunk {
  choices: { delta: { content?: string | null }; finish_reason: string | null }[];
}

let emu: Emulator;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu, {
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
    HUGGINGFACE_PRIORITY: '3',
    POLLINATIONS_PRIORITY: '4',
    CLOUDFLARE_PRIORITY: '5',
    UPSTREAM_CONNECT_TIMEOUT_MS: '300',
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_MS),
    UPSTREAM_IDLE_TIMEOUT_MS: '300',
    UPSTREAM_TIMEOUT_MS: '3000',
    // Failures must not open provider breakers here (breaker.e2e-spec covers that) …
    BREAKER_FAILURE_THRESHOLD: '1000',
    BREAKER_COOLDOWN_MS: '1',
    BREAKER_MAX_COOLDOWN_MS: '10',
    // … and a key that answered 401/402/403 is usable again almost at once.
    KEY_AUTH_COOLDOWN_MS: '1',
  });
});

afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

afterEach(async () => {
  emu.clearFaults();
  await waitUntilAllServe();
  emu.reset();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function chat(stream: boolean): Promise<Response> {
  return postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream });
}

/**
 * A transient fault must not leave a provider out of rotation for longer than its cooldown:
 * each candidate, pinned with the `provider` field, must serve again soon (this also keeps
 * one test's cooldowns from leaking into the next).
 */
async function waitUntilAllServe(withinMs = 2500): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (const c of CANDIDATES) {
    for (;;) {
      const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, provider: c.name, messages: [{ role: 'user', content: PROMPT }] });
      await res.arrayBuffer();
      const last = `${res.status} ${res.headers.get('x-pool-provider')}`;
      if (res.status === 200 && res.headers.get('x-pool-provider') === c.name) break;
      if (Date.now() > deadline) throw new Error(`${c.name} did not serve again within ${withinMs} ms (last: ${last})`);
      await sleep(25);
    }
  }
}

function faultAll(fault: Omit<Fault, 'provider'>, providers: readonly ProviderId[] = CANDIDATES.map((c) => c.id)): void {
  for (const provider of providers) emu.addFault({ ...fault, provider });
}

/** Checks a successful answer (stream or not) came wholly from `from`, and returns nothing else. */
async function expectAnswerFrom(res: Response, stream: boolean, from: (typeof CANDIDATES)[number]): Promise<void> {
  const expected = answerText(from.id, from.upstream, PROMPT);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe(from.name);
  expect(res.headers.get('x-pool-upstream-model')).toBe(from.upstream);
  if (!stream) {
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const completion = (await res.json()) as Completion;
    expect(completion.choices[0]?.message.content).toBe(expected);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    return;
  }
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = await readSse(res);
  expect(events.at(-1)).toBe('[DONE]');
  const chunks = events.slice(0, -1);
  expect(chunks.length).toBeGreaterThan(1);
  const text = (chunks as StreamChunk[]).map((c) => c.choices[0]?.delta.content ?? '').join('');
  expect(text).toBe(expected);
  expect((chunks as StreamChunk[]).filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
}

/** Checks an all-failed answer: an HTTP error with OpenAI's JSON envelope (never an SSE 200). */
async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('x-pool-provider')).toBeNull();
  const body: unknown = await res.json();
  expectSchema('ErrorResponse', body);
  const error = (body as ErrorBody).error;
  expect(error.code).toBe(code);
  return body as ErrorBody;
}

/**
 * Every candidate shows up once in error.attempts and by name in the message; with `lastRetried`,
 * the last one twice: a passing failure (5xx, network) on the only route left is retried once.
 */
function expectAttemptsListed(body: ErrorBody, expected: readonly { status: number | null; reason: RegExp }[], lastRetried = false): void {
  const attempts = body.error.attempts ?? [];
  const routes = lastRetried ? [...CANDIDATES, CANDIDATES.at(-1)!] : CANDIDATES;
  expect(attempts.map((a) => [a.provider, a.upstream_model])).toEqual(routes.map((c) => [c.name, c.upstream]));
  expect(attempts).toHaveLength(expected.length);
  attempts.forEach((attempt, i) => {
    const want = expected[i]!;
    expect(attempt.status).toBe(want.status);
    expect(attempt.reason).toMatch(want.reason);
    expect(typeof attempt.latency_ms).toBe('number');
  });
  for (const c of CANDIDATES) {
    expect(body.error.message).toContain(c.name);
    expect(body.error.message).toContain(c.upstream);
  }
}

interface FaultCase {
  name: string;
  fault: Omit<Fault, 'provider'>;
}

const FIRST_PROVIDER_FAULTS: readonly FaultCase[] = [
  { name: 'HTTP 500', fault: { mode: 'status', status: 500 } },
  { name: 'HTTP 503', fault: { mode: 'status', status: 503 } },
  { name: 'HTTP 429 with Retry-After', fault: { mode: 'status', status: 429, retryAfter: 1 } },
  { name: 'HTTP 401', fault: { mode: 'status', status: 401 } },
  { name: 'HTTP 402', fault: { mode: 'status', status: 402 } },
  { name: 'HTTP 403', fault: { mode: 'status', status: 403 } },
  { name: 'HTTP 408', fault: { mode: 'status', status: 408 } },
  { name: 'HTTP 400', fault: { mode: 'status', status: 400, message: 'this provider dislikes the request' } },
  { name: 'hang (first-byte timeout)', fault: { mode: 'hang' } },
  { name: 'connection reset', fault: { mode: 'reset' } },
  { name: 'HTML challenge page with 200', fault: { mode: 'html200' } },
  { name: 'garbage body with 200', fault: { mode: 'garbage200' } },
  { name: 'empty 200', fault: { mode: 'empty200' } },
  { name: 'slow first byte beyond the timeout', fault: { mode: 'slowFirstByte', delayMs: FIRST_BYTE_MS * 3 } },
];

describe('a fault on the first provider fails over to the next', () => {
  describe.each([
    ['non-stream', false],
    ['stream', true],
  ] as const)('%s', (_label, stream) => {
    it.each(FIRST_PROVIDER_FAULTS)('$name', async ({ fault }) => {
      emu.addFault({ ...fault, provider: 'deepinfra', times: 1 });
      const res = await chat(stream);
      await expectAnswerFrom(res, stream, TOGETHER);
      // DeepInfra was really tried (once), Together answered, nobody else was bothered.
      expect(emu.requests('deepinfra')).toHaveLength(1);
      expect(emu.requests('together')).toHaveLength(1);
      expect(emu.requests('huggingface')).toHaveLength(0);
      expect(emu.requests('pollinations')).toHaveLength(0);
    });

    it('a slow first byte below the timeout is not a failure', async () => {
      emu.addFault({ provider: 'deepinfra', mode: 'slowFirstByte', delayMs: Math.floor(FIRST_BYTE_MS / 3), times: 1 });
      const started = Date.now();
      const res = await chat(stream);
      await expectAnswerFrom(res, stream, DEEPINFRA);
      expect(Date.now() - started).toBeGreaterThanOrEqual(Math.floor(FIRST_BYTE_MS / 3) - 20);
      expect(emu.requests('deepinfra')).toHaveLength(1);
      expect(emu.requests('together')).toHaveLength(0);
    });
  });

  it('a non-stream body cut off halfway (nothing sent to the client yet) fails over', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', times: 1 });
    await expectAnswerFrom(await chat(false), false, TOGETHER);
    expect(emu.requests('deepinfra')).toHaveLength(1);
  });

  it('an answer served after failover is a valid OpenAI completion / chunk stream', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 2 });
    const plain = await chat(false);
    expect(plain.headers.get('x-pool-provider')).toBe(TOGETHER.name);
    expectSchema('CreateChatCompletionResponse', await plain.json());
    const streamed = await chat(true);
    expect(streamed.headers.get('x-pool-provider')).toBe(TOGETHER.name);
    const events = await readSse(streamed);
    expect(events.at(-1)).toBe('[DONE]');
    for (const chunk of events.slice(0, -1)) expectSchema('CreateChatCompletionStreamResponse', chunk);
  });

  it('skips several failing providers in a row and answers from the first healthy one', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    emu.addFault({ provider: 'together', mode: 'html200', times: 1 });
    emu.addFault({ provider: 'huggingface', mode: 'reset', times: 1 });
    const res = await chat(true);
    await expectAnswerFrom(res, true, CANDIDATES[3]!);
    for (const c of CANDIDATES) expect(emu.requests(c.id)).toHaveLength(1);
  });
});

describe('when every candidate fails', () => {
  it("the all-rate-limited 429 passes on the upstreams' Retry-After", async () => {
    faultAll({ mode: 'status', status: 429, retryAfter: 1 });
    const res = await chat(false);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = await expectError(res, 429, 'rate_limit_exceeded');
    // Every candidate once, and the last once more after waiting out its short Retry-After
    // (retries.e2e-spec.ts): nothing else was ready sooner.
    expect(body.error.attempts?.map((a) => a.status)).toEqual([...CANDIDATES.map(() => 429), 429]);
    expect(body.error.attempts?.at(-1)?.provider).toBe(CANDIDATES.at(-1)!.name);
  });

  describe.each([
    ['non-stream', false],
    ['stream', true],
  ] as const)('%s', (_label, stream) => {
    it('answers 502 all_providers_failed listing each attempt', async () => {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500 });
      emu.addFault({ provider: 'together', mode: 'reset' });
      emu.addFault({ provider: 'huggingface', mode: 'html200' });
      emu.addFault({ provider: 'pollinations', mode: 'status', status: 503 });
      const body = await expectError(await chat(stream), 502, 'all_providers_failed');
      expect(body.error.type).toBe('upstream_error');
      expectAttemptsListed(
        body,
        [
          { status: 500, reason: /^HTTP 500/ },
          { status: null, reason: /^network/ },
          { status: null, reason: /^invalid: .*HTML/ },
          { status: 503, reason: /^HTTP 503/ },
          { status: 503, reason: /^HTTP 503/ },
        ],
        true,
      );
      expect(body.error.message).toMatch(/500/);
      expect(body.error.message).toMatch(/503/);
      // Pollinations, the last route, was tried twice: its 503 might have been a blink.
      for (const c of CANDIDATES) expect(emu.requests(c.id)).toHaveLength(c.id === 'pollinations' ? 2 : 1);
    });

    it('answers 502 when every candidate answers 200 with something that is not an answer', async () => {
      emu.addFault({ provider: 'deepinfra', mode: 'empty200' });
      emu.addFault({ provider: 'together', mode: 'garbage200' });
      emu.addFault({ provider: 'huggingface', mode: 'html200' });
      emu.addFault({ provider: 'pollinations', mode: 'empty200' });
      const body = await expectError(await chat(stream), 502, 'all_providers_failed');
      expectAttemptsListed(
        body,
        CANDIDATES.map(() => ({ status: null, reason: /^invalid/ })),
      );
    });

    it('answers 504 upstream_timeout when every candidate hangs', async () => {
      faultAll({ mode: 'hang' });
      const started = Date.now();
      const body = await expectError(await chat(stream), 504, 'upstream_timeout');
      expect(body.error.type).toBe('timeout_error');
      expectAttemptsListed(
        body,
        CANDIDATES.map(() => ({ status: null, reason: /^timeout/ })),
      );
      // Each attempt gave up at the first-byte timeout, not at the much longer total timeout.
      expect(Date.now() - started).toBeLessThan(CANDIDATES.length * FIRST_BYTE_MS + 1500);
      for (const a of body.error.attempts ?? []) expect(a.latency_ms).toBeGreaterThanOrEqual(FIRST_BYTE_MS - 50);
    });

    it('answers 429 when every candidate is rate-limited', async () => {
      faultAll({ mode: 'status', status: 429 });
      const body = await expectError(await chat(stream), 429, 'rate_limit_exceeded');
      expectAttemptsListed(
        body,
        CANDIDATES.map(() => ({ status: 429, reason: /^HTTP 429/ })),
      );
    });

    it("answers 400 carrying the upstream's message when every candidate rejects the request", async () => {
      const message = 'messages[0].content: this prompt is not acceptable upstream';
      faultAll({ mode: 'status', status: 400, message });
      const body = await expectError(await chat(stream), 400, 'upstream_bad_request');
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).toContain(message);
      const attempts = body.error.attempts ?? [];
      expect(attempts.map((a) => a.provider)).toEqual(CANDIDATES.map((c) => c.name));
      expect(attempts.every((a) => a.status === 400 && a.reason.includes(message))).toBe(true);
    });

    it('answers 400 with the full upstream message, however long', async () => {
      // A real-world context-length error: longer than a log line, and every word matters to the
      // client. It ends the request at the first provider (verdicts.e2e-spec.ts), with OpenAI's code.
      const message =
        "This model's maximum context length is 8192 tokens. However, you requested 10000 tokens (9000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.";
      faultAll({ mode: 'status', status: 400, message });
      const body = await expectError(await chat(stream), 400, 'context_length_exceeded');
      expect(body.error.message).toBe(message);
    });

    it('does not call a mix of 429s and 500s a rate limit', async () => {
      faultAll({ mode: 'status', status: 429 }, ['deepinfra', 'together', 'huggingface']);
      emu.addFault({ provider: 'pollinations', mode: 'status', status: 500 });
      const body = await expectError(await chat(stream), 502, 'all_providers_failed');
      expectAttemptsListed(
        body,
        [
          { status: 429, reason: /^HTTP 429/ },
          { status: 429, reason: /^HTTP 429/ },
          { status: 429, reason: /^HTTP 429/ },
          { status: 500, reason: /^HTTP 500/ },
          { status: 500, reason: /^HTTP 500/ },
        ],
        true,
      );
    });
  });
});

describe('a passing failure on the only route left is retried once on that route', () => {
  const forced = (stream: boolean) =>
    postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, provider: DEEPINFRA.name, messages: [{ role: 'user', content: PROMPT }], stream });

  describe.each([
    ['non-stream', false],
    ['stream', true],
  ] as const)('%s', (_label, stream) => {
    it.each([
      { name: 'HTTP 500', fault: { mode: 'status', status: 500 } },
      { name: 'HTTP 503', fault: { mode: 'status', status: 503 } },
      { name: 'connection reset', fault: { mode: 'reset' } },
    ] as const)('one $name, then the same provider answers', async ({ fault }) => {
      emu.addFault({ ...fault, provider: 'deepinfra', times: 1 });
      await expectAnswerFrom(await forced(stream), stream, DEEPINFRA);
      expect(emu.requests('deepinfra')).toHaveLength(2);
    });

    it('two 500s in a row: a 502 listing both tries, and no third', async () => {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 2 });
      const body = await expectError(await forced(stream), 502, 'all_providers_failed');
      expect(body.error.attempts?.map((a) => [a.provider, a.status])).toEqual([
        [DEEPINFRA.name, 500],
        [DEEPINFRA.name, 500],
      ]);
      expect(emu.requests('deepinfra')).toHaveLength(2);
    });

    it('a 400 (about the request, not the provider) is not retried', async () => {
      emu.addFault({ provider: 'deepinfra', mode: 'status', status: 400, times: 1 });
      await expectError(await forced(stream), 400, 'upstream_bad_request');
      expect(emu.requests('deepinfra')).toHaveLength(1);
    });
  });

  it('with another route left, a 500 fails over instead of retrying', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    await expectAnswerFrom(await chat(false), false, TOGETHER);
    expect(emu.requests('deepinfra')).toHaveLength(1);
  });
});

describe('one-shot calls (images) retry a passing failure on the only route left once too', () => {
  const image = () =>
    postJson(`${gw.baseURL}/images/generations`, { model: 'flux-schnell', provider: 'PollinationsAI', prompt: 'a red square', response_format: 'b64_json' });

  it('one 502, then the same provider draws the image', async () => {
    emu.addFault({ provider: 'pollinations', path: 'image', mode: 'status', status: 502, times: 1 });
    const res = await image();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('PollinationsAI');
    expect(((await res.json()) as { data: { b64_json: string }[] }).data[0]?.b64_json.length).toBeGreaterThan(100);
    expect(emu.requests('pollinations')).toHaveLength(2);
  });

  it('two 502s: the error lists both tries', async () => {
    emu.addFault({ provider: 'pollinations', path: 'image', mode: 'status', status: 502, times: 2 });
    const body = await expectError(await image(), 502, 'all_providers_failed');
    expect(body.error.attempts?.map((a) => [a.provider, a.status])).toEqual([
      ['PollinationsAI', 502],
      ['PollinationsAI', 502],
    ]);
  });
});
