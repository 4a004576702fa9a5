/**
 * Statistics, the request log and Prometheus metrics, end to end: a known sequence of requests
 * (successes, failovers, failures) must show up exactly in /api/stats, /api/logs and /metrics;
 * what was recorded survives a restart, and what was flushed survives a crash.
 *
 * Routing is deterministic with ROUTING_STRATEGY=priority:
 * DeepInfra (1) → Together (2) → HuggingFace (3) → PollinationsAI (4) for `llama-3.3-70b`;
 * `llama-2-7b` is served by CloudflareAI alone. Breakers never open here.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestLogEntry, RequestLogPage, StatsBreakdownItem, StatsResponse, Usage } from '#contracts';
import { SqliteStorage } from '../../apps/api/src/storage/sqlite/sqlite-storage.ts';
import { SQLITE_FILE_NAME } from '../../apps/api/src/storage/storage.module.ts';
import { startEmulator } from '../emulators/emulator.ts';
import type { Emulator, Fault, ProviderId } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, readSse, startGateway } from '../support/gateway.ts';
import type { Gateway } from '../support/gateway.ts';
import { expectSchema } from '../support/openapi.ts';

const MODEL = 'llama-3.3-70b';
const CF_MODEL = 'llama-2-7b';
const FAILOVER_ORDER: readonly ProviderId[] = ['deepinfra', 'together', 'huggingface', 'pollinations'];

const ROUTING_ENV = {
  ...FIXED_ORDER_ENV,
  // Nothing but the test's own requests may reach the emulator or the stats.
  HEALTH_CHECK_INTERVAL: '0',
  DISCOVERY_INTERVAL_MINUTES: '0',
};

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** What the client saw of one request. */
interface Sent {
  requestId: string;
  status: number;
  stream: boolean;
  model: string;
  provider: string | null;
  usage: Usage | null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function chat(gw: Gateway, model: string, stream: boolean): Promise<Sent> {
  const body = { model, messages: [{ role: 'user', content: 'count me' }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) };
  const res = await postJson(`${gw.baseURL}/chat/completions`, body);
  const requestId = res.headers.get('x-request-id') ?? '';
  const provider = res.headers.get('x-pool-provider');
  let usage: Usage | null = null;
  if (res.status === 200 && stream) {
    const events = await readSse(res);
    const last = events.filter((e): e is { usage?: Usage | null } => typeof e === 'object' && e !== null).at(-1);
    usage = last?.usage ?? null;
  } else if (res.status === 200) {
    usage = ((await res.json()) as { usage: Usage }).usage;
  } else {
    await res.arrayBuffer();
  }
  return { requestId, status: res.status, stream, model, provider, usage };
}

async function getJson<T>(gw: Gateway, path: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, { headers });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** `name{labels} value` samples of one metric family. */
async function metric(gw: Gateway, name: string): Promise<Record<string, number>> {
  const res = await fetch(`${gw.url}/metrics`);
  expect(res.status).toBe(200);
  const out: Record<string, number> = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out[m[2] ?? ''] = Number(m[3]);
  }
  return out;
}

const sum = (items: Sent[], pick: (u: Usage) => number) => items.reduce((n, s) => n + (s.usage ? pick(s.usage) : 0), 0);
const byValue = (items: StatsBreakdownItem[]) => Object.fromEntries(items.map((i) => [i.value, [i.requests, i.successes, i.failures]]));

describe('a known sequence of requests', () => {
  let emu: Emulator;
  let gw: Gateway;
  let admin: Record<string, string>;
  const sent: Sent[] = [];

  const faultOnce = (fault: Omit<Fault, 'provider'>, providers: readonly ProviderId[]) => {
    for (const provider of providers) emu.addFault({ ...fault, provider, times: 1 });
  };

  beforeAll(async () => {
    emu = await startEmulator({ zeroLatency: true });
    gw = await startGateway(emu, { ...ROUTING_ENV, STATS_FLUSH_MS: '200' });
    admin = await adminHeaders(gw);

    // 4 plain successes from DeepInfra (one streamed).
    for (let i = 0; i < 3; i++) sent.push(await chat(gw, MODEL, false));
    sent.push(await chat(gw, MODEL, true));
    // 2 failovers to Together: a 500 and a connection reset on DeepInfra.
    faultOnce({ mode: 'status', status: 500 }, ['deepinfra']);
    sent.push(await chat(gw, MODEL, false));
    faultOnce({ mode: 'reset' }, ['deepinfra']);
    sent.push(await chat(gw, MODEL, true));
    // A 502: every candidate answers 500, the last one twice (the only route left is retried once).
    faultOnce({ mode: 'status', status: 500 }, [...FAILOVER_ORDER, 'pollinations']);
    sent.push(await chat(gw, MODEL, false));
    // A 400: every candidate rejects the request.
    faultOnce({ mode: 'status', status: 400, message: 'no thanks' }, FAILOVER_ORDER);
    sent.push(await chat(gw, MODEL, true));
    // Another model, another provider.
    sent.push(await chat(gw, CF_MODEL, false));
    // Every fault was used up: each request met exactly the faults meant for it.
    expect(await (await fetch(`${emu.url}/__emulator/faults`)).json()).toEqual([]);
  });

  afterAll(async () => {
    await gw?.close();
    await emu?.close();
  });

  it('the clients saw what the sequence was built to produce', () => {
    expect(sent.map((s) => [s.status, s.provider])).toEqual([
      [200, 'DeepInfra'],
      [200, 'DeepInfra'],
      [200, 'DeepInfra'],
      [200, 'DeepInfra'],
      [200, 'Together'],
      [200, 'Together'],
      [502, null],
      [400, null],
      [200, 'CloudflareAI'],
    ]);
    for (const s of sent.filter((s) => s.status === 200)) expect(s.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('/api/stats counts every request, attempt and token exactly', async () => {
    const ok = sent.filter((s) => s.status === 200);
    const stats = await getJson<StatsResponse>(gw, '/api/stats', admin);
    expect(stats).toMatchObject({ range: '24h', granularity: 'minute', bucketMs: 60_000, dimension: null, seriesBy: [] });
    expect(stats.series).toHaveLength(1440);
    expect(stats.totals).toMatchObject({
      requests: 9,
      successes: 7,
      failures: 2,
      successRate: 7 / 9,
      promptTokens: sum(ok, (u) => u.prompt_tokens),
      completionTokens: sum(ok, (u) => u.completion_tokens),
    });
    expect(stats.totals.latencyP50Ms).toEqual(expect.any(Number));
    expect(stats.totals.ttftP95Ms).toEqual(expect.any(Number));
    expect(stats.series.reduce((n, p) => n + p.requests, 0)).toBe(9);
    expect(stats.series.reduce((n, p) => n + p.failures, 0)).toBe(2);

    // Per provider: upstream attempts, each counted where it happened.
    expect(byValue(stats.providers)).toEqual({
      DeepInfra: [8, 4, 4],
      Together: [4, 2, 2],
      HuggingFace: [2, 0, 2],
      PollinationsAI: [3, 0, 3],
      CloudflareAI: [1, 1, 0],
    });
    expect(stats.providers[0]!.value).toBe('DeepInfra');
    const tokensOf = (provider: string) => stats.providers.find((p) => p.value === provider)!.completionTokens;
    expect(tokensOf('DeepInfra')).toBe(sum(ok.slice(0, 4), (u) => u.completion_tokens));
    expect(tokensOf('Together')).toBe(sum(ok.slice(4, 6), (u) => u.completion_tokens));
    expect(tokensOf('HuggingFace')).toBe(0);

    expect(byValue(stats.models)).toEqual({ [MODEL]: [8, 6, 2], [CF_MODEL]: [1, 1, 0] });
    expect(byValue(stats.keys)).toEqual({ '': [9, 7, 2] });
  });

  it('hour buckets and per-provider series tell the same story', async () => {
    const stats = await getJson<StatsResponse>(gw, '/api/stats?range=7d&dimension=provider', admin);
    expect(stats).toMatchObject({ range: '7d', granularity: 'hour', bucketMs: 3_600_000, dimension: 'provider' });
    expect(stats.series).toHaveLength(168);
    expect(stats.totals).toMatchObject({ requests: 9, successes: 7, failures: 2 });
    expect(stats.seriesBy.map((s) => s.value)).toEqual(stats.providers.map((p) => p.value));
    const together = stats.seriesBy.find((s) => s.value === 'Together')!;
    expect(together.points).toHaveLength(168);
    expect(together.points.reduce((n, p) => n + p.requests, 0)).toBe(4);
  });

  it('the request log has every request, newest first, with every attempt', async () => {
    const page = await getJson<RequestLogPage>(gw, '/api/logs?pageSize=200', admin);
    expect(page).toMatchObject({ page: 1, pageSize: 200, total: 9 });
    const newestFirst = [...sent].reverse();
    expect(page.items.map((e) => [e.requestId, e.status, e.provider, e.model, e.stream])).toEqual(
      newestFirst.map((s) => [s.requestId, s.status, s.provider, s.model, s.stream]),
    );
    for (const [i, e] of page.items.entries()) {
      if (newestFirst[i]!.usage) expect(e.usage).toEqual(newestFirst[i]!.usage);
    }

    const attempts = (e: RequestLogEntry) => e.attempts.map((a) => `${a.provider}:${a.status ?? '-'}:${a.reason.split(':')[0]}`);
    const [cf, badRequest, allFailed, reset, failover500, streamed] = page.items;
    expect(attempts(cf!)).toEqual(['CloudflareAI:200:ok']);
    expect(attempts(badRequest!)).toEqual(['DeepInfra:400:HTTP 400', 'Together:400:HTTP 400', 'HuggingFace:400:HTTP 400', 'PollinationsAI:400:HTTP 400']);
    expect(attempts(allFailed!)).toEqual([
      'DeepInfra:500:HTTP 500',
      'Together:500:HTTP 500',
      'HuggingFace:500:HTTP 500',
      'PollinationsAI:500:HTTP 500',
      'PollinationsAI:500:HTTP 500',
    ]);
    expect(attempts(reset!)).toEqual(['DeepInfra:-:network', 'Together:200:ok']);
    expect(attempts(failover500!)).toEqual(['DeepInfra:500:HTTP 500', 'Together:200:ok']);
    expect(attempts(streamed!)).toEqual(['DeepInfra:200:ok']);
    expect(allFailed!.error).toMatch(/Every provider/);
    expect(streamed!.ttftMs).toEqual(expect.any(Number));
    expect(allFailed!.ttftMs).toBeNull();
    // Upstream keys only ever masked.
    expect(JSON.stringify(page)).not.toContain('di-good-key-0001');
  });

  it('the request log pages and filters', async () => {
    const ids = async (query: string) => (await getJson<RequestLogPage>(gw, `/api/logs?${query}`, admin)).items.map((e) => e.requestId);
    const all = [...sent].reverse().map((s) => s.requestId);
    expect(await ids('page=2&pageSize=4')).toEqual(all.slice(4, 8));
    expect(await ids('page=3&pageSize=4')).toEqual(all.slice(8));
    expect(await ids('page=4&pageSize=4')).toEqual([]);
    expect(await ids('status=error')).toEqual([sent[7]!.requestId, sent[6]!.requestId]);
    expect(await ids('status=502')).toEqual([sent[6]!.requestId]);
    expect(await ids(`model=${CF_MODEL}`)).toEqual([sent[8]!.requestId]);
    expect(await ids('provider=Together')).toEqual([7, 6, 5, 4].map((i) => sent[i]!.requestId));
    expect(await ids('provider=DeepInfra&status=success')).toEqual([5, 4, 3, 2, 1, 0].map((i) => sent[i]!.requestId));
    expect(await ids('clientKey=nobody')).toEqual([]);
    const later = new Date(Date.now() + 60_000).toISOString();
    expect(await ids(`from=${encodeURIComponent(later)}`)).toEqual([]);
    expect(await ids(`to=${Date.now() + 60_000}&from=0`)).toEqual(all);
  });

  it('/metrics counts requests, attempts and tokens exactly, and reads provider state', async () => {
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);

    expect(await metric(gw, 'g4f_requests_total')).toEqual({
      [`{endpoint="chat",model="${MODEL}",status_class="2xx"}`]: 6,
      [`{endpoint="chat",model="${MODEL}",status_class="5xx"}`]: 1,
      [`{endpoint="chat",model="${MODEL}",status_class="4xx"}`]: 1,
      [`{endpoint="chat",model="${CF_MODEL}",status_class="2xx"}`]: 1,
    });
    expect(await metric(gw, 'g4f_upstream_attempts_total')).toEqual({
      '{provider="DeepInfra",outcome="ok",status="200"}': 4,
      '{provider="DeepInfra",outcome="error",status="500"}': 2,
      '{provider="DeepInfra",outcome="error",status="none"}': 1,
      '{provider="DeepInfra",outcome="error",status="400"}': 1,
      '{provider="Together",outcome="ok",status="200"}': 2,
      '{provider="Together",outcome="error",status="500"}': 1,
      '{provider="Together",outcome="error",status="400"}': 1,
      '{provider="HuggingFace",outcome="error",status="500"}': 1,
      '{provider="HuggingFace",outcome="error",status="400"}': 1,
      '{provider="PollinationsAI",outcome="error",status="500"}': 2,
      '{provider="PollinationsAI",outcome="error",status="400"}': 1,
      '{provider="CloudflareAI",outcome="ok",status="200"}': 1,
    });
    const ok = sent.filter((s) => s.status === 200);
    const tokens = await metric(gw, 'g4f_tokens_total');
    expect(tokens['{type="prompt",provider="DeepInfra"}']).toBe(sum(ok.slice(0, 4), (u) => u.prompt_tokens));
    expect(tokens['{type="completion",provider="Together"}']).toBe(sum(ok.slice(4, 6), (u) => u.completion_tokens));
    expect(tokens['{type="completion",provider="CloudflareAI"}']).toBe(sum(ok.slice(6), (u) => u.completion_tokens));
    expect(Object.keys(tokens)).toHaveLength(6);

    expect(await metric(gw, 'g4f_request_duration_seconds_count')).toEqual({ '{endpoint="chat",stream="false"}': 6, '{endpoint="chat",stream="true"}': 3 });
    const ttft = await metric(gw, 'g4f_ttft_seconds_count');
    expect(ttft).toEqual({
      '{endpoint="chat",provider="DeepInfra"}': 4,
      '{endpoint="chat",provider="Together"}': 2,
      '{endpoint="chat",provider="CloudflareAI"}': 1,
    });

    const breakers = await metric(gw, 'g4f_provider_breaker_state');
    expect(Object.keys(breakers).sort()).toEqual(['CloudflareAI', 'DeepInfra', 'HuggingFace', 'PollinationsAI', 'Together'].map((p) => `{provider="${p}"}`));
    expect(Object.values(breakers).every((v) => v === 0)).toBe(true);
    expect(Object.values(await metric(gw, 'g4f_provider_available'))).toEqual([1, 1, 1, 1, 1]);
    expect(Object.keys(await metric(gw, 'g4f_process_cpu_user_seconds_total'))).toEqual(['']);
  });

  it('/metrics shows an open breaker and an unavailable provider', async () => {
    const other = await startGateway(emu, { ...ROUTING_ENV, BREAKER_FAILURE_THRESHOLD: '1', BREAKER_COOLDOWN_MS: '60000', BREAKER_MAX_COOLDOWN_MS: '60000' });
    try {
      faultOnce({ mode: 'status', status: 500 }, ['deepinfra']);
      expect((await chat(other, MODEL, false)).provider).toBe('Together');
      expect((await metric(other, 'g4f_provider_breaker_state'))['{provider="DeepInfra"}']).toBe(2);
      expect((await metric(other, 'g4f_provider_available'))['{provider="DeepInfra"}']).toBe(0);
      expect((await metric(other, 'g4f_provider_available'))['{provider="Together"}']).toBe(1);
    } finally {
      await other.close();
      emu.clearFaults();
    }
  });

  describe('access', () => {
    it('/api/stats and /api/logs need the admin token; /metrics is public', async () => {
      for (const path of ['/api/stats', '/api/logs', '/api/stats?range=bogus']) {
        for (const headers of [{}, { authorization: 'Bearer not-a-session' }]) {
          const res = await fetch(`${gw.url}${path}`, { headers });
          expect(res.status).toBe(401);
          const body = (await res.json()) as ErrorBody;
          expectSchema('ErrorResponse', body);
          expect(body.error.type).toBe('authentication_error');
        }
      }
      expect((await fetch(`${gw.url}/metrics`)).status).toBe(200);
    });

    it.each([
      ['/api/stats?range=2d', 'range'],
      ['/api/stats?range=24h&range=7d', 'range'],
      ['/api/stats?granularity=second', 'granularity'],
      ['/api/stats?range=7d&granularity=minute', 'granularity'],
      ['/api/stats?dimension=country', 'dimension'],
      ['/api/logs?page=0', 'page'],
      ['/api/logs?page=abc', 'page'],
      ['/api/logs?pageSize=201', 'pageSize'],
      ['/api/logs?pageSize=-1', 'pageSize'],
      ['/api/logs?from=yesterday', 'from'],
      ['/api/logs?to=2030-13-45T99:00:00Z', 'to'],
      ['/api/logs?from=2000&to=1000', 'from'],
      ['/api/logs?status=600', 'status'],
      ['/api/logs?status=ok', 'status'],
      ['/api/logs?model=a&model=b', 'model'],
    ])('%s is a 400 naming %s', async (path, param) => {
      const res = await fetch(`${gw.url}${path}`, { headers: admin });
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expectSchema('ErrorResponse', body);
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param });
      expect(body.error.message).toContain(param);
    });

    it('accepts the documented forms of each parameter', async () => {
      for (const query of [
        'range=1h',
        'range=6h&granularity=hour',
        'range=30d&granularity=hour&dimension=key',
        'range=90d',
        'range=&granularity=&dimension=',
      ]) {
        expect((await fetch(`${gw.url}/api/stats?${query}`, { headers: admin })).status).toBe(200);
      }
      for (const query of [
        'page=1&pageSize=200',
        'from=2020-01-01&to=2099-01-01T00:00:00.000Z',
        'from=1700000000000',
        'status=200',
        'status=success',
        'status=',
        'model=',
        'to=2030-01-01T08:00:00%2B08:00',
      ]) {
        expect((await fetch(`${gw.url}/api/logs?${query}`, { headers: admin })).status).toBe(200);
      }
    });
  });
});

describe('persistence', () => {
  let emu: Emulator;
  const dirs: string[] = [];

  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'g4f-stats-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    emu = await startEmulator({ zeroLatency: true });
  });

  afterAll(async () => {
    await emu?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => emu.clearFaults());

  async function statsAndLog(gw: Gateway): Promise<{ stats: StatsResponse; log: RequestLogPage }> {
    const admin = await adminHeaders(gw);
    return { stats: await getJson<StatsResponse>(gw, '/api/stats', admin), log: await getJson<RequestLogPage>(gw, '/api/logs', admin) };
  }

  it('a restart on the same DATA_DIR keeps the stats and the log, written at shutdown', async () => {
    const dir = dataDir();
    // No timed flush would happen for a minute: everything below is written by the shutdown.
    const first = await startGateway(emu, { ...ROUTING_ENV, DATA_DIR: dir, STATS_FLUSH_MS: '60000' });
    const sent = [await chat(first, MODEL, false), await chat(first, MODEL, true)];
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    sent.push(await chat(first, MODEL, false));
    // The last route's 503 twice: the only route left is retried once.
    [...FAILOVER_ORDER, 'pollinations' as const].forEach((provider) => emu.addFault({ provider, mode: 'status', status: 503, times: 1 }));
    sent.push(await chat(first, MODEL, false));
    // Nothing reads the stats here: /api/logs writes the buffer before it reads.
    await first.close();

    const second = await startGateway(emu, { ...ROUTING_ENV, DATA_DIR: dir });
    try {
      const after = await statsAndLog(second);
      expect(after.stats.totals).toMatchObject({ requests: 4, successes: 3, failures: 1 });
      expect(after.stats.totals.completionTokens).toBe(sum(sent, (u) => u.completion_tokens));
      expect(byValue(after.stats.providers)).toEqual({ DeepInfra: [4, 2, 2], Together: [2, 1, 1], HuggingFace: [1, 0, 1], PollinationsAI: [2, 0, 2] });
      expect(after.log.total).toBe(4);
      expect(after.log.items.map((e) => e.status)).toEqual([502, 200, 200, 200]);
      expect(after.log.items.map((e) => e.requestId)).toEqual(sent.map((s) => s.requestId).reverse());
    } finally {
      await second.close();
    }
  });

  it('a request still running when shutdown begins is recorded before the store closes', async () => {
    const dir = dataDir();
    const first = await startGateway(emu, { ...ROUTING_ENV, DATA_DIR: dir, STATS_FLUSH_MS: '60000' });
    emu.addFault({ provider: 'deepinfra', mode: 'slowFirstByte', delayMs: 400, times: 1 });
    // The emulator keeps the earlier tests' requests: wait for this one's.
    const before = emu.requests('deepinfra').length;
    const running = chat(first, MODEL, false);
    while (emu.requests('deepinfra').length === before) await sleep(5);
    const closing = first.close();
    const sent = await running;
    await closing;
    expect(sent).toMatchObject({ status: 200, provider: 'DeepInfra' });

    const second = await startGateway(emu, { ...ROUTING_ENV, DATA_DIR: dir });
    try {
      const { stats, log } = await statsAndLog(second);
      expect(log.items.map((e) => e.requestId)).toEqual([sent.requestId]);
      expect(stats.totals).toMatchObject({ requests: 1, successes: 1 });
    } finally {
      await second.close();
      emu.reset();
    }
  });

  it('a crash loses at most what was not flushed yet: entries flushed before an abrupt stop are there', async () => {
    const FLUSH_MS = 250;
    const dir = dataDir();
    const gw = await startGateway(emu, { ...ROUTING_ENV, DATA_DIR: dir, STATS_FLUSH_MS: String(FLUSH_MS) });
    const crashDir = dataDir();
    /** The files as a crash would leave them right now: no shutdown hook, no final flush. */
    const crashCopy = (): string => {
      const target = join(crashDir, `copy-${Date.now()}-${Math.random().toString(36).slice(2)}`);
      mkdirSync(target);
      for (const suffix of ['', '-wal']) {
        const file = join(dir, SQLITE_FILE_NAME + suffix);
        if (existsSync(file)) copyFileSync(file, join(target, SQLITE_FILE_NAME + suffix));
      }
      return target;
    };
    const storedIds = async (copy: string): Promise<string[]> => {
      const storage = new SqliteStorage({ file: join(copy, SQLITE_FILE_NAME) });
      await storage.init();
      try {
        return (await storage.log.query({}, { offset: 0, limit: 100 })).items.map((e) => e.requestId);
      } finally {
        await storage.close();
      }
    };

    let crashed: string;
    const flushed: string[] = [];
    try {
      flushed.push((await chat(gw, MODEL, false)).requestId, (await chat(gw, MODEL, true)).requestId);
      const sentAt = Date.now();
      // Poll crash copies until the timed flush has written both requests.
      let lastMissingAt: number | undefined;
      for (;;) {
        const copiedAt = Date.now();
        crashed = crashCopy();
        if ((await storedIds(crashed)).length === 2) break;
        lastMissingAt = copiedAt;
        if (Date.now() - sentAt > 10 * FLUSH_MS + 2000) throw new Error('the timed flush never wrote the log');
        await sleep(20);
      }
      // One flush interval (plus scheduling slack), not a shutdown, put them on disk: no copy taken
      // later than that still lacked them. (Judged by when the copies were taken, not by when the
      // poll noticed: reading a copy took 1.5 s on a busy CI machine.)
      if (lastMissingAt !== undefined) expect(lastMissingAt - sentAt).toBeLessThan(FLUSH_MS + 1500);
      // A request right before the crash may be lost; it is the last interval's worth at most.
      await chat(gw, MODEL, false);
      crashed = crashCopy();
    } finally {
      await gw.close();
    }

    const restarted = await startGateway(emu, { ...ROUTING_ENV, DATA_DIR: crashed });
    try {
      const { stats, log } = await statsAndLog(restarted);
      const ids = log.items.map((e) => e.requestId);
      expect(ids.slice(-2)).toEqual([...flushed].reverse());
      expect(log.total).toBeGreaterThanOrEqual(2);
      expect(log.total).toBeLessThanOrEqual(3);
      // Log and stats are written together: they agree after the crash too.
      expect(stats.totals.requests).toBe(log.total);
    } finally {
      await restarted.close();
    }
  });
});
