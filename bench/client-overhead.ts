// Which load-generator client costs less: node:http with a keep-alive Agent, or built-in fetch?
// Both drive the emulator directly (no gateway), alternating rounds; the lower client CPU per
// request wins and is the default of bench/run.ts (BENCH_CLIENT overrides it).
//   node bench/client-overhead.ts            (BENCH_ROUNDS, BENCH_SECONDS as for run.ts)
import { CLIENT_KINDS, createClient, type ClientKind } from './client.ts';
import { closedLoop } from './load.ts';
import { startEmulatorProcess } from './processes.ts';
import { median } from './stats.ts';
import { checkCompletion, checkStream } from './verify.ts';
import { bodyFor, directTarget, EXPECTED_TEXT } from './workload.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const emulator = await startEmulatorProcess({ chunks: 20 });
try {
  const target = directTarget(emulator.url);
  for (const stream of [false, true]) {
    const rows: Record<ClientKind, { rps: number[]; cpu: number[] }> = { http: { rps: [], cpu: [] }, fetch: { rps: [], cpu: [] } };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? CLIENT_KINDS : [...CLIENT_KINDS].reverse();
      for (const kind of order) {
        const client = createClient(kind, { maxSockets: 50 });
        const result = await closedLoop({
          client,
          target,
          body: bodyFor(target, stream),
          verify: (ex) => (stream ? checkStream(ex.body, EXPECTED_TEXT) : checkCompletion(ex.body, EXPECTED_TEXT)),
          concurrency: 50,
          warmupMs: 500,
          durationMs: seconds * 1000,
        });
        client.close();
        if (result.errors) console.log(`  ${kind}: ${result.errors} errors, first: ${result.firstError}`);
        rows[kind].rps.push(result.throughput);
        rows[kind].cpu.push(result.clientCpuUsPerRequest);
      }
    }
    console.log(stream ? '20-chunk streams, concurrency 50:' : 'non-stream, concurrency 50:');
    for (const kind of CLIENT_KINDS) {
      console.log(
        `  ${kind.padEnd(6)} ${median(rows[kind].rps).toFixed(0).padStart(6)} req/s   client CPU ${median(rows[kind].cpu).toFixed(0).padStart(5)} µs/request`,
      );
    }
  }
} finally {
  await emulator.stop();
}
