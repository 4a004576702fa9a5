// The benchmark's own servers and probes (bench/minimal-upstream.ts, bench/bare-hop.ts,
// bench/loop-delay.ts, bench/loopback-only.ts), over real loopback sockets. The benchmark itself
// runs only with `npm run bench`, never in `npm test`: a row built on a hop that forwarded the wrong
// thing, or a monitor that missed a stall, would be wrong numbers nobody notices.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBareHop } from '../bench/bare-hop.ts';
import type { LoopDelaySummary } from '../bench/loop-delay.ts';
import { MINIMAL_ANSWER, startMinimalUpstream } from '../bench/minimal-upstream.ts';
import { freePort } from '../bench/processes.ts';
import { checkCompletion } from '../bench/verify.ts';
import { EXPECTED_TEXT, requestBody, UPSTREAM_MODEL } from '../bench/workload.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const preload = (file: string): string[] => ['--import', pathToFileURL(join(ROOT, file)).href];
const post = (url: string, body: string): Promise<Response> => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A node child running `script` with the given preloads; resolves once it printed its first line. */
function nodeChild(script: string, nodeArgs: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve({ child, firstLine: line! });
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) early: ${err.slice(0, 500)}`)));
  });
}

describe('bench minimal upstream and bare undici hop', () => {
  let upstream: { server: Server; url: string };
  beforeAll(async () => {
    upstream = await startMinimalUpstream();
  });
  afterAll(() => close(upstream.server));

  it('the minimal upstream answers every request with the same ~600-byte completion of the expected text', async () => {
    expect(MINIMAL_ANSWER.length).toBeGreaterThan(500);
    expect(MINIMAL_ANSWER.length).toBeLessThan(700);
    for (const path of ['/v1/chat/completions', '/anything']) {
      const res = await post(`${upstream.url}${path}`, requestBody(UPSTREAM_MODEL, false));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(checkCompletion(await res.text(), EXPECTED_TEXT)).toBeUndefined();
    }
  });

  it('the bare hop forwards the parsed request with its own key and returns the parsed answer', async () => {
    const seen: { headers: IncomingHttpHeaders; body: string; url?: string }[] = [];
    const recorder = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(parts).toString(), url: req.url });
        res.writeHead(200, { 'content-type': 'application/json' }).end(MINIMAL_ANSWER);
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const hop = await startBareHop({ upstream: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/x/v1/chat/completions?q=1`, key: 'up-key' });
    try {
      // Whitespace in, none out: the hop really parsed and re-serialised the request.
      const res = await post(`${hop.url}/v1/chat/completions`, `{ "model": "${UPSTREAM_MODEL}",   "messages": [] }`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(JSON.stringify(JSON.parse(MINIMAL_ANSWER.toString())));
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ url: '/x/v1/chat/completions?q=1', body: `{"model":"${UPSTREAM_MODEL}","messages":[]}` });
      expect(seen[0]!.headers.authorization).toBe('Bearer up-key');
    } finally {
      await hop.close();
      await close(recorder);
    }
  });

  it('the bare hop answers a bad body with 400 and an unreachable upstream with 502, in the OpenAI error envelope', async () => {
    const good = await startBareHop({ upstream: `${upstream.url}/v1/chat/completions`, key: 'k' });
    const dead = await startBareHop({ upstream: `http://127.0.0.1:${await freePort()}/v1/chat/completions`, key: 'k' });
    try {
      const bad = await post(`${good.url}/v1/chat/completions`, '{not json');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('request body is not JSON');
      const down = await post(`${dead.url}/v1/chat/completions`, requestBody(UPSTREAM_MODEL, false));
      expect(down.status).toBe(502);
      expect(((await down.json()) as { error: { message: string } }).error.message).toMatch(/^upstream request failed/);
      // And the hop still serves after both.
      const ok = await post(`${good.url}/v1/chat/completions`, requestBody(UPSTREAM_MODEL, false));
      expect(checkCompletion(await ok.text(), EXPECTED_TEXT)).toBeUndefined();
    } finally {
      await good.close();
      await dead.close();
    }
  });
});

describe('bench probes preloaded into other processes', () => {
  it('loop-delay.ts sees a stall of the event loop, within the window it was asked for', async () => {
    const port = await freePort();
    // Each line on stdin blocks the loop for 200 ms: "stall" on the CPU, as a long computation
    // would; "sleep" off it, as a thread blocked in a system call (or waiting for a core) would.
    // The stall spins until the thread's own CPU clock has run 200 ms, not the wall clock: on a
    // busy machine a 200 ms wall-clock spin got only 127 ms of a core (CI, 29ed7f2).
    const script =
      `setInterval(() => {}, 1000); process.stdin.on('data', (d) => { if (String(d).startsWith('sleep')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);` +
      ` else { const cpu = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }; const t = cpu(); while (cpu() - t < 200); } }); console.log('ready');`;
    const { child } = await nodeChild(script, preload('bench/loop-delay.ts'), { BENCH_LOOP_PORT: String(port) });
    const control = async (action: string): Promise<Response> => {
      for (let i = 0; ; i++) {
        try {
          return await fetch(`http://127.0.0.1:${port}/${action}`, { method: 'POST' });
        } catch (err) {
          if (i > 50) throw err; // the control port listens a moment after the script starts
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    try {
      expect((await control('start')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      child.stdin!.write('stall\n');
      await new Promise((r) => setTimeout(r, 300));
      const stalled = (await (await control('stop')).json()) as LoopDelaySummary;
      expect(stalled.maxMs).toBeGreaterThanOrEqual(150);
      expect(stalled.maxMs).toBeLessThan(5000);
      expect(stalled.samples).toBeGreaterThan(10);
      // On the CPU: the thread's own clock ran through the whole stall.
      expect(stalled.onCpu!.maxMs).toBeGreaterThanOrEqual(150);
      expect(stalled.onCpu!.worstGapMs).toBeGreaterThanOrEqual(150);
      expect(stalled.onCpu!.worstGapCpuMs).toBeGreaterThanOrEqual(150);
      // Off the CPU: as long a stall, but the thread's clock barely moved.
      await control('start');
      await new Promise((r) => setTimeout(r, 50));
      child.stdin!.write('sleep\n');
      await new Promise((r) => setTimeout(r, 300));
      const slept = (await (await control('stop')).json()) as LoopDelaySummary;
      expect(slept.maxMs).toBeGreaterThanOrEqual(150);
      expect(slept.onCpu!.worstGapMs).toBeGreaterThanOrEqual(150);
      expect(slept.onCpu!.worstGapCpuMs).toBeLessThan(50);
      expect(slept.onCpu!.maxMs).toBeLessThan(50);
      // /start resets: a window stopped at once holds (almost) nothing of the one before.
      await control('start');
      const fresh = (await (await control('stop')).json()) as LoopDelaySummary;
      expect(fresh.samples).toBeLessThan(stalled.samples);
      expect((await fetch(`http://127.0.0.1:${port}/start`)).status).toBe(405);
    } finally {
      child.kill();
    }
  });

  it('loop-delay.ts times each request the process serves in the window, without its upstream call', async () => {
    const port = await freePort();
    // An upstream (here) that answers after 150 ms, and a server (there) that works 60 ms, then calls it with fetch (undici).
    const upstream = createServer((_req, res) => void setTimeout(() => res.end('up'), 150));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const script = `
      import http from 'node:http';
      http.createServer(async (req, res) => {
        const t = Date.now(); while (Date.now() - t < 60);
        res.end(await (await fetch('http://127.0.0.1:' + process.env.UP_PORT + '/')).text());
      }).listen(0, '127.0.0.1', function () { console.log('ready ' + this.address().port); });`;
    const env = { BENCH_LOOP_PORT: String(port), UP_PORT: String((upstream.address() as AddressInfo).port) };
    const { child, firstLine } = await nodeChild(script, preload('bench/loop-delay.ts'), env);
    const front = Number(/ready (\d+)/.exec(firstLine)![1]);
    try {
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/start`, { method: 'POST' })).status === 200) break;
        } catch (err) {
          if (i > 50) throw err; // the control port listens a moment after the script starts
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      for (let i = 0; i < 3; i++) expect(await (await fetch(`http://127.0.0.1:${front}/`)).text()).toBe('up');
      const { own } = (await (await fetch(`http://127.0.0.1:${port}/stop`, { method: 'POST' })).json()) as LoopDelaySummary;
      expect(own?.count).toBe(3);
      // The 60 ms of its own work, not the 150 ms of the upstream's answer.
      expect(own!.p50Ms).toBeGreaterThanOrEqual(55);
      expect(own!.maxMs).toBeLessThan(140);
    } finally {
      child.kill();
      await close(upstream);
    }
  });

  it('loopback-only.ts binds a listen() without a host to 127.0.0.1, in both call forms', async () => {
    const script = `import http from 'node:http';
      const a = http.createServer(); await new Promise((r) => a.listen(0, undefined, r));
      const b = http.createServer(); await new Promise((r) => b.listen({ port: 0 }, r));
      console.log(a.address().address + ' ' + b.address().address); a.close(); b.close();`;
    const { child, firstLine } = await nodeChild(script, preload('bench/loopback-only.ts'));
    child.kill();
    expect(firstLine).toBe('127.0.0.1 127.0.0.1');
  });
});
