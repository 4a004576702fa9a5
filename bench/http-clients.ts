// Which HTTP client should the gateway use for its upstreams? The candidates from the design
// (axios with its default Node adapter, axios with its fetch adapter), undici (Node's own HTTP
// engine, which built-in fetch also runs on), built-in fetch, and the gateway's UpstreamHttp seam as
// built (dist/). Each drives the emulator upstream (a separate process, zero latency) from this
// process, at concurrency 50, in alternating rounds; what counts is the client's CPU per request,
// because on a gateway that CPU is paid on every hop. Results: bench/HTTP-CLIENTS.md.
//   node bench/http-clients.ts          (after npm run build; BENCH_ROUNDS, BENCH_SECONDS)
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import axios from 'axios';
import { Agent } from 'undici';
import { ROOT, startEmulatorProcess } from './processes.ts';
import { median } from './stats.ts';
import { checkCompletion, checkStream } from './verify.ts';
import { EXPECTED_TEXT, UPSTREAM_KEY, UPSTREAM_MODEL, requestBody } from './workload.ts';

/** Sends one request and returns the whole body as text. */
type Send = (url: string, body: string, stream: boolean) => Promise<string>;

interface Candidate {
  name: string;
  why: string;
  create(): { send: Send; close(): Promise<void> | void };
}

const HEADERS = { authorization: `Bearer ${UPSTREAM_KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function readNode(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

async function readWeb(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** The gateway's own seam, from the build (its decorators need the compiled JS). */
async function upstreamHttpCandidate(): Promise<Candidate | null> {
  const file = join(ROOT, 'dist/apps/api/src/providers/upstream-http.js');
  const configFile = join(ROOT, 'dist/apps/api/src/config/app-config.js');
  if (!existsSync(file) || !existsSync(configFile)) return null;
  const { UpstreamHttp } = (await import(pathToFileURL(file).href)) as typeof import('../apps/api/src/providers/upstream-http.ts');
  const { loadConfig } = (await import(pathToFileURL(configFile).href)) as typeof import('../apps/api/src/config/app-config.ts');
  return {
    name: 'UpstreamHttp (the gateway’s seam, dist/)',
    why: 'what the gateway runs: undici plus its timeouts, error mapping and SSE parsing',
    create() {
      const client = new UpstreamHttp(loadConfig({ DATA_DIR: os.tmpdir() }));
      const signal = new AbortController().signal;
      return {
        async send(url, body, stream) {
          const res = await client.open({ method: 'POST', url, headers: { authorization: HEADERS.authorization }, body, signal });
          if (!stream) return (await client.readAll(res)).toString('utf8');
          let text = '';
          await new Promise<void>((resolve, reject) =>
            client.sse(res).subscribe({ next: (event) => (text += `data: ${event.data}\n\n`), error: reject, complete: resolve }),
          );
          return text;
        },
        close: () => client.onModuleDestroy(),
      };
    },
  };
}

const CANDIDATES: Candidate[] = [
  {
    name: 'axios, http adapter (default)',
    why: 'the design’s first choice',
    create() {
      const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
      const client = axios.create({ responseType: 'stream', validateStatus: () => true, maxRedirects: 0, proxy: false, httpAgent: agent });
      return {
        send: async (url, body) => readNode((await client.post<Readable>(url, body, { headers: HEADERS })).data),
        close: () => agent.destroy(),
      };
    },
  },
  {
    name: 'axios, fetch adapter',
    why: 'axios’s API over built-in fetch',
    create() {
      const client = axios.create({ adapter: 'fetch', responseType: 'stream', validateStatus: () => true, maxRedirects: 0 });
      return {
        send: async (url, body) => readWeb((await client.post<ReadableStream<Uint8Array>>(url, body, { headers: HEADERS })).data),
        close: () => undefined,
      };
    },
  },
  {
    name: 'fetch (built-in)',
    why: 'WHATWG fetch on undici, no dependency',
    create() {
      return { send: async (url, body) => readWeb((await fetch(url, { method: 'POST', headers: HEADERS, body })).body!), close: () => undefined };
    },
  },
  {
    name: 'undici Agent.request',
    why: 'undici’s own API: Node streams, no WHATWG layer',
    create() {
      const agent = new Agent({ connections: null });
      return {
        async send(url, body) {
          const u = new URL(url);
          const res = await agent.request({ origin: u.origin, path: u.pathname, method: 'POST', headers: HEADERS, body });
          return readNode(res.body);
        },
        close: () => agent.close(),
      };
    },
  },
];

interface Round {
  rps: number;
  cpuUs: number;
  errors: number;
}

async function round(candidate: Candidate, url: string, stream: boolean, seconds: number): Promise<Round> {
  const client = candidate.create();
  const body = requestBody(UPSTREAM_MODEL, stream);
  const check = (text: string) => (stream ? checkStream(text, EXPECTED_TEXT) : checkCompletion(text, EXPECTED_TEXT));
  let done = 0;
  let errors = 0;
  let measuring = false;
  let stop = false;
  const worker = async () => {
    while (!stop) {
      try {
        const text = await client.send(url, body, stream);
        if (check(text) !== undefined) errors++;
      } catch {
        errors++;
      }
      if (measuring) done++;
    }
  };
  const workers = Array.from({ length: 50 }, worker);
  await new Promise((r) => setTimeout(r, 500)); // warm-up: connections open, code optimised
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  await client.close();
  return { rps: done / elapsed, cpuUs: (cpu.user + cpu.system) / Math.max(done, 1), errors };
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const candidates = [...CANDIDATES];
const seam = await upstreamHttpCandidate();
if (seam) candidates.push(seam);
else console.warn('dist/ not built: skipping UpstreamHttp (run npm run build first)');

const emulator = await startEmulatorProcess({ chunks: 20 });
const lines: string[] = [];
try {
  const url = `${emulator.url}/deepinfra/v1/openai/chat/completions`;
  for (const stream of [false, true]) {
    const results = new Map<Candidate, Round[]>(candidates.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? candidates : [...candidates].reverse();
      for (const c of order) results.get(c)!.push(await round(c, url, stream, seconds));
    }
    const baseline = median(results.get(candidates[0]!)!.map((x) => x.cpuUs));
    lines.push(
      `### ${stream ? 'Stream (20 chunks)' : 'Non-stream'}, concurrency 50`,
      '',
      '| Client | Requests/s | Client CPU / request | CPU vs axios (http) | Errors | Why it is here |',
      '| --- | ---: | ---: | ---: | ---: | --- |',
    );
    for (const c of candidates) {
      const rs = results.get(c)!;
      const cpu = median(rs.map((x) => x.cpuUs));
      lines.push(
        `| ${c.name} | ${Math.round(median(rs.map((x) => x.rps)))} | ${Math.round(cpu)} µs | ${(cpu / baseline).toFixed(2)}× | ${rs.reduce((n, x) => n + x.errors, 0)} | ${c.why} |`,
      );
    }
    lines.push('');
  }
} finally {
  await emulator.stop();
}

const report = [
  '# Upstream HTTP client: measured',
  '',
  `- Date: ${new Date().toISOString()}`,
  `- Machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores; Node ${process.version}; load average at end ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')}`,
  `- Method: each client sends the benchmark's chat request to the emulator (separate process, zero latency) at concurrency 50 and reads the whole answer; ${rounds} alternating rounds × ${seconds} s after a 0.5 s warm-up; medians. CPU is this process's (the client's) user + system time per completed request.`,
  '- Rerun: `npm run build && node bench/http-clients.ts`',
  '',
  ...lines,
].join('\n');
console.log(report);
writeFileSync(join(ROOT, 'bench/HTTP-CLIENTS.md'), `${report}\n`);
