import {
  DEFAULT_QUERY,
  type LogQuery,
  apiParams,
  attemptRows,
  epochToLocal,
  filterCount,
  formatLogTime,
  hasFilters,
  localToEpoch,
  logRow,
  parseQuery,
  rangeError,
  statusKind,
  statusTone,
  toQueryParams,
} from './logs-view';
import { attempt, logEntry } from './logs.fixtures';

const params = (p: Record<string, string>) => (name: string) => p[name] ?? null;
const q = (patch: Partial<LogQuery>): LogQuery => ({ ...DEFAULT_QUERY, ...patch });

describe('logs view: the query in the URL', () => {
  it('reads defaults from an empty URL', () => {
    expect(parseQuery(params({}))).toEqual(DEFAULT_QUERY);
    expect(toQueryParams(DEFAULT_QUERY)).toEqual({
      range: null,
      from: null,
      to: null,
      model: null,
      provider: null,
      status: null,
      key: null,
      page: null,
      size: null,
    });
  });

  it('round-trips every filter and the position', () => {
    const query = q({
      range: 'custom',
      from: '2026-11-26T08:00',
      to: '2026-11-26T09:30',
      model: 'gpt-4o-mini',
      provider: 'Together',
      status: '502',
      key: 'ck_1',
      page: 3,
      pageSize: 100,
    });
    const url = toQueryParams(query);
    expect(url).toEqual({
      range: 'custom',
      from: '2026-11-26T08:00',
      to: '2026-11-26T09:30',
      model: 'gpt-4o-mini',
      provider: 'Together',
      status: '502',
      key: 'ck_1',
      page: '3',
      size: '100',
    });
    expect(parseQuery(params(url as Record<string, string>))).toEqual(query);
    for (const status of ['success', 'error']) expect(parseQuery(params({ status })).status).toBe(status);
    expect(toQueryParams(q({ range: '1h', from: '2026-11-26T08:00' }))).toMatchObject({ range: '1h', from: null });
  });

  it('ignores what it does not understand', () => {
    const parsed = parseQuery(params({ range: 'forever', status: '999', page: '-2', size: '7', from: 'yesterday' }));
    expect(parsed).toEqual(DEFAULT_QUERY);
    expect(parseQuery(params({ page: '1.5', status: 'ok' }))).toMatchObject({ page: 1, status: '' });
    // from/to alone still mean a custom range; a preset drops them.
    expect(parseQuery(params({ from: '2026-11-26T08:00' }))).toMatchObject({ range: 'custom', from: '2026-11-26T08:00' });
    expect(parseQuery(params({ range: '24h', from: '2026-11-26T08:00' }))).toMatchObject({ range: '24h', from: '' });
  });

  it('knows which filters are set', () => {
    expect(hasFilters(DEFAULT_QUERY)).toBe(false);
    expect(hasFilters(q({ page: 4, pageSize: 200 }))).toBe(false);
    expect(hasFilters(q({ status: 'error' }))).toBe(true);
    expect(filterCount(q({ range: '1h', model: 'm', status: 'error' }))).toBe(3);
    expect(statusKind('')).toBe('');
    expect(statusKind('error')).toBe('error');
    expect(statusKind('429')).toBe('code');
  });
});

describe('logs view: the API parameters', () => {
  const now = Date.UTC(2026, 10, 26, 6, 0);

  it('sends only what is set; a preset is a window ending now', () => {
    expect(apiParams(DEFAULT_QUERY, now)).toEqual({ page: 1, pageSize: 50 });
    expect(apiParams(q({ range: '1h', model: 'm', provider: 'P', status: 'error', key: 'ck_1', page: 2, pageSize: 20 }), now)).toEqual({
      page: 2,
      pageSize: 20,
      from: now - 3_600_000,
      model: 'm',
      provider: 'P',
      status: 'error',
      clientKey: 'ck_1',
    });
  });

  it('a custom range is local time, both ends optional', () => {
    const from = new Date(2026, 10, 26, 8, 0).getTime();
    const to = new Date(2026, 10, 26, 9, 30).getTime();
    expect(localToEpoch('2026-11-26T08:00')).toBe(from);
    expect(epochToLocal(to)).toBe('2026-11-26T09:30');
    expect(apiParams(q({ range: 'custom', from: '2026-11-26T08:00', to: '2026-11-26T09:30' }), now)).toMatchObject({ from, to });
    expect(apiParams(q({ range: 'custom', to: '2026-11-26T09:30' }), now)).not.toHaveProperty('from');
    expect(localToEpoch('soon')).toBeNull();
  });

  it('refuses a range that ends before it starts', () => {
    expect(rangeError(q({ range: 'custom', from: '2026-11-26T10:00', to: '2026-11-26T09:00' }))).toBe('开始时间晚于结束时间。');
    expect(rangeError(q({ range: 'custom', from: '2026-11-26T08:00', to: '2026-11-26T09:00' }))).toBeNull();
    expect(rangeError(q({ range: '1h' }))).toBeNull();
  });
});

describe('logs view: rows', () => {
  const now = Date.UTC(2026, 10, 26, 6, 0);

  it('a plain success', () => {
    const row = logRow(logEntry('r1', { startedAt: now - 5000 }), new Map(), now);
    expect(row).toMatchObject({
      id: 'r1',
      endpoint: '对话',
      status: '200',
      statusTone: 'success',
      statusNote: '',
      provider: 'DeepInfra',
      failovers: 0,
      skipped: 0,
      latency: '850 ms',
      ttft: '300 ms',
      tokens: '30',
      tokensEstimated: false,
      tokensDetail: '输入 10 · 输出 20',
      keyLabel: '—',
    });
    expect(row.attempts).toEqual([
      {
        n: 1,
        provider: 'DeepInfra',
        upstreamModel: 'deepinfra/llama-3.3-70b',
        key: '',
        status: '200',
        outcome: 'ok',
        outcomeLabel: '成功',
        tone: 'success',
        codeText: '成功',
        reason: '',
        latency: '120 ms',
        resumed: '',
      },
    ]);
  });

  it('a failover, a skip, an estimated usage and a named key', () => {
    const entry = logEntry('r2', {
      provider: 'Together',
      usageEstimated: true,
      clientKey: 'ck_1',
      attempts: [
        attempt('Cloudflare', null, 'skipped: cooling down', { latency_ms: 0 }),
        attempt('DeepInfra', 500, 'HTTP 500: upstream error', { key: 'di-g…0001' }),
        attempt('Together', 200),
      ],
    });
    const row = logRow(entry, new Map([['ck_1', '团队 A']]), now);
    expect(row).toMatchObject({ failovers: 1, failedAttempts: 0, skipped: 1, tokensEstimated: true, keyLabel: '团队 A' });
    expect(row.tokensDetail).toContain('估算');
    expect(row.attempts.map((a) => [a.provider, a.outcome, a.status, a.latency, a.reason, a.key])).toEqual([
      ['Cloudflare', 'skipped', '—', '—', 'skipped: cooling down', ''],
      ['DeepInfra', 'error', '500', '120 ms', 'HTTP 500: upstream error', 'di-g…0001'],
      ['Together', 'ok', '200', '120 ms', '', ''],
    ]);
    // A key the list does not know (yet) shows its id.
    expect(logRow(entry, new Map(), now).keyLabel).toBe('ck_1');
  });

  it('failures: every provider failed, a stream that broke after its 200, no usage', () => {
    const failed = logRow(
      logEntry('r3', {
        status: 502,
        provider: null,
        usage: null,
        ttftMs: null,
        error: 'All providers failed',
        attempts: [attempt('DeepInfra', 500), attempt('Together', 503)],
      }),
      new Map(),
      now,
    );
    expect(failed).toMatchObject({ statusTone: 'danger', provider: '', tokens: '—', tokensDetail: '没有用量数据', ttft: '—', failovers: 0, failedAttempts: 2 });
    // Refused before any provider was tried.
    expect(logRow(logEntry('r7', { status: 503, provider: null, attempts: [] }), new Map(), now)).toMatchObject({ provider: '—', failedAttempts: 0 });
    const broken = logRow(logEntry('r4', { stream: true, error: 'upstream stream cut' }), new Map(), now);
    expect(broken).toMatchObject({ statusTone: 'warning', statusNote: '已开始返回，但中途出错' });
    expect(logRow(logEntry('r5', { endpoint: 'images' }), new Map(), now).endpoint).toBe('图片');
    expect(logRow(logEntry('r6', { endpoint: 'speech' }), new Map(), now).endpoint).toBe('语音');
  });

  it('colours statuses and attempts', () => {
    expect(statusTone(204, null)).toBe('success');
    expect(statusTone(429, null)).toBe('warning');
    expect(statusTone(404, null)).toBe('warning');
    expect(statusTone(500, null)).toBe('danger');
    expect(attemptRows([attempt('A', 429, 'HTTP 429')])[0]).toMatchObject({ outcome: 'error', tone: 'danger', outcomeLabel: '失败' });
    expect(attemptRows([attempt('A', 429, 'HTTP 429')])[0]!.resumed).toBe('');
    const resumed = attemptRows([{ ...attempt('B', 200, 'ok'), resumed_after: { chars: 42, tokens: 9, reason: 'x'.repeat(300) } }])[0]!;
    expect(resumed.resumed).toMatch(/^续写：接在已发出的 42 个字符（约 9 个 token）之后；上一次中断：x+…$/);
    expect(resumed.resumed.length).toBeLessThan(200);
  });

  it('says each attempt and the final error in Chinese, from their codes, keeping the original words', () => {
    const rows = attemptRows([
      attempt('A', 502, 'HTTP 502: 502 Bad Gateway nginx', { code: 'upstream_html' }),
      attempt('B', 500, 'HTTP 500: model crashed', { code: 'upstream_5xx' }),
      attempt('C', null, 'timeout: no first byte within 60000 ms', { code: 'upstream_timeout' }),
      attempt('D', null, 'aborted: client disconnected', { code: 'aborted', latency_ms: 60_000 }),
      // Records from before codes: read from the reason.
      attempt('E', null, 'invalid: upstream answered with an HTML page instead of an API response'),
      attempt('F', null, 'network: connect ECONNREFUSED 127.0.0.1:9'),
    ]);
    expect(rows.map((r) => [r.outcome, r.codeText, r.reason])).toEqual([
      ['error', '上游返回了 HTML 网页而不是 API 响应（HTTP 502），常见于代理、CDN 的报错页或登录页', 'HTTP 502: 502 Bad Gateway nginx'],
      ['error', '上游服务器错误（HTTP 500）', 'HTTP 500: model crashed'],
      ['error', '上游超时：在限定时间内没有回应', 'timeout: no first byte within 60000 ms'],
      ['aborted', '已中止：请求结束时这次尝试仍在等待上游（客户端断开，或网关停止等待）', 'aborted: client disconnected'],
      [
        'error',
        '上游返回了 HTML 网页而不是 API 响应，常见于代理、CDN 的报错页或登录页',
        'invalid: upstream answered with an HTML page instead of an API response',
      ],
      ['error', '无法连接上游（网络错误：连接被拒绝、重置或域名解析失败）', 'network: connect ECONNREFUSED 127.0.0.1:9'],
    ]);
    expect(rows[3]).toMatchObject({ outcomeLabel: '已中止', tone: 'warning', latency: '1 分 0 秒' });
    const failed = logRow(logEntry('r8', { status: 502, provider: null, error: 'Every provider for `x` failed: …' }), new Map(), now);
    expect(failed.errorText).toBe('所有提供商都失败了');
    expect(logRow(logEntry('r9', { status: 504, provider: null, error: 'Every provider timed out' }), new Map(), now).errorText).toBe('所有提供商都超时了');
    expect(logRow(logEntry('r10', {}), new Map(), now).errorText).toBeNull();
  });

  it('shows the time alone today, with the date on other days', () => {
    const today = new Date(2026, 10, 26, 14, 5, 9, 42).getTime();
    expect(formatLogTime(today, new Date(2026, 10, 26, 23, 0).getTime())).toEqual({ time: '14:05:09', full: '2026-11-26 14:05:09.042' });
    expect(formatLogTime(today, new Date(2026, 10, 27, 1, 0).getTime()).time).toBe('11-26 14:05:09');
  });
});
