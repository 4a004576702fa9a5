// The load generator's HTTP client. Two implementations of one small interface, so the one with
// the lower client-side cost can be picked (bench/client-overhead.ts measures both); whichever it
// is, the direct and the gateway runs use the same one, so their ratio is fair.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export type ClientKind = 'http' | 'fetch';

export const CLIENT_KINDS: readonly ClientKind[] = ['http', 'fetch'];

/** Where requests go, and the fixed headers they carry. */
export interface Target {
  label: string;
  /** Absolute URL of the chat completions endpoint. */
  url: string;
  headers: Record<string, string>;
}

export interface Exchange {
  /** 0 when the request failed before a response arrived. */
  status: number;
  /** performance.now() when the request was handed to the client. */
  startMs: number;
  /** When the first body bytes containing "data:" (streams) or any body bytes (JSON) arrived; 0 if none. */
  firstDataMs: number;
  endMs: number;
  body: string;
  error?: string;
}

export interface SendOptions {
  /** Give up (and destroy the connection) after this long. */
  timeoutMs?: number;
  /** Called once when the first body bytes arrive. */
  onFirstData?: () => void;
}

export interface LoadClient {
  readonly kind: ClientKind;
  send(target: Target, body: string, options?: SendOptions): Promise<Exchange>;
  /** Closes pooled connections. */
  close(): void;
}

export interface ClientOptions {
  /** Connections per origin; Infinity for open-loop and many-stream runs. */
  maxSockets: number;
}

export function createClient(kind: ClientKind, options: ClientOptions): LoadClient {
  return kind === 'http' ? new NodeHttpClient(options) : new FetchClient();
}

const DATA = Buffer.from('data:');

interface ParsedTarget {
  hostname: string;
  port: number;
  path: string;
}

/** node:http with a keep-alive Agent: no WHATWG streams, one Buffer per socket read. */
class NodeHttpClient implements LoadClient {
  readonly kind = 'http' as const;
  #agent: http.Agent;
  #parsed = new Map<string, ParsedTarget>();

  constructor(options: ClientOptions) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' });
  }

  send(target: Target, body: string, options: SendOptions = {}): Promise<Exchange> {
    const where = this.#target(target.url);
    const payload = Buffer.from(body);
    return new Promise((resolve) => {
      const startMs = performance.now();
      let firstDataMs = 0;
      let status = 0;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const chunks: Buffer[] = [];
      const finish = (error?: string): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        resolve({ status, startMs, firstDataMs, endMs: performance.now(), body: Buffer.concat(chunks).toString('utf8'), error });
      };
      const req = http.request(
        {
          agent: this.#agent,
          hostname: where.hostname,
          port: where.port,
          path: where.path,
          method: 'POST',
          headers: { ...target.headers, 'content-type': 'application/json', 'content-length': String(payload.length) },
        },
        (res) => {
          status = res.statusCode ?? 0;
          res.on('data', (chunk: Buffer) => {
            if (firstDataMs === 0 && (chunk.includes(DATA) || !isEventStream(res.headers['content-type']))) {
              firstDataMs = performance.now();
              options.onFirstData?.();
            }
            chunks.push(chunk);
          });
          res.on('end', () => finish());
          res.on('error', (err) => finish(err.message));
          res.on('close', () => finish(res.complete ? undefined : 'connection closed before the response ended'));
        },
      );
      req.on('error', (err) => finish(err.message));
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish(`timed out after ${options.timeoutMs} ms`);
          req.destroy();
        }, options.timeoutMs);
      }
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }

  #target(url: string): ParsedTarget {
    let parsed = this.#parsed.get(url);
    if (!parsed) {
      const u = new URL(url);
      parsed = { hostname: u.hostname, port: Number(u.port || 80), path: `${u.pathname}${u.search}` };
      this.#parsed.set(url, parsed);
    }
    return parsed;
  }
}

/** Node's built-in fetch (undici inside, with its own keep-alive pool). */
class FetchClient implements LoadClient {
  readonly kind = 'fetch' as const;

  async send(target: Target, body: string, options: SendOptions = {}): Promise<Exchange> {
    const startMs = performance.now();
    let firstDataMs = 0;
    let status = 0;
    const signal = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    const chunks: Uint8Array[] = [];
    try {
      const res = await fetch(target.url, { method: 'POST', headers: { ...target.headers, 'content-type': 'application/json' }, body, signal });
      status = res.status;
      const stream = isEventStream(res.headers.get('content-type') ?? undefined);
      if (res.body) {
        for await (const chunk of res.body) {
          if (firstDataMs === 0 && (!stream || Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).includes(DATA))) {
            firstDataMs = performance.now();
            options.onFirstData?.();
          }
          chunks.push(chunk);
        }
      }
      return { status, startMs, firstDataMs, endMs: performance.now(), body: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      const message = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
      return { status, startMs, firstDataMs, endMs: performance.now(), body: Buffer.concat(chunks).toString('utf8'), error: message };
    }
  }

  close(): void {
    // The global dispatcher's pool is shared and closes idle connections by itself.
  }
}

function isEventStream(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith('text/event-stream');
}
