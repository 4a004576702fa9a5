// Preloaded into the gateway (node --import ./bench/loop-delay.ts) by the benchmark: records the
// event loop's delay (perf_hooks.monitorEventLoopDelay) over exactly the windows the benchmark asks
// for, and answers on a loopback control port. A preload rather than a gateway endpoint or setting:
// the product gains no code, no route and no setting for it, the monitor runs in the gateway's own
// event loop (so it sees every stall the requests see), and it follows cpu-profiler.ts's pattern.
// It also times each request the gateway serves in the window: from its arrival to the end of the
// answer, minus the time its upstream calls took (undici's diagnostics channels, from creating the
// upstream request to the end of its answer). What is left is the gateway's own time: its work,
// its event-loop waits and its GC, but not the upstream's and not the client's side of the sockets.
//   BENCH_LOOP_PORT  port for POST /start (reset and enable) and POST /stop (disable, JSON summary)
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { Server, createServer } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

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
  /**
   * The same stalls split by where the time went, from the main thread's own CPU clock read at each
   * tick of a 1 ms timer: `maxMs` the most CPU the thread used between two ticks (the longest it ran
   * without getting back to its timers: a synchronous write, a GC pause, a long batch of callbacks),
   * `worstGapMs` the longest time between two ticks and `worstGapCpuMs` the CPU used in it. The rest
   * of a gap the thread was off its CPU: waiting for a core, or blocked in a system call.
   */
  onCpu?: { maxMs: number; worstGapMs: number; worstGapCpuMs: number };
  /** The gateway's own time per request (see the top of this file): how many, and its p50, p99 and max, ms. */
  own?: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
}

/** The main thread's CPU time (user and system), ms. */
const threadCpuMs = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

/** Reads the main thread's CPU clock at every tick of a 1 ms timer (see LoopDelaySummary.onCpu). */
class CpuTicker {
  private timer: NodeJS.Timeout | undefined;
  private lastWall = 0;
  private lastCpu = 0;
  private maxCpu = 0;
  private worstGap = 0;
  private worstGapCpu = 0;

  start(): void {
    this.stop();
    this.maxCpu = this.worstGap = this.worstGapCpu = 0;
    this.lastWall = performance.now();
    this.lastCpu = threadCpuMs();
    this.timer = setInterval(() => this.tick(), LOOP_RESOLUTION_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  summary(): NonNullable<LoopDelaySummary['onCpu']> {
    return { maxMs: this.maxCpu, worstGapMs: this.worstGap, worstGapCpuMs: this.worstGapCpu };
  }

  private tick(): void {
    const wall = performance.now();
    const cpu = threadCpuMs();
    const gap = wall - this.lastWall;
    const used = cpu - this.lastCpu;
    if (used > this.maxCpu) this.maxCpu = used;
    if (gap > this.worstGap) {
      this.worstGap = gap;
      this.worstGapCpu = used;
    }
    this.lastWall = wall;
    this.lastCpu = cpu;
  }
}

/** Requests timed per window at most: a bound, far above a 10 s round at 500 req/s. */
const MAX_TIMED = 200_000;

interface Timing {
  arrived: number;
  /** Milliseconds spent in finished upstream calls. */
  upstreamMs: number;
}

/** The nearest-rank percentile of sorted values. */
const rank = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/**
 * Times every request the process's HTTP servers get while `enabled()` (the control server's own
 * requests excepted): each upstream call made on its behalf is found through the async context it
 * was created in.
 */
function timeRequests(enabled: () => boolean, own: number[], control: () => Server | undefined): void {
  const current = new AsyncLocalStorage<Timing>();
  const calls = new WeakMap<object, { timing: Timing; created: number }>();
  diagnostics.subscribe('undici:request:create', (message) => {
    const timing = current.getStore();
    if (timing) calls.set((message as { request: object }).request, { timing, created: performance.now() });
  });
  diagnostics.subscribe('undici:request:trailers', (message) => {
    const call = calls.get((message as { request: object }).request);
    if (call) call.timing.upstreamMs += performance.now() - call.created;
  });
  const emit = Server.prototype.emit;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request' || !enabled() || this === control()) return Reflect.apply(emit, this, [event, ...args]) as boolean;
    const timing: Timing = { arrived: performance.now(), upstreamMs: 0 };
    (args[1] as { once(e: 'finish', f: () => void): void }).once('finish', () => {
      if (enabled() && own.length < MAX_TIMED) own.push(performance.now() - timing.arrived - timing.upstreamMs);
    });
    return current.run(timing, () => Reflect.apply(emit, this, [event, ...args]) as boolean);
  } as typeof Server.prototype.emit;
}

const port = Number(process.env.BENCH_LOOP_PORT);
if (port > 0) {
  const histogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const beyondTick = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  const ticker = new CpuTicker();
  let enabled = false;
  const own: number[] = [];
  const summary = (): LoopDelaySummary => {
    const sorted = own.sort((a, b) => a - b);
    return {
      samples: histogram.count,
      p50Ms: beyondTick(histogram.percentile(50)),
      p99Ms: beyondTick(histogram.percentile(99)),
      maxMs: beyondTick(histogram.max),
      onCpu: ticker.summary(),
      own: { count: sorted.length, p50Ms: rank(sorted, 0.5), p99Ms: rank(sorted, 0.99), maxMs: sorted.at(-1) ?? 0 },
    };
  };
  const server = createServer((req, res) => {
    const reply = (status: number, body: string, type = 'text/plain'): void => void res.writeHead(status, { 'content-type': type }).end(body);
    if (req.method !== 'POST') return reply(405, 'POST /start or /stop');
    if (req.url === '/start') {
      histogram.disable();
      histogram.reset();
      histogram.enable();
      ticker.start();
      own.length = 0;
      enabled = true;
      return reply(200, 'started');
    }
    if (req.url === '/stop') {
      histogram.disable();
      ticker.stop();
      enabled = false;
      return reply(200, JSON.stringify(summary()), 'application/json');
    }
    reply(404, 'POST /start or /stop');
  });
  timeRequests(
    () => enabled,
    own,
    () => server,
  );
  server.listen(port, '127.0.0.1');
  // Never keeps the gateway alive on its own.
  server.unref();
}
