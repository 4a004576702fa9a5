import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Response } from 'express';
import { SseWriter } from './sse-writer.ts';

/** The body's HTTP/1.1 chunks as the socket carried them (a raw client: fetch would merge them). */
async function chunksOf(port: number): Promise<string[]> {
  const raw = await rawAnswer(port);
  let rest = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const chunks: string[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (!size) return chunks;
    chunks.push(rest.slice(eol + 2, eol + 2 + size));
    rest = rest.slice(eol + 2 + size + 2);
  }
}

function rawAnswer(port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'));
    let text = '';
    socket.setEncoding('latin1');
    // Until the last chunk: the stream says keep-alive, so the server would hold the socket open.
    socket.on('data', (d: string) => {
      text += d;
      if (text.endsWith('\r\n0\r\n\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('SseWriter', () => {
  let server: Server;
  let handler: (writer: SseWriter) => void;
  let openHeaders: Record<string, string> = {};

  beforeAll(async () => {
    server = createServer((_req, res) => {
      const writer = new SseWriter(res as unknown as Response);
      writer.open(openHeaders);
      handler(writer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (): number => (server.address() as AddressInfo).port;

  // The head is kept as one flat string rather than Node's rope of pieces (see flattenHead): the
  // same bytes must leave, before the first event, in the same write.
  it('sends the head as Node built it, every header intact, with the first event', async () => {
    openHeaders = { 'x-pool-provider': 'deepinfra', 'x-pool-upstream-model': 'meta-llama/Llama-3.3-70B-Instruct-Turbo' };
    handler = (writer) => {
      writer.send({ n: 1 });
      setImmediate(() => writer.done());
    };
    try {
      const raw = await rawAnswer(port());
      const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
      const [status, ...lines] = head.split('\r\n');
      expect(status).toBe('HTTP/1.1 200 OK');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]));
      expect(headers).toMatchObject({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-pool-provider': 'deepinfra',
        'x-pool-upstream-model': 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
        'transfer-encoding': 'chunked',
      });
      expect(lines).toHaveLength(Object.keys(headers).length);
      expect(raw.slice(head.length)).toBe('\r\n\r\nf\r\ndata: {"n":1}\n\n\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n');
    } finally {
      openHeaders = {};
    }
  });

  it('frames the events of one turn of the event loop as one HTTP chunk, and each later turn as its own', async () => {
    handler = (writer) => {
      writer.send({ n: 1 });
      writer.send({ n: 2 }, 'second');
      writer.send({ n: 3 });
      setImmediate(() => {
        writer.send({ n: 4 });
        setImmediate(() => writer.done());
      });
    };
    expect(await chunksOf(port())).toEqual(['data: {"n":1}\n\nevent: second\ndata: {"n":2}\n\ndata: {"n":3}\n\n', 'data: {"n":4}\n\n', 'data: [DONE]\n\n']);
  });

  it('ends with the events of its turn before the last one, in order', async () => {
    handler = (writer) => {
      writer.send({ type: 'a' }, 'a');
      writer.end('event: last\ndata: {}\n\n');
    };
    expect((await chunksOf(port())).join('')).toBe('event: a\ndata: {"type":"a"}\n\nevent: last\ndata: {}\n\n');
  });
});
