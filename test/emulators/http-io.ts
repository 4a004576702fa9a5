import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

/** The whole body as bytes (audio uploads are not text). */
export function readBytes(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false; raw: string };

export function parseJsonBody(text: string): ParsedBody {
  if (text.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, raw: text };
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function bearerKey(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(.*)$/i.exec(header.trim());
  // A header that is not a bearer token still counts as "a key was sent", just an invalid one.
  return match ? match[1].trim() : `bad-scheme:${header}`;
}

/** Resolves once the chunk is handed to the socket; rejects if the connection is gone. */
export function writeAsync(res: ServerResponse, chunk: string | Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed || signal.aborted) {
      reject(new Error('connection closed'));
      return;
    }
    const onAbort = (): void => reject(new Error('connection closed'));
    signal.addEventListener('abort', onAbort, { once: true });
    res.write(chunk, (err) => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    });
  });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return ms > 0 ? delay(ms, undefined, { signal }) : Promise.resolve();
}

export function flushTurn(): Promise<void> {
  return nextTurn();
}

/** Ends the connection after what was written reaches the peer, without finishing the HTTP message. */
export async function cutConnection(res: ServerResponse): Promise<void> {
  const socket = res.socket;
  if (!socket || socket.destroyed) return;
  await new Promise<void>((resolve) => socket.end(resolve));
  socket.destroy();
}
