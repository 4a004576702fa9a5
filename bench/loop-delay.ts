// Preloaded into the gateway (node --import ./bench/loop-delay.ts) by the benchmark: records the
// event loop's delay (perf_hooks.monitorEventLoopDelay) over exactly the windows the benchmark asks
// for, and answers on a loopback control port. A preload rather than a gateway endpoint or setting:
// the product gains no code, no route and no setting for it, the monitor runs in the gateway's own
// event loop (so it sees every stall the requests see), and it follows cpu-profiler.ts's pattern.
//   BENCH_LOOP_PORT  port for POST /start (reset and enable) and POST /stop (disable, JSON summary)
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The monitor's timer period, ms. Its histogram records the time between two ticks, so one tick
 * late by a stall of S ms records about RESOLUTION + S; with 1 ms no stall of a millisecond or
 * more slips between ticks. Enabled only inside measured windows: the ticks cost a little CPU.
 */
export const LOOP_RESOLUTION_MS = 1;

/** What POST /stop answers: the delay beyond the tick period, ms (a value of 0 means on time). */
export interface LoopDelaySummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  /** The worst stall. */
  maxMs: number;
}

const port = Number(process.env.BENCH_LOOP_PORT);
if (port > 0) {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const beyondTick = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  const summary = (): LoopDelaySummary => ({
    samples: histogram.count,
    p50Ms: beyondTick(histogram.percentile(50)),
    p99Ms: beyondTick(histogram.percentile(99)),
    maxMs: beyondTick(histogram.max),
  });
  const server = createServer((req, res) => {
    const reply = (status: number, body: string, type = 'text/plain'): void => void res.writeHead(status, { 'content-type': type }).end(body);
    if (req.method !== 'POST') return reply(405, 'POST /start or /stop');
    if (req.url === '/start') {
      histogram.disable();
      histogram.reset();
      histogram.enable();
      return reply(200, 'started');
    }
    if (req.url === '/stop') {
      histogram.disable();
      return reply(200, JSON.stringify(summary()), 'application/json');
    }
    reply(404, 'POST /start or /stop');
  });
  server.listen(port, '127.0.0.1');
  // Never keeps the gateway alive on its own.
  server.unref();
}
