/**
 * Usage over time and the request log as a file, end to end, on SQLite and on Redis: real
 * traffic through the emulator from two client keys (and one request without a key) must show
 * up exactly in the breakdowns by model, provider and key and in each key's own series; hour
 * rows 60 days old count in a 90-day range and not in a 30-day one; the export is the filtered
 * log as CSV (parsed back here) or JSON lines, and a client that stops reading stops the
 * gateway reading the store.
 *
 * Routing is deterministic (FIXED_ORDER_ENV): `llama-3.3-70b` goes to DeepInfra first, then
 * Together; `llama-2-7b` is served by CloudflareAI alone.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { KeyUsageResponse, RequestLogEntry, RequestLogPage, StatsBreakdownResponse, StatsResponse, Usage } from '#contracts';
import { STORAGE, type Storage } from '../../apps/api/src/storage/storage.ts';
import { increment, logEntry } from '../../apps/api/src/storage/storage.contract.ts';
import { startEmulator, type Emulator } from '../emulators/emulator.ts';
import { adminHeaders } from '../support/admin.ts';
import { FIXED_ORDER_ENV, postJson, startGateway, type Gateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis.ts';

const MODEL = 'llama-3.3-70b';
const CF_MODEL = 'llama-2-7b';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** RFC 4180: quoted cells may hold commas, doubled quotes and line breaks; lines end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (!quoted && c === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  if (cell !== '' || row.length) throw new Error(`CSV does not end with a line break: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

describe.each(['sqlite', 'redis'] as const)('usage over time and the log export (%s)', (kind) => {
  let redis: RedisServer | undefined;
  let emu: Emulator;
  let gw: Gateway;
  let admin: Record<string, string>;
  let storage: Storage;
  const keys: Record<'a' | 'b', { id: string; secret: string }> = {} as never;
  /** What the clients saw: model, key id ('' for none), usage. */
  const sent: Array<{ model: string; key: string; provider: string | null; usage: Usage }> = [];

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${gw.url}${path}`, { headers: admin });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  async function chat(model: string, key: 'a' | 'b' | null): Promise<void> {
    const headers: Record<string, string> = key ? { authorization: `Bearer ${keys[key].secret}` } : {};
    const res = await postJson(`${gw.baseURL}/chat/completions`, { model, messages: [{ role: 'user', content: 'usage please' }] }, headers);
    expect(res.status).toBe(200);
    const { usage } = (await res.json()) as { usage: Usage };
    sent.push({ model, key: key ? keys[key].id : '', provider: res.headers.get('x-pool-provider'), usage });
  }

  const sum = (pick: (s: (typeof sent)[number]) => boolean) => {
    const mine = sent.filter(pick);
    return {
      requests: mine.length,
      promptTokens: mine.reduce((n, s) => n + s.usage.prompt_tokens, 0),
      completionTokens: mine.reduce((n, s) => n + s.usage.completion_tokens, 0),
    };
  };

  beforeAll(async () => {
    if (kind === 'redis') redis = await startRedis();
    emu = await startEmulator({ zeroLatency: true });
    gw = await startGateway(emu, {
      ...FIXED_ORDER_ENV,
      STATS_FLUSH_MS: '200',
      ...(redis ? { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'usage:', SECRET_KEY: 'usage-e2e-secret' } : {}),
    });
    admin = await adminHeaders(gw);
    storage = gw.app.get<Storage>(STORAGE);
    expect(storage.kind).toBe(kind);

    // Without a key (allowed from loopback while no key exists), failing over from DeepInfra to Together.
    emu.addFault({ provider: 'deepinfra', mode: 'status', status: 500, times: 1 });
    await chat(MODEL, null);
    for (const k of ['a', 'b'] as const) {
      const res = await fetch(`${gw.url}/api/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: `usage ${k}` }) });
      expect(res.status).toBe(201);
      keys[k] = (await res.json()) as { id: string; secret: string };
    }
    for (let i = 0; i < 3; i++) await chat(MODEL, 'a');
    await chat(CF_MODEL, 'b');
    await chat(CF_MODEL, 'b');
    await chat(MODEL, 'b');
    expect(sent.map((s) => s.provider)).toEqual(['Together', 'DeepInfra', 'DeepInfra', 'DeepInfra', 'CloudflareAI', 'CloudflareAI', 'DeepInfra']);
  });

  afterAll(async () => {
    await gw?.close();
    await emu?.close();
    await redis?.close();
  });

  it('breaks usage down by model, by client key and by provider, exactly', async () => {
    const byModel = await get<StatsBreakdownResponse>('/api/stats/breakdown?dimension=model&range=1h');
    expect(byModel).toMatchObject({ range: '1h', dimension: 'model', distinct: 2, others: null });
    expect(byModel.items.map((i) => ({ value: i.value, requests: i.requests, promptTokens: i.promptTokens, completionTokens: i.completionTokens }))).toEqual([
      { value: MODEL, ...sum((s) => s.model === MODEL) },
      { value: CF_MODEL, ...sum((s) => s.model === CF_MODEL) },
    ]);
    expect(byModel.items.every((i) => i.successRate === 1)).toBe(true);

    const byKey = await get<StatsBreakdownResponse>('/api/stats/breakdown?dimension=key&range=24h');
    // a and b both made 3 requests: ties are ordered by value.
    const ab = [keys.a.id, keys.b.id].sort((x, y) => x.localeCompare(y));
    expect(byKey.items.map((i) => ({ value: i.value, requests: i.requests, promptTokens: i.promptTokens, completionTokens: i.completionTokens }))).toEqual(
      [...ab, ''].map((value) => ({ value, ...sum((s) => s.key === value) })),
    );

    // Providers count upstream attempts: DeepInfra's failure is one of its 5.
    const byProvider = await get<StatsBreakdownResponse>('/api/stats/breakdown?dimension=provider&range=7d&limit=2');
    expect(byProvider.items.map((i) => [i.value, i.requests, i.successes, i.failures])).toEqual([
      ['DeepInfra', 5, 4, 1],
      ['CloudflareAI', 2, 2, 0],
    ]);
    expect(byProvider.distinct).toBe(3);
    expect(byProvider.others).toMatchObject({ successes: 1, ...sum((s) => s.provider === 'Together') });
    expect(byProvider.others!.requests).toBe(1);
  });

  it('gives each key its own series, zero-filled, and rejects what it cannot answer', async () => {
    const a = await get<KeyUsageResponse>(`/api/stats/keys/${keys.a.id}?range=1h`);
    expect(a).toMatchObject({ key: keys.a.id, range: '1h', granularity: 'minute', bucketMs: 60_000 });
    expect(a.series).toHaveLength(60);
    expect(a.totals).toMatchObject({ ...sum((s) => s.key === keys.a.id), successRate: 1 });
    expect(a.series.reduce((n, p) => n + p.requests, 0)).toBe(3);

    const b = await get<KeyUsageResponse>(`/api/stats/keys/${keys.b.id}?range=90d`);
    expect(b).toMatchObject({ granularity: 'hour', bucketMs: HOUR });
    expect(b.series).toHaveLength(90 * 24);
    expect(b.totals).toMatchObject(sum((s) => s.key === keys.b.id));

    const nobody = await get<KeyUsageResponse>('/api/stats/keys/ck_nobody?range=24h');
    expect(nobody.totals.requests).toBe(0);
    const bad = await fetch(`${gw.url}/api/stats/keys/${keys.a.id}?range=7d&granularity=minute`, { headers: admin });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('granularity');
    for (const query of ['dimension=color', '', 'dimension=model&limit=0', 'dimension=model&limit=101', 'dimension=model&range=1y']) {
      const res = await fetch(`${gw.url}/api/stats/breakdown?${query}`, { headers: admin });
      expect([query, res.status]).toEqual([query, 400]);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    }
    expect((await fetch(`${gw.url}/api/stats/breakdown?dimension=model`)).status).toBe(401);
    expect((await fetch(`${gw.url}/api/stats/keys/${keys.a.id}`)).status).toBe(401);
  });

  it('counts hour rows 60 days old in a 90-day range, not in a 30-day one', async () => {
    const bucket = Math.floor((Date.now() - 60 * DAY) / HOUR) * HOUR;
    const old = { granularity: 'hour', bucket, requests: 7, successes: 7, failures: 0, promptTokens: 70, completionTokens: 140 } as const;
    await storage.stats.add([
      increment({ ...old, dimension: 'all', value: '' }),
      increment({ ...old, dimension: 'model', value: 'ancient-model' }),
      increment({ ...old, dimension: 'key', value: keys.a.id }),
    ]);
    const ninety = await get<StatsBreakdownResponse>('/api/stats/breakdown?dimension=model&range=90d');
    expect(ninety.items.find((i) => i.value === 'ancient-model')).toMatchObject({ requests: 7, promptTokens: 70, completionTokens: 140 });
    const thirty = await get<StatsBreakdownResponse>('/api/stats/breakdown?dimension=model&range=30d');
    expect(thirty.items.map((i) => i.value)).toEqual([MODEL, CF_MODEL]);

    const stats = await get<StatsResponse>('/api/stats?range=90d');
    expect(stats).toMatchObject({ granularity: 'hour', bucketMs: HOUR });
    expect(stats.series).toHaveLength(90 * 24);
    expect(stats.series.find((p) => p.bucket === bucket)).toMatchObject({ requests: 7 });
    expect(stats.totals.requests).toBe(sent.length + 7);
    const keyA = await get<KeyUsageResponse>(`/api/stats/keys/${keys.a.id}?range=90d`);
    expect(keyA.totals.requests).toBe(3 + 7);
    expect((await fetch(`${gw.url}/api/stats?range=90d&granularity=minute`, { headers: admin })).status).toBe(400);
  });

  describe('export', () => {
    const exportUrl = (query: string) => `${gw.url}/api/logs/export?${query}`;
    /** Every entry of the log, as /api/logs pages it. */
    const logged = async (query = ''): Promise<RequestLogEntry[]> => (await get<RequestLogPage>(`/api/logs?pageSize=200&${query}`)).items;

    beforeAll(async () => {
      // Text anyone can choose, in the places a spreadsheet would run it or a naive writer break the line.
      await storage.log.append([
        logEntry({
          requestId: 'tricky,"one"',
          startedAt: Date.now(),
          model: '@evil',
          status: 502,
          error: '=HYPERLINK("http://x","click")\nsecond line',
          clientKey: keys.b.id,
          attempts: [{ provider: '-Upstream', upstream_model: 'x', status: 500, reason: 'HTTP 500', latency_ms: 3 }],
        }),
      ]);
    });

    it('CSV: a header, one row per entry newest first, escaped, formulas defused', async () => {
      const res = await fetch(exportUrl('format=csv'), { headers: admin });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="request-log-\d{8}-\d{4}\.csv"$/);
      const bytes = new Uint8Array(await res.arrayBuffer());
      // A UTF-8 byte order mark first (which the decoder drops), for Excel.
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const [header, ...rows] = parseCsv(new TextDecoder().decode(bytes));
      const col = (name: string) => header!.indexOf(name);
      expect(header!.slice(0, 4)).toEqual(['startedAt', 'requestId', 'endpoint', 'model']);
      const entries = await logged();
      expect(rows.map((r) => r[col('requestId')])).toEqual(entries.map((e) => e.requestId));
      expect(rows).toHaveLength(sent.length + 1);
      const tricky = rows.find((r) => r[col('requestId')] === 'tricky,"one"')!;
      expect(tricky[col('model')]).toBe("'@evil");
      expect(tricky[col('error')]).toBe('\'=HYPERLINK("http://x","click")\nsecond line');
      expect(tricky[col('attempts')]).toBe("'-Upstream:500");
      const first = entries.at(-1)!;
      const row = rows.at(-1)!;
      expect([row[col('startedAt')], row[col('provider')], row[col('status')], row[col('clientKey')]]).toEqual([
        new Date(first.startedAt).toISOString(),
        'Together',
        '200',
        '',
      ]);
      expect(row[col('attempts')]).toBe('DeepInfra:500 > Together:200');
      expect([Number(row[col('promptTokens')]), Number(row[col('completionTokens')])]).toEqual([
        sent[0]!.usage.prompt_tokens,
        sent[0]!.usage.completion_tokens,
      ]);
    });

    it('JSON lines: each line is the entry /api/logs shows, and the filters are the same', async () => {
      const res = await fetch(exportUrl('format=jsonl'), { headers: admin });
      expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
      const text = await res.text();
      expect(text.endsWith('\n')).toBe(true);
      expect(
        text
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as RequestLogEntry),
      ).toEqual(await logged());

      const filters = [
        `clientKey=${keys.b.id}`,
        `model=${CF_MODEL}&clientKey=${keys.b.id}`,
        'provider=Together',
        'status=error',
        `from=${Date.now() - 60_000}&to=${Date.now() - 500}`,
      ];
      for (const query of filters) {
        const lines = (await (await fetch(exportUrl(`format=jsonl&${query}`), { headers: admin })).text()).split('\n').filter(Boolean);
        const expected = (await logged(query)).map((e) => e.requestId);
        expect([query, lines.map((l) => (JSON.parse(l) as RequestLogEntry).requestId)]).toEqual([query, expected]);
      }
      expect((await logged(`clientKey=${keys.b.id}`)).length).toBe(4);
      expect((await logged('status=error')).map((e) => e.requestId)).toEqual(['tricky,"one"']);
    });

    it('answers bad requests in the error envelope, and only to the admin', async () => {
      for (const query of ['', 'format=xlsx', 'format=csv&status=700', 'format=csv&from=tomorrow', 'format=csv&from=2000&to=1000']) {
        const res = await fetch(exportUrl(query), { headers: admin });
        expect([query, res.status]).toEqual([query, 400]);
        expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
      }
      expect((await fetch(exportUrl('format=csv'))).status).toBe(401);
    });

    it('streams a large log page by page: a client that stops reading stops the reads, one that leaves ends them', async () => {
      const total = 8000;
      const bulk = 'x'.repeat(4000);
      const t0 = Date.now() - 10 * 60_000;
      for (let i = 0; i < total; i += 1000) {
        await storage.log.append(
          Array.from({ length: 1000 }, (_, j) => logEntry({ requestId: `bulk-${i + j}`, startedAt: t0 + i + j, model: 'bulk-model', error: bulk })),
        );
      }
      const log = storage.log;
      const original = log.query.bind(log);
      let reads = 0;
      log.query = (filter, page) => {
        reads++;
        return original(filter, page);
      };
      try {
        const open = () =>
          new Promise<IncomingMessage>((resolve, reject) => {
            const req = httpRequest(exportUrl('format=csv&model=bulk-model'), { headers: admin }, resolve);
            req.on('error', reject);
            req.end();
          });

        // Paused right away: the gateway fills the socket's buffers, then waits.
        const paused = await open();
        expect(paused.statusCode).toBe(200);
        paused.pause();
        await sleep(400);
        const stalled = reads;
        await sleep(600);
        expect(reads).toBe(stalled);
        // 16 pages of ~2 MB; the socket holds a few MB.
        expect(stalled).toBeLessThan(8);
        let bytes = 0;
        let lines = 0;
        paused.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (const b of chunk) if (b === 0x0a) lines++;
        });
        paused.resume();
        await new Promise((resolve) => paused.on('end', resolve));
        expect(lines).toBe(total + 1);
        expect(bytes).toBeGreaterThan(total * 4000);
        expect(reads).toBeGreaterThanOrEqual(total / 500);

        // A client that goes away after the first bytes: the reads stop.
        reads = 0;
        const leaving = await open();
        await new Promise((resolve) => leaving.once('data', resolve));
        leaving.destroy();
        await sleep(500);
        const after = reads;
        await sleep(300);
        expect(reads).toBe(after);
        expect(after).toBeLessThan(8);
        // And the gateway is fine.
        expect((await fetch(exportUrl('format=jsonl&model=no-such-model'), { headers: admin })).status).toBe(200);
      } finally {
        log.query = original;
      }
    }, 30_000);
  });
});
