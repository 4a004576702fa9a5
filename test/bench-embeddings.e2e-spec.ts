// The benchmark's /v1/embeddings row (bench/front-doors.ts): its check accepts what the emulator
// and the gateway answer for the batch and nothing less, and the budget row shows up in the report.
// The benchmark itself runs only with `npm run bench`, never in `npm test`.
import { EMBEDDING_INPUTS, checkEmbeddings, embeddingsRuns } from '../bench/front-doors.ts';
import { budgets, type BenchResults, type RoundMetrics } from '../bench/report.ts';
import { startEmulator, type Emulator } from './emulators/emulator.ts';
import { startGateway, type Gateway } from './support/gateway.ts';

let emu: Emulator;
let gw: Gateway;
beforeAll(async () => {
  emu = await startEmulator({ zeroLatency: true });
  gw = await startGateway(emu);
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

describe('bench: the /v1/embeddings row', () => {
  it('checks both sides’ answers: every vector in order, of the right length and value', async () => {
    const runs = embeddingsRuns(emu.url, gw.url);
    for (const run of [runs.direct, runs.gateway]) {
      const headers = { 'content-type': 'application/json', ...(run === runs.gateway ? {} : run.target.headers) };
      const res = await fetch(run.target.url, { method: 'POST', headers, body: run.body });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(checkEmbeddings(body)).toBeUndefined();

      const answer = JSON.parse(body) as { data: Array<{ index: number; embedding: number[] }> };
      expect(checkEmbeddings(JSON.stringify({ data: answer.data.slice(1) }))).toBe(
        `${EMBEDDING_INPUTS.length - 1} vectors for ${EMBEDDING_INPUTS.length} inputs`,
      );
      expect(checkEmbeddings(JSON.stringify({ data: [...answer.data].reverse() }))).toMatch(/^vector 0: wrong index/);
      const changed = answer.data.map((d, i) => (i === 2 ? { ...d, embedding: d.embedding.map((x) => -x) } : d));
      expect(checkEmbeddings(JSON.stringify({ data: changed }))).toMatch(/^vector 2: wrong values/);
    }
    expect(checkEmbeddings('upstream error')).toMatch(/^body is not JSON/);
  });

  it('the report has a throughput row for it, against the direct embeddings, budget ≥ 0.20×', () => {
    const m = (throughput: number): RoundMetrics =>
      ({ throughput, p50: 1, p99: 1, ttfbP50: 1, ttfbP99: 1, errors: 0, clientCpuUs: 1, gatewayCpuUs: 1, emulatorCpuUs: 1 }) as RoundMetrics;
    const row = (gateway: number[]) =>
      budgets({
        settings: { concurrency: 50 },
        phases: {},
        embeddings: { direct: [m(100), m(120)], gateway: gateway.map(m) },
      } as unknown as BenchResults).find((b) => b.measurement.startsWith('Embeddings throughput'));
    // Per-round pairs: 16/100 and 12/120, median 0.13.
    expect(row([16, 12])).toMatchObject({ direct: '110/s', gateway: '14/s', value: '0.13×', budget: '≥ 0.20×', pass: false });
    expect(row([60, 48])).toMatchObject({ value: '0.50×', pass: true });
  });
});
