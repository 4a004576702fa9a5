// What one open stream keeps alive in the gateway's heap: a gateway (the built dist/, as the
// benchmark runs it) is snapshotted idle, then with N slow streams open (every one past its
// first event), and the two snapshots are compared by constructor / closure, per stream.
//   node bench/heap-per-stream.ts [streams=500]      (after `nest build`)
//   node bench/heap-per-stream.ts --analyze [streams] (the last two snapshots again; HEAP_DETAIL=1
//     names contexts by their variables, plain objects by their keys, arrays and strings by a retainer)
// Writes bench/out/heap-idle.heapsnapshot, bench/out/heap-open.heapsnapshot (open them in Chrome
// DevTools' Memory tab, "Comparison" view) and prints the table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClient, type Exchange } from './client.ts';
import { controlEmulator, freePort, OUT_DIR, ROOT, snapshotGateway, startEmulatorProcess, startGatewayProcess, startNodeArgs } from './processes.ts';
import { checkStream } from './verify.ts';
import { bodyFor, EXPECTED_TEXT, GATEWAY_MODEL, gatewayEnv, gatewayTarget } from './workload.ts';

const analyzeOnly = process.argv[2] === '--analyze';
// --rss: no snapshots (they inflate the RSS); V8's spaces sampled while the streams run, the sample at the highest RSS printed.
const rssOnly = process.argv[2] === '--rss';
const streams = Number(process.argv[analyzeOnly || rssOnly ? 3 : 2] ?? 500);
const CHUNKS = 20;
/** HEAP_PROMPT_CHARS=N: streams whose user message is N characters (a long conversation), answered whole but not checked word for word. */
const promptChars = Number(process.env.HEAP_PROMPT_CHARS ?? 0);
const CHUNK_DELAY_MS = 1000;

/** Grouped by what holds them, with HEAP_DETAIL=1. */
const RETAINED = new Set([
  'AbortSignal',
  'AbortController',
  'Promise',
  'Listener',
  'Map',
  'Set',
  'Observable',
  'SafeSubscriber',
  'OperatorSubscriber',
  'ConsumerObserver',
  'WeakRef',
]);

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] }; node_count: number };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Bytes and count of every group of objects in a snapshot: objects by constructor, closures by name and script line. */
function groups(file: string, detail: boolean): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const nf = s.snapshot.meta.node_fields;
  const nodeTypes = s.snapshot.meta.node_types[0];
  const ef = s.snapshot.meta.edge_fields;
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const [TYPE, NAME, SIZE, EDGES] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f));
  const [ETYPE, ENAME, ETO] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f));
  const N = nf.length;
  const E = ef.length;
  const firstEdge = new Uint32Array(s.nodes.length / N + 1);
  for (let i = 0, e = 0; i < s.nodes.length / N; i++) {
    firstEdge[i] = e;
    e += s.nodes[i * N + EDGES] * E;
  }
  firstEdge[s.nodes.length / N] = s.edges.length;
  /** The node an edge named `name` of node i points to (node index), or -1. */
  const edge = (i: number, name: string): number => {
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += E) {
      const t = edgeTypes[s.edges[e + ETYPE]];
      if (t !== 'element' && t !== 'hidden' && s.strings[s.edges[e + ENAME]] === name) return s.edges[e + ETO] / N;
    }
    return -1;
  };
  const scriptOf = (closure: number): string => {
    const shared = edge(closure, 'shared');
    const script = shared < 0 ? -1 : edge(shared, 'script');
    const name = script < 0 ? -1 : edge(script, 'name');
    if (name < 0) return '?';
    const path = s.strings[s.nodes[name * N + NAME]];
    return path.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, '');
  };
  /** Names of node i's edges of one type (a context's variables, an object's properties), the first few. */
  const edgeNames = (i: number, type: string): string[] => {
    const names: string[] = [];
    for (let e = firstEdge[i]; e < firstEdge[i + 1] && names.length < 8; e += E) {
      if (edgeTypes[s.edges[e + ETYPE]] === type) names.push(String(s.strings[s.edges[e + ENAME]]));
    }
    return names;
  };
  // One retainer per node (the first strong edge found), only when asked: it costs a pass over every edge.
  const retainer = new Int32Array(detail ? s.nodes.length / N : 0).fill(-1);
  const retainerEdge = new Int32Array(retainer.length);
  if (detail) {
    for (let i = 0; i < s.nodes.length / N; i++) {
      for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += E) {
        const t = edgeTypes[s.edges[e + ETYPE]];
        if (t === 'weak' || t === 'shortcut') continue;
        const to = s.edges[e + ETO] / N;
        if (retainer[to] === -1) {
          retainer[to] = i;
          retainerEdge[to] = e;
        }
      }
    }
  }
  const retainerOf = (i: number): string => {
    const r = retainer[i];
    if (r < 0) return '?';
    const e = retainerEdge[i];
    const t = edgeTypes[s.edges[e + ETYPE]];
    const edgeName = t === 'element' || t === 'hidden' ? `[${s.edges[e + ENAME]}]` : String(s.strings[s.edges[e + ENAME]]);
    const rtype = nodeTypes[s.nodes[r * N + TYPE]];
    const rname = s.strings[s.nodes[r * N + NAME]];
    const where =
      rtype === 'closure'
        ? `closure ${rname} ${scriptOf(r)}`
        : rname === 'system / Context'
          ? `Context {${edgeNames(r, 'context').slice(0, 4).join(', ')}}`
          : `${rtype} ${rname.slice(0, 40)}`;
    return `${where}.${edgeName}`;
  };
  const edgeTarget = (i: number, name: string): string => {
    const to = edge(i, name);
    return to < 0 ? '?' : `${s.strings[s.nodes[to * N + NAME]]} ${nodeTypes[s.nodes[to * N + TYPE]] === 'closure' ? scriptOf(to) : ''}`;
  };
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length / N; i++) {
    const type = nodeTypes[s.nodes[i * N + TYPE]];
    const name = s.strings[s.nodes[i * N + NAME]];
    let key: string;
    if (detail && name === 'native_bind') key = `bound ${edgeTarget(i, 'bound_function')}`;
    else if (type === 'closure') key = `closure ${name || '(anonymous)'} ${scriptOf(i)}`;
    else if (detail && name === 'system / Context') key = `Context {${edgeNames(i, 'context').join(', ')}}`;
    else if (detail && type === 'object' && name === 'Object') key = `Object {${edgeNames(i, 'property').join(', ')}}`;
    else if (detail && name === 'Timeout') key = `Timeout ${edgeTarget(i, '_onTimeout')}`;
    else if (detail && name === 'Generator') key = `Generator ${edgeTarget(i, 'function')}`;
    else if (detail && RETAINED.has(name)) key = `${type} ${name} <- ${retainerOf(i)}`;
    else if (detail && type === 'array' && (name === '(object elements)' || name === '(object properties)'))
      key = `${type} ${name.slice(0, 20)} <- ${retainerOf(i)} <- ${retainerOf(retainer[i])}`;
    else if (detail && (type === 'array' || type === 'hidden' || type === 'concatenated string' || type === 'string' || name === 'Array'))
      key = `${type} ${name.slice(0, 20)} <- ${retainerOf(i)}`;
    else if (type === 'object' || type === 'native' || type === 'array' || type === 'hidden' || type === 'code') key = `${type} ${name.slice(0, 60)}`;
    else key = type;
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += s.nodes[i * N + SIZE];
    out.set(key, g);
  }
  return out;
}

async function stats(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/stats`, { method: 'POST' });
  return res.text();
}

async function snapshot(port: number, name: string): Promise<{ file: string; heapUsed: number; rss: number }> {
  const file = join(OUT_DIR, `${name}.heapsnapshot`);
  const res = await fetch(`http://127.0.0.1:${port}/snapshot?file=${encodeURIComponent(file)}`, { method: 'POST' });
  if (!res.ok) throw new Error(`snapshot answered ${res.status}: ${await res.text()}`);
  return JSON.parse(await res.text()) as { file: string; heapUsed: number; rss: number };
}

if (analyzeOnly) {
  compare(join(OUT_DIR, 'heap-idle.heapsnapshot'), join(OUT_DIR, 'heap-open.heapsnapshot'), streams);
  process.exit(0);
}

const emulator = await startEmulatorProcess({ chunks: 3 });
const heapPort = await freePort();
const gw = await startGatewayProcess({
  main: await snapshotGateway(),
  env: { ...gatewayEnv(emulator.url), BENCH_HEAP_PORT: String(heapPort) },
  port: await freePort(),
  logFile: join(OUT_DIR, 'gateway-heap.log'),
  nodeArgs: [...startNodeArgs(), '--import', pathToFileURL(join(ROOT, 'bench/heap-snapshot.ts')).href],
});
try {
  const target = gatewayTarget(gw.url);
  const warm = createClient('http', { maxSockets: 4 });
  for (let i = 0; i < 50; i++) await warm.send(target, bodyFor(target, i % 2 === 0));
  warm.close();
  await controlEmulator(emulator.url, 'pacing', { chunks: CHUNKS, chunkDelayMs: CHUNK_DELAY_MS });
  await new Promise((r) => setTimeout(r, 1500));
  const idleStats = await stats(heapPort);
  let peak = { rss: 0, text: '' };
  const sampler = setInterval(() => {
    void stats(heapPort).then((text) => {
      const rss = (JSON.parse(text) as { rss: number }).rss;
      if (rss > peak.rss) peak = { rss, text };
    });
  }, 250);
  const idle = rssOnly ? { file: '', heapUsed: 0, rss: 0 } : await snapshot(heapPort, 'heap-idle');

  const client = createClient('http', { maxSockets: Number.POSITIVE_INFINITY });
  const streamBody =
    promptChars > 0
      ? JSON.stringify({ model: GATEWAY_MODEL, messages: [{ role: 'user', content: 'word '.repeat(Math.ceil(promptChars / 5)) }], stream: true })
      : bodyFor(target, true);
  const check = (ex: Exchange): string | undefined =>
    ex.error ??
    (promptChars > 0 ? (ex.status === 200 && ex.body.includes('data: [DONE]') ? undefined : `HTTP ${ex.status}`) : checkStream(ex.body, EXPECTED_TEXT));
  let delivering = 0;
  let allDelivering!: () => void;
  const ready = new Promise<void>((r) => (allDelivering = r));
  const pending: Promise<string | undefined>[] = [];
  for (let i = 0; i < streams; i++) {
    const onFirstData = (): void => void (++delivering === streams && allDelivering());
    pending.push(client.send(target, streamBody, { timeoutMs: 120_000, onFirstData }).then(check));
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  await ready;
  // Past the first events and the first-byte bookkeeping: a stream as it is for most of its life.
  await new Promise((r) => setTimeout(r, 3 * CHUNK_DELAY_MS));
  const openStats = await stats(heapPort);
  const open = rssOnly ? idle : await snapshot(heapPort, 'heap-open');
  const problems = (await Promise.all(pending)).filter((p) => p !== undefined);
  clearInterval(sampler);
  if (rssOnly) {
    console.log(`${streams} streams, ${streams - problems.length} intact\nidle: ${idleStats}\nopen: ${openStats}\npeak: ${peak.text}`);
    process.exitCode = 0;
  }
  client.close();

  if (!rssOnly) {
    console.log(`${streams} streams open (${streams - problems.length} intact at the end${problems.length ? `; e.g. ${problems[0]}` : ''})`);
    console.log(
      `heapUsed idle ${(idle.heapUsed / 2 ** 20).toFixed(1)} MB, open ${(open.heapUsed / 2 ** 20).toFixed(1)} MB: ${((open.heapUsed - idle.heapUsed) / streams / 1024).toFixed(1)} KB per stream`,
    );
    console.log(`memory (MB, used/physical) idle: ${idleStats}\nwith the streams open: ${openStats}`);
    compare(idle.file, open.file, streams);
  }
} finally {
  await gw.stop();
  await emulator.stop();
}

/** Per-stream difference of the two snapshots, largest first. */
function compare(idleFile: string, openFile: string, streams: number): void {
  const detail = process.env.HEAP_DETAIL === '1';
  const a = groups(idleFile, detail);
  const b = groups(openFile, detail);
  const rows = [...b.entries()]
    .map(([key, g]) => {
      const before = a.get(key) ?? { count: 0, bytes: 0 };
      return { key, count: (g.count - before.count) / streams, bytes: (g.bytes - before.bytes) / streams };
    })
    .filter((r) => Math.abs(r.bytes) >= 8)
    .sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((t, r) => t + r.bytes, 0);
  const objects = rows.reduce((t, r) => t + r.count, 0);
  const closures = rows.filter((r) => r.key.startsWith('closure')).reduce((t, r) => t + r.count, 0);
  console.log(`snapshot self sizes: ${(total / 1024).toFixed(1)} KB, ${objects.toFixed(0)} objects (${closures.toFixed(0)} closures) per stream`);
  console.log('| per stream | bytes | group |\n|---:|---:|---|');
  for (const r of rows.slice(0, Number(process.env.HEAP_ROWS ?? 80))) console.log(`| ${r.count.toFixed(2)} | ${r.bytes.toFixed(0)} | ${r.key} |`);
}
