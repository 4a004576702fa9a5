// The benchmark's arithmetic (bench/stats.ts, bench/verify.ts, the budget verdicts of
// bench/report.ts). The benchmark itself runs only with `npm run bench`, never in `npm test`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { budgets, peerRatio, renderMarkdown, type BenchResults, type RoundMetrics } from '../bench/report.ts';
import {
  dueCount,
  intendedSendTime,
  latencyFromIntended,
  median,
  medianPairedDifference,
  medianPairedRatio,
  percentile,
  requestsForDuration,
  summarize,
} from '../bench/stats.ts';
import { checkCompletion, checkStream, sseData } from '../bench/verify.ts';

describe('bench statistics', () => {
  it('percentile is nearest-rank: always a measured value, p0 the minimum, p100 the maximum', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]; // 1..10, unsorted
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 10)).toBe(1);
    expect(percentile(values, 11)).toBe(2);
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 100)).toBe(10);
    expect(values).toEqual([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]); // not sorted in place
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(values, 101)).toThrow(RangeError);
  });

  it('p99 of 1,000 samples is the 990th smallest, so 10 slow outliers are visible and 11 move it', () => {
    const fast = Array.from({ length: 990 }, () => 1);
    expect(percentile([...fast, ...Array.from({ length: 10 }, () => 50)], 99)).toBe(1);
    expect(percentile([...fast.slice(1), ...Array.from({ length: 11 }, () => 50)], 99)).toBe(50);
  });

  it('sorts numerically, not as strings', () => {
    expect(percentile([10, 9, 100, 2], 100)).toBe(100);
    expect(median([10, 9, 100, 2])).toBe(9.5);
  });

  it('median is the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('summarize gives count, p50, p90, p99 and max', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    expect(summarize(values)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('paired rounds: median of per-round differences and ratios', () => {
    const gateway = [1.5, 9, 1.7, 1.6, 1.4];
    const direct = [0.5, 0.6, 0.7, 0.4, 0.5];
    // Differences 1.0, 8.4, 1.0, 1.2, 0.9: one disturbed round does not move the median.
    expect(medianPairedDifference(gateway, direct)).toBeCloseTo(1.0, 10);
    expect(medianPairedRatio([100, 210, 300], [1000, 1000, 1000])).toBeCloseTo(0.21, 10);
    expect(() => medianPairedRatio([1, 2], [1])).toThrow(RangeError);
  });
});

describe('bench open-loop scheduling', () => {
  it('request i is due at start + i/rate', () => {
    expect(intendedSendTime(1000, 0, 500)).toBe(1000);
    expect(intendedSendTime(1000, 1, 500)).toBe(1002);
    expect(intendedSendTime(1000, 500, 500)).toBe(2000);
    expect(intendedSendTime(0, 3, 3)).toBe(1000);
  });

  it('counts the requests due by now, starting with one at the start, capped at the total', () => {
    expect(dueCount(1000, 999.9, 500, 100)).toBe(0);
    expect(dueCount(1000, 1000, 500, 100)).toBe(1);
    expect(dueCount(1000, 1001.999, 500, 100)).toBe(1);
    expect(dueCount(1000, 1002, 500, 100)).toBe(2);
    expect(dueCount(1000, 1199, 500, 100)).toBe(100);
    expect(dueCount(1000, 5000, 500, 100)).toBe(100);
    // Exactly-due times that are not exact in floating point still count.
    expect(dueCount(0, 0.3, 10_000 / 3, 1000)).toBe(2);
  });

  it('due counts and intended times agree: request i becomes due exactly at its intended time', () => {
    const start = 123.456;
    const rate = 500;
    for (let i = 0; i < 2000; i++) {
      const t = intendedSendTime(start, i, rate);
      expect(dueCount(start, t, rate, 10_000)).toBe(i + 1);
    }
  });

  it('a timer that wakes late sends every overdue request at once, and their latency counts from when each was due', () => {
    // 100 req/s; the client's timer is blocked for 100 ms (a GC pause), then wakes at t = 100.
    const start = 0;
    const rate = 100;
    const due = dueCount(start, 100, rate, 1000);
    expect(due).toBe(11); // requests 0..10, due at 0, 10, …, 100
    // The server answers each instantly after the late send: latency from the intended time still shows the pause.
    const latencies = Array.from({ length: due }, (_, i) => latencyFromIntended(intendedSendTime(start, i, rate), 100));
    expect(latencies).toEqual([100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    expect(percentile(latencies, 50)).toBe(50);
  });

  it('a stalled server shows up in every request it delayed, not only in the one in flight (no coordinated omission)', () => {
    // 100 req/s for 1 s; the server stalls from t = 0 to t = 200 and then answers within 1 ms.
    const rate = 100;
    const total = requestsForDuration(rate, 1);
    expect(total).toBe(100);
    const latencies = Array.from({ length: total }, (_, i) => {
      const intended = intendedSendTime(0, i, rate);
      const done = Math.max(intended, 200) + 1;
      return latencyFromIntended(intended, done);
    });
    // 20 of the 100 requests were due during the stall (t < 200): p81 and up see it, p100 is the whole stall.
    expect(percentile(latencies, 100)).toBe(201);
    expect(percentile(latencies, 99)).toBe(191);
    expect(percentile(latencies, 81)).toBe(11);
    expect(percentile(latencies, 80)).toBe(1);
    // A closed-loop client would have sent one request during the stall and recorded a single slow sample.
  });

  it('a run of n seconds at r req/s is round(n·r) requests, at least one', () => {
    expect(requestsForDuration(500, 5)).toBe(2500);
    expect(requestsForDuration(500, 0.3)).toBe(150);
    expect(requestsForDuration(1, 0.1)).toBe(1);
  });
});

describe('bench answer checks', () => {
  const text = 'Hello from deepinfra. You said: hi';
  const chunk = (content: string): string => JSON.stringify({ choices: [{ delta: { content } }] });

  it('a stream is whole when its deltas spell the text and it ends with [DONE]', () => {
    const body = `data: ${chunk('Hello from ')}\n\ndata: ${chunk('deepinfra. You said: hi')}\n\n: keep-alive\n\ndata: [DONE]\n\n`;
    expect(sseData(body)).toHaveLength(3);
    expect(checkStream(body, text)).toBeUndefined();
    expect(checkStream(body.replace(/\n/g, '\r\n'), text)).toBeUndefined();
    expect(checkStream(body.replace('data: [DONE]\n\n', ''), text)).toMatch(/no \[DONE\]/);
    expect(checkStream(body.replace('deepinfra', 'together'), text)).toMatch(/wrong text/);
  });

  it('a completion is whole when its message content is the text', () => {
    expect(checkCompletion(JSON.stringify({ choices: [{ message: { content: text } }] }), text)).toBeUndefined();
    expect(checkCompletion('{"error": {}}', text)).toMatch(/wrong content/);
    expect(checkCompletion('<html>', text)).toMatch(/not JSON/);
  });
});

describe('bench budget verdicts', () => {
  const round = (m: Partial<RoundMetrics>): RoundMetrics => ({
    throughput: 0,
    p50: 0,
    p99: 0,
    ttfbP50: 0,
    ttfbP99: 0,
    errors: 0,
    clientCpuUs: 0,
    gatewayCpuUs: 0,
    emulatorCpuUs: 0,
    ...m,
  });
  const results = (nonStreamGateway: number[], latencyGateway: number[]): BenchResults => ({
    meta: { date: '', machine: '', node: '', commit: '', loadStart: [], loadEnd: [] },
    settings: {
      quick: false,
      rounds: 3,
      peerRounds: 3,
      seconds: 5,
      warmupMs: 1000,
      concurrency: 50,
      ratePerSec: 500,
      chunks: 20,
      slowStreams: 2000,
      slowChunks: 20,
      slowChunkDelayMs: 1000,
      client: 'node:http',
    },
    phases: {
      nonStream: { direct: [1000, 1000, 1000].map((t) => round({ throughput: t })), gateway: nonStreamGateway.map((t) => round({ throughput: t })) },
      latency: { direct: [0.2, 0.2, 0.2].map((p50) => round({ p50, p99: 1 })), gateway: latencyGateway.map((p50) => round({ p50, p99: 2.5 })) },
    },
    slow: {
      streams: 2000,
      intact: 1999,
      failures: [],
      rssBeforeBytes: 100 * 2 ** 20,
      peakRssBytes: 250 * 2 ** 20,
      rssAfterBytes: 0,
      peakOpen: 2000,
      peakDelivering: 2000,
      durationMs: 0,
      slowestMs: 0,
    },
  });

  it('judges ratios and added latencies from the medians of paired rounds', () => {
    const rows = budgets(results([150, 250, 200], [0.6, 0.7, 1.5]));
    const byName = (start: string) => rows.find((r) => r.measurement.startsWith(start))!;
    expect(byName('Non-stream throughput')).toMatchObject({ value: '0.20×', pass: true });
    expect(byName('Added latency, concurrency 1, p50')).toMatchObject({ value: '+0.50 ms', pass: true });
    expect(byName('Added latency, concurrency 1, p99')).toMatchObject({ value: '+1.50 ms', pass: true });
    expect(rows.find((r) => r.measurement.endsWith('completed intact'))).toMatchObject({ gateway: '1999 / 2000', pass: false });
    // 150 MB over idle for 2000 open streams: 77 KB each; the bound is 250 MB, inclusive.
    expect(rows.find((r) => r.measurement.endsWith('gateway peak RSS'))).toMatchObject({
      value: '+150 MB over idle, 77 KB per open stream',
      budget: '≤ 250 MB',
      pass: true,
    });
    const base = results([150, 250, 200], [0.6, 0.7, 1.5]);
    const heavier = budgets({ ...base, slow: { ...base.slow!, peakRssBytes: 251 * 2 ** 20 } });
    expect(heavier.find((r) => r.measurement.endsWith('gateway peak RSS'))!.pass).toBe(false);

    const worse = budgets(results([150, 190, 199], [0.6, 0.8, 0.9]));
    expect(worse.find((r) => r.measurement.startsWith('Non-stream'))!.pass).toBe(false);
    expect(worse.find((r) => r.measurement.startsWith('Added latency, concurrency 1, p50'))!.pass).toBe(false);
  });

  it('an open-loop tail holds in the median round (≤ +3 ms) and in every round (≤ +5 ms); the worst event-loop stall is reported', () => {
    const loopDelay = (p99Ms: number, maxMs: number) => ({ samples: 1000, p50Ms: 0.1, p99Ms, maxMs });
    const withTail = (gatewayP99: number[]): BenchResults => ({
      ...results([200, 200, 200], [0.5, 0.5, 0.5]),
      phases: {
        fixedRate: {
          direct: [1, 1, 1].map((p99) => round({ p99 })),
          gateway: gatewayP99.map((p99, i) => round({ p99, loopDelay: loopDelay(i + 1, 10 * (i + 1)) })),
        },
      },
    });
    const row = (rows: ReturnType<typeof budgets>, end: string) => rows.find((r) => r.measurement.endsWith(end))!;
    const steady = budgets(withTail([3, 4, 6]));
    expect(row(steady, 'p99')).toMatchObject({ value: '+3.00 ms', pass: true });
    expect(row(steady, 'p99, worst round')).toMatchObject({ value: '+5.00 ms', pass: true });
    expect(row(steady, 'worst stall')).toMatchObject({ gateway: 'p99 2.00 ms', value: '30.0 ms max', pass: undefined });
    const spiky = budgets(withTail([3, 4, 7]));
    expect(row(spiky, 'p99')).toMatchObject({ pass: true });
    expect(row(spiky, 'p99, worst round')).toMatchObject({ value: '+6.00 ms', pass: false });

    // The same budgets for a stream's first byte at that rate.
    const streamed = budgets({
      ...withTail([3, 4, 6]),
      phases: {
        fixedRateStream: {
          direct: [1, 1, 1].map((ttfbP99) => round({ ttfbP99 })),
          gateway: [2, 3.5, 7].map((ttfbP99) => round({ ttfbP99, loopDelay: loopDelay(1, 12) })),
        },
      },
    });
    expect(row(streamed, '(stream, open loop), p99')).toMatchObject({ value: '+2.50 ms', pass: true });
    expect(row(streamed, '(stream, open loop), p99, worst round')).toMatchObject({ value: '+6.00 ms', pass: false });
    expect(row(streamed, '(stream, open loop), worst stall')).toMatchObject({ value: '12.0 ms max' });
  });

  it('the gateway is judged against a bare undici hop in front of the minimal upstream (≥ 0.6×), from paired rounds', () => {
    const peers = (gateway: number[]): BenchResults => ({
      ...results([200, 200, 200], [0.5, 0.5, 0.5]),
      peers: {
        rounds: {
          emulator: {},
          minimal: {
            direct: [4000, 2000, 4000].map((throughput) => round({ throughput })),
            bareHop: [2000, 1000, 2000].map((throughput) => round({ throughput })),
            gateway: gateway.map((throughput) => round({ throughput })),
          },
        },
        portkey: { version: '1.15.2', streamChecked: false },
      },
    });
    const row = (r: BenchResults) => budgets(r).find((b) => b.measurement.startsWith('Gateway vs a bare undici hop'))!;
    // Round 2 ran on a busy machine: paired, it is still 0.6×.
    expect(row(peers([1200, 600, 1100]))).toMatchObject({ value: '0.60×', pass: true });
    expect(peerRatio(peers([1200, 600, 1100]).peers!, 'minimal', 'gateway', 'direct')).toBeCloseTo(0.3);
    expect(row(peers([1100, 500, 1100]))).toMatchObject({ value: '0.55×', pass: false });
    expect(peerRatio(peers([1100, 500, 1100]).peers!, 'minimal', 'portkey', 'direct')).toBeNaN();
  });

  it('the report shows each peer as a ratio to direct and to the bare hop, and says why Portkey has no stream row', () => {
    const hops = (direct: number, bare: number, gateway: number, portkey: number) => ({
      direct: [direct, direct].map((throughput) => round({ throughput })),
      bareHop: [bare, bare].map((throughput) => round({ throughput, gatewayCpuUs: 100 })),
      gateway: [gateway, gateway].map((throughput) => round({ throughput, gatewayCpuUs: 300 })),
      portkey: [portkey, portkey].map((throughput) => round({ throughput, gatewayCpuUs: 400 })),
    });
    const base = { ...results([200, 200, 200], [0.5, 0.5, 0.5]), phases: {}, slow: undefined };
    const portkey = { version: '1.15.2', streamChecked: true, streamProblem: 'HTTP 500: {"status":"failure"}', streamLog: 'TypeError: immutable' };
    const md = renderMarkdown({
      ...base,
      phases: {},
      slow: undefined,
      peers: { rounds: { emulator: hops(8000, 6000, 3000, 2000), minimal: hops(20000, 16000, 8000, 4000) }, portkey },
    });
    expect(md).toContain('## Peers and a minimal upstream');
    expect(md).toMatch(/\| minimal upstream \| Gateway \| 8000\/s \| 0\.40× \| 0\.50× \| 300 µs \|/);
    expect(md).toMatch(/\| emulator \| Portkey gateway \| 2000\/s \| 0\.25× \| 0\.33× \| 400 µs \|/);
    expect(md).toContain('its log: TypeError: immutable');
    expect(md).toContain('Portkey-AI/gateway#1389');
    const skipped = renderMarkdown({
      ...base,
      peers: { rounds: { emulator: {}, minimal: {} }, portkey: { version: '1.15.2', streamChecked: false, skipped: 'BENCH_PORTKEY=0' } },
    });
    expect(skipped).toContain('No Portkey row: BENCH_PORTKEY=0.');
  });

  it('runs ahead of other sessions where the OS allows it, and the report says how', async () => {
    const ownGroup = (): string | undefined => {
      try {
        return readFileSync('/proc/self/autogroup', 'utf8');
      } catch {
        return undefined;
      }
    };
    const before = ownGroup();
    // In a session of its own (detached: a new autogroup), so that raising it does not raise this test run.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { readFileSync } from 'node:fs';
         const { raiseSchedulingPriority } = await import('./bench/proc.ts');
         console.log(raiseSchedulingPriority());
         try { console.log(readFileSync('/proc/self/autogroup', 'utf8')); } catch {}`,
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    await new Promise((resolve) => child.once('close', resolve));
    expect(ownGroup()).toBe(before);
    const [said, autogroup] = stdout.split('\n');
    expect(said).toMatch(/^(autogroup nice -19|nice -10|default)/);
    if (said!.startsWith('autogroup')) expect(autogroup).toMatch(/nice -19$/);
    const base = results([1, 1, 1], [1, 1, 1]);
    const md = (priority?: string): string => renderMarkdown({ ...base, meta: { ...base.meta, priority } });
    expect(md(said)).toContain(`- Scheduling: ${said}`);
    expect(md(undefined)).not.toContain('Scheduling');
  });
});
