/**
 * Hostile clients against the built gateway run as a real process: inputs that used to kill it
 * (a throw in a stream's callback ended Node with every stream in flight), freeze it (token
 * counting on the event loop) or bloat it (clients that never read), and malformed bodies that
 * used to answer 500 with a stack. Each must leave the process up and serving, memory bounded,
 * and give the client a clear answer.
 *
 * Together's base URL points at a local upstream written for these tests (the emulator's answers
 * are short): endless fast streams and long answers without usage. Every other provider is the
 * emulator.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { startEmulator, type Emulator } from '../../emulators/emulator.ts';
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.ts';
import { emulatorEnv, postJson, readSse } from '../../support/gateway.ts';

const STALL_MS = 3_000;
/** Only routed to Together, i.e. to the local upstream below. */
const LOCAL_MODEL = 'llama-3.1-70b';
/** 32 MB: more than the socket buffers between the gateway and a client can hold. */
const FINITE_CHUNKS = 2_048;

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * An OpenAI-style upstream that never reports usage, whose answer the last user message picks:
 * `endless` streams 16 KB deltas as fast as the gateway reads them until the request goes away;
 * `long digits` answers 6 MB of digits in one word; `finite` streams 32 MB in 16 KB deltas;
 * anything else a short answer. As a stream or a JSON completion, as asked.
 */
class LocalUpstream {
  /** Bytes written to each endless stream, and whether it is still open. */
  readonly endless: Array<{ bytes: number; open: boolean }> = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const body = JSON.parse(raw) as { stream?: boolean; messages: Array<{ content: string }> };
    const last = body.messages.at(-1)!.content;
    if (last === 'endless') return this.endlessStream(res);
    if (last === 'finite') return this.finiteStream(res);
    const content = last === 'long digits' ? '7'.repeat(6_000_000) : 'Short answer.';
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let at = 0; at < content.length; at += 65_536) {
      if (!res.write(event({ content: content.slice(at, at + 65_536) }))) await new Promise((r) => res.once('drain', r));
    }
    res.end(`${event({}, 'stop')}data: [DONE]\n\n`);
  }

  /** The longest the last `finite` stream waited for the gateway to read it, in ms. */
  finiteLongestWaitMs = 0;

  /** FINITE_CHUNKS deltas of 16 KB, each of one digit: chunk i is (i % 10) repeated. */
  private async finiteStream(res: ServerResponse): Promise<void> {
    this.finiteLongestWaitMs = 0;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < FINITE_CHUNKS; i++) {
      if (res.write(event({ content: String(i % 10).repeat(16_384) }))) continue;
      const started = Date.now();
      await new Promise((r) => res.once('drain', r));
      this.finiteLongestWaitMs = Math.max(this.finiteLongestWaitMs, Date.now() - started);
    }
    res.end(`${event({}, 'stop')}data: [DONE]\n\n`);
  }

  private async endlessStream(res: ServerResponse): Promise<void> {
    const stream = { bytes: 0, open: true };
    this.endless.push(stream);
    res.once('close', () => (stream.open = false));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const payload = event({ content: 'all work and no play '.repeat(800) });
    // Bounded even if the gateway never stopped reading: 200 MB at most.
    while (stream.open && stream.bytes < 2e8) {
      stream.bytes += payload.length;
      if (!res.write(payload)) await new Promise((r) => res.once('drain', r).once('close', r));
    }
  }
}

function event(delta: Record<string, unknown>, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** The gateway's resident memory in MB (Linux /proc). */
function rssMb(gw: GatewayProcess): number {
  const status = readFileSync(`/proc/${gw.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** A client that sends a streaming request and then never reads a byte of the answer. */
function stuckClient(gw: GatewayProcess, body: unknown): Promise<Socket> {
  const { port } = new URL(gw.url);
  const json = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => {
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
      );
      // Nothing is ever read: the kernel's receive buffer fills, then the gateway's send buffer.
      socket.pause();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Random lower-case words of 127 letters: the costliest text per character to tokenize exactly. */
function adversarialText(chars: number): string {
  const words: string[] = [];
  for (let size = 0; size < chars; size += 128) {
    let word = '';
    for (let i = 0; i < 127; i++) word += String.fromCharCode(97 + Math.floor(Math.random() * 26));
    words.push(word);
  }
  return words.join(' ');
}

/**
 * Polls `url` every 5 ms from another process (this one runs the emulator, whose own work would
 * count as the gateway's delay) until stop(); resolves with the slowest answer's time.
 */
function pollLiveness(url: string): { ready: Promise<void>; stop(): Promise<{ slowest: number; polls: number }> } {
  const script = `
    let stopped = false, slowest = 0, polls = 0;
    process.stdin.on('end', () => (stopped = true)).resume();
    for (const until = Date.now() + 30_000; !stopped && Date.now() < until; polls++) {
      const started = performance.now();
      const res = await fetch(${JSON.stringify(url)});
      if (res.status !== 200) throw new Error('liveness answered ' + res.status);
      await res.arrayBuffer();
      if (polls === 0) console.log('ready');
      else slowest = Math.max(slowest, performance.now() - started);
      await new Promise((r) => setTimeout(r, 5));
    }
    console.log(JSON.stringify({ slowest, polls }));
  `;
  // The first answer (a fresh process's first fetch) says the poller runs; it is not counted.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    ready,
    async stop() {
      child.stdin.end();
      expect(await exited).toBe(0);
      return JSON.parse(out.slice('ready\n'.length)) as { slowest: number; polls: number };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emu: Emulator;
let upstream: LocalUpstream;
let gw: GatewayProcess;

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  upstream = new LocalUpstream();
  await upstream.start();
  gw = await startGatewayProcess({ ...emulatorEnv(emu), TOGETHER_BASE_URL: upstream.url, CLIENT_STALL_TIMEOUT_MS: String(STALL_MS) });
});

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
  await emu?.close();
});

afterEach(() => {
  // Whatever a test sent, the process is alive and logged no crash, last-resort catch or stack.
  expect(gw.child.exitCode).toBeNull();
  expect(gw.output()).not.toMatch(/ERROR|Uncaught|keeps serving| {4}at /);
});

/** An admin API call (the process runs with ADMIN_PASSWORD=admin-test-password). */
async function api<T>(path: string): Promise<T> {
  const login = await postJson(`${gw.url}/api/auth/login`, { password: 'admin-test-password' });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

const chat = (body: Record<string, unknown>) => postJson(`${gw.baseURL}/chat/completions`, { model: 'gpt-4o-mini', ...body });

async function expectError(res: Response, status: number, param: string | null): Promise<ErrorEnvelope['error']> {
  expect(res.status).toBe(status);
  const { error } = (await res.json()) as ErrorEnvelope;
  expect(error).toEqual({ message: expect.any(String), type: 'invalid_request_error', param, code: expect.any(String) });
  return error;
}

async function streamUsage(res: Response): Promise<Usage> {
  expect(res.status).toBe(200);
  const events = await readSse(res);
  expect(events.at(-1)).toBe('[DONE]');
  const usage = (events.at(-2) as { usage: Usage }).usage;
  expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
  return usage;
}

describe('inputs that used to end the process', () => {
  const nullToolCalls = [
    { role: 'assistant', content: 'a', tool_calls: [null] },
    { role: 'user', content: 'x' },
  ];

  it.each([true, false])('answers `tool_calls: [null]` with a 400 naming the param (stream: %s)', async (stream) => {
    const error = await expectError(await chat({ stream, messages: nullToolCalls }), 400, 'messages[0].tool_calls');
    expect(error.message).toContain('tool call objects');
  });

  it('counts a 6 MB prompt without whitespace, streamed and not, and keeps serving', async () => {
    const body = { model: LOCAL_MODEL, messages: [{ role: 'user', content: '7'.repeat(6_000_000) }] };
    const usage = await streamUsage(await postJson(`${gw.baseURL}/chat/completions`, { ...body, stream: true, stream_options: { include_usage: true } }));
    // 3 digits a token, plus the message overheads; sampled above 8 KiB, exact for uniform text.
    expect(Math.abs(usage.prompt_tokens - 2_000_000)).toBeLessThan(20_000);
    const res = await postJson(`${gw.baseURL}/chat/completions`, body);
    expect(res.status).toBe(200);
    expect(Math.abs(((await res.json()) as { usage: Usage }).usage.prompt_tokens - 2_000_000)).toBeLessThan(20_000);
  });

  it("counts an upstream's 6 MB answer without usage, streamed and not", async () => {
    const body = { model: LOCAL_MODEL, messages: [{ role: 'user', content: 'long digits' }] };
    const usage = await streamUsage(await postJson(`${gw.baseURL}/chat/completions`, { ...body, stream: true, stream_options: { include_usage: true } }));
    expect(Math.abs(usage.completion_tokens - 2_000_000)).toBeLessThan(20_000);
    const res = await postJson(`${gw.baseURL}/chat/completions`, body);
    expect(res.status).toBe(200);
    expect(Math.abs(((await res.json()) as { usage: Usage }).usage.completion_tokens - 2_000_000)).toBeLessThan(20_000);
  });
});

describe('malformed bodies answer a 4xx in the OpenAI envelope, never a 500', () => {
  it('refuses 100k nested arrays in a message content', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${deep}}]}`,
    });
    const error = await expectError(res, 400, null);
    expect(error.message).toContain('nested too deeply');
  });

  it('refuses 100k nested objects anywhere in the body', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`,
    });
    await expectError(res, 400, null);
  });

  it('refuses a 9 MB digit run as a number, and answers it as text', async () => {
    const digits = '9'.repeat(9_000_000);
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":${digits}}`,
    });
    await expectError(res, 400, 'max_tokens');
    const text = await postJson(`${gw.baseURL}/chat/completions`, { model: LOCAL_MODEL, messages: [{ role: 'user', content: digits }] });
    expect(text.status).toBe(200);
    expect(Math.abs(((await text.json()) as { usage: Usage }).usage.prompt_tokens - 3_000_000)).toBeLessThan(30_000);
  });
});

/** CPU time (ms) the gateway's main thread, the one running its event loop, has used so far (Linux /proc). */
function mainThreadCpuMs(gw: GatewayProcess): number {
  const stat = readFileSync(`/proc/${gw.child.pid}/task/${gw.child.pid}/stat`, 'utf8');
  // utime and stime, in clock ticks of 10 ms, are fields 14 and 15; the name in (…) may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * While a streamed request with this prompt runs: the slowest /health/live answer, and the CPU
 * time of the gateway's event loop (what it could not spend on anything else); and the usage.
 */
async function livenessDuring(content: string): Promise<{ slowest: number; cpuMs: number; usage: Usage }> {
  const poller = pollLiveness(`${gw.url}/health/live`);
  await poller.ready;
  const cpuBefore = mainThreadCpuMs(gw);
  const usage = await streamUsage(await chat({ stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content }] }));
  const cpuMs = mainThreadCpuMs(gw) - cpuBefore;
  const { slowest, polls } = await poller.stop();
  expect(polls).toBeGreaterThan(1);
  return { slowest, cpuMs, usage };
}

/*
 * Exact counting of this text cost ~1-3 µs of event loop per character: 2 MB froze the gateway for
 * seconds. Two measures: the slowest liveness answer (the least of five runs, so that scheduling
 * hiccups of a busy 2-core machine, which every request meets, do not decide), and the CPU time
 * of the gateway's event-loop thread over the whole request (parsing, forwarding, counting and
 * garbage collection included), which bounds how long it can have been blocked whatever the load.
 * An ordinary prompt of the same size warms the process up first (the tokenizer's tables load on
 * the first count, ~130 ms once per process, and the first large body runs cold code).
 */
it('counts a 2 MB adversarial prompt without delaying /health/live by more than 100 ms (or 3× an ordinary prompt of that size)', async () => {
  const ordinary = 'The committee met on Tuesday and approved the budget. '.repeat(37_000);
  await livenessDuring(ordinary);
  // The same ordinary prompt again, warm: what a 2 MB request costs this machine today (parsing,
  // forwarding, counting, GC). The adversarial one may cost up to three times that, and 100 ms is
  // always allowed: a slow phase of a 2-core runner measured 100-110 ms against 50 ms for the
  // ordinary prompt, while exact counting of the adversarial text cost seconds.
  const baseline = await livenessDuring(ordinary);
  const cpuBound = Math.max(100, 3 * baseline.cpuMs);
  // Likewise for liveness: CI once measured 125 ms as the best of three while Chromium suites ran
  // beside it (here the adversarial prompt's best is 33-45 ms, its worst run 126-137 ms, both as
  // for the ordinary prompt), and exact counting would cost seconds.
  const slowBound = Math.max(100, 3 * baseline.slowest);
  let slowest = Infinity;
  for (let round = 0; round < 5; round++) {
    // A new text each round: the gateway remembers the counts of texts it saw (token-counter.ts).
    const run = await livenessDuring(adversarialText(2_000_000));
    // ~1 token per 2 characters for such words.
    expect(run.usage.prompt_tokens).toBeGreaterThan(700_000);
    expect(run.usage.prompt_tokens).toBeLessThan(1_100_000);
    expect(run.cpuMs).toBeLessThan(cpuBound);
    slowest = Math.min(slowest, run.slowest);
  }
  expect(slowest).toBeLessThan(slowBound);
});

it('stops reading the upstream for clients that never read, drops them after the stall timeout, and serves others meanwhile', async () => {
  const before = rssMb(gw);
  const opened = upstream.endless.length;
  const body = { model: LOCAL_MODEL, stream: true, messages: [{ role: 'user', content: 'endless' }] };
  const clients = await Promise.all(Array.from({ length: 5 }, () => stuckClient(gw, body)));
  const streams = () => upstream.endless.slice(opened);
  try {
    let peak = before;
    const watch = async (ms: number) => {
      for (const started = Date.now(); Date.now() - started < ms;) {
        await sleep(50);
        peak = Math.max(peak, rssMb(gw));
      }
    };
    // Once the socket buffers between them are full (~9 MB a stream here, within a second on a
    // quiet machine), the gateway reads nothing more from the upstream until the stall timeout.
    // Without backpressure it read on at ~12 MB a second a stream on a busy machine, and held it
    // all. Filled is when no stream grew for 300 ms (later on a loaded machine, never without
    // backpressure); from then on to near the stall timeout, none may grow by a megabyte.
    const started = Date.now();
    let filled = streams().map((s) => s.bytes);
    for (let still = 0; still < 300 && Date.now() - started < STALL_MS * 0.6;) {
      await watch(100);
      const now = streams().map((s) => s.bytes);
      still = now.length === 5 && now.every((b, i) => b - (filled[i] ?? 0) < 64 * 1024) ? still + 100 : 0;
      filled = now;
    }
    expect(streams()).toHaveLength(5);
    await watch(Math.max(STALL_MS * 0.85 - (Date.now() - started), STALL_MS * 0.2));
    streams().forEach((s, i) => expect(s.bytes - filled[i]!).toBeLessThan(1e6));
    expect(streams().every((s) => s.open)).toBe(true);
    // Others are served while the stuck clients hold their streams.
    const other = await chat({ messages: [{ role: 'user', content: 'still there?' }] });
    expect(other.status).toBe(200);
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);

    // Dropped after CLIENT_STALL_TIMEOUT_MS: their upstream requests are aborted.
    const deadline = Date.now() + STALL_MS * 4;
    while (streams().some((s) => s.open) && Date.now() < deadline) {
      await sleep(100);
      peak = Math.max(peak, rssMb(gw));
    }
    expect(streams().every((s) => !s.open)).toBe(true);
    // What a stuck client costs is the kernel's socket buffers, not the gateway's heap.
    for (const s of streams()) expect(s.bytes).toBeLessThan(32e6);
    expect(peak - before).toBeLessThan(100);
    // Recorded as the client's failure (499), not the provider's.
    const entries = (await api<{ items: Array<{ status: number; error: string | null }> }>(`/api/logs?model=${LOCAL_MODEL}&pageSize=50`)).items;
    const dropped = entries.filter((e) => e.error?.includes('CLIENT_STALL_TIMEOUT_MS'));
    expect(dropped).toHaveLength(5);
    expect(dropped.every((e) => e.status === 499)).toBe(true);
  } finally {
    for (const c of clients) c.destroy();
  }
});

it('drops a client that leaves a whole (non-stream) answer unread for the stall timeout, and serves others meanwhile', async () => {
  // 6 MB of digits: more than the socket buffers take from a client that reads nothing.
  const client = await stuckClient(gw, { model: LOCAL_MODEL, stream: false, messages: [{ role: 'user', content: 'long digits' }] });
  try {
    expect((await chat({ messages: [{ role: 'user', content: 'still there?' }] })).status).toBe(200);
    await sleep(STALL_MS * 1.7);
    // Now read what is there: the answer up to where the gateway dropped the connection, then the end.
    const received: Buffer[] = [];
    client.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = new Promise<boolean>((resolve) => client.once('close', () => resolve(true)));
    client.resume();
    expect(await Promise.race([ended, sleep(STALL_MS).then(() => false)])).toBe(true);
    const raw = Buffer.concat(received);
    const headerEnd = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, headerEnd).toString();
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    const length = Number(/content-length: (\d+)/i.exec(head)![1]);
    expect(length).toBeGreaterThan(6_000_000);
    // Cut short: without the drop the gateway held the rest for as long as the client waited, and sent it all.
    expect(raw.length - headerEnd - 4).toBeLessThan(length);
  } finally {
    client.destroy();
  }
});

it('gives a client that stops reading for less than the stall timeout the whole answer, pausing the upstream meanwhile', async () => {
  const json = JSON.stringify({ model: LOCAL_MODEL, stream: true, messages: [{ role: 'user', content: 'finite' }] });
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(`${gw.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      // Reads nothing for two thirds of the stall timeout: the gateway's buffers fill and it pauses the upstream.
      res.pause();
      const parts: string[] = [];
      res.setEncoding('utf8');
      res
        .on('data', (d: string) => parts.push(d))
        .once('end', () => resolve(parts.join('')))
        .once('error', reject);
      setTimeout(() => res.resume(), (STALL_MS * 2) / 3);
    });
    req.once('error', reject);
    req.end(json);
  });
  const events = text.split('\n\n').filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  const deltas = events
    .slice(0, -1)
    .map((e) => JSON.parse(e.slice('data: '.length)) as { choices?: Array<{ delta: { content?: string } }>; error?: unknown })
    .map((chunk) => {
      expect(chunk.error).toBeUndefined();
      return chunk.choices?.[0]?.delta.content ?? '';
    })
    .filter(Boolean);
  // Every delta, in order, none lost or repeated while the upstream was paused and resumed.
  expect(deltas).toHaveLength(FINITE_CHUNKS);
  deltas.forEach((d, i) => expect(d === String(i % 10).repeat(16_384)).toBe(true));
  // At least a third of the stall timeout in one wait. Filling the buffers before the first wait takes
  // next to nothing on an idle machine (the wait is then the whole pause) but took 670 ms under CI's
  // load, when the pause was half the timeout and this bound half of it less 500 ms (827 against 1000).
  expect(upstream.finiteLongestWaitMs).toBeGreaterThan(STALL_MS / 3);
});
