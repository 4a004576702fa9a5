/**
 * After the first byte there is no failover: a stream that breaks mid-answer ends with an
 * OpenAI-style error event and [DONE], never with a second provider's text. And the client
 * going away aborts the upstream request.
 *
 * Emulated providers run in priority order DeepInfra → Together → HuggingFace → Pollinations.
 * A tiny node:http server plays an operator-defined upstream ("LocalUp", via PROVIDERS_FILE)
 * whose connection lifetime the tests observe directly.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerText, splitText } from '../emulators/answers.ts';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const MODEL = 'llama-3.3-70b';
const DEEPINFRA_UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const PROMPT = 'tell me a story';
const CHUNKS = 5;
const IDLE_MS = 400;

interface StreamChunk {
  choices: { delta: { role?: string; content?: string | null }; finish_reason: string | null }[];
}
interface ErrorEvent {
  error: { message: string; type: string; param: string | null; code: string | null };
}
interface Completion {
  choices: { message: { content: string | null } }[];
}

const isErrorEvent = (e: unknown): e is ErrorEvent => typeof e === 'object' && e !== null && 'error' in e;
const isChunk = (e: unknown): e is StreamChunk => typeof e === 'object' && e !== null && 'choices' in e;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/* ------------------------------------------------------------------ local upstream */

type LocalMode = 'trickle' | 'hang' | 'stall' | 'truncate';

interface LocalCall {
  mode: LocalMode;
  /** Resolves with Date.now() when the gateway's connection to this upstream closes. */
  closed: Promise<number>;
  /** True once response headers were written. */
  answered: boolean;
}

/** Gateway model id → what the local upstream does with it. */
const LOCAL_MODELS: Record<string, LocalMode> = {
  'local-trickle': 'trickle', // streams a content chunk every 100 ms, forever
  'local-hang': 'hang', // never answers
  'local-stall': 'stall', // two content chunks, then silence with the connection open
  'local-truncate': 'truncate', // two content chunks, then a clean end: no finish_reason, no [DONE]
};

class LocalUpstream {
  readonly calls: LocalCall[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private arrivedWaiters: Array<() => void> = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Resolves when the n-th call (1-based) has arrived. */
  arrived(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.calls.length >= n) resolve();
        else this.arrivedWaiters.push(check);
      };
      this.arrivedWaiters.push(check);
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { model: string; stream?: boolean };
      const mode = LOCAL_MODELS[body.model] ?? 'hang';
      const call: LocalCall = {
        mode,
        answered: false,
        closed: new Promise<number>((resolve) => req.socket.once('close', () => resolve(Date.now()))),
      };
      this.calls.push(call);
      const waiters = this.arrivedWaiters;
      this.arrivedWaiters = [];
      for (const w of waiters) w();
      if (mode === 'hang') return;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      call.answered = true;
      let n = 0;
      const send = () => {
        if (res.destroyed) return;
        n++;
        res.write(
          `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta: { content: `piece${n} ` }, finish_reason: null }] })}\n\n`,
        );
        if (mode === 'trickle' || n < 2) this.later(send, mode === 'trickle' ? 100 : 10);
        else if (mode === 'truncate') res.end();
      };
      send();
    });
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/* ------------------------------------------------------------------ setup */

let emu: Emulator;
let local: LocalUpstream;
let gw: Gateway;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true, chunks: CHUNKS });
  local = new LocalUpstream();
  await local.start();
  const dir = mkdtempSync(join(tmpdir(), 'g4f-midstream-'));
  const providersFile = join(dir, 'providers.yaml');
  writeFileSync(
    providersFile,
    [
      'upstreams:',
      '  - name: LocalUp',
      `    baseUrl: http://127.0.0.1:${local.port}/v1`,
      '    models:',
      ...Object.keys(LOCAL_MODELS).map((id) => `      ${id}: ${id}`),
      '',
    ].join('\n'),
  );
  gw = await startGateway(emu, {
    PROVIDERS_FILE: providersFile,
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
    HUGGINGFACE_PRIORITY: '3',
    POLLINATIONS_PRIORITY: '4',
    // Long enough that only the client's abort can explain an upstream socket closing.
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '10000',
    UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_MS),
    UPSTREAM_TIMEOUT_MS: '10000',
    BREAKER_FAILURE_THRESHOLD: '1000',
  });
});

afterAll(async () => {
  await gw?.close();
  await local?.close();
  await emu?.close();
});

afterEach(() => emu.reset());

function chat(model: string, stream: boolean, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: PROMPT }], stream }),
    signal,
  });
}

function contentOf(events: unknown[]): string {
  return events
    .filter(isChunk)
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');
}

/* ------------------------------------------------------------------ tests */

describe('an upstream failing after the first byte', () => {
  const expectedPieces = splitText(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT), CHUNKS);

  it('delivers the chunks already received, then stream_interrupted, then [DONE]; no failover', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    const events = await readSse(res);

    // Exactly: the gateway's role chunk, DeepInfra's two content chunks, one error event, [DONE].
    expect(events.at(-1)).toBe('[DONE]');
    const errorEvents = events.filter(isErrorEvent);
    expect(errorEvents).toHaveLength(1);
    expect(events.at(-2)).toBe(errorEvents[0]);
    const error = errorEvents[0]!.error;
    expect(error.code).toBe('stream_interrupted');
    expect(error.message).toContain('DeepInfra');
    expectSchema('ErrorResponse', errorEvents[0]);

    const chunks = events.filter(isChunk);
    for (const chunk of chunks) expect(chunk.choices[0]?.finish_reason ?? null).toBeNull(); // no fake "stop"
    expect(contentOf(events)).toBe(expectedPieces.slice(0, 2).join(''));

    // Nothing from a second provider: it was never even asked.
    expect(contentOf(events)).not.toMatch(/together|huggingface|pollinations/);
    expect(emu.requests('deepinfra')).toHaveLength(1);
    expect(emu.requests('together')).toHaveLength(0);
    expect(emu.requests('huggingface')).toHaveLength(0);
    expect(emu.requests('pollinations')).toHaveLength(0);
  });

  it('the chunks before the error are valid OpenAI stream chunks', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 2, times: 1 });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream: true });
    const events = await readSse(res);
    for (const chunk of events.filter(isChunk)) expectSchema('CreateChatCompletionStreamResponse', chunk);
  });

  it('after only one chunk it still ends the stream honestly', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 1, times: 1 });
    const events = await readSse(
      await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream: true }),
    );
    expect(contentOf(events)).toBe(expectedPieces[0]);
    expect(events.filter(isErrorEvent).map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(events.at(-1)).toBe('[DONE]');
    expect(emu.requests('together')).toHaveLength(0);
  });

  it('a cut before any content (nothing sent to the client yet) still fails over', async () => {
    emu.addFault({ provider: 'deepinfra', mode: 'midStreamCut', afterChunks: 0, times: 1 });
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], stream: true });
    expect(res.headers.get('x-pool-provider')).toBe('Together');
    const events = await readSse(res);
    expect(events.filter(isErrorEvent)).toHaveLength(0);
    expect(contentOf(events)).toBe(answerText('together', DEEPINFRA_UPSTREAM, PROMPT));
    expect(emu.requests('deepinfra')).toHaveLength(1);
  });

  it('an upstream that goes silent mid-stream ends with stream_interrupted after the idle timeout', async () => {
    const started = Date.now();
    const res = await chat('local-stall', true);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('LocalUp');
    const events = await readSse(res);
    const elapsed = Date.now() - started;
    expect(contentOf(events)).toBe('piece1 piece2 ');
    expect(events.filter(isErrorEvent).map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(events.at(-1)).toBe('[DONE]');
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(elapsed).toBeLessThan(IDLE_MS + 1500);
    // The silent upstream connection is closed by the gateway, not left dangling.
    const call = local.calls.at(-1)!;
    const closedAt = await Promise.race([call.closed, sleep(1000).then(() => -1)]);
    expect(closedAt).toBeGreaterThan(0);
  });

  it('an upstream stream that ends without finish_reason or [DONE] is reported as interrupted, not as complete', async () => {
    const res = await chat('local-truncate', true);
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(contentOf(events)).toBe('piece1 piece2 ');
    // A truncated answer must not be dressed up as finish_reason "stop".
    expect(
      events
        .filter(isChunk)
        .flatMap((c) => c.choices.map((ch) => ch.finish_reason))
        .filter((f) => f !== null),
    ).toEqual([]);
    expect(events.filter(isErrorEvent).map((e) => e.error.code)).toEqual(['stream_interrupted']);
    expect(events.at(-1)).toBe('[DONE]');
  });
});

describe('the client disconnecting', () => {
  async function expectUpstreamClosedSoonAfter(call: LocalCall, abortedAt: number): Promise<void> {
    const closedAt = await Promise.race([call.closed, sleep(1500).then(() => -1)]);
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt - abortedAt).toBeLessThan(1000);
  }

  it('mid-stream aborts the upstream request', async () => {
    const controller = new AbortController();
    const before = local.calls.length;
    const res = await chat('local-trickle', true, controller.signal);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('LocalUp');
    // Read until some content has arrived, so the gateway has committed to the stream.
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('piece2')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain('piece1');
    const call = local.calls[before]!;
    expect(call.answered).toBe(true);

    const abortedAt = Date.now();
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await expectUpstreamClosedSoonAfter(call, abortedAt);
  });

  it.each([
    ['stream', true],
    ['non-stream', false],
  ] as const)('before the first byte (%s) aborts the upstream request', async (_label, stream) => {
    const controller = new AbortController();
    const before = local.calls.length;
    const pending = chat('local-hang', stream, controller.signal).catch((err: unknown) => err);
    await local.arrived(before + 1);
    const call = local.calls[before]!;
    expect(call.mode).toBe('hang');
    await sleep(50);

    const abortedAt = Date.now();
    controller.abort();
    const outcome = await pending;
    expect((outcome as { name?: string }).name).toBe('AbortError');
    await expectUpstreamClosedSoonAfter(call, abortedAt);
    // The abort is not a failover trigger: no other upstream was asked.
    expect(local.calls).toHaveLength(before + 1);
  });

  it('the gateway keeps serving after aborted requests', async () => {
    const res = await chat(MODEL, false);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-pool-provider')).toBe('DeepInfra');
    const body = (await res.json()) as Completion;
    expect(body.choices[0]?.message.content).toBe(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT));
  });
});
