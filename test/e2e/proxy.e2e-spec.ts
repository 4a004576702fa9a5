/**
 * Outbound proxies: `<P>_PROXY` sends one provider's traffic through a proxy while the others
 * go direct; HTTP_PROXY (read from process.env at request time, as proxy-from-env does) sends
 * everything else through it, and NO_PROXY exempts hosts.
 *
 * The proxy is a tiny forward HTTP proxy on 127.0.0.1 that serves absolute-URI requests by
 * forwarding them, and records what it forwarded.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { answerText } from '../emulators/answers.ts';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, ProviderId } from '../emulators/emulator.ts';
import { postJson, readSse, startGateway } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';

const MODEL = 'llama-3.3-70b';
const PROMPT = 'via proxy?';
const PROXY_ENV_NAMES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'] as const;

interface Target {
  id: ProviderId;
  name: string;
  upstream: string;
  /** Path prefix of this provider's base URL on the emulator. */
  prefix: string;
}
const DEEPINFRA: Target = { id: 'deepinfra', name: 'DeepInfra', upstream: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', prefix: '/deepinfra/' };
const TOGETHER: Target = { id: 'together', name: 'Together', upstream: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', prefix: '/together/' };
const HUGGINGFACE: Target = { id: 'huggingface', name: 'HuggingFace', upstream: 'meta-llama/Llama-3.3-70B-Instruct', prefix: '/huggingface/' };

interface Completion {
  choices: { message: { content: string | null } }[];
}
interface StreamChunk {
  choices: { delta: { content?: string | null } }[];
}

/* ------------------------------------------------------------------ forward proxy */

class ForwardProxy {
  /** "METHOD absolute-URI" of every request the proxy forwarded (or dropped). */
  readonly seen: string[] = [];
  /** When true the proxy drops connections instead of forwarding (a dead proxy). */
  dropping = false;
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Forwarded requests whose target path starts with `prefix`. */
  count(prefix: string): number {
    return this.seen.filter((s) => new URL(s.split(' ')[1]!).pathname.startsWith(prefix)).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const target = req.url ?? '';
    if (!/^https?:\/\//i.test(target)) {
      // Not a proxy request (origin-form): a forward proxy cannot serve it.
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('expected an absolute-URI proxy request');
      return;
    }
    this.seen.push(`${req.method} ${target}`);
    if (this.dropping) {
      req.socket.destroy();
      return;
    }
    const url = new URL(target);
    const headers: OutgoingHttpHeaders = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = httpRequest({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: req.method, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/* ------------------------------------------------------------------ setup */

let emu: Emulator;
let proxy: ForwardProxy;
let gw: Gateway;
const savedEnv: Partial<Record<(typeof PROXY_ENV_NAMES)[number], string>> = {};

function clearProxyEnv(): void {
  for (const name of PROXY_ENV_NAMES) delete process.env[name];
}

beforeAll(async () => {
  for (const name of PROXY_ENV_NAMES) if (process.env[name] !== undefined) savedEnv[name] = process.env[name];
  clearProxyEnv();
  emu = await startEmulator({ zeroLatency: true });
  proxy = new ForwardProxy();
  await proxy.start();
  gw = await startGateway(emu, {
    DEEPINFRA_PROXY: proxy.url,
    ROUTING_STRATEGY: 'priority',
    DEEPINFRA_PRIORITY: '1',
    TOGETHER_PRIORITY: '2',
    HUGGINGFACE_PRIORITY: '3',
    POLLINATIONS_PRIORITY: '4',
    BREAKER_FAILURE_THRESHOLD: '1000',
  });
});

afterAll(async () => {
  await gw?.close();
  await proxy?.close();
  await emu?.close();
  clearProxyEnv();
  for (const [name, value] of Object.entries(savedEnv)) process.env[name] = value;
});

afterEach(() => {
  clearProxyEnv();
  proxy.dropping = false;
  proxy.seen.length = 0;
  emu.reset();
});

async function ask(target: Target | undefined, stream = false): Promise<{ res: Response; text: string }> {
  const res = await postJson(`${gw.baseURL}/chat/completions`, {
    model: MODEL,
    ...(target ? { provider: target.name } : {}),
    messages: [{ role: 'user', content: PROMPT }],
    stream,
  });
  if (res.status !== 200) return { res, text: await res.text() };
  if (!stream) return { res, text: ((await res.json()) as Completion).choices[0]?.message.content ?? '' };
  const events = await readSse(res);
  const text = (events.filter((e) => e !== '[DONE]') as StreamChunk[]).map((c) => c.choices[0]?.delta.content ?? '').join('');
  return { res, text };
}

async function expectServedBy(target: Target, stream = false, pinned = true): Promise<void> {
  const { res, text } = await ask(pinned ? target : undefined, stream);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pool-provider')).toBe(target.name);
  expect(text).toBe(answerText(target.id, target.upstream, PROMPT));
}

/* ------------------------------------------------------------------ tests */

describe('<P>_PROXY', () => {
  it("sends that provider's requests through the proxy (stream and non-stream)", async () => {
    await expectServedBy(DEEPINFRA);
    await expectServedBy(DEEPINFRA, true);
    expect(proxy.count(DEEPINFRA.prefix)).toBe(2);
    expect(proxy.seen.every((s) => s.startsWith(`POST ${emu.url}/deepinfra/v1/openai/chat/completions`))).toBe(true);
    // The proxy really forwarded them: the emulator got both, with the provider's key intact.
    const reqs = emu.requests('deepinfra');
    expect(reqs).toHaveLength(2);
    expect(reqs.every((r) => r.headers.authorization === 'Bearer di-good-key-0001')).toBe(true);
  });

  it('leaves the other providers direct', async () => {
    await expectServedBy(TOGETHER);
    await expectServedBy(HUGGINGFACE, true);
    expect(emu.requests('together')).toHaveLength(1);
    expect(emu.requests('huggingface')).toHaveLength(1);
    expect(proxy.seen).toEqual([]);
  });

  it('keeps going through the proxy on reused keep-alive connections', async () => {
    for (let i = 0; i < 4; i++) await expectServedBy(DEEPINFRA, i % 2 === 0);
    await Promise.all([expectServedBy(DEEPINFRA), expectServedBy(DEEPINFRA, true), expectServedBy(TOGETHER)]);
    expect(proxy.count(DEEPINFRA.prefix)).toBe(6);
    expect(proxy.count(TOGETHER.prefix)).toBe(0);
  });

  it('a dead proxy is a failure of that provider: the next one answers', async () => {
    proxy.dropping = true;
    await expectServedBy(TOGETHER, false, false);
    await expectServedBy(TOGETHER, true, false);
    expect(proxy.count(DEEPINFRA.prefix)).toBe(2);
    expect(emu.requests('deepinfra')).toHaveLength(0);
  });
});

describe('HTTP_PROXY / NO_PROXY from the environment', () => {
  it('HTTP_PROXY routes providers without their own proxy through it', async () => {
    process.env.HTTP_PROXY = proxy.url;
    await expectServedBy(TOGETHER);
    await expectServedBy(HUGGINGFACE, true);
    expect(proxy.count(TOGETHER.prefix)).toBe(1);
    expect(proxy.count(HUGGINGFACE.prefix)).toBe(1);
    expect(emu.requests('together')).toHaveLength(1);
    expect(emu.requests('huggingface')).toHaveLength(1);
  });

  it('lower-case http_proxy works too', async () => {
    process.env.http_proxy = proxy.url;
    await expectServedBy(TOGETHER, true);
    expect(proxy.count(TOGETHER.prefix)).toBe(1);
  });

  it('NO_PROXY=127.0.0.1 exempts the host', async () => {
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '127.0.0.1';
    await expectServedBy(TOGETHER);
    await expectServedBy(HUGGINGFACE, true);
    expect(proxy.count(TOGETHER.prefix)).toBe(0);
    expect(proxy.count(HUGGINGFACE.prefix)).toBe(0);
    expect(emu.requests('together')).toHaveLength(1);
  });

  it('is read per request: unsetting HTTP_PROXY goes direct again', async () => {
    process.env.HTTP_PROXY = proxy.url;
    await expectServedBy(TOGETHER);
    expect(proxy.count(TOGETHER.prefix)).toBe(1);
    delete process.env.HTTP_PROXY;
    await expectServedBy(TOGETHER);
    expect(proxy.count(TOGETHER.prefix)).toBe(1);
    expect(emu.requests('together')).toHaveLength(2);
  });
});
