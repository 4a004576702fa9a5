// The peers phase: non-stream throughput at concurrency C of every hop in front of two upstreams,
// in one run, on one load generator. The hops: none (direct), a bare undici hop (bench/bare-hop.ts,
// the physical limit of one Node hop), the gateway, and Portkey's open-source gateway. The
// upstreams: the in-repo emulator, and a minimal one (bench/minimal-upstream.ts) whose own cost is
// so small that the hops' cost shows. Every round runs all pairs once, in rotating order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type ClientKind, type Target } from './client.ts';
import { closedLoop } from './load.ts';
import { cpuMs } from './proc.ts';
import { controlEmulator, freePort, OUT_DIR, ROOT, startListeningProcess, type Child } from './processes.ts';
import { ensurePortkey, PORTKEY_VERSION, portkeyTarget, startPortkey } from './portkey.ts';
import { PEER_UPSTREAMS, type BenchSettings, type PeerHop, type PeersResult, type PeerUpstream, type RoundMetrics, roundMetrics } from './report.ts';
import { checkCompletion, checkStream } from './verify.ts';
import { bodyFor, directTarget, EXPECTED_TEXT, gatewayTarget, UPSTREAM_KEY } from './workload.ts';

export interface PeersContext {
  settings: BenchSettings;
  clientKind: ClientKind;
  emulator: Child;
  /** Starts a gateway routed to the upstream at this URL (its DeepInfra base is `${url}/deepinfra/v1/openai`), registered for clean-up. */
  startGateway(upstreamUrl: string, name: string): Promise<Child>;
  /** Registers a started helper process for the run's clean-up. */
  adopt(child: Promise<Child>): Promise<Child>;
  /** Stops a registered process. */
  stop(child: Child): Promise<void>;
  log(...args: unknown[]): void;
}

interface Pair {
  upstream: PeerUpstream;
  hop: PeerHop;
  target: Target;
  body: string;
  /** Whose CPU is the hop's (none for direct) and the upstream's. */
  hopPid?: number;
  upstreamPid: number;
}

const BARE_HOP = join(ROOT, 'bench/bare-hop.ts');
const MINIMAL_UPSTREAM = join(ROOT, 'bench/minimal-upstream.ts');
const PORTKEY_LOG = join(OUT_DIR, 'portkey.log');
/** The key each hop sends upstream: the emulator checks it, the minimal upstream does not. */
const UPSTREAM_KEYS: Record<PeerUpstream, string> = { emulator: UPSTREAM_KEY, minimal: 'minimal-upstream-checks-no-key' };

/** The first "TypeError: …" line Portkey logged (it answers every failure with the same "Something went wrong"). */
function firstTypeError(logFile: string): string | undefined {
  try {
    return /TypeError: [^\n]{0,160}/.exec(readFileSync(logFile, 'utf8'))?.[0];
  } catch {
    return undefined;
  }
}

/** Each upstream's base URL as an OpenAI-compatible client configures it, and its chat completions URL. */
function upstreamUrls(kind: PeerUpstream, url: string): { base: string; chat: string } {
  const base = kind === 'emulator' ? `${url}/deepinfra/v1/openai` : `${url}/v1`;
  return { base, chat: `${base}/chat/completions` };
}

/** One closed-loop run of a pair; `warmOnly` is the short unmeasured pass that warms JITs and pools. */
async function measure(ctx: PeersContext, pair: Pair, warmOnly = false): Promise<RoundMetrics> {
  if (pair.upstream === 'emulator') await controlEmulator(ctx.emulator.url, 'reset');
  const { settings: s } = ctx;
  const hop0 = pair.hopPid === undefined ? Number.NaN : (cpuMs(pair.hopPid) ?? Number.NaN);
  const up0 = cpuMs(pair.upstreamPid) ?? Number.NaN;
  const client = createClient(ctx.clientKind, { maxSockets: s.concurrency });
  try {
    const r = await closedLoop({
      client,
      target: pair.target,
      body: pair.body,
      verify: (ex) => checkCompletion(ex.body, EXPECTED_TEXT),
      concurrency: s.concurrency,
      warmupMs: warmOnly ? 0 : s.warmupMs,
      durationMs: warmOnly ? Math.max(300, s.warmupMs) : s.seconds * 1000,
    });
    const perRequest = (before: number, pid: number | undefined): number =>
      pid === undefined ? Number.NaN : (((cpuMs(pid) ?? Number.NaN) - before) * 1000) / r.exchanges;
    return roundMetrics(r, perRequest(hop0, pair.hopPid), perRequest(up0, pair.upstreamPid));
  } finally {
    client.close();
  }
}

/** One streamed request through Portkey to the emulator: its published streaming defect, checked each run. */
async function portkeyStreamProblem(ctx: PeersContext, target: Target): Promise<string | undefined> {
  await controlEmulator(ctx.emulator.url, 'reset');
  const client = createClient(ctx.clientKind, { maxSockets: 1 });
  try {
    const ex = await client.send(target, bodyFor(target, true), { timeoutMs: 30_000 });
    return ex.error ?? (ex.status === 200 ? checkStream(ex.body, EXPECTED_TEXT) : `HTTP ${ex.status}: ${ex.body.replace(/\s+/g, ' ').slice(0, 200)}`);
  } finally {
    client.close();
  }
}

async function sanityCheck(ctx: PeersContext, pairs: Pair[]): Promise<void> {
  const client = createClient(ctx.clientKind, { maxSockets: 1 });
  try {
    for (const p of pairs) {
      const ex = await client.send(p.target, p.body, { timeoutMs: 30_000 });
      const problem = ex.error ?? (ex.status === 200 ? checkCompletion(ex.body, EXPECTED_TEXT) : `HTTP ${ex.status}: ${ex.body.slice(0, 300)}`);
      if (problem) throw new Error(`peers: ${p.hop} in front of the ${p.upstream} failed before the benchmark: ${problem}`);
    }
  } finally {
    client.close();
  }
}

/** Installs (first time) and starts Portkey; undefined, with the reason in the result, when there is no Portkey row. */
async function startPortkeyRow(ctx: PeersContext, result: PeersResult): Promise<Child | undefined> {
  const install = ensurePortkey();
  if ('skipped' in install) {
    result.portkey.skipped = install.skipped;
    ctx.log(`peers: no Portkey row: ${install.skipped}`);
    return undefined;
  }
  if (install.installed) ctx.log(`peers: installed Portkey ${PORTKEY_VERSION} into ${install.entry}`);
  try {
    return await ctx.adopt(startPortkey(install.entry, await freePort(), PORTKEY_LOG));
  } catch (err) {
    result.portkey.skipped = `Portkey did not start: ${err instanceof Error ? err.message : String(err)}`;
    ctx.log(`peers: ${result.portkey.skipped}`);
    return undefined;
  }
}

/** Runs the phase; every process it started is stopped when it ends, so none of them weighs on later phases. */
export async function peers(ctx: PeersContext): Promise<PeersResult> {
  const started: Child[] = [];
  const own = async (child: Promise<Child>): Promise<Child> => {
    const c = await child;
    started.push(c);
    return c;
  };
  try {
    return await run({ ...ctx, adopt: (c) => own(ctx.adopt(c)), startGateway: (url, name) => own(ctx.startGateway(url, name)) });
  } finally {
    await Promise.all(started.map((c) => ctx.stop(c)));
  }
}

async function run(ctx: PeersContext): Promise<PeersResult> {
  const { settings: s, emulator } = ctx;
  const minimal = await ctx.adopt(startListeningProcess('minimal upstream', [MINIMAL_UPSTREAM]));
  const upstreams: Record<PeerUpstream, Child> = { emulator, minimal };
  const result: PeersResult = {
    rounds: { emulator: {}, minimal: {} },
    portkey: { version: PORTKEY_VERSION, streamChecked: false },
  };

  // Everything starts at once: on a busy machine each gateway takes seconds to get ready.
  const [portkey, ...hops] = await Promise.all([
    startPortkeyRow(ctx, result),
    ...PEER_UPSTREAMS.map(async (kind) => {
      const urls = upstreamUrls(kind, upstreams[kind].url);
      const [bare, gw] = await Promise.all([
        ctx.adopt(startListeningProcess(`bare hop (${kind})`, [BARE_HOP, '--upstream', urls.chat, '--key', UPSTREAM_KEYS[kind]])),
        ctx.startGateway(upstreams[kind].url, `gateway-peers-${kind}`),
      ]);
      return { kind, urls, bare, gw };
    }),
  ]);
  const pairs: Pair[] = [];
  for (const { kind, urls, bare, gw } of hops) {
    const upstreamPid = upstreams[kind].pid;
    const direct: Target = kind === 'emulator' ? directTarget(upstreams[kind].url) : { label: 'direct', url: urls.chat, headers: {} };
    const bareHop: Target = { label: 'bare hop', url: `${bare.url}/v1/chat/completions`, headers: {} };
    const gateway = gatewayTarget(gw.url);
    pairs.push(
      { upstream: kind, hop: 'direct', target: direct, body: bodyFor(direct, false), upstreamPid },
      { upstream: kind, hop: 'bareHop', target: bareHop, body: bodyFor(bareHop, false), hopPid: bare.pid, upstreamPid },
      { upstream: kind, hop: 'gateway', target: gateway, body: bodyFor(gateway, false), hopPid: gw.pid, upstreamPid },
    );
    if (portkey) {
      const pk = portkeyTarget(portkey.url, urls.base, UPSTREAM_KEYS[kind], 'portkey');
      pairs.push({ upstream: kind, hop: 'portkey', target: pk, body: bodyFor(pk, false), hopPid: portkey.pid, upstreamPid });
    }
  }
  await sanityCheck(ctx, pairs);
  if (portkey) {
    const problem = await portkeyStreamProblem(ctx, portkeyTarget(portkey.url, upstreamUrls('emulator', emulator.url).base, UPSTREAM_KEY, 'portkey'));
    result.portkey.streamChecked = true;
    result.portkey.streamProblem = problem;
    result.portkey.streamLog = problem ? firstTypeError(PORTKEY_LOG) : undefined;
    ctx.log(`peers: a stream through Portkey ${problem ? `failed: ${problem.slice(0, 120)}` : 'arrived whole'}`);
  }

  // One short unmeasured pass warms every JIT and pool, then rounds in rotating order.
  for (const p of pairs) await measure(ctx, p, true);
  for (let r = 0; r < s.peerRounds; r++) {
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[(i + r) % pairs.length]!;
      const m = await measure(ctx, p);
      (result.rounds[p.upstream][p.hop] ??= []).push(m);
      const err = m.errors ? `, ${m.errors} errors (${m.firstError?.slice(0, 100)})` : '';
      ctx.log(`peers round ${r + 1}/${s.peerRounds} ${p.upstream.padEnd(8)} ${p.hop.padEnd(7)} ${m.throughput.toFixed(0)}/s${err}`);
    }
  }
  return result;
}
