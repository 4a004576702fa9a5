// Preloaded into the gateway (node --import ./bench/heap-snapshot.ts) by bench/heap-per-stream.ts:
// a loopback control port writes a V8 heap snapshot on demand, after a full GC, so that two
// snapshots (idle, and with N streams open) can be compared object by object. (Signals are no
// use: Nest's shutdown hooks take SIGUSR2.)
//   BENCH_HEAP_PORT  port for POST /snapshot?file=<path>, and POST /stats (RSS and V8's spaces, no GC)
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const port = Number(process.env.BENCH_HEAP_PORT);
if (port > 0) {
  const session = new Session();
  session.connect();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://heap');
    const reply = (status: number, text: string): void => void res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    void (async () => {
      if (url.pathname === '/stats') return reply(200, JSON.stringify(memoryStats()));
      const file = url.searchParams.get('file');
      if (url.pathname !== '/snapshot' || !file) return reply(404, 'POST /snapshot?file=<path>');
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.collectGarbage');
      const heapUsed = process.memoryUsage().heapUsed;
      writeHeapSnapshot(file);
      reply(200, JSON.stringify({ file, heapUsed, rss: process.memoryUsage.rss() }));
    })().catch((err: unknown) => reply(500, String(err)));
  });
  server.listen(port, '127.0.0.1');
  // Never keeps the gateway alive on its own.
  server.unref();
}

/** Where the RSS is, in MB: V8's spaces (committed and used), and the rest outside the JS heap. */
function memoryStats(): Record<string, number | string> {
  const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, `${mb(s.space_used_size)}/${mb(s.physical_space_size)}`]));
  return { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), ...spaces };
}
