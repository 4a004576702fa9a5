import type { AttemptSummary } from '#contracts';
import { HISTOGRAM_SIZE, type HealthCheckResult, type RequestLogEntry, type StatsIncrement, type StatsRow, type Storage } from './storage.ts';

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export function logEntry(overrides: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    requestId: 'req-1',
    endpoint: 'chat',
    model: 'llama-3.3-70b',
    stream: false,
    startedAt: T0,
    status: 200,
    provider: 'DeepInfra',
    upstreamModel: 'meta-llama/Llama-3.3-70B-Instruct',
    latencyMs: 850,
    ttftMs: 300,
    usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
    usageEstimated: false,
    attempts: [{ provider: 'DeepInfra', upstream_model: 'meta-llama/Llama-3.3-70B-Instruct', status: 200, reason: 'ok', latency_ms: 850 }],
    error: null,
    clientKey: null,
    ...overrides,
  };
}

function attempt(provider: string, status: number | null, reason: string): AttemptSummary {
  return { provider, upstream_model: `${provider.toLowerCase()}/model`, key: 'sk-a…x9f2', status, reason, latency_ms: 100 };
}

/** A histogram with `count` in bucket `index` and zero elsewhere. */
export function hist(...cells: Array<[index: number, count: number]>): number[] {
  const h = new Array<number>(HISTOGRAM_SIZE).fill(0);
  for (const [i, n] of cells) h[i] = n;
  return h;
}

export function increment(overrides: Partial<StatsIncrement> = {}): StatsIncrement {
  return {
    granularity: 'minute',
    bucket: T0,
    dimension: 'all',
    value: '',
    requests: 1,
    successes: 1,
    failures: 0,
    promptTokens: 10,
    completionTokens: 20,
    latencySumMs: 400,
    ttftSumMs: 150,
    ttftCount: 1,
    latencyHist: hist([4, 1]),
    ttftHist: hist([2, 1]),
    ...overrides,
  };
}

function health(overrides: Partial<HealthCheckResult> = {}): HealthCheckResult {
  return { provider: 'Together', checkedAt: T0, ok: true, latencyMs: 120, probe: 'models', model: null, error: null, ...overrides };
}

const byBucketThenValue = (a: StatsRow, b: StatsRow): number => a.bucket - b.bucket || a.value.localeCompare(b.value);

/**
 * Behaviour every Storage implementation must have. Each test gets a fresh, initialised,
 * empty store from `create`; `destroy` (default: close) runs after it.
 */
export function describeStorageContract(name: string, create: () => Promise<Storage>, destroy?: (s: Storage) => Promise<void>): void {
  describe(`Storage contract: ${name}`, () => {
    let storage: Storage;

    beforeEach(async () => {
      storage = await create();
    });

    afterEach(async () => {
      await (destroy ? destroy(storage) : storage.close());
    });

    describe('settings', () => {
      it('returns undefined for a missing key and an empty record for an empty namespace', async () => {
        expect(await storage.settings.get('providers', 'nope')).toBeUndefined();
        expect(await storage.settings.list('providers')).toEqual({});
      });

      it('round-trips nested JSON and unicode exactly', async () => {
        const value = {
          name: 'Ünïcödé ✓ 日本語 🚀',
          quote: `it's "quoted" \\ back\nnew line\ttab`,
          nested: { list: [1, 2.5, -3, { deep: [true, false, null] }], empty: {}, none: [] },
          big: Number.MAX_SAFE_INTEGER,
          tiny: 1e-9,
        };
        await storage.settings.set('upstreams', 'ü/key:1', value);
        expect(await storage.settings.get('upstreams', 'ü/key:1')).toEqual(value);
        expect(await storage.settings.list('upstreams')).toEqual({ 'ü/key:1': value });
      });

      it('create stores only where nothing is, once among racing writers, and tells who won', async () => {
        const seen: string[] = [];
        const sub = storage.settings.changes.subscribe(({ namespace, key }) => seen.push(`${namespace}/${key}`));
        try {
          const results = await Promise.all(['a', 'b', 'c', 'd'].map((v) => storage.settings.create('admin', 'password', { v })));
          expect(results.filter(Boolean)).toHaveLength(1);
          const winner = ['a', 'b', 'c', 'd'][results.indexOf(true)];
          expect(await storage.settings.get('admin', 'password')).toEqual({ v: winner });
          expect(await storage.settings.create('admin', 'password', { v: 'late' })).toBe(false);
          expect(await storage.settings.get('admin', 'password')).toEqual({ v: winner });
          // Only the write that stored something is announced.
          expect(seen).toEqual(['admin/password']);
          expect(await storage.settings.list('admin')).toEqual({ password: { v: winner } });
        } finally {
          sub.unsubscribe();
        }
      });

      it('keeps falsy values as themselves, not as missing', async () => {
        await storage.settings.set('ns', 'null', null);
        await storage.settings.set('ns', 'zero', 0);
        await storage.settings.set('ns', 'false', false);
        await storage.settings.set('ns', 'empty', '');
        expect(await storage.settings.get('ns', 'null')).toBeNull();
        expect(await storage.settings.get('ns', 'zero')).toBe(0);
        expect(await storage.settings.get('ns', 'false')).toBe(false);
        expect(await storage.settings.get('ns', 'empty')).toBe('');
        expect(await storage.settings.list('ns')).toEqual({ null: null, zero: 0, false: false, empty: '' });
      });

      it('overwrites on set and keeps namespaces apart', async () => {
        await storage.settings.set('a', 'k', { v: 1 });
        await storage.settings.set('b', 'k', { v: 2 });
        await storage.settings.set('a', 'k', { v: 3 });
        await storage.settings.set('a', 'other', 'x');
        expect(await storage.settings.get('a', 'k')).toEqual({ v: 3 });
        expect(await storage.settings.get('b', 'k')).toEqual({ v: 2 });
        expect(await storage.settings.list('a')).toEqual({ k: { v: 3 }, other: 'x' });
        expect(await storage.settings.list('b')).toEqual({ k: { v: 2 } });
        expect(await storage.settings.list('ab')).toEqual({});
      });

      it('treats keys as opaque strings, "__proto__" included', async () => {
        await storage.settings.set('ns', '__proto__', { polluted: true });
        await storage.settings.set('ns', 'a%_*?[', 1);
        const listed = await storage.settings.list<unknown>('ns');
        expect(Object.keys(listed).sort()).toEqual(['__proto__', 'a%_*?['].sort());
        expect(Object.getPrototypeOf(listed)).toBe(Object.prototype);
        expect(await storage.settings.get('ns', '__proto__')).toEqual({ polluted: true });
        expect(await storage.settings.get('ns', 'a%')).toBeUndefined();
      });

      it('increments counters atomically: concurrent increments all count, max only raises, nothing is emitted', async () => {
        const seen: unknown[] = [];
        const subscription = storage.settings.changes.subscribe((c) => seen.push(c));
        try {
          await Promise.all(
            Array.from({ length: 60 }, (_, i) =>
              storage.settings.increment('usage', 'k1', { add: { requests: 1, tokens: i }, max: { lastUsedAt: 1_700_000_000_000 + i } }),
            ),
          );
          await storage.settings.increment('usage', 'k1', { max: { lastUsedAt: 5 } });
          expect(await storage.settings.get('usage', 'k1')).toEqual({ requests: 60, tokens: 1770, lastUsedAt: 1_700_000_000_059 });
          // An existing document keeps its other fields; a non-number field starts again from 0.
          await storage.settings.set('usage', 'k2', { requests: 'x', lastUsedAt: null, name: 'keep' });
          await storage.settings.increment('usage', 'k2', { add: { requests: 2 }, max: { lastUsedAt: 7 } });
          expect(await storage.settings.get('usage', 'k2')).toEqual({ requests: 2, lastUsedAt: 7, name: 'keep' });
          expect(await storage.settings.list('usage')).toEqual({
            k1: { requests: 60, tokens: 1770, lastUsedAt: 1_700_000_000_059 },
            k2: { requests: 2, lastUsedAt: 7, name: 'keep' },
          });
          expect(seen).toEqual([{ namespace: 'usage', key: 'k2' }]);
        } finally {
          subscription.unsubscribe();
        }
      });

      it('deletes, saying whether something was there', async () => {
        await storage.settings.set('ns', 'k', 1);
        await storage.settings.set('ns', 'keep', 2);
        expect(await storage.settings.delete('ns', 'k')).toBe(true);
        expect(await storage.settings.delete('ns', 'k')).toBe(false);
        expect(await storage.settings.delete('other', 'keep')).toBe(false);
        expect(await storage.settings.get('ns', 'k')).toBeUndefined();
        expect(await storage.settings.list('ns')).toEqual({ keep: 2 });
      });

      it('emits each change by the time the write resolves, and nothing for a delete that removed nothing', async () => {
        const seen: Array<{ namespace: string; key: string }> = [];
        const subscription = storage.settings.changes.subscribe((c) => seen.push(c));
        try {
          await storage.settings.set('keys', 'k1', 'v');
          expect(seen).toEqual([{ namespace: 'keys', key: 'k1' }]);
          await storage.settings.set('keys', 'k1', 'v2');
          await storage.settings.delete('keys', 'missing');
          await storage.settings.delete('keys', 'k1');
          expect(seen).toEqual([
            { namespace: 'keys', key: 'k1' },
            { namespace: 'keys', key: 'k1' },
            { namespace: 'keys', key: 'k1' },
          ]);
        } finally {
          subscription.unsubscribe();
        }
      });
    });

    describe('request log', () => {
      it('round-trips every field, nulls included', async () => {
        const full = logEntry({
          requestId: 'req-full',
          stream: true,
          clientKey: 'ck_1',
          usageEstimated: true,
          attempts: [attempt('Together', 429, 'rate limited ✗'), attempt('DeepInfra', 200, 'ok')],
          alias: 'claude-*',
        });
        const bare = logEntry({
          requestId: 'req-bare',
          endpoint: 'images',
          startedAt: T0 - 1,
          status: 503,
          provider: null,
          upstreamModel: null,
          ttftMs: null,
          usage: null,
          attempts: [],
          error: 'all providers failed: “quoted”',
        });
        await storage.log.append([full, bare]);
        const { total, items } = await storage.log.query({}, { offset: 0, limit: 10 });
        expect(total).toBe(2);
        expect(items).toEqual([full, bare]);
      });

      it('appending nothing is a no-op', async () => {
        await storage.log.append([]);
        expect(await storage.log.query({}, { offset: 0, limit: 10 })).toEqual({ total: 0, items: [] });
      });

      it('returns newest first across separate appends', async () => {
        await storage.log.append([logEntry({ requestId: 'b', startedAt: T0 + 2 }), logEntry({ requestId: 'a', startedAt: T0 + 1 })]);
        await storage.log.append([logEntry({ requestId: 'c', startedAt: T0 + 3 }), logEntry({ requestId: 'old', startedAt: T0 - 5 })]);
        const { items } = await storage.log.query({}, { offset: 0, limit: 10 });
        expect(items.map((e) => e.requestId)).toEqual(['c', 'b', 'a', 'old']);
      });

      it('pages with a total of all matches, never repeating or skipping entries that share a timestamp', async () => {
        const entries = Array.from({ length: 25 }, (_, i) => logEntry({ requestId: `r${i}`, startedAt: T0 + Math.floor(i / 5) }));
        await storage.log.append(entries);
        const seen: string[] = [];
        for (let offset = 0; offset < 25; offset += 7) {
          const page = await storage.log.query({}, { offset, limit: 7 });
          expect(page.total).toBe(25);
          expect(page.items.length).toBe(Math.min(7, 25 - offset));
          seen.push(...page.items.map((e) => e.requestId));
        }
        expect(new Set(seen).size).toBe(25);
        const startedAts = seen.map((id) => entries.find((e) => e.requestId === id)?.startedAt ?? NaN);
        expect(startedAts).toEqual([...startedAts].sort((a, b) => b - a));
        expect(await storage.log.query({}, { offset: 30, limit: 7 })).toEqual({ total: 25, items: [] });
        expect((await storage.log.query({}, { offset: 0, limit: 0 })).total).toBe(25);
      });

      describe('filters', () => {
        beforeEach(async () => {
          await storage.log.append([
            logEntry({ requestId: 'ok-deepinfra', startedAt: T0, provider: 'DeepInfra', clientKey: 'ck_a' }),
            logEntry({
              requestId: 'failover',
              startedAt: T0 + 10,
              model: 'qwen-2.5',
              provider: 'DeepInfra',
              attempts: [attempt('Together', 500, 'HTTP 500'), attempt('DeepInfra', 200, 'ok')],
              clientKey: 'ck_b',
            }),
            logEntry({
              requestId: 'all-failed',
              startedAt: T0 + 20,
              status: 502,
              provider: null,
              upstreamModel: null,
              usage: null,
              attempts: [attempt('Together', null, 'timeout'), attempt('Pollinations', 503, 'HTTP 503')],
              error: 'all providers failed',
              clientKey: 'ck_a',
            }),
            logEntry({ requestId: 'rate-limited', startedAt: T0 + 30, status: 429, provider: null, attempts: [], error: 'rate limited' }),
            logEntry({ requestId: 'created', startedAt: T0 + 40, status: 299, provider: 'DeepInfraX', attempts: [attempt('DeepInfraX', 299, 'ok')] }),
            logEntry({ requestId: 'redirect', startedAt: T0 + 50, status: 300, provider: 'Together', attempts: [attempt('Together', 300, 'ok')] }),
          ]);
        });

        const ids = async (filter: Parameters<Storage['log']['query']>[0]): Promise<string[]> => {
          const { total, items } = await storage.log.query(filter, { offset: 0, limit: 100 });
          expect(total).toBe(items.length);
          return items.map((e) => e.requestId);
        };

        it('time range: from inclusive, to exclusive', async () => {
          expect(await ids({ from: T0 + 10, to: T0 + 30 })).toEqual(['all-failed', 'failover']);
          expect(await ids({ from: T0 + 50 })).toEqual(['redirect']);
          expect(await ids({ to: T0 + 10 })).toEqual(['ok-deepinfra']);
          expect(await ids({ from: T0 + 10, to: T0 + 10 })).toEqual([]);
        });

        it('model, exactly', async () => {
          expect(await ids({ model: 'qwen-2.5' })).toEqual(['failover']);
          expect(await ids({ model: 'qwen' })).toEqual([]);
        });

        it('provider: the one that answered or any attempted, whole names only', async () => {
          expect(await ids({ provider: 'DeepInfra' })).toEqual(['failover', 'ok-deepinfra']);
          expect(await ids({ provider: 'Together' })).toEqual(['redirect', 'all-failed', 'failover']);
          expect(await ids({ provider: 'Pollinations' })).toEqual(['all-failed']);
          expect(await ids({ provider: 'DeepInfraX' })).toEqual(['created']);
          expect(await ids({ provider: 'Deep' })).toEqual([]);
          expect(await ids({ provider: 'deepinfra' })).toEqual([]);
        });

        it('status: exact, success (2xx) or error (everything else)', async () => {
          expect(await ids({ status: 502 })).toEqual(['all-failed']);
          expect(await ids({ status: 'success' })).toEqual(['created', 'failover', 'ok-deepinfra']);
          expect(await ids({ status: 'error' })).toEqual(['redirect', 'rate-limited', 'all-failed']);
        });

        it('client key', async () => {
          expect(await ids({ clientKey: 'ck_a' })).toEqual(['all-failed', 'ok-deepinfra']);
          expect(await ids({ clientKey: 'ck_zzz' })).toEqual([]);
        });

        it('all filters together, with paging', async () => {
          const filter = { from: T0, to: T0 + 60, provider: 'Together', status: 'error' as const, clientKey: 'ck_a', model: 'llama-3.3-70b' };
          expect(await ids(filter)).toEqual(['all-failed']);
          const page = await storage.log.query({ provider: 'Together' }, { offset: 1, limit: 1 });
          expect(page).toMatchObject({ total: 3, items: [{ requestId: 'all-failed' }] });
        });
      });

      it('purgeBefore deletes entries started strictly before, and says how many', async () => {
        await storage.log.append([0, 1, 2, 3].map((i) => logEntry({ requestId: `r${i}`, startedAt: T0 + i * HOUR })));
        expect(await storage.log.purgeBefore(T0 + 2 * HOUR)).toBe(2);
        expect(await storage.log.purgeBefore(T0 + 2 * HOUR)).toBe(0);
        const { items } = await storage.log.query({}, { offset: 0, limit: 10 });
        expect(items.map((e) => e.requestId)).toEqual(['r3', 'r2']);
      });
    });

    describe('stats', () => {
      const all = { granularity: 'minute', dimension: 'all', from: T0, to: T0 + HOUR } as const;

      it('creates a row from an increment, every field intact', async () => {
        const inc = increment({ latencyHist: hist([0, 1], [HISTOGRAM_SIZE - 1, 2]), ttftHist: hist([3, 4]) });
        await storage.stats.add([inc]);
        expect(await storage.stats.query(all)).toEqual([inc]);
      });

      it('adds increments to the same row, across batches and within one, histograms element-wise', async () => {
        await storage.stats.add([increment()]);
        await storage.stats.add([
          increment({
            requests: 2,
            successes: 1,
            failures: 1,
            promptTokens: 5,
            completionTokens: 0,
            latencySumMs: 9000,
            ttftSumMs: 0,
            ttftCount: 0,
            latencyHist: hist([4, 1], [13, 1]),
            ttftHist: hist(),
          }),
          increment({ latencyHist: hist([0, 1]), ttftHist: hist([2, 3]) }),
        ]);
        expect(await storage.stats.query(all)).toEqual([
          increment({
            requests: 4,
            successes: 3,
            failures: 1,
            promptTokens: 25,
            completionTokens: 40,
            latencySumMs: 9800,
            ttftSumMs: 300,
            ttftCount: 2,
            latencyHist: hist([0, 1], [4, 2], [13, 1]),
            ttftHist: hist([2, 4]),
          }),
        ]);
      });

      it('keeps granularities, buckets, dimensions and values in separate rows', async () => {
        await storage.stats.add([
          increment({ dimension: 'provider', value: 'DeepInfra', requests: 1 }),
          increment({ dimension: 'provider', value: 'Together', requests: 2 }),
          increment({ dimension: 'provider', value: 'DeepInfra', bucket: T0 + MINUTE, requests: 3 }),
          increment({ dimension: 'model', value: 'DeepInfra', requests: 4 }),
          increment({ granularity: 'hour', dimension: 'provider', value: 'DeepInfra', requests: 5 }),
          increment({ dimension: 'all', requests: 6 }),
        ]);
        const rows = await storage.stats.query({ granularity: 'minute', dimension: 'provider', from: T0, to: T0 + HOUR });
        expect(rows.sort(byBucketThenValue).map((r) => [r.granularity, r.dimension, r.bucket - T0, r.value, r.requests])).toEqual([
          ['minute', 'provider', 0, 'DeepInfra', 1],
          ['minute', 'provider', 0, 'Together', 2],
          ['minute', 'provider', MINUTE, 'DeepInfra', 3],
        ]);
        expect((await storage.stats.query({ granularity: 'hour', dimension: 'provider', from: T0, to: T0 + HOUR })).map((r) => r.requests)).toEqual([5]);
        expect((await storage.stats.query({ granularity: 'minute', dimension: 'model', from: T0, to: T0 + HOUR })).map((r) => r.requests)).toEqual([4]);
        expect((await storage.stats.query({ granularity: 'minute', dimension: 'key', from: T0, to: T0 + HOUR })).length).toBe(0);
      });

      it('queries one value only when asked, a value with a colon included', async () => {
        await storage.stats.add([
          increment({ dimension: 'key', value: 'ck_a', requests: 1 }),
          increment({ dimension: 'key', value: 'ck_b', requests: 2 }),
          increment({ dimension: 'key', value: 'ck_a', bucket: T0 + MINUTE, requests: 3 }),
          increment({ dimension: 'key', value: 'x:ck_a', requests: 4 }),
        ]);
        const rows = await storage.stats.query({ granularity: 'minute', dimension: 'key', from: T0, to: T0 + HOUR, value: 'ck_a' });
        expect(rows.sort(byBucketThenValue).map((r) => [r.bucket - T0, r.value, r.requests])).toEqual([
          [0, 'ck_a', 1],
          [MINUTE, 'ck_a', 3],
        ]);
        expect(await storage.stats.query({ granularity: 'minute', dimension: 'key', from: T0, to: T0 + HOUR, value: 'ck_zzz' })).toEqual([]);
      });

      it('keeps route rows (provider and model, a newline between) apart from the others, and purges them', async () => {
        await storage.stats.add([
          increment({ dimension: 'route', value: 'DeepInfra\nmeta/llama:70b', requests: 2 }),
          increment({ dimension: 'provider', value: 'DeepInfra', requests: 3 }),
        ]);
        const rows = await storage.stats.query({ granularity: 'minute', dimension: 'route', from: T0, to: T0 + HOUR });
        expect(rows.map((r) => [r.value, r.requests])).toEqual([['DeepInfra\nmeta/llama:70b', 2]]);
        expect(await storage.stats.purgeBefore('minute', T0 + MINUTE)).toBe(2);
        expect(await storage.stats.query({ granularity: 'minute', dimension: 'route', from: T0, to: T0 + HOUR })).toEqual([]);
      });

      it('queries buckets in [from, to)', async () => {
        await storage.stats.add([0, 1, 2, 3].map((i) => increment({ bucket: T0 + i * MINUTE, requests: i + 1 })));
        const rows = await storage.stats.query({ granularity: 'minute', dimension: 'all', from: T0 + MINUTE, to: T0 + 3 * MINUTE });
        expect(rows.sort(byBucketThenValue).map((r) => r.bucket)).toEqual([T0 + MINUTE, T0 + 2 * MINUTE]);
      });

      it('rejects a batch with a misshapen histogram and writes none of it', async () => {
        const bad = increment({ bucket: T0 + MINUTE, latencyHist: [1, 2, 3] });
        await expect(storage.stats.add([increment(), bad])).rejects.toThrow();
        expect(await storage.stats.query(all)).toEqual([]);
      });

      it('purges one granularity before a bucket, and says how many rows', async () => {
        await storage.stats.add([
          increment({ bucket: T0 }),
          increment({ bucket: T0 + MINUTE }),
          increment({ bucket: T0 + MINUTE, dimension: 'model', value: 'm' }),
          increment({ bucket: T0 + 2 * MINUTE }),
          increment({ granularity: 'hour', bucket: T0 }),
        ]);
        expect(await storage.stats.purgeBefore('minute', T0 + 2 * MINUTE)).toBe(3);
        expect((await storage.stats.query(all)).map((r) => r.bucket)).toEqual([T0 + 2 * MINUTE]);
        expect(await storage.stats.query({ ...all, granularity: 'hour' })).toHaveLength(1);
      });

      it('purges many rows, in every dimension, and counts them all', async () => {
        const old = Array.from({ length: 1_200 }, (_, i) =>
          increment({ bucket: T0 + (i % 3) * MINUTE, dimension: (['all', 'model', 'provider'] as const)[i % 3], value: `v${i}` }),
        );
        await storage.stats.add([...old, increment({ bucket: T0 + 5 * MINUTE })]);
        expect(await storage.stats.purgeBefore('minute', T0 + 5 * MINUTE)).toBe(1_200);
        expect((await storage.stats.query(all)).map((r) => r.bucket)).toEqual([T0 + 5 * MINUTE]);
        expect(await storage.stats.query({ ...all, dimension: 'model' })).toEqual([]);
      });
    });

    describe('health', () => {
      it('returns one provider newest first, limited, every field intact', async () => {
        const failed = health({ checkedAt: T0 + 2 * MINUTE, ok: false, latencyMs: 5000, probe: 'chat', model: 'llama-3.1-8b', error: 'timeout after 5000 ms' });
        await storage.health.append([health({ checkedAt: T0 }), failed, health({ provider: 'DeepInfra', checkedAt: T0 + 3 * MINUTE })]);
        await storage.health.append([health({ checkedAt: T0 + MINUTE, latencyMs: 99 })]);
        expect(await storage.health.history('Together', 10)).toEqual([failed, health({ checkedAt: T0 + MINUTE, latencyMs: 99 }), health({ checkedAt: T0 })]);
        expect((await storage.health.history('Together', 2)).map((h) => h.checkedAt)).toEqual([T0 + 2 * MINUTE, T0 + MINUTE]);
        expect(await storage.health.history('Together', 0)).toEqual([]);
        expect(await storage.health.history('Nobody', 10)).toEqual([]);
      });

      it('purges results checked before a time, across providers', async () => {
        await storage.health.append([health({ checkedAt: T0 }), health({ provider: 'DeepInfra', checkedAt: T0 + 1 }), health({ checkedAt: T0 + 2 })]);
        expect(await storage.health.purgeBefore(T0 + 2)).toBe(2);
        expect(await storage.health.history('DeepInfra', 10)).toEqual([]);
        expect((await storage.health.history('Together', 10)).map((h) => h.checkedAt)).toEqual([T0 + 2]);
      });
    });

    describe('responses', () => {
      // Real time, not T0: Redis expires keys on its own clock.
      const stored = (id: string, expiresAt: number, document: unknown = { id, output: [{ type: 'message', text: '你好 👋' }] }) => ({
        id,
        owner: 'key:ck_1',
        expiresAt,
        document,
      });
      const write = (r: ReturnType<typeof stored>) => ({ id: r.id, owner: r.owner, expiresAt: r.expiresAt, json: JSON.stringify(r.document) });

      it('round-trips a response until it expires, and replaces one written again', async () => {
        const now = Date.now();
        const first = stored('resp_a', now + HOUR);
        await storage.responses.put([write(first)]);
        expect(await storage.responses.get('resp_a', now)).toEqual(first);
        expect(await storage.responses.get('resp_a', now + HOUR)).toBeUndefined();
        expect(await storage.responses.get('resp_missing', now)).toBeUndefined();
        const second = { ...stored('resp_a', now + 2 * HOUR, { id: 'resp_a', n: 2 }), owner: 'open' };
        await storage.responses.put([write(second)]);
        expect(await storage.responses.get('resp_a', now + HOUR)).toEqual(second);
      });

      it('deletes, saying whether a live response was there', async () => {
        const now = Date.now();
        await storage.responses.put([write(stored('resp_b', now + HOUR))]);
        expect(await storage.responses.delete('resp_b', now + HOUR)).toBe(false);
        expect(await storage.responses.delete('resp_b', now)).toBe(true);
        expect(await storage.responses.delete('resp_b', now)).toBe(false);
        expect(await storage.responses.get('resp_b', now)).toBeUndefined();
      });

      it('purges what has expired and keeps the rest', async () => {
        const now = Date.now();
        await storage.responses.put([write(stored('resp_old', now + MINUTE)), write(stored('resp_new', now + HOUR))]);
        const purged = await storage.responses.purgeExpired(now + 2 * MINUTE);
        // SQLite deletes the row now; Redis has expired it by then on its own (and purges nothing).
        expect(purged).toBe(storage.kind === 'sqlite' ? 1 : 0);
        expect(await storage.responses.get('resp_old', now)).toEqual(storage.kind === 'sqlite' ? undefined : stored('resp_old', now + MINUTE));
        expect(await storage.responses.get('resp_new', now + 2 * MINUTE)).toEqual(stored('resp_new', now + HOUR));
      });

      it('extends the expiry of the responses named whose expiry is before the threshold, and no other', async () => {
        const now = Date.now();
        await storage.responses.put([write(stored('resp_e1', now + MINUTE)), write(stored('resp_e2', now + HOUR)), write(stored('resp_e3', now + MINUTE))]);
        await storage.responses.extend(['resp_e1', 'resp_e2', 'resp_missing'], now + 2 * HOUR, now + 30 * MINUTE);
        expect(await storage.responses.get('resp_e1', now + HOUR)).toEqual(stored('resp_e1', now + 2 * HOUR));
        // Already past the threshold: left as it was.
        expect(await storage.responses.get('resp_e2', now)).toEqual(stored('resp_e2', now + HOUR));
        // Not named: unchanged.
        expect(await storage.responses.get('resp_e3', now)).toEqual(stored('resp_e3', now + MINUTE));
        expect(await storage.responses.get('resp_missing', now)).toBeUndefined();
        await storage.responses.extend([], now + HOUR, now + HOUR);
      });

      it('writes a batch whole, the last of one id winning, and never returns one already expired', async () => {
        const now = Date.now();
        await storage.responses.put([write(stored('resp_c', now + HOUR)), write(stored('resp_d', now - 1)), write(stored('resp_c', now + HOUR, { n: 3 }))]);
        expect(await storage.responses.get('resp_c', now)).toEqual(stored('resp_c', now + HOUR, { n: 3 }));
        expect(await storage.responses.get('resp_d', now)).toBeUndefined();
        await storage.responses.put([]);
      });
    });
  });
}
