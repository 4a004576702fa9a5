// Turns the measured rounds into the Markdown that `npm run bench` prints and writes to
// bench/RESULTS.md: ratios and differences against the direct baseline, each budget and its verdict.
import { EMBEDDING_DIMENSIONS, EMBEDDING_INPUTS } from './front-doors.ts';
import { median, medianPairedDifference, medianPairedRatio, percentile, summarize } from './stats.ts';
import type { RunResult } from './load.ts';
import type { SlowStreamsResult } from './slow-streams.ts';
import type { LoopDelaySummary } from './loop-delay.ts';

/** One round's numbers for one side (direct or gateway). */
export interface RoundMetrics {
  /** Correct answers per second in the measured window. */
  throughput: number;
  /** ms */
  p50: number;
  p99: number;
  ttfbP50: number;
  ttfbP99: number;
  errors: number;
  firstError?: string;
  /** µs of CPU per answer (warmup included), by process; NaN where it does not apply. */
  clientCpuUs: number;
  gatewayCpuUs: number;
  emulatorCpuUs: number;
  /** Open loop: p99 of how late the client itself sent (ms). */
  sendLagP99?: number;
  /** The gateway's event-loop delay over the measured window (bench/loop-delay.ts), where recorded. */
  loopDelay?: LoopDelaySummary;
}

/** A run's numbers as a round's, with the CPU each process spent per answer (µs; NaN where not measured). */
export function roundMetrics(r: RunResult, gatewayCpuUs: number, emulatorCpuUs: number): RoundMetrics {
  const lat = summarize(r.latencies);
  const ttfb = summarize(r.ttfbs);
  return {
    throughput: r.throughput,
    p50: lat.p50,
    p99: lat.p99,
    ttfbP50: ttfb.p50,
    ttfbP99: ttfb.p99,
    errors: r.errors,
    firstError: r.firstError,
    clientCpuUs: r.clientCpuUsPerRequest,
    gatewayCpuUs,
    emulatorCpuUs,
    sendLagP99: r.sendLags ? percentile(r.sendLags, 99) : undefined,
  };
}

/** The hops of the peers phase, each in front of the same upstream, and that upstream alone. */
export const PEER_HOPS = ['direct', 'bareHop', 'gateway', 'portkey'] as const;
export type PeerHop = (typeof PEER_HOPS)[number];
export const PEER_UPSTREAMS = ['emulator', 'minimal'] as const;
export type PeerUpstream = (typeof PEER_UPSTREAMS)[number];

/** Non-stream rounds of every hop in front of each upstream; gatewayCpuUs is the hop's CPU, emulatorCpuUs the upstream's. */
export interface PeersResult {
  rounds: Record<PeerUpstream, Partial<Record<PeerHop, RoundMetrics[]>>>;
  portkey: {
    version: string;
    /** Why there is no Portkey row. */
    skipped?: string;
    /** One stream through Portkey to the emulator: undefined when it arrived whole, else what went wrong. */
    streamProblem?: string;
    /** The error Portkey logged for that failed stream. */
    streamLog?: string;
    streamChecked: boolean;
  };
}

export interface PhaseResult {
  direct: RoundMetrics[];
  gateway: RoundMetrics[];
}

export type PhaseName = 'nonStream' | 'latency' | 'fixedRate' | 'fixedRateStream' | 'stream' | 'ttfb';

/** The open-loop phases: sent on a schedule, so a stall of the gateway shows as tail latency. */
export const OPEN_LOOP_PHASES: readonly PhaseName[] = ['fixedRate', 'fixedRateStream'];

export interface BenchSettings {
  quick: boolean;
  rounds: number;
  /** Rounds of the peers phase (each runs every hop in front of every upstream). */
  peerRounds: number;
  seconds: number;
  warmupMs: number;
  concurrency: number;
  ratePerSec: number;
  chunks: number;
  slowStreams: number;
  slowChunks: number;
  slowChunkDelayMs: number;
  client: string;
}

export interface BenchMeta {
  date: string;
  machine: string;
  node: string;
  commit: string;
  loadStart: number[];
  loadEnd: number[];
  /** Scheduling priority the run had (raiseSchedulingPriority); absent in older results. */
  priority?: string;
}

export interface BenchResults {
  meta: BenchMeta;
  settings: BenchSettings;
  phases: Partial<Record<PhaseName, PhaseResult>>;
  /** The same slow streams straight to the emulator: shows the client and the upstream can hold them. */
  slowDirect?: SlowStreamsResult;
  slow?: SlowStreamsResult;
  /** Non-stream throughput of the gateway, a bare undici hop and Portkey, against the emulator and a minimal upstream. */
  peers?: PeersResult;
  /** Streamed answers through each chat front door of one gateway, rounds in rotating order. */
  frontDoors?: Record<'chat' | 'responses' | 'messages', RoundMetrics[]>;
  /** /v1/embeddings and the emulator's embeddings, paired rounds (front-doors.ts). */
  embeddings?: PhaseResult;
  /** Markdown summary of the gateway's CPU profile during a non-stream run. */
  profile?: string;
  /** The same for a stream run (20-chunk streams). */
  streamProfile?: string;
}

export interface Budget {
  measurement: string;
  direct: string;
  gateway: string;
  /** The ratio or difference the budget is about. */
  value: string;
  budget: string;
  /** undefined: informational, no budget. */
  pass: boolean | undefined;
}

const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 2 : 1)} ms` : 'n/a');
const signedMs = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)} ms` : 'n/a');
const rps = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)}/s` : 'n/a');
const ratio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');
const mb = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MB` : 'n/a');
/**
 * What each open stream costs: the RSS the gateway gained from idle to its peak, over the most
 * streams open at once (the peak comes as they end, while the state they held awaits V8's next
 * full collection, so this is what holding one costs, garbage included).
 */
export const perOpenStream = (slow: SlowStreamsResult): string => {
  const bytes = (slow.peakRssBytes - slow.rssBeforeBytes) / slow.peakOpen;
  return Number.isFinite(bytes) && slow.peakOpen > 0 ? `${(bytes / 1024).toFixed(0)} KB` : 'n/a';
};
/** The bound on the gateway's peak RSS while it holds the slow streams. */
const SLOW_STREAMS_RSS_BUDGET_MB = 250;
const us = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} µs` : '—');

const pick = (rounds: RoundMetrics[], key: keyof RoundMetrics): number[] => rounds.map((r) => Number(r[key]));

/** Budget rows from the measured phases: ratios and differences are medians over paired rounds. */
export function budgets(results: BenchResults): Budget[] {
  const { phases, settings: s, slow, slowDirect } = results;
  const rows: Budget[] = [];
  const throughputRow = (phase: PhaseResult | undefined, measurement: string, min: number): void => {
    if (!phase) return;
    const value = medianPairedRatio(pick(phase.gateway, 'throughput'), pick(phase.direct, 'throughput'));
    rows.push({
      measurement,
      direct: rps(median(pick(phase.direct, 'throughput'))),
      gateway: rps(median(pick(phase.gateway, 'throughput'))),
      value: ratio(value),
      budget: `≥ ${min.toFixed(2)}×`,
      pass: value >= min,
    });
  };
  const addedRow = (phase: PhaseResult | undefined, measurement: string, key: keyof RoundMetrics, max: number | undefined): void => {
    if (!phase) return;
    const value = medianPairedDifference(pick(phase.gateway, key), pick(phase.direct, key));
    rows.push({
      measurement,
      direct: ms(median(pick(phase.direct, key))),
      gateway: ms(median(pick(phase.gateway, key))),
      value: signedMs(value),
      budget: max === undefined ? '—' : `≤ ${max} ms`,
      pass: max === undefined ? undefined : value <= max,
    });
  };

  throughputRow(phases.nonStream, `Non-stream throughput, concurrency ${s.concurrency}`, 0.2);
  addedRow(phases.latency, 'Added latency, concurrency 1, p50', 'p50', 0.5);
  addedRow(phases.latency, 'Added latency, concurrency 1, p99', 'p99', 2);
  addedRow(phases.fixedRate, `Added latency at ${s.ratePerSec} req/s (open loop), p50`, 'p50', undefined);
  addedRow(phases.fixedRate, `Added latency at ${s.ratePerSec} req/s (open loop), p99`, 'p99', 3);
  worstRoundRow(phases.fixedRate, `Added latency at ${s.ratePerSec} req/s (open loop), p99, worst round`, 'p99', 5, rows);
  loopDelayRow(phases.fixedRate, `Gateway event-loop delay at ${s.ratePerSec} req/s (open loop), worst stall`, rows);
  ownTimeRow(phases.fixedRate, `Gateway's own time per request at ${s.ratePerSec} req/s (open loop; arrival to answer end, minus the upstream call)`, rows);
  addedRow(phases.fixedRateStream, `Added TTFB at ${s.ratePerSec} req/s (stream, open loop), p50`, 'ttfbP50', undefined);
  addedRow(phases.fixedRateStream, `Added TTFB at ${s.ratePerSec} req/s (stream, open loop), p99`, 'ttfbP99', 3);
  worstRoundRow(phases.fixedRateStream, `Added TTFB at ${s.ratePerSec} req/s (stream, open loop), p99, worst round`, 'ttfbP99', 5, rows);
  loopDelayRow(phases.fixedRateStream, `Gateway event-loop delay at ${s.ratePerSec} req/s (stream, open loop), worst stall`, rows);
  ownTimeRow(
    phases.fixedRateStream,
    `Gateway's own time per stream at ${s.ratePerSec} req/s (open loop; arrival to stream end, minus the upstream call)`,
    rows,
  );
  peerRows(results, rows);
  throughputRow(phases.stream, `Whole-stream throughput (${s.chunks}-chunk streams), concurrency ${s.concurrency}`, 0.35);
  addedRow(phases.ttfb, 'Time to first byte (stream, concurrency 1), p50', 'ttfbP50', 1);
  addedRow(phases.ttfb, 'Time to first byte (stream, concurrency 1), p99', 'ttfbP99', undefined);
  const doors = results.frontDoors;
  if (doors) {
    for (const [door, name] of [
      ['responses', 'Responses API'],
      ['messages', 'Anthropic Messages'],
    ] as const) {
      const value = medianPairedRatio(pick(doors[door], 'throughput'), pick(doors.chat, 'throughput'));
      rows.push({
        measurement: `${name} stream throughput vs chat completions stream, concurrency ${s.concurrency}`,
        direct: `${rps(median(pick(doors.chat, 'throughput')))} (chat)`,
        gateway: rps(median(pick(doors[door], 'throughput'))),
        value: ratio(value),
        budget: '≥ 0.90×',
        pass: value >= 0.9,
      });
    }
  }
  throughputRow(
    results.embeddings,
    `Embeddings throughput (/v1/embeddings, ${EMBEDDING_INPUTS.length} inputs × ${EMBEDDING_DIMENSIONS} dims per request), concurrency ${s.concurrency}`,
    0.2,
  );
  if (slow) {
    const what = `${slow.streams} concurrent slow streams (${s.slowChunks} chunks, ${s.slowChunkDelayMs} ms apart)`;
    rows.push({
      measurement: `${what}: completed intact`,
      direct: slowDirect ? `${slowDirect.intact} / ${slowDirect.streams}` : '—',
      gateway: `${slow.intact} / ${slow.streams}`,
      value: `${slow.streams - slow.intact} failed`,
      budget: 'all',
      pass: slow.intact === slow.streams,
    });
    rows.push({
      measurement: `${what}: gateway peak RSS`,
      direct: '—',
      gateway: mb(slow.peakRssBytes),
      value: `+${mb(slow.peakRssBytes - slow.rssBeforeBytes)} over idle, ${perOpenStream(slow)} per open stream`,
      budget: `≤ ${SLOW_STREAMS_RSS_BUDGET_MB} MB`,
      pass: slow.peakRssBytes <= SLOW_STREAMS_RSS_BUDGET_MB * 2 ** 20,
    });
  }
  return rows;
}

/** The largest per-round difference: a tail budget must hold in every round, not only in the median one. */
function worstRoundRow(phase: PhaseResult | undefined, measurement: string, key: 'p99' | 'ttfbP99', max: number, rows: Budget[]): void {
  if (!phase) return;
  const diffs = phase.gateway.map((g, i) => g[key] - phase.direct[i]![key]);
  const value = Math.max(...diffs);
  rows.push({
    measurement,
    direct: ms(Math.max(...pick(phase.direct, key))),
    gateway: ms(Math.max(...pick(phase.gateway, key))),
    value: signedMs(value),
    budget: `≤ ${max} ms`,
    pass: value <= max,
  });
}

/**
 * The gateway's own time per request over the rounds (arrival to the answer's end, minus the
 * upstream call; bench/loop-delay.ts): the median per-round p50 and p99, and the worst round's p99.
 */
function ownTimeRow(phase: PhaseResult | undefined, measurement: string, rows: Budget[]): void {
  const own = phase?.gateway.flatMap((r) => (r.loopDelay?.own?.count ? [r.loopDelay.own] : [])) ?? [];
  if (!own.length) return;
  rows.push({
    measurement,
    direct: '—',
    gateway: `p50 ${ms(median(own.map((o) => o.p50Ms)))}`,
    value: `p99 ${ms(median(own.map((o) => o.p99Ms)))} (worst round ${ms(Math.max(...own.map((o) => o.p99Ms)))})`,
    budget: '—',
    pass: undefined,
  });
}

/** Where the worst stall's time went (LoopDelaySummary.onCpu): on the gateway's main thread, or off it. */
function onCpuNote(loops: LoopDelaySummary[]): string {
  const cpu = loops.flatMap((l) => (l.onCpu ? [l.onCpu] : []));
  if (!cpu.length) return '';
  const worst = cpu.reduce((a, b) => (b.worstGapMs > a.worstGapMs ? b : a));
  return ` (longest gap ${ms(worst.worstGapMs)}, ${ms(worst.worstGapCpuMs)} of it on the main thread's CPU); longest run on the CPU ${ms(Math.max(...cpu.map((c) => c.maxMs)))}`;
}

/** The gateway's worst event-loop stall over the rounds, with the median per-round p99 beside it. */
function loopDelayRow(phase: PhaseResult | undefined, measurement: string, rows: Budget[]): void {
  const loops = phase?.gateway.flatMap((r) => (r.loopDelay ? [r.loopDelay] : [])) ?? [];
  if (!loops.length) return;
  rows.push({
    measurement,
    direct: '—',
    gateway: `p99 ${ms(median(loops.map((l) => l.p99Ms)))}`,
    value: `${ms(Math.max(...loops.map((l) => l.maxMs)))} max${onCpuNote(loops)}`,
    budget: '—',
    pass: undefined,
  });
}

const HOP_NAMES: Record<PeerHop, string> = { direct: 'Direct', bareHop: 'Bare undici hop', gateway: 'Gateway', portkey: 'Portkey gateway' };
const UPSTREAM_NAMES: Record<PeerUpstream, string> = { emulator: 'emulator', minimal: 'minimal upstream' };

/** Per-round ratio of one hop's throughput to another's in front of the same upstream (NaN when either is missing). */
export function peerRatio(peers: PeersResult, upstream: PeerUpstream, hop: PeerHop, base: PeerHop): number {
  const a = peers.rounds[upstream][hop];
  const b = peers.rounds[upstream][base];
  if (!a?.length || !b?.length || a.length !== b.length) return Number.NaN;
  return medianPairedRatio(pick(a, 'throughput'), pick(b, 'throughput'));
}

/** The goal for the hot path: the gateway at ≥ 0.6× of a bare undici hop, in front of the minimal upstream. */
function peerRows(results: BenchResults, rows: Budget[]): void {
  const { peers, settings: s } = results;
  if (!peers?.rounds.minimal.gateway || !peers.rounds.minimal.bareHop) return;
  const value = peerRatio(peers, 'minimal', 'gateway', 'bareHop');
  rows.push({
    measurement: `Gateway vs a bare undici hop, non-stream, minimal upstream, concurrency ${s.concurrency}`,
    direct: `${rps(median(pick(peers.rounds.minimal.bareHop, 'throughput')))} (bare hop)`,
    gateway: rps(median(pick(peers.rounds.minimal.gateway, 'throughput'))),
    value: ratio(value),
    budget: '≥ 0.60×',
    pass: value >= 0.6,
  });
}

function peersMarkdown(peers: PeersResult, s: BenchSettings): string[] {
  const out: string[] = ['## Peers and a minimal upstream', ''];
  out.push(
    `Non-stream requests at concurrency ${s.concurrency}, ${s.peerRounds} rounds × ${s.seconds} s after ${s.warmupMs} ms warmup; every round runs each hop in front of each upstream once, in rotating order, ` +
      'and the ratios are medians of per-round pairs. The minimal upstream answers every request with the same ~600-byte completion (bench/minimal-upstream.ts); ' +
      'the bare undici hop is node:http in, JSON parse and stringify of request and answer, undici out (bench/bare-hop.ts), the physical limit of one Node hop. ' +
      `The gateway runs as in the rows above (auth, stats and request log on); Portkey ${peers.portkey.version} runs as \`npx @portkey-ai/gateway\` does (plain node, --headless, NODE_ENV=production), ` +
      'pointed at the same upstream with x-portkey-provider: openai and x-portkey-custom-host.',
    '',
  );
  const rowsOut: string[][] = [];
  for (const upstream of PEER_UPSTREAMS) {
    for (const hop of PEER_HOPS) {
      const rounds = peers.rounds[upstream][hop];
      if (!rounds?.length) continue;
      const vsDirect = hop === 'direct' ? '1.00×' : ratio(peerRatio(peers, upstream, hop, 'direct'));
      const vsBare = hop === 'direct' ? '—' : hop === 'bareHop' ? '1.00×' : ratio(peerRatio(peers, upstream, hop, 'bareHop'));
      rowsOut.push([
        UPSTREAM_NAMES[upstream],
        HOP_NAMES[hop],
        rps(median(pick(rounds, 'throughput'))),
        vsDirect,
        vsBare,
        us(median(pick(rounds, 'gatewayCpuUs'))),
        us(median(pick(rounds, 'emulatorCpuUs'))),
        `${ms(median(pick(rounds, 'p50')))} / ${ms(median(pick(rounds, 'p99')))}`,
        String(rounds.reduce((a, r) => a + r.errors, 0)),
      ]);
    }
  }
  out.push(
    table(['Upstream', 'Hop', 'Throughput', '× direct', '× bare hop', 'Hop CPU / req', 'Upstream CPU / req', 'Latency p50 / p99', 'Errors'], rowsOut, [
      'l',
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
      'r',
      'r',
    ]),
    '',
  );
  const perRound = PEER_UPSTREAMS.flatMap((upstream) =>
    PEER_HOPS.flatMap((hop) => {
      const rounds = peers.rounds[upstream][hop];
      return rounds?.length
        ? [
            [
              UPSTREAM_NAMES[upstream],
              HOP_NAMES[hop],
              pick(rounds, 'throughput')
                .map((x) => x.toFixed(0))
                .join(', '),
            ],
          ]
        : [];
    }),
  );
  out.push(table(['Upstream', 'Hop', 'Throughput per round'], perRound, ['l', 'l', 'r']), '');
  const errors = PEER_UPSTREAMS.flatMap((upstream) =>
    PEER_HOPS.flatMap((hop) => {
      const e = peers.rounds[upstream][hop]?.find((r) => r.firstError)?.firstError;
      return e ? [`- ${HOP_NAMES[hop]} in front of the ${UPSTREAM_NAMES[upstream]}: ${e.replace(/\s+/g, ' ').slice(0, 200)}`] : [];
    }),
  );
  if (errors.length) out.push('First error of each run:', '', ...errors, '');
  const pk = peers.portkey;
  if (pk.skipped) out.push(`No Portkey row: ${pk.skipped}.`, '');
  else if (pk.streamChecked) {
    out.push(
      pk.streamProblem
        ? `Portkey streams: one streamed request through it to the emulator failed (${pk.streamProblem.replace(/\s+/g, ' ').slice(0, 200)}; ` +
            `its log: ${pk.streamLog ?? 'no TypeError'}). Its published streaming defect, Portkey-AI/gateway#1389 (open): with @hono/node-server newer than 1.14.2, ` +
            'which npm installs for it, adding its x-portkey-* headers to a streamed response throws `TypeError: immutable`. So its row is non-stream only.'
        : 'Portkey streams: one streamed request through it to the emulator arrived whole: its published streaming defect (Portkey-AI/gateway#1389) did not show in this run.',
      '',
    );
  }
  return out;
}

function table(head: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const verdict = (pass: boolean | undefined): string => (pass === undefined ? 'info' : pass ? '✅ pass' : '❌ FAIL');

const PHASE_TITLES: Record<PhaseName, string> = {
  nonStream: 'non-stream, concurrency C',
  latency: 'non-stream, concurrency 1',
  fixedRate: 'non-stream, R req/s open loop',
  fixedRateStream: 'stream, R req/s open loop (TTFB)',
  stream: 'stream, concurrency C',
  ttfb: 'stream, concurrency 1 (TTFB)',
};

function phaseTitle(name: PhaseName, s: BenchSettings): string {
  return PHASE_TITLES[name].replace('C', String(s.concurrency)).replace('R', String(s.ratePerSec));
}

/** The whole report. */
export function renderMarkdown(results: BenchResults): string {
  const { meta, settings: s, phases, slow, slowDirect } = results;
  const rows = budgets(results);
  const failed = rows.filter((r) => r.pass === false).length;
  const judged = rows.filter((r) => r.pass !== undefined).length;
  const out: string[] = [];
  out.push('# Benchmark results', '');
  out.push(
    `- Date: ${meta.date}`,
    `- Mode: ${s.quick ? '**BENCH_QUICK=1 smoke run** (shorter rounds, fewer and faster slow streams: not the issue’s configuration)' : 'full (the issue’s configuration)'}`,
    `- Machine: ${meta.machine}`,
    `- Node: ${meta.node}`,
    `- Commit: ${meta.commit}`,
    `- Load average (1/5/15 min) at start: ${meta.loadStart.map((x) => x.toFixed(2)).join(' / ')}, at end: ${meta.loadEnd.map((x) => x.toFixed(2)).join(' / ')}`,
    ...(meta.priority ? [`- Scheduling: ${meta.priority}`] : []),
    `- Method: load generator, emulator upstream (zero latency, ${s.chunks}-chunk streams) and gateway (dist/, auth on, stats and request log on) in three processes; ` +
      `${s.rounds} rounds × ${s.seconds} s per side after ${s.warmupMs} ms warmup, direct and gateway alternating (ABBA), medians of per-round ratios/differences; client: ${s.client}`,
    '',
  );
  out.push(`## Budgets: ${judged - failed} of ${judged} pass`, '');
  out.push(
    table(
      ['Measurement', 'Direct', 'Gateway', 'Ratio / added', 'Budget', 'Result'],
      rows.map((r) => [r.measurement, r.direct, r.gateway, r.value, r.budget, verdict(r.pass)]),
      ['l', 'r', 'r', 'r', 'r', 'l'],
    ),
    '',
    'Direct and gateway columns are medians over rounds; the ratio / added column is the median of the per-round ratios or differences (rounds are paired, so shared machine load cancels out).',
    '',
  );

  const names = (Object.keys(PHASE_TITLES) as PhaseName[]).filter((n) => phases[n]);
  if (names.length) {
    out.push('## CPU per request and errors', '');
    out.push(
      table(
        ['Run', 'Gateway CPU / req', 'Emulator CPU / req (direct · via gateway)', 'Client CPU / req (direct · gateway)', 'Errors (direct · gateway)'],
        names.map((n) => {
          const p = phases[n]!;
          const err = (rs: RoundMetrics[]): number => rs.reduce((a, r) => a + r.errors, 0);
          return [
            phaseTitle(n, s),
            us(median(pick(p.gateway, 'gatewayCpuUs'))),
            `${us(median(pick(p.direct, 'emulatorCpuUs')))} · ${us(median(pick(p.gateway, 'emulatorCpuUs')))}`,
            `${us(median(pick(p.direct, 'clientCpuUs')))} · ${us(median(pick(p.gateway, 'clientCpuUs')))}`,
            `${err(p.direct)} · ${err(p.gateway)}`,
          ];
        }),
        ['l', 'r', 'r', 'r', 'r'],
      ),
      '',
    );
    const firstErrors = names.flatMap((n) =>
      (['direct', 'gateway'] as const).flatMap((side) => {
        const e = phases[n]![side].find((r) => r.firstError)?.firstError;
        return e ? [`- ${phaseTitle(n, s)}, ${side}: ${e.replace(/\s+/g, ' ').slice(0, 200)}`] : [];
      }),
    );
    if (firstErrors.length) out.push('First error of each run:', '', ...firstErrors, '');
    const lag = OPEN_LOOP_PHASES.flatMap((n) => [...(phases[n]?.gateway ?? []), ...(phases[n]?.direct ?? [])]).map((r) => r.sendLagP99 ?? Number.NaN);
    if (lag?.length) {
      const worst = Math.max(...lag);
      const behind =
        worst > 5 ? ' ⚠ The load generator itself fell behind its schedule (a busy machine): the fixed-rate latencies include that lag, on both sides.' : '';
      out.push(`Open-loop sender lag (how late the client itself sent), worst per-round p99: ${ms(worst)}.${behind}`, '');
    }
    if (OPEN_LOOP_PHASES.some((n) => phases[n]?.gateway.some((r) => r.loopDelay))) {
      out.push(
        'Gateway event-loop delay (open-loop rounds): `monitorEventLoopDelay` at 1 ms resolution inside the gateway (bench/loop-delay.ts, preloaded), over each round’s measured window; ' +
          'a value is how late a 1 ms tick ran, so the worst stall is the longest time the loop ran without getting back to its timers (a synchronous write, a GC pause, a flush). ' +
          'A second 1 ms timer reads the main thread’s own CPU clock (`process.threadCpuUsage`) at each tick: the longest run on the CPU is the most CPU the thread used between two ticks (what the gateway itself held the loop for), and the worst gap is split into that and the time the thread was off its CPU (waiting for a core, or blocked in a system call). ' +
          'The same preload times each request the gateway serves in the window: from its arrival to the end of its answer, minus the time its upstream call took (undici’s diagnostics channels); ' +
          'what is left, the gateway’s own time, is its work, its event-loop waits and its GC, and neither the upstream’s time nor the client’s side of the sockets. ' +
          'Where the added p99 is much larger than the own time’s p99, the rest was spent outside the gateway’s process (on this machine, waiting for a core that the client, the emulator and the gateway share). Per round below.',
        '',
      );
    }

    out.push('## Per round', '');
    out.push(
      table(
        ['Run', 'Metric', 'Direct (per round)', 'Gateway (per round)'],
        names.flatMap((n) => {
          const p = phases[n]!;
          const row = (metric: string, key: keyof RoundMetrics, f: (x: number) => string): string[] => [
            phaseTitle(n, s),
            metric,
            pick(p.direct, key).map(f).join(', '),
            pick(p.gateway, key).map(f).join(', '),
          ];
          if (n === 'nonStream' || n === 'stream') return [row('throughput', 'throughput', (x) => x.toFixed(0))];
          const ttfb = [row('TTFB p50 ms', 'ttfbP50', (x) => x.toFixed(2)), row('TTFB p99 ms', 'ttfbP99', (x) => x.toFixed(2))];
          if (n === 'ttfb') return ttfb;
          const loop = (metric: string, key: 'p99Ms' | 'maxMs'): string[] => [
            phaseTitle(n, s),
            metric,
            '—',
            p.gateway.map((r) => (r.loopDelay ? r.loopDelay[key].toFixed(2) : 'n/a')).join(', '),
          ];
          const loops = p.gateway.some((r) => r.loopDelay)
            ? [
                loop('gateway event-loop delay p99 ms', 'p99Ms'),
                loop('gateway worst event-loop stall ms', 'maxMs'),
                [
                  phaseTitle(n, s),
                  'gateway longest run on the CPU between two ticks ms',
                  '—',
                  p.gateway.map((r) => (r.loopDelay?.onCpu ? r.loopDelay.onCpu.maxMs.toFixed(2) : 'n/a')).join(', '),
                ],
                [
                  phaseTitle(n, s),
                  'gateway own time p99 ms',
                  '—',
                  p.gateway.map((r) => (r.loopDelay?.own ? r.loopDelay.own.p99Ms.toFixed(2) : 'n/a')).join(', '),
                ],
              ]
            : [];
          if (n === 'fixedRateStream') return [...ttfb, ...loops];
          return [row('p50 ms', 'p50', (x) => x.toFixed(2)), row('p99 ms', 'p99', (x) => x.toFixed(2)), ...loops];
        }),
        ['l', 'l', 'r', 'r'],
      ),
      '',
    );
  }

  if (results.peers) out.push(...peersMarkdown(results.peers, s));

  if (results.frontDoors) {
    const doors = results.frontDoors;
    out.push('## Front doors', '');
    out.push(
      `The same streamed question through each chat front door of one gateway (concurrency ${s.concurrency}), the three in rotating order each round; the ratios above are per-round pairs against chat completions. Then a batch of ${EMBEDDING_INPUTS.length} inputs through /v1/embeddings and straight to the emulator's embeddings, alternating, paired per round like the timed phases.`,
      '',
      table(
        ['Front door', 'Throughput per round', 'Gateway CPU / answer', 'Errors'],
        [
          ...(['chat', 'responses', 'messages'] as const).map((d) => [
            d === 'chat' ? '/v1/chat/completions' : d === 'responses' ? '/v1/responses' : '/v1/messages',
            pick(doors[d], 'throughput')
              .map((x) => x.toFixed(0))
              .join(', '),
            us(median(pick(doors[d], 'gatewayCpuUs'))),
            String(doors[d].reduce((a, r) => a + r.errors, 0)),
          ]),
          // Embeddings (not streamed, not compared with chat): the gateway and the emulator's own endpoint.
          ...(results.embeddings
            ? (['gateway', 'direct'] as const).map((side) => [
                side === 'gateway' ? '/v1/embeddings' : 'embeddings, direct to the emulator',
                pick(results.embeddings![side], 'throughput')
                  .map((x) => x.toFixed(0))
                  .join(', '),
                us(median(pick(results.embeddings![side], 'gatewayCpuUs'))),
                String(results.embeddings![side].reduce((a, r) => a + r.errors, 0)),
              ])
            : []),
        ],
        ['l', 'r', 'r', 'r'],
      ),
      '',
    );
  }

  if (slow) {
    out.push('## Slow streams', '');
    if (slowDirect) {
      out.push(
        `Straight to the emulator first: ${slowDirect.intact} / ${slowDirect.streams} intact in ${(slowDirect.durationMs / 1000).toFixed(1)} s, ` +
          `at most ${slowDirect.peakDelivering} delivering at once: the load generator and the upstream are not what limits the gateway’s row.`,
        '',
      );
    }
    out.push(
      `Through the gateway: ${slow.streams} streams opened over the ramp, each ${s.slowChunks} chunks ${s.slowChunkDelayMs} ms apart; took ${(slow.durationMs / 1000).toFixed(1)} s ` +
        `(slowest intact stream ${(slow.slowestMs / 1000).toFixed(1)} s). At most ${slow.peakOpen} open at once, at most ${slow.peakDelivering} delivering events at once. ` +
        `Gateway RSS: ${mb(slow.rssBeforeBytes)} idle before, ${mb(slow.peakRssBytes)} peak, ${mb(slow.rssAfterBytes)} after; ` +
        `${perOpenStream(slow)} per open stream ((peak − idle) / most open at once).`,
      '',
    );
    if (slow.failures.length) {
      out.push(
        table(
          ['Failure', 'Streams', 'Example'],
          slow.failures.map((f) => [f.reason, String(f.count), f.example.replace(/\s+/g, ' ').replace(/\|/g, '\\|')]),
          ['l', 'r', 'l'],
        ),
        '',
      );
    }
  }

  if (results.profile) out.push('## Where the gateway’s CPU goes (non-stream run, self time)', '', results.profile, '');
  if (results.streamProfile) out.push('## Where the gateway’s CPU goes (stream run, self time)', '', results.streamProfile, '');
  return out.join('\n');
}
