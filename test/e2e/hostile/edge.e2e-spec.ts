/**
 * The gateway's edges against hostile upstreams and clients: image URLs an upstream returns that
 * lead to private addresses (directly, by name or through a redirect), oversized or non-image
 * media, a `..` image prompt, parallel password guessing, TRUST_PROXY, CORS, text/plain bodies, an
 * over-limit Content-Length, and /v1 without any key answering only this machine.
 *
 * Every socket is on 127.0.0.1. A client elsewhere is simulated the way a reverse proxy presents
 * one: TRUST_PROXY=loopback and `X-Forwarded-For: 203.0.113.7`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../../emulators/emulator.ts';
import { adminHeaders } from '../../support/admin.ts';
import { postJson, startGateway, type Gateway } from '../../support/gateway.ts';
import { startGatewayProcess } from '../../support/gateway-process.ts';

const CATALOG_FILE = fileURLToPath(new URL('../fixtures/media-catalog.yaml', import.meta.url));
const SECRET = 'INTERNAL-SERVICE-SECRET-7f3a9c';
const REMOTE = '203.0.113.7';
// A PNG signature and IHDR, then filler: enough for the gateway's sniffing, larger than a small cap.
const PNG_HEAD = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/* ------------------------------------------------------------------ a hostile image upstream */

/**
 * Plays Together's image API: every generation answers with `imageUrl` (set per test), and it
 * serves what those URLs lead to: an internal page full of secrets, a redirect, a huge "image".
 */
class HostileImageUpstream {
  imageUrl = '';
  readonly hits = new Map<string, number>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.url).pathname;
    this.hits.set(path, this.hitsOf(path) + 1);
    req.resume();
    if (path === '/together/images/generations') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'img-1', model: 'flux', object: 'list', data: [{ index: 0, url: this.imageUrl }] }));
    } else if (path === '/secret') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: SECRET }, token: SECRET }));
    } else if (path === '/secret.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${SECRET}\n`.repeat(100));
    } else if (path.startsWith('/redirect')) {
      res.writeHead(302, { location: decodeURIComponent(new URL(req.url!, this.url).searchParams.get('to')!) });
      res.end();
    } else if (path === '/huge.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.concat([PNG_HEAD, Buffer.alloc(256 * 1024)]));
    } else {
      res.writeHead(404).end();
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/* ------------------------------------------------------------------ setup */

let emu: Emulator;
let hostile: HostileImageUpstream;
const gateways: Gateway[] = [];

async function gateway(env: Record<string, string>, emulator: Emulator | null = emu): Promise<Gateway> {
  const gw = await startGateway(emulator, env);
  gateways.push(gw);
  return gw;
}

/** A gateway whose only image provider is the hostile Together. */
function hostileImageGateway(env: Record<string, string> = {}): Promise<Gateway> {
  return gateway({
    CATALOG_FILE,
    TOGETHER_BASE_URL: `${hostile.url}/together`,
    TOGETHER_API_KEY: 'tg-key',
    MEDIA_FETCH_ALLOW_HOSTS: '',
    BREAKER_FAILURE_THRESHOLD: '1000',
    ...env,
  });
}

const generate = (gw: Gateway, extra: Record<string, unknown> = {}) =>
  postJson(`${gw.baseURL}/images/generations`, { model: 'flux-schnell', prompt: 'a lighthouse', provider: 'Together', response_format: 'b64_json', ...extra });

async function expectError(res: Response, status: number): Promise<ErrorBody['error']> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: expect.any(String) });
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body.error)).toEqual(expect.arrayContaining(['message', 'type', 'param', 'code']));
  return body.error;
}

beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  hostile = new HostileImageUpstream();
  await hostile.start();
});

afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await hostile?.close();
  await emu?.close();
});

/* ------------------------------------------------------------------ SSRF */

describe('image URLs returned by an upstream (SSRF)', () => {
  let closed: Gateway;
  let allowed: Gateway;
  beforeAll(async () => {
    closed = await hostileImageGateway();
    allowed = await hostileImageGateway({ MEDIA_FETCH_ALLOW_HOSTS: '127.0.0.1', MEDIA_FETCH_MAX_BYTES: '64kb' });
  });
  beforeEach(() => hostile.hits.clear());

  it.each([
    ['a loopback IP', () => `${hostile.url}/secret`],
    ['a loopback name (checked after DNS resolution)', () => `${hostile.url.replace('127.0.0.1', 'localhost')}/secret`],
    ['an IPv4-mapped IPv6 loopback', () => `${hostile.url.replace('127.0.0.1', '[::ffff:127.0.0.1]')}/secret`],
    // The metadata address (169.254.169.254) and the other ranges are in public-address.spec.ts: a
    // regression here must not send a request off this machine.
    ['the unspecified address (this machine)', () => `${hostile.url.replace('127.0.0.1', '0.0.0.0')}/secret`],
  ])('%s is refused without MEDIA_FETCH_ALLOW_HOSTS: never requested, nothing of it echoed', async (_name, target) => {
    hostile.imageUrl = target();
    const error = await expectError(await generate(closed), 502);
    expect(error.message).toContain('MEDIA_FETCH_ALLOW_HOSTS');
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(hostile.hitsOf('/secret')).toBe(0);
    expect(hostile.hitsOf('/together/images/generations')).toBeGreaterThanOrEqual(1);
  });

  it('with MEDIA_FETCH_ALLOW_HOSTS=127.0.0.1 the emulator’s image URL is fetched and served', async () => {
    const gw = await gateway({ CATALOG_FILE, MEDIA_FETCH_ALLOW_HOSTS: '127.0.0.1' });
    // response_format url: the emulated Together then answers with a link to its own file host.
    const res = await generate(gw, { response_format: 'url' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { url: string }[] };
    expect(body.data[0]!.url).toContain('/v1/images/files/');
    const image = Buffer.from(await (await fetch(body.data[0]!.url)).arrayBuffer());
    expect(image.subarray(0, 8)).toEqual(PNG_HEAD.subarray(0, 8));
    // The same emulator without the allow list: refused.
    const refused = await gateway({ CATALOG_FILE, MEDIA_FETCH_ALLOW_HOSTS: '' });
    expect((await expectError(await generate(refused, { response_format: 'url' }), 502)).message).toContain('MEDIA_FETCH_ALLOW_HOSTS');
  });

  it('an allowed host that serves no image: the error says so and quotes nothing of the body', async () => {
    for (const path of ['/secret', '/secret.txt']) {
      hostile.imageUrl = `${hostile.url}${path}`;
      const error = await expectError(await generate(allowed), 502);
      expect(error.message).toMatch(/instead of an image/);
      expect(JSON.stringify(error)).not.toContain(SECRET);
      expect(hostile.hitsOf(path)).toBe(1);
    }
  });

  it('a redirect from an allowed host to a private one is refused at that hop', async () => {
    for (const to of [`${hostile.url.replace('127.0.0.1', '[::ffff:7f00:2]')}/secret`, `${hostile.url.replace('127.0.0.1', '127.0.0.2')}/secret`]) {
      hostile.hits.clear();
      hostile.imageUrl = `${hostile.url}/redirect?to=${encodeURIComponent(to)}`;
      const error = await expectError(await generate(allowed), 502);
      expect(error.message).toContain('MEDIA_FETCH_ALLOW_HOSTS');
      expect(hostile.hitsOf('/redirect')).toBe(1);
      expect(hostile.hitsOf('/secret')).toBe(0);
    }
  });

  it('redirects are followed a bounded number of times', async () => {
    let url = `${hostile.url}/huge.png`;
    for (let i = 0; i < 8; i++) url = `${hostile.url}/redirect${i}?to=${encodeURIComponent(url)}`;
    hostile.imageUrl = url;
    const error = await expectError(await generate(allowed), 502);
    expect(error.message).toMatch(/redirected more than 5 times/);
    expect(hostile.hitsOf('/huge.png')).toBe(0);
  });

  it('an image over MEDIA_FETCH_MAX_BYTES is refused, not buffered', async () => {
    hostile.imageUrl = `${hostile.url}/huge.png`;
    const error = await expectError(await generate(allowed), 502);
    expect(error.message).toContain('MEDIA_FETCH_MAX_BYTES');
  });
});

describe('an image prompt of `..` or `.`', () => {
  it('reaches Pollinations as a prompt, not as a request for its base URL', async () => {
    const gw = await gateway({ CATALOG_FILE });
    for (const prompt of ['..', '.']) {
      emu.reset();
      const res = await postJson(`${gw.baseURL}/images/generations`, {
        model: 'flux-schnell',
        prompt,
        provider: 'PollinationsAI',
        response_format: 'b64_json',
      });
      expect(res.status).toBe(200);
      const paths = emu.requests('pollinations').map((r) => r.path.split('?')[0]);
      expect(paths).toEqual([`/pollinations/image/${prompt}%20`]);
    }
  });
});

/* ------------------------------------------------------------------ admin login */

const login = (gw: Gateway, password: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ password }) });

describe('admin login throttle', () => {
  it('50 parallel wrong passwords from one address: at most 10 are evaluated, the rest get 429', async () => {
    const gw = await gateway({}, null);
    const statuses = (await Promise.all(Array.from({ length: 50 }, (_, i) => login(gw, `wrong-${i}`)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(40);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: rotating it does not buy more guesses', async () => {
    const gw = await gateway({}, null);
    const statuses = (await Promise.all(Array.from({ length: 30 }, (_, i) => login(gw, `wrong-${i}`, { 'x-forwarded-for': `198.51.100.${i + 1}` })))).map(
      (r) => r.status,
    );
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
  });

  it('with TRUST_PROXY, the throttle is per client: guesses from one do not lock the admin out elsewhere', async () => {
    const gw = await gateway({ TRUST_PROXY: 'loopback' }, null);
    const attacker = { 'x-forwarded-for': REMOTE };
    const statuses = (await Promise.all(Array.from({ length: 50 }, (_, i) => login(gw, `wrong-${i}`, attacker)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect((await login(gw, 'admin-test-password', attacker)).status).toBe(429);
    // The account's own backoff delays the admin (at most 3 s) but lets them in.
    const started = Date.now();
    const admin = await login(gw, 'admin-test-password', { 'x-forwarded-for': '198.51.100.20' });
    expect(admin.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('the account backs off after repeated failures, then a success clears it', async () => {
    const gw = await gateway({}, null);
    const timed = async (password: string) => {
      const started = Date.now();
      const res = await login(gw, password);
      return { status: res.status, ms: Date.now() - started };
    };
    const first = await timed('wrong');
    for (let i = 0; i < 7; i++) await timed('wrong');
    const slowed = await timed('wrong');
    expect(first.status).toBe(401);
    expect(slowed.status).toBe(401);
    // Eight failures in a row: the ninth waits 50 ms × 2^3 = 400 ms before it is checked.
    expect(slowed.ms).toBeGreaterThanOrEqual(350);
    // The per-address window allows one more attempt: the right password, then no more delay.
    expect((await timed('admin-test-password')).status).toBe(200);
    const after = await timed('wrong');
    expect(after.status).toBe(401);
    expect(after.ms).toBeLessThan(350);
  });
});

/* ------------------------------------------------------------------ /v1 with no key */

describe('/v1 with no API_KEY and no client key', () => {
  let local: Gateway;
  let proxied: Gateway;
  beforeAll(async () => {
    local = await gateway({ API_KEY: '' });
    proxied = await gateway({ API_KEY: '', TRUST_PROXY: 'loopback' });
  });

  it('answers clients on this machine, with any key or none', async () => {
    expect((await fetch(`${local.baseURL}/models`)).status).toBe(200);
    expect((await fetch(`${local.baseURL}/models`, { headers: { authorization: 'Bearer anything' } })).status).toBe(200);
    expect((await fetch(`${proxied.baseURL}/models`)).status).toBe(200);
  });

  it('refuses a client elsewhere (seen through a trusted proxy) with 403 saying how to open it', async () => {
    const res = await postJson(
      `${proxied.baseURL}/chat/completions`,
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-forwarded-for': REMOTE },
    );
    const error = await expectError(res, 403);
    expect(error).toMatchObject({ type: 'permission_error', code: 'api_local_only' });
    expect(error.message).toMatch(/ALLOW_OPEN_API=true/);
    expect(error.message).toMatch(/API_KEY/);
    expect(emu.requests().filter((r) => r.path.includes('chat')).length).toBe(0);
  });

  it('refuses a reverse proxy on this machine relaying someone when TRUST_PROXY is off', async () => {
    expect((await fetch(`${local.baseURL}/models`, { headers: { 'x-forwarded-for': REMOTE } })).status).toBe(403);
  });

  it('ALLOW_OPEN_API=true opens it to everyone', async () => {
    const open = await gateway({ API_KEY: '', TRUST_PROXY: 'loopback', ALLOW_OPEN_API: 'true' });
    expect((await fetch(`${open.baseURL}/models`, { headers: { 'x-forwarded-for': REMOTE } })).status).toBe(200);
  });

  it('the startup log says so, and how to open it', async () => {
    for (const [env, expected] of [
      [{}, /only for clients on this machine[^\n]*create a client key in the console \(or set API_KEY\)[^\n]*ALLOW_OPEN_API=true/],
      [{ ALLOW_OPEN_API: 'true' }, /open to every client without a key \(ALLOW_OPEN_API=true\)/],
      [{ API_KEY: 'k1' }, /\/v1 \(an API key is required\)/],
    ] as const) {
      const gw = await startGatewayProcess(env);
      try {
        // Printed right after listen; its pipe may deliver it just after the readiness answer.
        for (let i = 0; i < 20 && !expected.test(gw.output()); i++) await new Promise((r) => setTimeout(r, 100));
        expect(gw.output()).toMatch(expected);
      } finally {
        await gw.stop();
      }
    }
  });

  it('tells the console which it is: local, open, or key once a key exists', async () => {
    const mode = async (gw: Gateway) =>
      ((await (await fetch(`${gw.url}/api/auth/api-access`, { headers: await adminHeaders(gw) })).json()) as { mode: string }).mode;
    expect(await mode(local)).toBe('local');
    expect(await mode(await gateway({ API_KEY: '', ALLOW_OPEN_API: 'true' }))).toBe('open');
    expect(await mode(await gateway({ API_KEY: 'k1' }))).toBe('key');
    expect((await fetch(`${local.url}/api/auth/api-access`)).status).toBe(401);
  });

  it('a client key opens it to everyone who sends the key', async () => {
    const gw = await gateway({ API_KEY: '', TRUST_PROXY: 'loopback' });
    const headers = await adminHeaders(gw);
    const created = await fetch(`${gw.url}/api/keys`, { method: 'POST', headers, body: JSON.stringify({ name: 'remote' }) });
    const { secret } = (await created.json()) as { secret: string };
    expect((await fetch(`${gw.baseURL}/models`, { headers: { 'x-forwarded-for': REMOTE, authorization: `Bearer ${secret}` } })).status).toBe(200);
    expect((await fetch(`${gw.baseURL}/models`, { headers: { 'x-forwarded-for': REMOTE } })).status).toBe(401);
    const access = await fetch(`${gw.url}/api/auth/api-access`, { headers });
    expect(await access.json()).toEqual({ mode: 'key' });
  });
});

/* ------------------------------------------------------------------ CORS and body types */

describe('CORS', () => {
  const ORIGIN = 'https://some-page.example';
  const preflight = (url: string, origin = ORIGIN) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });

  it('none on /api, and none on an open /v1', async () => {
    const gw = await gateway({ API_KEY: '' });
    for (const res of [await preflight(`${gw.url}/api/auth/login`), await fetch(`${gw.url}/api/auth/session`, { headers: { origin: ORIGIN } })]) {
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect((await preflight(`${gw.baseURL}/chat/completions`)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${gw.baseURL}/models`, { headers: { origin: ORIGIN } })).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('`*` on /v1 (not /api) once a key is required', async () => {
    const gw = await gateway({ API_KEY: 'k1' });
    const pre = await preflight(`${gw.baseURL}/chat/completions`);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    const res = await fetch(`${gw.baseURL}/models`, { headers: { origin: ORIGIN, authorization: 'Bearer k1' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect((await preflight(`${gw.url}/api/auth/login`)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('CORS_ORIGINS lists the origins /v1 allows', async () => {
    const gw = await gateway({ API_KEY: 'k1', CORS_ORIGINS: 'https://chat.example.com' });
    expect((await preflight(`${gw.baseURL}/models`, 'https://chat.example.com')).headers.get('access-control-allow-origin')).toBe('https://chat.example.com');
    expect((await preflight(`${gw.baseURL}/models`)).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request bodies', () => {
  it('text/plain is not parsed as JSON: 415, and nothing reaches an upstream', async () => {
    const gw = await gateway({ API_KEY: '' });
    emu.reset();
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(await expectError(res, 415)).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_media_type' });
    expect(emu.requests().length).toBe(0);
  });

  it('an over-limit Content-Length is answered 413 at once and the connection closed, while the client still holds the body', async () => {
    const gw = await gateway({ BODY_LIMIT: '1kb' });
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    const started = Date.now();
    let answeredMs = 0;
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    socket.on('data', (d: Buffer) => {
      received += d.toString();
      answeredMs ||= Date.now() - started;
    });
    socket.on('error', () => undefined);
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{"model":');
    const closedMs = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.toLowerCase()).toContain('connection: close');
    const body = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as ErrorBody;
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
    expect(answeredMs).toBeLessThan(1000);
    expect(closedMs).toBeLessThan(2500);
    socket.destroy();
  });
});
