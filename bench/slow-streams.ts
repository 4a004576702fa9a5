// Many concurrent slow streams through the gateway: how much memory does holding them take, and
// does every one of them arrive whole?
import { performance } from 'node:perf_hooks';
import { createClient, type ClientKind, type Target } from './client.ts';
import { rssBytes } from './proc.ts';
import { dueCount } from './stats.ts';
import { checkStream } from './verify.ts';

export interface SlowStreamsOptions {
  client: ClientKind;
  target: Target;
  body: string;
  expected: string;
  streams: number;
  /** Open the streams evenly over this long (a burst of thousands of SYNs overflows the accept queue). */
  rampMs: number;
  /** Per stream; a stream still open after this counts as failed. */
  timeoutMs: number;
  /** Process whose VmRSS is sampled. */
  pid: number;
  sampleEveryMs: number;
}

export interface SlowStreamsResult {
  streams: number;
  intact: number;
  /** Failed streams by reason, with one example each. */
  failures: { reason: string; count: number; example: string }[];
  rssBeforeBytes: number;
  peakRssBytes: number;
  rssAfterBytes: number;
  /** Most streams open at once (sent, not yet ended) and most delivering at once (first event seen, not yet ended). */
  peakOpen: number;
  peakDelivering: number;
  durationMs: number;
  /** Slowest intact stream, ms from its start to its end. */
  slowestMs: number;
}

function reasonOf(problem: string): string {
  return problem.replace(/\d+/g, 'N').slice(0, 60);
}

export async function slowStreams(o: SlowStreamsOptions): Promise<SlowStreamsResult> {
  const client = createClient(o.client, { maxSockets: Number.POSITIVE_INFINITY });
  const rssBefore = rssBytes(o.pid) ?? Number.NaN;
  let peakRss = rssBefore;
  let open = 0;
  let delivering = 0;
  let peakOpen = 0;
  let peakDelivering = 0;
  let intact = 0;
  let slowest = 0;
  const failures = new Map<string, { count: number; example: string }>();
  const sampler = setInterval(() => {
    const rss = rssBytes(o.pid);
    if (rss !== undefined && !(rss <= peakRss)) peakRss = rss;
  }, o.sampleEveryMs);

  const started = performance.now();
  const pending: Promise<void>[] = [];
  const openOne = (): void => {
    let seen = false;
    open++;
    peakOpen = Math.max(peakOpen, open);
    const onFirstData = (): void => {
      seen = true;
      delivering++;
      peakDelivering = Math.max(peakDelivering, delivering);
    };
    pending.push(
      client.send(o.target, o.body, { timeoutMs: o.timeoutMs, onFirstData }).then((ex) => {
        open--;
        if (seen) delivering--;
        const problem = ex.error ?? (ex.status === 200 ? checkStream(ex.body, o.expected) : `HTTP ${ex.status}: ${ex.body.slice(0, 200)}`);
        if (problem === undefined) {
          intact++;
          slowest = Math.max(slowest, ex.endMs - ex.startMs);
          return;
        }
        const reason = reasonOf(problem);
        const entry = failures.get(reason) ?? { count: 0, example: problem.slice(0, 300) };
        entry.count++;
        failures.set(reason, entry);
      }),
    );
  };

  // Ramp: the same due-count math as the fixed-rate load, at streams/rampMs.
  const rate = (o.streams * 1000) / Math.max(1, o.rampMs);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = dueCount(started, performance.now(), rate, o.streams);
      while (sent < due) {
        openOne();
        sent++;
      }
      if (sent >= o.streams) return resolve();
      setTimeout(tick, 5);
    };
    tick();
  });
  await Promise.all(pending);
  clearInterval(sampler);
  const durationMs = performance.now() - started;
  client.close();
  return {
    streams: o.streams,
    intact,
    failures: [...failures.entries()].map(([reason, f]) => ({ reason, count: f.count, example: f.example })).sort((a, b) => b.count - a.count),
    rssBeforeBytes: rssBefore,
    peakRssBytes: peakRss,
    rssAfterBytes: rssBytes(o.pid) ?? Number.NaN,
    peakOpen,
    peakDelivering,
    durationMs,
    slowestMs: slowest,
  };
}
