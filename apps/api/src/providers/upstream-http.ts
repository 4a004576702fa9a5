import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { APP_CONFIG, type AppConfig } from '../config/app-config.ts';
import { parseRetryAfter, upstreamErrorMessage } from './openai-compatible/openai-mapping.ts';
import { UpstreamError } from './provider-adapter.ts';
import { SseParser, type SseEvent } from './sse-parser.ts';

export interface UpstreamCall {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** JSON-encoded when it is not a string or Buffer. */
  body?: unknown;
  signal: AbortSignal;
  /** Explicit proxy for this provider; otherwise HTTPS_PROXY/HTTP_PROXY/NO_PROXY decide. */
  proxy?: string;
}

export interface UpstreamResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Readable;
  /** Aborts the request and destroys the body; safe to call twice. */
  close(): void;
  /** The signal that fires on client abort or on a gateway timeout. */
  signal: AbortSignal;
}

const MAX_ERROR_BODY = 64 * 1024;

interface AgentPair {
  http: http.Agent;
  https: http.Agent;
}

/**
 * The one place that speaks HTTP to upstreams. Everything else (adapters, health checks,
 * discovery) goes through here, so the client library can be swapped behind this seam.
 */
@Injectable()
export class UpstreamHttp implements OnModuleDestroy {
  private readonly client: AxiosInstance;
  /** Keep-alive pools, one pair per proxy URL ('' = direct). */
  private readonly agents = new Map<string, AgentPair>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.client = axios.create({
      responseType: 'stream',
      validateStatus: () => true,
      maxRedirects: 0,
      // Proxies are handled by our agents: axios's own proxy support cannot tunnel HTTPS.
      proxy: false,
      decompress: true,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
    });
  }

  onModuleDestroy(): void {
    for (const pair of this.agents.values()) {
      pair.http.destroy();
      pair.https.destroy();
    }
    this.agents.clear();
  }

  /**
   * Sends a request and resolves when the status line and headers arrive. A non-2xx status
   * rejects with an `UpstreamError('http')` carrying the upstream's message and Retry-After.
   */
  async open(call: UpstreamCall): Promise<UpstreamResponse> {
    const { connectMs, firstByteMs } = this.config.timeouts;
    const local = new AbortController();
    const signal = AbortSignal.any([call.signal, local.signal]);
    let timedOut: string | undefined;
    const fail = (why: string) => {
      timedOut = why;
      local.abort();
    };
    const firstByte = setTimeout(() => fail(`no response within ${firstByteMs} ms`), firstByteMs);
    const onSocket = (socket: Socket) => {
      if (!socket.connecting) return;
      const connect = setTimeout(() => fail(`connect timed out after ${connectMs} ms`), connectMs);
      socket.once('connect', () => clearTimeout(connect));
      socket.once('close', () => clearTimeout(connect));
    };

    const isHttps = call.url.startsWith('https:');
    const agent = this.agentFor(call.url, call.proxy);
    const transport = isHttps ? https : http;
    const request: AxiosRequestConfig = {
      method: call.method,
      url: call.url,
      headers: { accept: 'application/json, text/event-stream', ...call.headers },
      data: call.body === undefined || typeof call.body === 'string' || Buffer.isBuffer(call.body) ? call.body : JSON.stringify(call.body),
      signal,
      httpAgent: isHttps ? undefined : agent,
      httpsAgent: isHttps ? agent : undefined,
      // A transport wrapper is the only hook axios gives us onto the socket (for the connect timeout).
      transport: {
        request: (options: http.RequestOptions, cb: (res: http.IncomingMessage) => void) => {
          const req = transport.request(options, cb);
          req.once('socket', onSocket);
          return req;
        },
      },
    };
    if (call.body !== undefined && !call.headers?.['content-type']) {
      request.headers = { ...request.headers, 'content-type': 'application/json' };
    }

    let res;
    try {
      res = await this.client.request<Readable>(request);
    } catch (err) {
      throw toUpstreamError(err, timedOut, call.signal.aborted);
    } finally {
      clearTimeout(firstByte);
    }

    const body = res.data;
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = v == null ? undefined : String(v);
    const close = () => {
      local.abort();
      body.destroy();
    };
    signal.addEventListener('abort', () => body.destroy(), { once: true });

    if (res.status < 200 || res.status >= 300) {
      const text = await readLimited(body, MAX_ERROR_BODY).catch(() => '');
      close();
      const message = upstreamErrorMessage(text) || http.STATUS_CODES[res.status] || 'error';
      throw new UpstreamError('http', `HTTP ${res.status}: ${message}`, res.status, parseRetryAfter(headers['retry-after']));
    }
    return { status: res.status, headers, body, close, signal };
  }

  /** Reads a whole body, failing on silence longer than the idle timeout. */
  async readAll(res: UpstreamResponse): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.withIdleTimeout(res)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** Reads a JSON body; a body that is not JSON is an invalid answer, not a crash. */
  async readJson(res: UpstreamResponse): Promise<unknown> {
    assertNotHtml(res);
    const text = (await this.readAll(res)).toString('utf8');
    if (!text.trim()) throw new UpstreamError('invalid', 'empty response body');
    try {
      return JSON.parse(text);
    } catch {
      throw new UpstreamError('invalid', `response is not JSON: ${upstreamErrorMessage(text)}`);
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

  /** Server-sent events of a streaming response, parsed by the spec. */
  async *events(res: UpstreamResponse): AsyncGenerator<SseEvent> {
    assertNotHtml(res);
    const parser = new SseParser();
    for await (const chunk of this.withIdleTimeout(res)) {
      for (const event of parser.push(chunk)) yield event;
    }
    for (const event of parser.end()) yield event;
  }

  private async *withIdleTimeout(res: UpstreamResponse): AsyncGenerator<Buffer> {
    const { idleMs } = this.config.timeouts;
    const iterator = res.body[Symbol.asyncIterator]();
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new UpstreamError('timeout', `upstream silent for ${idleMs} ms`)), idleMs);
        });
        let next: IteratorResult<Buffer>;
        try {
          next = await Promise.race([iterator.next() as Promise<IteratorResult<Buffer>>, idle]);
        } catch (err) {
          throw toUpstreamError(err, undefined, res.signal.aborted);
        } finally {
          clearTimeout(timer);
        }
        if (next.done) return;
        yield next.value;
      }
    } finally {
      res.close();
    }
  }

  private agentFor(url: string, explicitProxy?: string): http.Agent {
    const proxy = explicitProxy ?? getProxyForUrl(url);
    let pair = this.agents.get(proxy);
    if (!pair) {
      // No cap on open sockets: every client stream holds one upstream connection for its whole
      // life, and a request queued behind a cap would spend its first-byte timeout waiting.
      const opts = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo' as const };
      pair = proxy
        ? { http: new HttpProxyAgent(proxy, opts), https: new HttpsProxyAgent(proxy, opts) }
        : { http: new http.Agent(opts), https: new https.Agent(opts) };
      this.agents.set(proxy, pair);
    }
    return url.startsWith('https:') ? pair.https : pair.http;
  }
}

function assertNotHtml(res: UpstreamResponse): void {
  const type = res.headers['content-type'] ?? '';
  if (type.includes('text/html')) {
    res.close();
    throw new UpstreamError('invalid', 'upstream answered with an HTML page instead of an API response');
  }
}

async function readLimited(body: Readable, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  return Buffer.concat(parts).subarray(0, limit).toString('utf8');
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CLOSED', 'EPROTO']);

function toUpstreamError(err: unknown, timedOut: string | undefined, clientAborted: boolean): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (timedOut) return new UpstreamError('timeout', timedOut);
  if (clientAborted) return new UpstreamError('aborted', 'client went away');
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return new UpstreamError('timeout', e.message ?? code);
  if (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('CERT_')) {
    return new UpstreamError('network', `${code}: ${e.message ?? ''}`.trim());
  }
  if (code === 'ERR_CANCELED') return new UpstreamError('aborted', 'request aborted');
  return new UpstreamError('network', e.message ?? String(err));
}
