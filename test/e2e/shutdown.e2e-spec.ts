/**
 * Graceful shutdown, on the built gateway running as a real process (what `docker stop` and
 * Kubernetes do to it): on SIGTERM it refuses new work, lets requests and streams in flight
 * finish within SHUTDOWN_GRACE_SECONDS, cuts what is left with an OpenAI error, writes its stats
 * and the request log, and exits 0.
 *
 * The emulator's pacing makes streams slow; a second process on the same DATA_DIR reads back
 * what the first one stored.
 */
import { mkdtempSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestLogPage, StatsResponse } from '#contracts';
import { answerText } from '../emulators/answers.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.ts';
import { emulatorEnv, postJson, startGateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const DEEPINFRA_UPSTREAM = 'meta-llama/Llama-3.3-70B-Instruct-Turbo';
const PROMPT = 'tell me a story';

interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

let emu: Emulator;
const running: GatewayProcess[] = [];

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
});
afterEach(async () => {
  emu.reset();
  await Promise.all(running.splice(0).map((gw) => gw.stop(2_000)));
});
afterAll(() => emu?.close());

/** The built gateway, every provider on the emulator, timeouts long enough for slow streams. */
async function gateway(env: Record<string, string> = {}): Promise<GatewayProcess> {
  const gw = await startGatewayProcess({
    ...emulatorEnv(emu),
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '30000',
    UPSTREAM_IDLE_TIMEOUT_MS: '10000',
    UPSTREAM_TIMEOUT_MS: '60000',
    // Nothing is written by the timer during a test: what is stored was flushed at shutdown.
    STATS_FLUSH_MS: '60000',
    ...env,
  });
  running.push(gw);
  return gw;
}

/** Resolves once the process has taken the signal: its drain step has logged its start. */
async function shuttingDown(gw: GatewayProcess): Promise<void> {
  for (let i = 0; i < 200 && !gw.output().includes('Shutting down'); i++) await new Promise((r) => setTimeout(r, 25));
  expect(gw.output()).toContain('Shutting down');
}

const chatBody = (stream: boolean, model = MODEL) => ({ model, provider: 'DeepInfra', stream, messages: [{ role: 'user', content: PROMPT }] });

/** A streaming request read as it arrives: `firstContent` resolves with the first content delta. */
async function openStream(url: string): Promise<{ firstContent: Promise<void>; text: Promise<string> }> {
  const res = await postJson(`${url}/v1/chat/completions`, chatBody(true));
  expect(res.status).toBe(200);
  let seen!: () => void;
  const firstContent = new Promise<void>((resolve) => (seen = resolve));
  const text = (async () => {
    const decoder = new TextDecoder();
    let all = '';
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
      all += decoder.decode(part, { stream: true });
      if (/"content":"[^"]/.test(all)) seen();
    }
    seen();
    return all;
  })();
  return { firstContent, text };
}

function events(text: string): unknown[] {
  return text
    .split('\n\n')
    .map((block) => block.replace(/^data: /, '').trim())
    .filter(Boolean)
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

const contentOf = (evs: unknown[]) =>
  evs.map((e) => (e as { choices?: { delta?: { content?: string | null } }[] }).choices?.[0]?.delta?.content ?? '').join('');
const errorEvents = (evs: unknown[]) => evs.filter((e): e is ErrorEnvelope => typeof e === 'object' && e !== null && 'error' in e);

/** Starts a second process on `dataDir` and reads the request log and stats the first one left. */
async function storedBy(dataDir: string): Promise<{ log: RequestLogPage; stats: StatsResponse }> {
  const gw = await gateway({ DATA_DIR: dataDir });
  const login = await postJson(`${gw.url}/api/auth/login`, { password: 'admin-test-password' });
  const { token } = (await login.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const log = (await (await fetch(`${gw.url}/api/logs`, { headers: auth })).json()) as RequestLogPage;
  const stats = (await (await fetch(`${gw.url}/api/stats?range=1h`, { headers: auth })).json()) as StatsResponse;
  expect(await gw.stop()).toBe(0);
  return { log, stats };
}

it('SIGTERM during a stream: the stream completes, the process exits 0, its stats are in the store', async () => {
  emu.setPacing({ chunks: 8, chunkDelayMs: 250 });
  const dataDir = mkdtempSync(join(tmpdir(), 'g4f-shutdown-'));
  const gw = await gateway({ DATA_DIR: dataDir, SHUTDOWN_GRACE_SECONDS: '20' });

  const stream = await openStream(gw.url);
  await stream.firstContent;
  gw.kill('SIGTERM');

  const evs = events(await stream.text);
  expect(errorEvents(evs)).toEqual([]);
  expect(contentOf(evs)).toBe(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT));
  expect(evs.at(-1)).toBe('[DONE]');
  expect(await gw.exited).toBe(0);
  expect(gw.output()).toContain('Shutting down: new requests are refused; waiting up to 20 s for 1 request(s) in flight');

  const { log, stats } = await storedBy(dataDir);
  expect(log.total).toBe(1);
  expect(log.items[0]).toMatchObject({ model: MODEL, stream: true, status: 200, provider: 'DeepInfra', error: null });
  expect(log.items[0]!.usage?.completion_tokens).toBeGreaterThan(0);
  expect(stats.totals.requests).toBe(1);
  expect(stats.totals.successes).toBe(1);
}, 40_000);

it('a request arriving after SIGTERM is refused or gets a clean error, while the one in flight completes', async () => {
  emu.setPacing({ chunks: 8, chunkDelayMs: 250 });
  const gw = await gateway({ SHUTDOWN_GRACE_SECONDS: '20' });
  const stream = await openStream(gw.url);
  await stream.firstContent;
  gw.kill('SIGTERM');
  await shuttingDown(gw);

  // Until the process is gone, a new request is either refused at the socket (a new connection is
  // refused; a pooled idle one was closed by the server) or answered with an OpenAI-shaped 503:
  // never accepted, never a half answer.
  for (let i = 0; i < 3; i++) {
    const outcome = await postJson(`${gw.url}/v1/chat/completions`, chatBody(false)).then(
      async (res) => ({ status: res.status, body: (await res.json()) as ErrorEnvelope }),
      (err: Error & { cause?: { code?: string } }) => ({ refused: err.cause?.code }),
    );
    if ('refused' in outcome) expect(outcome.refused).toMatch(/^(ECONNREFUSED|ECONNRESET|EPIPE|UND_ERR_SOCKET)$/);
    else expect(outcome).toMatchObject({ status: 503, body: { error: { type: 'server_error', code: 'server_shutting_down' } } });
  }

  const evs = events(await stream.text);
  expect(errorEvents(evs)).toEqual([]);
  expect(contentOf(evs)).toBe(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT));
  expect(await gw.exited).toBe(0);
}, 40_000);

it('a stream longer than the grace period is cut with an OpenAI error event; a non-stream gets a 503; the process exits 0', async () => {
  // 40 × 250 ms: a ten-second answer against a one-second grace period.
  emu.setPacing({ chunks: 40, chunkDelayMs: 250 });
  emu.addFault({ provider: 'deepinfra', mode: 'slowFirstByte', delayMs: 20_000, model: 'deepseek-ai/DeepSeek-R1' });
  const dataDir = mkdtempSync(join(tmpdir(), 'g4f-shutdown-'));
  const gw = await gateway({ DATA_DIR: dataDir, SHUTDOWN_GRACE_SECONDS: '1' });

  const stream = await openStream(gw.url);
  const slow = postJson(`${gw.url}/v1/chat/completions`, chatBody(false, 'deepseek-r1'));
  await stream.firstContent;
  // The non-stream request has reached the (slow) upstream.
  for (let i = 0; i < 100 && !emu.requests('deepinfra').some((r) => (r.body as { model?: string }).model === 'deepseek-ai/DeepSeek-R1'); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const signalledAt = Date.now();
  gw.kill('SIGTERM');

  const evs = events(await stream.text);
  const errors = errorEvents(evs);
  expect(errors).toHaveLength(1);
  expect(errors[0]!.error).toMatchObject({ type: 'server_error', code: 'server_shutting_down' });
  expect(errors[0]!.error.message).toContain('SHUTDOWN_GRACE_SECONDS');
  expect(evs.at(-1)).toBe('[DONE]');
  expect(evs.indexOf(errors[0]!)).toBe(evs.length - 2);
  // Part of the answer got through, not all of it.
  const content = contentOf(evs);
  expect(content.length).toBeGreaterThan(0);
  expect(content).not.toBe(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT));

  const res = await slow;
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
  expect(((await res.json()) as ErrorEnvelope).error).toMatchObject({ type: 'server_error', code: 'server_shutting_down' });

  expect(await gw.exited).toBe(0);
  // Well before the stream would have ended on its own.
  expect(Date.now() - signalledAt).toBeLessThan(8_000);
  expect(gw.output()).toContain('Shutdown grace period over: cutting 2 request(s) still running');

  const { log } = await storedBy(dataDir);
  const byModel = new Map(log.items.map((e) => [e.model, e]));
  expect(byModel.get(MODEL)).toMatchObject({ stream: true, status: 200, error: expect.stringContaining('shutting down') });
  expect(byModel.get('deepseek-r1')).toMatchObject({ stream: false, status: 503, error: expect.stringContaining('shutting down') });
}, 40_000);

it('a second SIGTERM stops waiting: the stream is cut at once and the process exits 0', async () => {
  emu.setPacing({ chunks: 40, chunkDelayMs: 250 });
  const gw = await gateway({ SHUTDOWN_GRACE_SECONDS: '60' });
  const stream = await openStream(gw.url);
  await stream.firstContent;
  gw.kill('SIGTERM');
  // The first signal has been taken before the second one comes.
  await shuttingDown(gw);
  gw.kill('SIGTERM');
  const evs = events(await stream.text);
  expect(errorEvents(evs).map((e) => e.error.code)).toEqual(['server_shutting_down']);
  expect(await gw.exited).toBe(0);
}, 40_000);

it('on a connection opened before shutdown, a new request gets a clean 503 and the connection is closed', async () => {
  emu.setPacing({ chunks: 8, chunkDelayMs: 250 });
  const gw = await startGateway(emu, { SHUTDOWN_GRACE_SECONDS: '20' });
  // The gateway's own listener stops accepting at once; a second listener on the same
  // application stands for a connection that was already open (keep-alive, a proxy's pool).
  const side = createServer(gw.app.getHttpAdapter().getInstance());
  await new Promise<void>((resolve) => side.listen(0, '127.0.0.1', resolve));
  const sideUrl = `http://127.0.0.1:${(side.address() as AddressInfo).port}`;
  try {
    const stream = await openStream(gw.url);
    await stream.firstContent;
    const closing = gw.close();

    const res = await postJson(`${sideUrl}/v1/chat/completions`, chatBody(false));
    expect(res.status).toBe(503);
    expect(res.headers.get('connection')).toBe('close');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(((await res.json()) as ErrorEnvelope).error).toEqual({
      message: 'The server is shutting down. Please retry your request.',
      type: 'server_error',
      param: null,
      code: 'server_shutting_down',
    });
    // Probes are still answered: not ready, but alive.
    expect((await fetch(`${sideUrl}/health/ready`)).status).toBe(503);
    expect((await fetch(`${sideUrl}/health/live`)).status).toBe(200);

    expect(contentOf(events(await stream.text))).toBe(answerText('deepinfra', DEEPINFRA_UPSTREAM, PROMPT));
    await closing;
  } finally {
    side.close();
  }
}, 20_000);

it('keeps idle client connections open for 65 s (longer than load balancers keep theirs), and SIGTERM still ends at once', async () => {
  const gw = await startGatewayProcess(emulatorEnv(emu));
  running.push(gw);
  // A raw keep-alive request: the Keep-Alive header is the server's promise to the client's pool.
  const agent = new Agent({ keepAlive: true });
  const header = await new Promise<string | undefined>((resolve, reject) => {
    request(`${gw.url}/health/live`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['keep-alive'])));
    })
      .on('error', reject)
      .end();
  });
  expect(header).toBe('timeout=65');
  // The idle connection in the agent's pool does not hold the shutdown.
  const started = Date.now();
  gw.kill('SIGTERM');
  expect(await gw.exited).toBe(0);
  expect(Date.now() - started).toBeLessThan(5_000);
  agent.destroy();
}, 30_000);
