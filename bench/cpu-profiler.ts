// Preloaded into the gateway (node --import ./bench/cpu-profiler.ts) when the benchmark profiles
// it: a loopback control port starts and stops V8's sampling profiler, so the profile covers
// exactly one measured run, not the start-up. (Signals are no use: Nest's shutdown hooks take
// SIGUSR2, and --cpu-prof writes nothing when Nest re-raises SIGTERM.)
//   BENCH_PROFILE_PORT  port for POST /start and POST /stop?file=<path>
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';

const port = Number(process.env.BENCH_PROFILE_PORT);
if (port > 0) {
  const session = new Session();
  session.connect();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://profiler');
    const reply = (status: number, text: string): void => void res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    void (async () => {
      if (url.pathname === '/start') {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: Number(url.searchParams.get('intervalUs') ?? 500) });
        await session.post('Profiler.start');
        return reply(200, 'started');
      }
      if (url.pathname === '/stop') {
        const file = url.searchParams.get('file');
        if (!file) return reply(400, 'file is required');
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(file, JSON.stringify(profile));
        return reply(200, file);
      }
      reply(404, 'POST /start or /stop?file=');
    })().catch((err: unknown) => reply(500, String(err)));
  });
  server.listen(port, '127.0.0.1');
  // Never keeps the gateway alive on its own.
  server.unref();
}
