import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { firstValueFrom, toArray } from 'rxjs';
import { loadConfig } from '../config/app-config.ts';
import { UpstreamError } from './provider-adapter.ts';
import { attemptCode } from './upstream-errors.ts';
import { SEND_ONCE_BYTES, UpstreamHttp } from './upstream-http.ts';

/** What the test server answers next; each test sets it. */
let answer: (res: ServerResponse) => void;
let server: Server;
let url: string;
let http: UpstreamHttp;

const BODY_CAP = 64 * 1024;
const DECODED_CAP = 256 * 1024;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  http = new UpstreamHttp(
    loadConfig({
      UPSTREAM_MAX_BODY: String(BODY_CAP),
      UPSTREAM_MAX_DECODED_BODY: String(DECODED_CAP),
      SSE_MAX_LINE: '4kb',
      SSE_MAX_EVENT: '16kb',
      // Long enough that a loaded machine's pauses never pass for an upstream's silence.
      UPSTREAM_IDLE_TIMEOUT_MS: '1500',
    }),
  );
});
afterAll(async () => {
  await http.onModuleDestroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = () => http.open({ method: 'GET', url, signal: new AbortController().signal });

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

/** Writes `chunk` until the client goes away or `max` bytes were sent; returns what was sent. */
function endless(res: ServerResponse, chunk: Buffer, max: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const more = () => {
      while (sent < max && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      resolve(sent);
      if (!res.destroyed) res.end();
    };
    res.once('close', () => resolve(sent));
    more();
  });
}

describe('UpstreamHttp whole bodies', () => {
  it('reads a body under the caps', async () => {
    answer = (res) => res.end(JSON.stringify({ ok: 'y'.repeat(1000) }));
    expect(await http.json({ method: 'GET', url, signal: new AbortController().signal })).toEqual({ ok: 'y'.repeat(1000) });
  });

  it('joins a body that arrives in many chunks, in order', async () => {
    const parts = Array.from({ length: 40 }, (_, i) => `"${String(i).padStart(2, '0')}${'z'.repeat(500)}"`);
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let i = 0;
      const next = () => {
        if (i === parts.length) return void res.end(']');
        res.write(`${i === 0 ? '[' : ','}${parts[i++]}`);
        setImmediate(next);
      };
      next();
    };
    expect(await http.json({ method: 'GET', url, signal: new AbortController().signal })).toEqual(parts.map((p) => JSON.parse(p) as string));
  });

  it('fails, and does not wait for ever, when the upstream closes the connection in the middle of a body', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial": "only the start of');
      setTimeout(() => res.destroy(), 20);
    };
    const started = Date.now();
    const err = await failure(get().then((res) => http.readJson(res)));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err.kind).not.toBe('timeout');
  });

  it('refuses a body whose Content-Length is over the cap before reading it', async () => {
    let sent: Promise<number> = Promise.resolve(0);
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(300 * 1024 * 1024) });
      sent = endless(res, Buffer.alloc(16 * 1024, 0x20), 300 * 1024 * 1024);
    };
    const err = await failure(get().then((res) => http.readJson(res)));
    expect(err.kind).toBe('invalid');
    expect(err.message).toContain(`over the ${BODY_CAP}-byte limit (UPSTREAM_MAX_BODY)`);
    expect(await sent).toBeLessThan(16 * 1024 * 1024);
  });

  it('cuts a chunked body without a length at the byte cap', async () => {
    let sent: Promise<number> = Promise.resolve(0);
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      sent = endless(res, Buffer.alloc(8 * 1024, 0x20), 300 * 1024 * 1024);
    };
    const err = await failure(get().then((res) => http.readAll(res)));
    expect(err).toMatchObject({ kind: 'invalid', message: expect.stringContaining('UPSTREAM_MAX_BODY') });
    expect(await sent).toBeLessThan(16 * 1024 * 1024);
  });

  it('stops inflating a gzip bomb at the decoded cap', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // ~64 KB on the wire
    expect(bomb.length).toBeLessThan(BODY_CAP);
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
      res.end(bomb);
    };
    const before = process.memoryUsage().arrayBuffers;
    const err = await failure(get().then((res) => http.readJson(res)));
    expect(err).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining(`decompresses to over the ${DECODED_CAP}-byte limit (UPSTREAM_MAX_DECODED_BODY)`),
    });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('counts the compressed bytes against the body cap', async () => {
    let sent: Promise<number> = Promise.resolve(0);
    // Random-looking bytes gzip to more than they are: the wire cap is passed before the decoded one.
    const noise = gzipSync(Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 2654435761) >>> 24)));
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' });
      sent = endless(res, Buffer.concat(Array.from({ length: 40 }, () => noise)), 64 * 1024 * 1024);
    };
    const err = await failure(get().then((res) => http.readAll(res, { decodedBytes: 1024 * 1024 * 1024 })));
    expect(err.message).toContain('UPSTREAM_MAX_BODY');
    expect(await sent).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('UpstreamHttp error answers', () => {
  it('an error status whose body then stalls fails at the idle timeout, not never', async () => {
    answer = (res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.write('{"error":');
    };
    const started = Date.now();
    const err = await failure(get());
    expect(err).toMatchObject({ kind: 'http', status: 500, message: 'HTTP 500: Internal Server Error' });
    // At the idle timeout (1.5 s): not at once, and not never. The upper bound leaves a loaded machine room (2.8 s seen).
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe('UpstreamHttp error pages', () => {
  it('an HTML error page is named as such (attempt code upstream_html), a JSON 5xx as a 5xx', async () => {
    answer = (res) => {
      res.writeHead(502, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>');
    };
    const page = await failure(get());
    expect(page).toMatchObject({ kind: 'http', status: 502, html: true });
    expect(page.message).toBe('HTTP 502: 502 Bad Gateway 502 Bad Gateway nginx');
    expect(attemptCode(page)).toBe('upstream_html');

    answer = (res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"model crashed"}}');
    };
    const json = await failure(get());
    expect(json).toMatchObject({ html: false, message: 'HTTP 500: model crashed' });
    expect(attemptCode(json)).toBe('upstream_5xx');
  });

  it('every failure kind has its stable code', () => {
    const codes = [
      new UpstreamError('timeout', 'no first byte in 500 ms'),
      new UpstreamError('network', 'ECONNREFUSED'),
      new UpstreamError('aborted', 'client disconnected'),
      new UpstreamError('invalid', 'upstream answered with an HTML page instead of an API response'),
      new UpstreamError('invalid', 'the upstream answered without any content'),
      new UpstreamError('http', 'HTTP 429: slow down', 429),
      new UpstreamError('http', 'HTTP 401: bad key', 401),
      new UpstreamError('http', 'HTTP 402: no credit', 402),
      new UpstreamError('http', 'HTTP 404: no such model', 404),
    ].map(attemptCode);
    expect(codes).toEqual([
      'upstream_timeout',
      'network_error',
      'aborted',
      'upstream_html',
      'invalid_answer',
      'rate_limited',
      'auth_failed',
      'payment_required',
      'upstream_4xx',
    ]);
  });
});

describe('UpstreamHttp event streams', () => {
  it('fails a gzip-compressed endless line with a clear error instead of throwing in the data listener', async () => {
    const line = gzipSync(Buffer.concat([Buffer.from('data: '), Buffer.alloc(32 * 1024 * 1024, 0x61)]));
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(line);
    };
    const res = await get();
    const err = await failure(firstValueFrom(http.sse(res).pipe(toArray())));
    expect(err).toMatchObject({ kind: 'invalid', message: 'an event stream line is over 4096 bytes (SSE_MAX_LINE)' });
  });

  it('fails an event over the event cap', async () => {
    const line = `data: ${'x'.repeat(3000)}\n`;
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`data: {"a":1}\n\n${line.repeat(10)}\n`);
    };
    const events: string[] = [];
    const err = await failure(
      new Promise((resolve, reject) => {
        void get().then((res) => http.sse(res).subscribe({ next: (e) => events.push(e.data), error: reject, complete: () => resolve(undefined) }));
      }),
    );
    expect(events).toEqual(['{"a":1}']);
    expect(err.message).toBe('an event stream event is over 16384 bytes (SSE_MAX_EVENT)');
  });
});

describe('UpstreamHttp request bodies', () => {
  let echo: Server;
  let echoUrl: string;
  /** What the echo server received, per request. */
  const received: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];

  beforeAll(async () => {
    echo = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(parts) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    echo.closeAllConnections();
    await new Promise((resolve) => echo.close(resolve));
  });

  // Bodies from SEND_ONCE_BYTES on go to undici as a one-shot iterable (it would hold a Buffer
  // until the answer ends): the upstream must see the same bytes, with a length, not chunked, and
  // a second request as the first.
  it.each([
    ['small', 1000],
    ['large', SEND_ONCE_BYTES + 1],
    ['much larger', 5 * SEND_ONCE_BYTES],
  ])('sends a %s body whole, with its Content-Length, not chunked', async (_name, size) => {
    received.length = 0;
    const payload = { model: 'm', messages: [{ role: 'user', content: 'é'.repeat(size / 4) + 'x'.repeat(size / 2) }] };
    for (let i = 0; i < 2; i++) {
      const res = await http.open({ method: 'POST', url: echoUrl, body: payload, signal: new AbortController().signal });
      expect(await http.readJson(res)).toEqual({ ok: true });
    }
    const bytes = Buffer.from(JSON.stringify(payload));
    expect(received).toHaveLength(2);
    for (const r of received) {
      expect(r.body.equals(bytes)).toBe(true);
      expect(r.headers['content-length']).toBe(String(bytes.length));
      expect(r.headers['transfer-encoding']).toBeUndefined();
      expect(r.headers['content-type']).toBe('application/json');
    }
  });
});
