import { createHarness, type Harness } from '../../../testing/harness';
import { provider } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { attempt, logEntry } from '../logs/logs.fixtures';
import { ProviderOverview, checkLine, failureLine, modelStatLine } from './provider-overview';
import { setInput } from './providers.testing';

describe('provider overview', () => {
  it('says why each failed request failed at this provider, in Chinese', () => {
    const entry = logEntry('r1', {
      status: 502,
      provider: null,
      model: 'llama-3.3-70b',
      error: 'Every provider failed',
      attempts: [
        attempt('HuggingFace', 500, 'HTTP 500: boom', { code: 'upstream_5xx' }),
        attempt('Together', null, 'timeout: no answer', { code: 'upstream_timeout' }),
      ],
    });
    expect(failureLine(entry, 'huggingface')).toEqual({ at: entry.startedAt, model: 'llama-3.3-70b', status: 502, text: '上游服务器错误（HTTP 500）' });
    expect(failureLine(entry, 'Together').text).toBe('上游超时：在限定时间内没有回应');
    // No attempt of its own (refused before any was sent): the request's own reason.
    expect(failureLine({ ...entry, attempts: [] }, 'Together').text).toBe('所有提供商都失败了');
  });

  it('shows each model’s attempts, 成功率 and latency, toned by the rate', () => {
    const item = (successRate: number | null) => ({
      value: 'llama-3.3-70b',
      requests: 12_345,
      successes: 0,
      failures: 0,
      successRate,
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      latencyP50Ms: 850,
      latencyP95Ms: 2400,
      latencyP99Ms: null,
      latencyAvgMs: null,
      ttftP50Ms: null,
      ttftP95Ms: null,
      ttftP99Ms: null,
      ttftAvgMs: null,
    });
    expect(modelStatLine(item(0.5))).toEqual({ model: 'llama-3.3-70b', attempts: '1.2 万', rate: '50.0%', tone: 'danger', p50: '850 ms', p95: '2.40 s' });
    expect(modelStatLine(item(1)).tone).toBe('success');
    expect(modelStatLine(item(0.9)).tone).toBe('warning');
    expect(modelStatLine(item(null))).toMatchObject({ rate: '—', tone: 'neutral' });
  });

  it('names the model each chat check tested (测试模型); the other probes test none', () => {
    const chat = { checkedAt: 1000, ok: false, latencyMs: 12, probe: 'chat', model: 'llama-3.1-8b', error: 'HTTP 503: down' };
    expect(checkLine(chat)).toEqual({ at: 1000, ok: false, tested: '对话 1 token', model: 'llama-3.1-8b', verdict: '失败 · 12 ms', error: 'HTTP 503: down' });
    // A check stored before the model was kept: no model to name, the probe's words alone.
    expect(checkLine({ ...chat, model: undefined }).model).toBeNull();
    expect(checkLine({ checkedAt: 900, ok: true, latencyMs: 9, probe: 'models', model: null, error: null })).toMatchObject({
      tested: '只读取模型列表（未测试推理）',
      model: null,
      verdict: '通过 · 9 ms',
    });
    expect(checkLine({ ...chat, probe: 'bogus' })).toMatchObject({ tested: '未发送请求', model: null });
  });
});

/** What the overview shows (protected in the component). */
interface OverviewView {
  checks(): ReturnType<typeof checkLine>[] | null;
  failures(): ReturnType<typeof failureLine>[] | null;
  modelStats(): ReturnType<typeof modelStatLine>[] | null;
  modelsFailed(): boolean;
  range(): string;
}

describe('ProviderOverview', () => {
  let h: Harness;
  let sut: ProviderOverview;
  const view = () => sut as unknown as OverviewView;
  const url = (path: string) => (r: { url: string }) => r.url === path;

  beforeEach(() => {
    h = createHarness();
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    sut = h.run(() => new ProviderOverview());
    setInput(sut.provider, provider('HuggingFace'));
    sut.ngOnInit();
  });
  afterEach(() => {
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
  });

  it('shows the checks with their model and the failures together; a part that cannot be read shows as none', () => {
    const history = h.http.expectOne(url('/api/health/history/HuggingFace'));
    expect(history.request.params.get('limit')).toBe('10');
    history.flush({
      provider: 'HuggingFace',
      items: [{ checkedAt: 1000, ok: true, latencyMs: 40, probe: 'chat', model: 'gemma-2-9b', error: null }],
    });
    expect(view().checks()).toBeNull();
    h.http.expectOne(url('/api/logs')).flush({ error: { message: 'boom' } }, { status: 500, statusText: 'x' });
    expect(
      view()
        .checks()!
        .map((c) => c.model),
    ).toEqual(['gemma-2-9b']);
    expect(view().failures()).toEqual([]);
    h.http.expectOne(url('/api/stats/providers/HuggingFace/models'));
  });

  it('per-model numbers: a newer range cancels the older load and clears the table meanwhile; a failure says so', () => {
    h.http.expectOne(url('/api/stats/providers/HuggingFace/models')).flush({ range: '24h', items: [] });
    expect(view().modelStats()).toEqual([]);
    sut.loadModels('7d');
    const week = h.http.expectOne((r) => r.params.get('range') === '7d');
    expect(view().modelStats()).toBeNull();
    sut.loadModels('1h');
    expect(week.cancelled).toBe(true);
    expect(view().range()).toBe('1h');
    h.http.expectOne((r) => r.params.get('range') === '1h').flush({ error: { message: 'boom' } }, { status: 500, statusText: 'x' });
    expect(view().modelsFailed()).toBe(true);
    h.http.expectOne(url('/api/health/history/HuggingFace'));
    h.http.expectOne(url('/api/logs'));
  });

  it('closing the dialog drops every load under way', () => {
    const pending = [
      h.http.expectOne(url('/api/health/history/HuggingFace')),
      h.http.expectOne(url('/api/logs')),
      h.http.expectOne(url('/api/stats/providers/HuggingFace/models')),
    ];
    h.destroy();
    expect(pending.map((r) => r.cancelled)).toEqual([true, true, true]);
    h = createHarness();
  });
});
