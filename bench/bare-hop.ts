// A bare undici hop: the physical limit of one Node.js hop that still reads what it forwards.
// node:http in, the request body parsed and serialised again (as any gateway that looks at the
// model must), undici out to one fixed upstream URL on a keep-alive pool without a connection cap
// (as the gateway's UpstreamHttp), the answer parsed and serialised again (as any gateway that
// counts usage must), back to the client. No auth, routing, validation, stats or logging.
// Non-stream only.
//   node bench/bare-hop.ts --upstream <chat completions URL> --key <upstream key> [--port N]
//   prints "bare hop listening on http://…"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Agent } from 'undici';

export interface BareHopOptions {
  /** Absolute chat completions URL every request is forwarded to. */
  upstream: string;
  /** Sent upstream as the bearer token (the hop holds the upstream key, as a gateway does). */
  key: string;
  port?: number;
}

/** A request body larger than this is refused: the hop buffers whole bodies. */
const MAX_BODY_BYTES = 1 << 20;

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) parts.push(chunk);
    });
    req.once('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(parts).toString('utf8') : undefined));
    req.once('error', reject);
  });
}

function sendError(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { message, type: status >= 500 ? 'upstream_error' : 'invalid_request_error', code: null } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
}

export async function startBareHop(o: BareHopOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const upstream = new URL(o.upstream);
  const path = `${upstream.pathname}${upstream.search}`;
  const dispatcher = new Agent({ connections: null, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });
  const headers = { authorization: `Bearer ${o.key}`, 'content-type': 'application/json', accept: 'application/json' };

  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    if (raw === undefined) return sendError(res, 413, 'request body too large');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return sendError(res, 400, 'request body is not JSON');
    }
    const answer = await dispatcher.request({ origin: upstream.origin, path, method: 'POST', headers, body: JSON.stringify(parsed) });
    const text = await answer.body.text();
    let out: string;
    try {
      out = JSON.stringify(JSON.parse(text));
    } catch {
      return sendError(res, 502, `upstream answered ${answer.statusCode} with a body that is not JSON`);
    }
    res.writeHead(answer.statusCode, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(out)) }).end(out);
  };

  const server = createServer((req, res) => {
    forward(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 502, `upstream request failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const close = async (): Promise<void> => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dispatcher.close();
  };
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const upstream = arg('--upstream');
  if (!upstream) throw new Error('--upstream <chat completions URL> is required');
  const { url } = await startBareHop({ upstream, key: arg('--key') ?? '', port: Number(arg('--port') ?? 0) });
  console.log(`bare hop listening on ${url}`);
}
