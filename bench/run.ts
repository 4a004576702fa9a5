// The benchmark: `npm run bench` (builds dist/ first). See bench/README.md.
//
// Starts the in-repo emulator upstream (zero latency) and the built gateway as separate
// processes, drives both from this process (the load generator) in alternating rounds, and
// reports gateway-vs-direct ratios and differences, which stay meaningful on a busy machine
// where absolute numbers do not.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLIENT_KINDS, createClient, type ClientKind, type Target } from './client.ts';
import { closedLoop, openLoop, type RunResult, type Verifier } from './load.ts';
import { cpuMs, loadAverage, openFilesLimit, raiseSchedulingPriority } from './proc.ts';
import {
  childOpenFiles,
  controlEmulator,
  freePort,
  OUT_DIR,
  ROOT,
  snapshotGateway,
  startEmulatorProcess,
  startGatewayProcess,
  startNodeArgs,
  WANTED_OPEN_FILES,
  type Child,
} from './processes.ts';
import { FRONT_DOORS, embeddingsRounds, embeddingsRuns, frontDoorRuns, type FrontDoor, type FrontDoorRun } from './front-doors.ts';
import { profileMarkdown, type CpuProfile } from './profile-summary.ts';
import {
  budgets,
  OPEN_LOOP_PHASES,
  renderMarkdown,
  roundMetrics,
  type BenchResults,
  type BenchSettings,
  type PhaseName,
  type PhaseResult,
  type RoundMetrics,
} from './report.ts';
import type { LoopDelaySummary } from './loop-delay.ts';
import { peers } from './peers.ts';
import { slowStreams } from './slow-streams.ts';
import { checkCompletion, checkStream } from './verify.ts';
import { bodyFor, directTarget, EXPECTED_TEXT, gatewayEnv, gatewayTarget } from './workload.ts';

const env = process.env;

// ---- the open-files limit: raise our own by re-running under `ulimit -n` when we can --------
const limit = openFilesLimit();
if (limit && limit.soft < WANTED_OPEN_FILES && limit.soft < limit.hard && env.BENCH_ULIMIT_RAISED !== '1') {
  const files = Math.min(WANTED_OPEN_FILES, limit.hard);
  const r = spawnSync('bash', ['-c', `ulimit -n ${files} && exec "$@"`, 'bench', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...env, BENCH_ULIMIT_RAISED: '1' },
  });
  process.exit(r.status ?? 1);
}

// ---- settings -------------------------------------------------------------------------------
function numberEnv(name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

// `npm run bench -- --quick` is BENCH_QUICK=1; any other argument is a mistake worth stopping for.
const args = process.argv.slice(2);
for (const arg of args)
  if (arg !== '--quick') throw new Error(`unknown argument ${arg}: the only one is --quick (settings are BENCH_* variables, see bench/README.md)`);
const quick = env.BENCH_QUICK === '1' || args.includes('--quick');
const clientKind = (env.BENCH_CLIENT ?? 'http') as ClientKind;
if (!CLIENT_KINDS.includes(clientKind)) throw new Error(`BENCH_CLIENT must be one of ${CLIENT_KINDS.join(', ')}`);
const settings: BenchSettings = {
  quick,
  rounds: Math.round(numberEnv('BENCH_ROUNDS', quick ? 3 : 5)),
  // Eight hop × upstream pairs a round: the smoke run keeps to two rounds of them (it checks the rows work).
  peerRounds: Math.round(numberEnv('BENCH_PEER_ROUNDS', quick ? 2 : numberEnv('BENCH_ROUNDS', 5))),
  seconds: numberEnv('BENCH_SECONDS', quick ? 1 : 5),
  warmupMs: Math.round(numberEnv('BENCH_WARMUP_MS', quick ? 300 : 1000)),
  concurrency: Math.round(numberEnv('BENCH_CONCURRENCY', 50)),
  ratePerSec: numberEnv('BENCH_RATE', 500),
  chunks: 20,
  slowStreams: Math.round(numberEnv('BENCH_SLOW_STREAMS', quick ? 300 : 2000)),
  slowChunks: Math.round(numberEnv('BENCH_SLOW_CHUNKS', quick ? 5 : 20)),
  slowChunkDelayMs: Math.round(numberEnv('BENCH_SLOW_CHUNK_DELAY_MS', quick ? 200 : 1000)),
  client: clientKind === 'http' ? 'node:http with a keep-alive Agent' : 'built-in fetch',
};
const ALL_PHASES: readonly (PhaseName | 'frontDoors' | 'peers' | 'slow')[] = [
  'nonStream',
  'latency',
  'fixedRate',
  'fixedRateStream',
  'stream',
  'ttfb',
  'frontDoors',
  'peers',
  'slow',
];
const wanted = new Set((env.BENCH_PHASES ?? ALL_PHASES.join(',')).split(',').map((s) => s.trim()));
for (const p of wanted)
  if (!(ALL_PHASES as readonly string[]).includes(p)) throw new Error(`BENCH_PHASES: unknown phase "${p}" (known: ${ALL_PHASES.join(', ')})`);
const profiling = env.BENCH_PROFILE !== '0' && (wanted.has('nonStream') || wanted.has('stream'));
const resultsFile = env.BENCH_RESULTS ?? (quick ? join(OUT_DIR, 'RESULTS-quick.md') : join(ROOT, 'bench/RESULTS.md'));

const runStart = Date.now();
/** Progress on stderr, with the seconds since the start (how long each phase takes shows). */
const log = (...args: unknown[]): void => console.error(`[bench +${Math.round((Date.now() - runStart) / 1000)}s]`, ...args);

// ---- facts about this run -------------------------------------------------------------------
function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function commitDescription(): string {
  const sha = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const subject = git(['log', '-1', '--format=%s']);
  const changed = git(['status', '--porcelain']).split('\n').filter(Boolean).length;
  return `${sha}${subject ? ` (“${subject}”)` : ''}${changed ? `, working tree has ${changed} changed or untracked files` : ''}`;
}

function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`;
}

// ---- processes ------------------------------------------------------------------------------
const children: Child[] = [];
const stopAll = async (): Promise<void> => {
  await Promise.all(children.splice(0).map((c) => c.stop(5000)));
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

let gatewayMain = '';
/**
 * The gateway runs with `npm start`'s node options; BENCH_GATEWAY_NODE_ARGS adds to them (a later
 * V8 flag wins), e.g. "--max-semi-space-size=32" to try other V8 settings.
 */
const gatewayNodeArgs = [...startNodeArgs(), ...(env.BENCH_GATEWAY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)];

interface GatewayProbes {
  /** Control port of the CPU profiler (bench/cpu-profiler.ts). */
  profilePort?: number;
  /** Control port of the event-loop delay monitor (bench/loop-delay.ts). */
  loopPort?: number;
}

const preload = (file: string): string[] => ['--import', pathToFileURL(join(ROOT, file)).href];

async function startGateway(emulatorUrl: string, name: string, probes: GatewayProbes = {}): Promise<Child> {
  const { profilePort, loopPort } = probes;
  const gw = await startGatewayProcess({
    main: gatewayMain,
    env: {
      ...gatewayEnv(emulatorUrl),
      ...(profilePort ? { BENCH_PROFILE_PORT: String(profilePort) } : {}),
      ...(loopPort ? { BENCH_LOOP_PORT: String(loopPort) } : {}),
    },
    port: await freePort(),
    logFile: join(OUT_DIR, `${name}.log`),
    nodeArgs: [...gatewayNodeArgs, ...(profilePort ? preload('bench/cpu-profiler.ts') : []), ...(loopPort ? preload('bench/loop-delay.ts') : [])],
  });
  children.push(gw);
  return gw;
}

/** POST to the gateway's event-loop monitor (bench/loop-delay.ts): /start resets and enables it, /stop answers the summary. */
async function loopDelay(loopPort: number, action: 'start' | 'stop'): Promise<LoopDelaySummary | undefined> {
  const res = await fetch(`http://127.0.0.1:${loopPort}/${action}`, { method: 'POST' });
  if (!res.ok) throw new Error(`event-loop monitor ${action} answered ${res.status}: ${await res.text()}`);
  return action === 'stop' ? ((await res.json()) as LoopDelaySummary) : undefined;
}

async function stopChild(child: Child): Promise<void> {
  children.splice(children.indexOf(child), 1);
  await child.stop(10_000);
}

// ---- one round ----------------------------------------------------------------------------
const verifyCompletion: Verifier = (ex) => checkCompletion(ex.body, EXPECTED_TEXT);
const verifyStream: Verifier = (ex) => checkStream(ex.body, EXPECTED_TEXT);

async function runPhase(phase: PhaseName, target: Target, onWindowStart?: () => void): Promise<RunResult> {
  const stream = phase === 'stream' || phase === 'ttfb' || phase === 'fixedRateStream';
  const body = bodyFor(target, stream);
  const verify = stream ? verifyStream : verifyCompletion;
  const timing = { warmupMs: settings.warmupMs, durationMs: settings.seconds * 1000 };
  if (OPEN_LOOP_PHASES.includes(phase)) {
    const client = createClient(clientKind, { maxSockets: Number.POSITIVE_INFINITY });
    try {
      return await openLoop({ client, target, body, verify, ratePerSec: settings.ratePerSec, timeoutMs: 30_000, onWindowStart, ...timing });
    } finally {
      client.close();
    }
  }
  const concurrency = phase === 'latency' || phase === 'ttfb' ? 1 : settings.concurrency;
  const client = createClient(clientKind, { maxSockets: concurrency });
  try {
    return await closedLoop({ client, target, body, verify, concurrency, ...timing });
  } finally {
    client.close();
  }
}

/**
 * The gateway's event loop is watched in the open-loop rounds (where a stall shows as tail latency),
 * over the measured window only: from the first measured request to the last answer.
 */
async function round(phase: PhaseName, target: Target, emulator: Child, gateway: Child, loopPort?: number): Promise<RoundMetrics> {
  // Clears the emulator's request record (it keeps every request) and restores its pacing.
  await controlEmulator(emulator.url, 'reset');
  const gw0 = cpuMs(gateway.pid) ?? Number.NaN;
  const em0 = cpuMs(emulator.pid) ?? Number.NaN;
  const watch = loopPort !== undefined && OPEN_LOOP_PHASES.includes(phase) && target.label === 'gateway' ? loopPort : undefined;
  // The start is settled into a value at once: a failed start must not be an unhandled rejection mid-round.
  let startError: Promise<unknown> = Promise.resolve(undefined);
  const onWindowStart =
    watch === undefined
      ? undefined
      : (): void => {
          startError = loopDelay(watch, 'start').then(
            () => undefined,
            (err: unknown) => err,
          );
        };
  const r = await runPhase(phase, target, onWindowStart);
  const failed = await startError;
  if (failed) throw failed;
  const loop = watch === undefined ? undefined : await loopDelay(watch, 'stop');
  const perRequest = (before: number, after: number | undefined): number => (((after ?? Number.NaN) - before) * 1000) / r.exchanges;
  const m = roundMetrics(r, target.label === 'gateway' ? perRequest(gw0, cpuMs(gateway.pid)) : Number.NaN, perRequest(em0, cpuMs(emulator.pid)));
  return loop ? { ...m, loopDelay: loop } : m;
}

/** One front door's streamed requests at concurrency C against the gateway, as a round. */
async function frontDoorRound(run: FrontDoorRun, emulator: Child, gateway: Child): Promise<RoundMetrics> {
  await controlEmulator(emulator.url, 'reset');
  const gw0 = cpuMs(gateway.pid) ?? Number.NaN;
  const client = createClient(clientKind, { maxSockets: settings.concurrency });
  let r: RunResult;
  try {
    r = await closedLoop({ client, ...run, concurrency: settings.concurrency, warmupMs: settings.warmupMs, durationMs: settings.seconds * 1000 });
  } finally {
    client.close();
  }
  return roundMetrics(r, (((cpuMs(gateway.pid) ?? Number.NaN) - gw0) * 1000) / r.exchanges, Number.NaN);
}

/**
 * Chat completions, the Responses API and Anthropic Messages, streamed, in rotating order each
 * round; then /v1/embeddings against the emulator's embeddings (front-doors.ts).
 */
async function frontDoors(emulator: Child): Promise<{ doors: Record<FrontDoor, RoundMetrics[]>; embeddings: PhaseResult }> {
  const gw = await startGateway(emulator.url, 'gateway-front-doors');
  const runs = frontDoorRuns(gw.url);
  const embedding = embeddingsRuns(emulator.url, gw.url);
  const result: Record<FrontDoor, RoundMetrics[]> = { chat: [], responses: [], messages: [] };
  const client = createClient(clientKind, { maxSockets: 1 });
  try {
    for (const [door, run] of [
      ...FRONT_DOORS.map((d) => [d, runs[d]] as const),
      ['embeddings direct', embedding.direct],
      ['embeddings', embedding.gateway],
    ] as const) {
      const ex = await client.send(run.target, run.body, { timeoutMs: 30_000 });
      const problem = ex.error ?? (ex.status === 200 ? run.verify(ex) : `HTTP ${ex.status}: ${ex.body.slice(0, 300)}`);
      if (problem) throw new Error(`${door} request failed before the benchmark: ${problem}`);
    }
  } finally {
    client.close();
  }
  for (const door of FRONT_DOORS) await frontDoorRound(runs[door], emulator, gw);
  for (let r = 0; r < settings.rounds; r++) {
    const order = FRONT_DOORS.map((_, i) => FRONT_DOORS[(i + r) % FRONT_DOORS.length]!);
    for (const door of order) {
      const m = await frontDoorRound(runs[door], emulator, gw);
      result[door].push(m);
      log(
        `front doors round ${r + 1}/${settings.rounds} ${door.padEnd(9)} ${m.throughput.toFixed(0)}/s${m.errors ? `, ${m.errors} errors (${m.firstError?.slice(0, 100)})` : ''}`,
      );
    }
  }
  const embeddings = await embeddingsRounds(embedding, settings.rounds, (run) => frontDoorRound(run, emulator, gw), log);
  await stopChild(gw);
  return { doors: result, embeddings };
}

function describe(phase: PhaseName, m: RoundMetrics): string {
  const err = m.errors ? `, ${m.errors} errors (${m.firstError?.slice(0, 100)})` : '';
  if (phase === 'nonStream' || phase === 'stream') return `${m.throughput.toFixed(0)}/s${err}`;
  const onCpu = m.loopDelay?.onCpu ? ` (longest run on the CPU ${m.loopDelay.onCpu.maxMs.toFixed(1)} ms)` : '';
  const loop = m.loopDelay ? `; event loop p99 ${m.loopDelay.p99Ms.toFixed(2)} ms, worst stall ${m.loopDelay.maxMs.toFixed(1)} ms${onCpu}` : '';
  if (phase === 'ttfb' || phase === 'fixedRateStream') return `TTFB p50 ${m.ttfbP50.toFixed(2)} ms, p99 ${m.ttfbP99.toFixed(2)} ms${loop}${err}`;
  return `p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms${loop}${err}`;
}

async function sanityCheck(direct: Target, gateway: Target): Promise<void> {
  const client = createClient(clientKind, { maxSockets: 1 });
  try {
    for (const target of [direct, gateway]) {
      for (const stream of [false, true]) {
        const ex = await client.send(target, bodyFor(target, stream), { timeoutMs: 30_000 });
        const problem = ex.error ?? (ex.status === 200 ? (stream ? verifyStream : verifyCompletion)(ex) : `HTTP ${ex.status}: ${ex.body.slice(0, 300)}`);
        if (problem) throw new Error(`${target.label} ${stream ? 'stream' : 'non-stream'} request failed before the benchmark: ${problem}`);
      }
    }
  } finally {
    client.close();
  }
}

async function captureProfile(gateway: Target, profilePort: number, phase: 'nonStream' | 'stream'): Promise<string> {
  const name = phase === 'stream' ? 'gateway-stream' : 'gateway-nonstream';
  const file = join(OUT_DIR, `${name}.cpuprofile`);
  const control = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${profilePort}${path}`, { method: 'POST' });
  const started = await control('/start?intervalUs=250');
  if (!started.ok) throw new Error(`profiler did not start: ${await started.text()}`);
  await runPhase(phase, gateway);
  const stopped = await control(`/stop?file=${encodeURIComponent(file)}`);
  if (!stopped.ok) throw new Error(`profiler did not stop: ${await stopped.text()}`);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  writeFileSync(join(OUT_DIR, `${name}-profile.md`), `${profileMarkdown(profile, 40)}\n`);
  log(`CPU profile: ${file} (open in Chrome DevTools), summary in bench/out/${name}-profile.md`);
  return profileMarkdown(profile, 15);
}

// ---- main -----------------------------------------------------------------------------------
async function main(): Promise<number> {
  mkdirSync(OUT_DIR, { recursive: true });
  const priority = raiseSchedulingPriority();
  log(`scheduling: ${priority}`);
  gatewayMain = await snapshotGateway();
  log(`gateway build copied to ${gatewayMain}`);
  const own = openFilesLimit();
  const need = settings.slowStreams * 2 + 1000;
  if (own && own.soft < need) log(`warning: open-files limit ${own.soft} is below the ~${need} this run needs; raise it (ulimit -n)`);
  log(`children run with ulimit -n ${childOpenFiles()}; ${quick ? 'QUICK smoke run' : 'full run'}; phases: ${[...wanted].join(', ')}`);

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      machine: machineDescription(),
      node: process.version,
      commit: commitDescription(),
      loadStart: loadAverage(),
      loadEnd: [],
      priority,
    },
    settings,
    phases: {},
  };

  const emulator = await startEmulatorProcess({ chunks: settings.chunks });
  children.push(emulator);
  log(`emulator ${emulator.url} (pid ${emulator.pid})`);

  const timed = (['nonStream', 'latency', 'fixedRate', 'fixedRateStream', 'stream', 'ttfb'] as const).filter((p) => wanted.has(p));
  if (timed.length) {
    const profilePort = profiling ? await freePort() : undefined;
    const loopPort = OPEN_LOOP_PHASES.some((p) => wanted.has(p)) ? await freePort() : undefined;
    const gw = await startGateway(emulator.url, 'gateway', { profilePort, loopPort });
    log(`gateway ${gw.url} (pid ${gw.pid})`);
    const direct = directTarget(emulator.url);
    const gateway = gatewayTarget(gw.url);
    await sanityCheck(direct, gateway);
    // JIT warmup of both paths, not measured.
    for (const phase of ['nonStream', 'stream'] as const) for (const t of [direct, gateway]) await runPhase(phase, t);

    for (const phase of timed) {
      const result: PhaseResult = { direct: [], gateway: [] };
      for (let r = 0; r < settings.rounds; r++) {
        const order = r % 2 === 0 ? [direct, gateway] : [gateway, direct];
        for (const target of order) {
          const m = await round(phase, target, emulator, gw, loopPort);
          (target === direct ? result.direct : result.gateway).push(m);
          log(`${phase} round ${r + 1}/${settings.rounds} ${target.label.padEnd(7)} ${describe(phase, m)}`);
        }
      }
      results.phases[phase] = result;
    }
    if (profilePort) {
      if (wanted.has('nonStream')) results.profile = await captureProfile(gateway, profilePort, 'nonStream');
      if (wanted.has('stream')) results.streamProfile = await captureProfile(gateway, profilePort, 'stream');
    }
    await stopChild(gw);
  }

  if (wanted.has('frontDoors')) ({ doors: results.frontDoors, embeddings: results.embeddings } = await frontDoors(emulator));

  if (wanted.has('peers')) {
    results.peers = await peers({
      settings,
      clientKind,
      emulator,
      startGateway: (url, name) => startGateway(url, name),
      adopt: async (start) => {
        const child = await start;
        children.push(child);
        return child;
      },
      stop: stopChild,
      log,
    });
  }

  if (wanted.has('slow')) {
    await controlEmulator(emulator.url, 'reset');
    await controlEmulator(emulator.url, 'pacing', { chunks: settings.slowChunks, chunkDelayMs: settings.slowChunkDelayMs });
    const streamMs = settings.slowChunks * settings.slowChunkDelayMs;
    const slowRun = (target: Target, pid: number) =>
      slowStreams({
        client: clientKind,
        target,
        body: bodyFor(target, true),
        expected: EXPECTED_TEXT,
        streams: settings.slowStreams,
        rampMs: Math.min(1000, streamMs / 2),
        timeoutMs: streamMs + 120_000,
        pid,
        sampleEveryMs: 100,
      });
    log(`slow streams: ${settings.slowStreams} × ${settings.slowChunks} chunks ${settings.slowChunkDelayMs} ms apart, straight to the emulator…`);
    results.slowDirect = await slowRun(directTarget(emulator.url), emulator.pid);
    log(`slow streams direct: ${results.slowDirect.intact}/${results.slowDirect.streams} intact, peak delivering at once ${results.slowDirect.peakDelivering}`);
    await controlEmulator(emulator.url, 'reset');
    // A fresh gateway, so that its RSS is about holding the streams, not about earlier runs.
    const gw = await startGateway(emulator.url, 'gateway-slow-streams');
    const gateway = gatewayTarget(gw.url);
    // A few quick requests first, streamed ones too (at the emulator's usual pace), so the route is
    // resolved and the code paths are loaded: compiling the stream path is paid once, not per stream.
    const warm = createClient(clientKind, { maxSockets: 4 });
    for (let i = 0; i < 40; i++) await warm.send(gateway, bodyFor(gateway, i % 2 === 1));
    warm.close();
    await controlEmulator(emulator.url, 'pacing', { chunks: settings.slowChunks, chunkDelayMs: settings.slowChunkDelayMs });
    await new Promise((r) => setTimeout(r, 1500));
    log(`slow streams: the same through the gateway (pid ${gw.pid})…`);
    results.slow = await slowRun(gateway, gw.pid);
    const s = results.slow;
    log(`slow streams: ${s.intact}/${s.streams} intact, peak RSS ${(s.peakRssBytes / 2 ** 20).toFixed(0)} MB, peak delivering at once ${s.peakDelivering}`);
    await stopChild(gw);
  }

  await stopAll();
  results.meta.loadEnd = loadAverage();
  const markdown = renderMarkdown(results);
  writeFileSync(resultsFile, `${markdown}\n`);
  const stamp = results.meta.date.replace(/[:.]/g, '-');
  writeFileSync(join(OUT_DIR, `results-${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  console.log(markdown);
  log(`written to ${resultsFile} (raw numbers in bench/out/results-${stamp}.json)`);
  const failed = budgets(results).filter((b) => b.pass === false).length;
  return failed > 0 && env.BENCH_STRICT === '1' ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error('[bench] failed:', err instanceof Error ? err.message : err);
  await stopAll();
  process.exitCode = 1;
}
