import { STATUS_CODES } from 'node:http';
import { type Readable, type Transform, pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { getProxyForUrl } from 'proxy-from-env';
import { Observable } from 'rxjs';
import { Agent, type Dispatcher, ProxyAgent } from 'undici';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { AddressGuard } from './public-address.ts';
import { SseLimitError, SseParser, type SseEvent } from './sse-parser.ts';
import { UpstreamError, parseRetryAfter, upstreamErrorMessage, upstreamVerdict } from './upstream-errors.ts';

/**
 * Backpressure from the client: while it is blocked (its socket buffer is full), the upstream
 * is not read, so a client that reads slowly or not at all holds a bounded amount of memory.
 */
export interface ClientFlow {
  readonly blocked: boolean;
  /** Calls `resume` once the client has taken what was written (at once when not blocked). */
  onDrain(resume: () => void): void;
}

export interface UpstreamCall {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** JSON-encoded when it is not a string or Buffer. */
  body?: unknown;
  signal: AbortSignal;
  /** Explicit proxy for this provider; otherwise HTTPS_PROXY/HTTP_PROXY/NO_PROXY decide. */
  proxy?: string;
  /**
   * For URLs an upstream handed over (images): only addresses this guard allows are connected to,
   * checked on every resolved address at connect time (a pool of its own), or before the request
   * when a proxy resolves the name.
   */
  addressGuard?: AddressGuard;
  /** Answer a 3xx as a response (its Location header for the caller to vet and follow) instead of an error. */
  returnRedirects?: boolean;
  /** Told every answer's status and headers, errors included, before the body is read (the quota ledger reads rate-limit headers). */
  onResponse?: (status: number, headers: Readonly<Record<string, string | undefined>>) => void;
}

export interface UpstreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Readable;
  /** Aborts the request if its body is still arriving and releases it; safe to call twice. */
  close(): void;
  /**
   * For a caller done before the body ended (an SSE stream after `[DONE]`): lets the rest arrive
   * and discards it, so the connection goes back to the pool, destroying it if it has not ended
   * within DRAIN_MS. Safe to call after close().
   */
  release(): void;
  /** The caller's signal: fires when the client goes away. */
  signal: AbortSignal;
  /**
   * Bytes received so far before content decoding, for a content-coded body; undefined for one
   * sent as is, where it is what its reader has read.
   */
  receivedBytes(): number | undefined;
}

/** Caps for one whole body; by default the configured `limits.upstreamBodyBytes`/`upstreamDecodedBytes`. */
export interface BodyLimits {
  /** As received, before decompression. */
  bodyBytes?: number;
  /** After decompression. */
  decodedBytes?: number;
}

const MAX_ERROR_BODY = 64 * 1024;

/** Tells an answer's observer, which must never break the call it observes. */
function tell(observer: UpstreamCall['onResponse'], status: number, headers: Readonly<Record<string, string | undefined>>): void {
  try {
    observer?.(status, headers);
  } catch {
    // An observer's own bug is not the upstream's failure.
  }
}
/** Request bodies from this size on are handed to undici as a one-shot iterable (see sendOnce). */
export const SEND_ONCE_BYTES = 16 * 1024;

/**
 * A request body that undici reads once and then no longer holds. A Buffer body is kept by undici
 * until the answer has ended: for a stream, the whole prompt (a long conversation) for as long as
 * the stream is open. An iterable leaves undici with a spent iterator; sent with its
 * Content-Length, it goes out as the same bytes (not chunked). Small bodies stay Buffers: the
 * iterable costs a few promises per request, and what they would free is small.
 */
function sendOnce(bytes: Buffer): AsyncIterable<Buffer> {
  let left: Buffer | undefined = bytes;
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const value = left;
        left = undefined;
        return Promise.resolve<IteratorResult<Buffer>>(value ? { value, done: false } : { value: undefined, done: true });
      },
    }),
  };
}

/** How long release() waits for the rest of a body before giving up its connection. */
const DRAIN_MS = 1000;

/**
 * The one place that speaks HTTP to upstreams. Everything else (adapters, health checks,
 * discovery) goes through here, so the client library can be swapped behind this seam.
 *
 * The client is undici (Node's own HTTP engine), chosen by measurement (bench/http-clients.ts and
 * bench/README.md): per request it costs about a quarter of axios's CPU. Per
 * request this class adds one abort controller and one timer (first byte), and per body one timer
 * (idle), refreshed rather than re-created for each chunk.
 */
@Injectable()
export class UpstreamHttp implements OnModuleDestroy {
  /** Keep-alive pools, one dispatcher per proxy URL ('' = direct), each pooling per origin. */
  private readonly dispatchers = new Map<string, Dispatcher>();

  private mediaPolicy?: { guard: AddressGuard; maxBytes: number };

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Where URLs returned by upstreams (images) may lead (MEDIA_FETCH_ALLOW_HOSTS) and how much of them is read. */
  get media(): { guard: AddressGuard; maxBytes: number } {
    this.mediaPolicy ??= { guard: new AddressGuard(this.config.access.mediaFetchAllowHosts), maxBytes: this.config.limits.mediaFetchBytes };
    return this.mediaPolicy;
  }

  async onModuleDestroy(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.all(all.map((d) => d.destroy().catch(() => undefined)));
  }

  /**
   * Sends a request and resolves when the status line and headers arrive. A non-2xx status
   * rejects with an `UpstreamError('http')` carrying the upstream's message and Retry-After.
   */
  async open(call: UpstreamCall): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream', ...call.headers };
    let body: Buffer | undefined;
    if (call.body !== undefined) {
      // As bytes: undici keeps what it is given until the answer ends and copies a string into a
      // Buffer of its own, so a string body is held twice for the life of a stream (a long
      // conversation twice over, per open stream).
      body = Buffer.isBuffer(call.body) ? call.body : Buffer.from(typeof call.body === 'string' ? call.body : JSON.stringify(call.body));
      headers['content-type'] ??= 'application/json';
    }
    // From SEND_ONCE_BYTES on, the body goes as a one-shot iterable with its length (see sendOnce);
    // a caller's own Content-Length (in any case) leaves it as it is.
    let sent: Buffer | AsyncIterable<Buffer> | undefined = body;
    if (body && body.length >= SEND_ONCE_BYTES && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(body.length);
      sent = sendOnce(body);
    }

    // One controller per request carries both the client's abort and the first-byte timeout to
    // undici (whose own header/body timers tick at a 1 s resolution, too coarse for short limits).
    const local = new AbortController();
    // The closures below (kept as long as the answer is read) use the signal, not `call`: that
    // would keep the request's payload (its messages) for the whole life of a stream.
    const { signal } = call;
    const onClientAbort = () => local.abort(signal.reason);
    if (signal.aborted) throw new UpstreamError('aborted', 'client went away');
    signal.addEventListener('abort', onClientAbort, { once: true });
    const { firstByteMs } = this.config.timeouts;
    let timedOut: string | undefined;
    const firstByte = setTimeout(() => {
      timedOut = `no response within ${firstByteMs} ms`;
      local.abort();
    }, firstByteMs);

    let res: Dispatcher.ResponseData;
    try {
      const proxy = call.proxy ?? proxyFromEnv(call.url);
      if (call.addressGuard) await call.addressGuard.vet(new URL(call.url), proxy !== '');
      res = await this.dispatcherFor(proxy, proxy ? undefined : call.addressGuard).request({
        ...splitUrl(call.url),
        method: call.method,
        headers,
        // undici takes an (async) iterable body, which its types leave out.
        body: sent as Buffer | Readable | undefined,
        signal: local.signal,
      });
    } catch (err) {
      signal.removeEventListener('abort', onClientAbort);
      throw this.toUpstreamError(err, signal.aborted, timedOut);
    } finally {
      clearTimeout(firstByte);
    }

    const responseHeaders: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) responseHeaders[k] = v == null ? undefined : Array.isArray(v) ? v.join(', ') : v;
    tell(call.onResponse, res.statusCode, responseHeaders);
    const raw = res.body;
    const stream = decoded(raw, responseHeaders['content-encoding']);
    // Counted only where a decoder already reads the raw body: a second 'data' listener there
    // changes nothing, while on an undecoded body it would start the flow before its reader.
    let received = 0;
    if (stream !== raw) raw.on('data', (chunk: Buffer) => (received += chunk.length));
    const receivedBytes = () => (stream === raw ? undefined : received);
    let closed = false;
    // A body read to its end leaves its connection to the pool; one cut short is destroyed (and
    // with it the connection), which undici reports as an error nobody needs to hear.
    const close = () => {
      if (closed) return;
      closed = true;
      signal.removeEventListener('abort', onClientAbort);
      for (const s of stream === raw ? [raw] : [stream, raw]) {
        if (!s.readableEnded && !s.destroyed) s.on('error', ignore).destroy();
      }
    };
    const release = () => {
      if (closed) return;
      if (stream.readableEnded || stream.destroyed) return close();
      closed = true;
      signal.removeEventListener('abort', onClientAbort);
      const drained = setTimeout(() => raw.on('error', ignore).destroy(), DRAIN_MS);
      drained.unref();
      stream
        .on('error', ignore)
        .once('close', () => clearTimeout(drained))
        .resume();
    };

    const redirect = call.returnRedirects && res.statusCode >= 300 && res.statusCode < 400;
    if ((res.statusCode < 200 || res.statusCode >= 300) && !redirect) {
      // An error body that stalls must not hold the request: the idle timeout applies here too.
      const idle = this.idleTimer(stream);
      const text = await readLimited(stream, MAX_ERROR_BODY, idle).catch(() => '');
      clearTimeout(idle);
      close();
      const message = upstreamErrorMessage(text) || STATUS_CODES[res.statusCode] || 'error';
      const verdict = upstreamVerdict(res.statusCode, text);
      const html = String(responseHeaders['content-type'] ?? '').includes('text/html') || /^\s*<(!doctype\s+html|html)\b/i.test(text);
      throw new UpstreamError('http', `HTTP ${res.statusCode}: ${message}`, res.statusCode, parseRetryAfter(responseHeaders['retry-after']), verdict, html);
    }
    return { status: res.statusCode, headers: responseHeaders, body: stream, close, release, signal, receivedBytes };
  }

  /**
   * Reads a whole body; silence longer than the idle timeout (one timer, refreshed per chunk) fails
   * it. So does a body over its caps, counted as chunks arrive (a gzip bomb is cut after at most one
   * decoder chunk past the cap), or one whose Content-Length announces it is over, before reading.
   */
  async readAll(res: UpstreamResponse, limits: BodyLimits = {}): Promise<Buffer> {
    const bodyBytes = limits.bodyBytes ?? this.config.limits.upstreamBodyBytes;
    const decodedBytes = limits.decodedBytes ?? this.config.limits.upstreamDecodedBytes;
    const declared = Number(res.headers['content-length']);
    if (declared > bodyBytes) {
      res.close();
      throw tooLarge(`response body of ${declared} bytes announced, over the ${bodyBytes}-byte limit (UPSTREAM_MAX_BODY)`);
    }
    const body = res.body;
    const idle = this.idleTimer(body);
    const parts: Buffer[] = [];
    let size = 0;
    try {
      // Listeners, not `for await`: an async iterator, its end-of-stream watcher and a promise per
      // chunk, for what is most often one chunk, were a good part of a non-stream answer's garbage.
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        const settle = (err?: unknown): void => {
          if (settled) return;
          settled = true;
          // The error listener stays: an error after this (until close() below adds its own) is this one's to swallow.
          body.off('data', onData).off('end', onEnd).off('close', onClose);
          if (err === undefined) resolve();
          else reject(err);
        };
        const onData = (chunk: Buffer): void => {
          idle.refresh();
          size += chunk.length;
          if ((res.receivedBytes() ?? size) > bodyBytes) return settle(tooLarge(`response body over the ${bodyBytes}-byte limit (UPSTREAM_MAX_BODY)`));
          if (size > decodedBytes) return settle(tooLarge(`response body decompresses to over the ${decodedBytes}-byte limit (UPSTREAM_MAX_DECODED_BODY)`));
          parts.push(chunk);
        };
        const onEnd = (): void => settle();
        // Destroyed before its end without an error (the client went away, say): as `for await` reports it.
        const onClose = (): void => settle(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
        if (body.readableEnded) return resolve();
        if (body.destroyed) return onClose();
        body.on('data', onData).on('end', onEnd).on('error', settle).on('close', onClose);
      });
    } catch (err) {
      res.close();
      throw this.toUpstreamError(err, res.signal.aborted);
    } finally {
      clearTimeout(idle);
    }
    res.release();
    return Buffer.concat(parts, size);
  }

  /** Reads a JSON body; a body that is not JSON is an invalid answer, not a crash. */
  async readJson(res: UpstreamResponse): Promise<unknown> {
    assertNotHtml(res);
    const text = (await this.readAll(res)).toString('utf8');
    if (!/\S/.test(text)) throw new UpstreamError('invalid', 'empty response body');
    try {
      return JSON.parse(text);
    } catch {
      // Only the start is worth quoting, and the whole would be parsed a second time there.
      throw new UpstreamError('invalid', `response is not JSON: ${upstreamErrorMessage(text.slice(0, MAX_ERROR_BODY))}`);
    }
  }

  /** Sends a request and returns its JSON body. */
  async json(call: UpstreamCall): Promise<unknown> {
    const res = await this.open(call);
    try {
      return await this.readJson(res);
    } finally {
      res.close();
    }
  }

  /**
   * Server-sent events of a streaming response, parsed by the spec and pushed as the body's
   * chunks arrive. Push, not pull: a stream waiting for its next chunk holds two listeners and a
   * timer, not a chain of pending promises, which matters with thousands of slow streams open.
   * Silence longer than the idle timeout fails it. Unsubscribing before the body ended (after
   * `[DONE]`) lets the rest drain so the connection goes back to the pool, see release().
   * With a client `flow`, the body is paused while the client is blocked.
   */
  sse(res: UpstreamResponse, flow?: ClientFlow): Observable<SseEvent> {
    return new Observable<SseEvent>((subscriber) => {
      assertNotHtml(res);
      const body = res.body;
      const { sseLineBytes, sseEventBytes } = this.config.limits;
      const parser = new SseParser({ maxLineBytes: sseLineBytes, maxEventBytes: sseEventBytes });
      let failed = false;
      let idle = this.idleTimer(body);
      // While the client is not reading, neither is this (see ClientFlow): the upstream is then
      // unread rather than silent, so its idle timer stops too.
      let paused = false;
      const resume = () => {
        if (!paused || subscriber.closed) return;
        paused = false;
        idle = this.idleTimer(body);
        body.resume();
      };
      const onData = (chunk: Buffer) => {
        idle.refresh();
        let events: SseEvent[];
        let broken: SseLimitError | undefined;
        // Nothing may throw out of a 'data' listener: it would be uncaught and end the process.
        try {
          events = parser.push(chunk);
        } catch (err) {
          if (!(err instanceof SseLimitError)) return onError(err);
          broken = err;
          events = err.events;
        }
        try {
          for (const event of events) {
            if (subscriber.closed) return;
            subscriber.next(event);
          }
        } catch (err) {
          // Thrown downstream, it is this stream's failure, not the process's.
          return onError(err);
        }
        if (broken) return onError(new UpstreamError('invalid', `${broken.message} (${broken.limit === 'line' ? 'SSE_MAX_LINE' : 'SSE_MAX_EVENT'})`));
        if (flow?.blocked && !paused && !subscriber.closed) {
          paused = true;
          clearTimeout(idle);
          body.pause();
          flow.onDrain(resume);
        }
      };
      const onEnd = () => {
        parser.end();
        subscriber.complete();
      };
      const onError = (err: unknown) => {
        failed = true;
        subscriber.error(this.toUpstreamError(err, res.signal.aborted));
      };
      // Destroyed without an error and without an end: the connection went away mid-body.
      const onClose = () => {
        if (!body.readableEnded) onError(new UpstreamError('network', 'the upstream connection closed before the body ended'));
      };
      // on(), not once(): each is emitted once, and removed by the teardown either way, while a
      // once() wrapper is a closure, its scope and a property array held by every open stream.
      body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
      return () => {
        clearTimeout(idle);
        body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
        if (failed) res.close();
        else res.release();
      };
    });
  }

  /** Fails the body after the idle timeout; refresh() it per chunk, clear it at the end. */
  private idleTimer(body: Readable): NodeJS.Timeout {
    const { idleMs } = this.config.timeouts;
    return setTimeout(() => body.destroy(new UpstreamError('timeout', `upstream silent for ${idleMs} ms`)), idleMs);
  }

  /** The pool for a proxy URL ('' = direct); a guarded direct call gets its own, whose sockets vet each resolved address. */
  private dispatcherFor(proxy: string, guard?: AddressGuard): Dispatcher {
    const key = guard ? `\0guard:${guard.id}` : proxy;
    let dispatcher = this.dispatchers.get(key);
    if (!dispatcher) {
      const options: Agent.Options = {
        connect: { timeout: this.config.timeouts.connectMs, ...(guard ? { lookup: guard.lookup } : {}) },
        // The first-byte and idle timeouts are this class's own (see open and chunks).
        headersTimeout: 0,
        bodyTimeout: 0,
        // No cap on connections per origin: every client stream holds one upstream connection for its
        // whole life, and a request queued behind a cap would spend its first-byte timeout waiting.
        connections: null,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 120_000,
      };
      // proxyTunnel false: plain-http upstreams get absolute-URI requests (what every forward proxy
      // speaks); https ones are tunnelled with CONNECT either way.
      dispatcher = proxy ? new ProxyAgent({ ...options, uri: proxy, proxyTunnel: false }) : new Agent(options);
      this.dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }

  private toUpstreamError(err: unknown, clientAborted: boolean, timedOut?: string): UpstreamError {
    if (err instanceof UpstreamError) return err;
    if (timedOut) return new UpstreamError('timeout', timedOut);
    if (clientAborted) return new UpstreamError('aborted', 'client went away');
    const { connectMs } = this.config.timeouts;
    const e = err as { code?: string; message?: string; name?: string };
    const code = e.code ?? '';
    switch (code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new UpstreamError('timeout', `connect timed out after ${connectMs} ms`);
      case 'UND_ERR_ABORTED':
        return new UpstreamError('aborted', 'request aborted');
      case 'ETIMEDOUT':
        return new UpstreamError('timeout', e.message ?? code);
    }
    if (e.name === 'AbortError') return new UpstreamError('aborted', 'request aborted');
    if (NETWORK_CODES.has(code) || code.startsWith('UND_ERR') || code.startsWith('ERR_TLS') || code.startsWith('CERT_') || code.startsWith('Z_')) {
      return new UpstreamError('network', `${code}: ${e.message ?? ''}`.trim());
    }
    return new UpstreamError('network', e.message ?? String(err));
  }
}

/** Parsed request URLs: a provider's few endpoints are parsed once, not per request. */
const splitUrls = new Map<string, { origin: string; path: string }>();
const SPLIT_URLS_MAX = 512;

/** undici's request options take origin and path apart. */
function splitUrl(url: string): { origin: string; path: string } {
  let split = splitUrls.get(url);
  if (!split) {
    const u = new URL(url);
    split = { origin: u.origin, path: u.pathname + u.search };
    // Image URLs and the like vary without end: past the bound, they are parsed each time.
    if (splitUrls.size < SPLIT_URLS_MAX) splitUrls.set(url, split);
  }
  return split;
}

/** HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read at request time (they may change while running). */
function proxyFromEnv(url: string): string {
  const env = process.env;
  // Most gateways run without any proxy variable: skip the URL parsing then.
  if (!env.HTTP_PROXY && !env.http_proxy && !env.HTTPS_PROXY && !env.https_proxy && !env.ALL_PROXY && !env.all_proxy) return '';
  return getProxyForUrl(url);
}

/** The body as sent before content coding: upstreams may compress even when not asked. */
function decoded(body: Readable, encoding: string | undefined): Readable {
  let decoder: Transform;
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      decoder = createGunzip();
      break;
    case 'deflate':
      decoder = createInflate();
      break;
    case 'br':
      decoder = createBrotliDecompress();
      break;
    default:
      return body;
  }
  // pipeline carries the body's errors (an idle timeout, say) into the decoder and destroys both.
  pipeline(body, decoder, () => undefined);
  return decoder;
}

function assertNotHtml(res: UpstreamResponse): void {
  const type = res.headers['content-type'] ?? '';
  if (type.includes('text/html')) {
    res.close();
    throw new UpstreamError('invalid', 'upstream answered with an HTML page instead of an API response');
  }
}

async function readLimited(body: Readable, limit: number, idle: NodeJS.Timeout): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    idle.refresh();
    parts.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}

const ignore = () => undefined;

/** A body over a cap: an invalid answer (the request fails over), never a crash or a 500. */
const tooLarge = (message: string) => new UpstreamError('invalid', message);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CLOSED', 'EPROTO']);
