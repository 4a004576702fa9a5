import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import type { StatsRange, StatsResponse } from '#contracts';
import { STORAGE_KEYS } from '../../core/browser';
import { createHarness, type Harness } from '../../../testing/harness';
import { model, models, provider, stats } from '../../../testing/fixtures';
import { DASHBOARD_POLL_MS, DashboardStore, MODELS_EVERY_N_POLLS } from './dashboard.store';

const POLL = 5000;
/** What the browser reports when the server does not answer. */
const NETWORK_ERROR = { type: 'error' } as ProgressEvent;
const SESSION = JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) });

describe('DashboardStore', () => {
  let h: Harness;
  let store: DashboardStore;

  /** A store on `range` as remembered from an earlier visit (none: the default). */
  function setup(range: StatsRange | null): void {
    h = createHarness([DashboardStore, { provide: DASHBOARD_POLL_MS, useValue: POLL }]);
    h.storage.setItem(STORAGE_KEYS.session, SESSION);
    if (range) h.storage.setItem(STORAGE_KEYS.statsRange, range);
    store = h.get(DashboardStore);
  }

  const statsReq = (): TestRequest => live('/api/stats');
  /** The one pending, not cancelled, request to `url` (a failed poll leaves cancelled siblings behind). */
  function live(url: string): TestRequest {
    const reqs = h.http.match((r) => r.url === url).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  /** Answers one poll: stats, providers and (when asked for) the model list. */
  function answer(report: StatsResponse = stats([1, 2]), opts: { models?: boolean } = {}): void {
    statsReq().flush(report);
    live('/api/providers').flush([provider('DeepInfra'), provider('Together', 'disabled')]);
    if (opts.models ?? true) live('/api/models').flush(models([model('llama-3.3-70b', [['DeepInfra']])]));
    else expect(h.http.match('/api/models').filter((r) => !r.cancelled)).toEqual([]);
  }
  /** Answers a poll between two of the range's stats: providers (and the model list when asked for) only. */
  function answerProviders(): void {
    h.http.expectNone('/api/stats');
    live('/api/providers').flush([provider('DeepInfra')]);
    for (const r of h.http.match('/api/models').filter((m) => !m.cancelled)) r.flush(models([]));
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 26, 6, 0) });
    setup(null);
  });
  afterEach(() => {
    store.stop();
    // A failed or superseded poll cancels its sibling requests; those are not left open.
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('loads stats, providers and models at once (by default the last 24 h, in hour buckets)', () => {
    expect(store.status()).toBe('loading');
    store.start();
    const req = statsReq();
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    expect(req.request.params.get('range')).toBe('24h');
    expect(req.request.params.get('granularity')).toBe('hour');
    req.flush(stats([1, 2]));
    h.http.expectOne('/api/providers').flush([provider('DeepInfra')]);
    h.http.expectOne('/api/models').flush(models([]));
    expect(store.status()).toBe('ready');
    expect(store.cards()).toMatchObject({ requests: 3, activeProviders: 1 });
    expect(store.updatedAt()).toBe(Date.now());
  });

  it('reads the range remembered from an earlier visit', () => {
    h.destroy();
    setup('1h');
    expect(store.range()).toBe('1h');
    store.start();
    expect(statsReq().request.params.get('granularity')).toBe('minute');
    h.http.expectOne('/api/providers').flush([]);
    h.http.expectOne('/api/models').flush(models([]));
  });

  it('polls every few seconds, fetching the model list only every Nth time', () => {
    store.start();
    answer(stats([1]));
    expect(store.cards()!.requests).toBe(1);
    jest.advanceTimersByTime(POLL - 1);
    h.http.expectNone('/api/stats');
    jest.advanceTimersByTime(1);
    answer(stats([1, 1]), { models: false });
    expect(store.cards()!.requests).toBe(2);
    expect(store.cards()!.availableModels).toBe(1);
    for (let i = 2; i < MODELS_EVERY_N_POLLS; i++) {
      jest.advanceTimersByTime(POLL);
      answer(stats([i]), { models: false });
    }
    jest.advanceTimersByTime(POLL);
    answer(stats([9]), { models: true });
  });

  it('keeps the data after a failed poll, says it is stale, retries, and recovers', () => {
    store.start();
    answer(stats([4]));
    jest.advanceTimersByTime(POLL);
    statsReq().error(NETWORK_ERROR, { status: 0, statusText: 'Unknown Error' });
    expect(store.status()).toBe('ready');
    expect(store.stale()).toBe(true);
    expect(store.failure()?.kind).toBe('unreachable');
    expect(store.cards()!.requests).toBe(4);
    jest.advanceTimersByTime(POLL);
    answer(stats([5]), { models: false });
    expect(store.stale()).toBe(false);
    expect(store.cards()!.requests).toBe(5);
  });

  it('a first load that fails is "unreachable" (or "error"), and keeps retrying', () => {
    store.start();
    statsReq().error(NETWORK_ERROR, { status: 0, statusText: 'Unknown Error' });
    expect(store.status()).toBe('unreachable');
    jest.advanceTimersByTime(POLL);
    statsReq().flush({ error: { message: 'boom', type: 'server_error', param: null, code: null } }, { status: 500, statusText: 'Server Error' });
    expect(store.status()).toBe('error');
    expect(store.failure()?.message).toContain('500');
    store.refresh();
    answer();
    expect(store.status()).toBe('ready');
  });

  it('stops polling on 401 (the interceptor has gone to 登录)', () => {
    store.start();
    statsReq().flush(
      { error: { message: 'expired', type: 'authentication_error', param: null, code: 'admin_session_expired' } },
      { status: 401, statusText: 'Unauthorized' },
    );
    expect(h.router.navigations[0]?.commands).toEqual(['/login']);
    jest.advanceTimersByTime(POLL * 3);
    h.http.expectNone('/api/stats');
  });

  it('skips polls while the tab is hidden and refreshes as soon as it is shown', () => {
    store.start();
    answer();
    h.document.hidden = true;
    jest.advanceTimersByTime(POLL * 3);
    h.http.expectNone('/api/stats');
    h.document.hidden = false;
    h.document.dispatch('visibilitychange');
    answer(stats([7]), { models: false });
    expect(store.cards()!.requests).toBe(7);
  });

  it('switching the range cancels the poll under way, refetches and remembers the choice', () => {
    store.start();
    answer(stats([1], { range: '24h' }));
    jest.advanceTimersByTime(POLL);
    const stale = statsReq();
    store.setRange('1h');
    expect(stale.cancelled).toBe(true);
    expect(store.switchingRange()).toBe(true);
    const req = statsReq();
    expect(req.request.params.get('range')).toBe('1h');
    expect(req.request.params.get('granularity')).toBe('minute');
    req.flush(stats([3], { range: '1h' }));
    const providers = h.http.match('/api/providers');
    expect(providers.map((r) => r.cancelled)).toEqual([true, false]);
    providers[1]!.flush([]);
    h.http.expectNone('/api/models');
    expect(store.switchingRange()).toBe(false);
    expect(h.storage.getItem(STORAGE_KEYS.statsRange)).toBe('1h');
  });

  /** A store started on `range`, its first poll answered with 1 request. */
  function startOn(range: StatsRange): void {
    h.destroy();
    setup(range);
    store.start();
    answer(stats([1], { range }));
  }
  /** Runs the polls of the next `ms` (but its last), the stats not yet due: providers only. */
  function pollProvidersFor(ms: number): void {
    for (let t = POLL; t < ms; t += POLL) {
      jest.advanceTimersByTime(POLL);
      answerProviders();
    }
    jest.advanceTimersByTime(POLL);
  }

  it.each([
    ['7d', 60_000],
    ['30d', 300_000],
    ['90d', 300_000],
  ] as const)('asks for %s stats every %i ms only; providers stay live on every poll', (range, every) => {
    startOn(range);
    pollProvidersFor(every);
    expect(store.cards()!.requests).toBe(1);
    statsReq().flush(stats([4], { range }));
    answerProviders();
    expect(store.cards()!.requests).toBe(4);
    // 刷新 asks for them at once, and the period starts again from there.
    store.refresh();
    statsReq().flush(stats([5], { range }));
    answerProviders();
    jest.advanceTimersByTime(POLL);
    answerProviders();
    expect(store.cards()!.requests).toBe(5);
  });

  it('a failed stats fetch is asked for again on the next poll, not a period later', () => {
    startOn('90d');
    pollProvidersFor(300_000);
    statsReq().error(NETWORK_ERROR, { status: 0, statusText: 'Unknown Error' });
    expect(store.stale()).toBe(true);
    jest.advanceTimersByTime(POLL);
    statsReq().flush(stats([2], { range: '90d' }));
    answerProviders();
    expect(store.cards()!.requests).toBe(2);
  });

  it('a hidden tab asks for nothing, however long the range', () => {
    startOn('90d');
    h.document.hidden = true;
    jest.advanceTimersByTime(600_000);
    expect(h.http.match(() => true)).toEqual([]);
    // Shown again after the period: everything at once, the stats included.
    h.document.hidden = false;
    h.document.dispatch('visibilitychange');
    statsReq().flush(stats([3], { range: '90d' }));
    answerProviders();
    expect(store.cards()!.requests).toBe(3);
  });

  it('stop() ends polling and listening', () => {
    store.start();
    answer();
    expect(h.document.count('visibilitychange')).toBe(1);
    store.stop();
    expect(h.document.count('visibilitychange')).toBe(0);
    jest.advanceTimersByTime(POLL * 2);
    h.http.expectNone('/api/stats');
  });

  it('empty: no request in the range', () => {
    store.start();
    answer(stats([]));
    expect(store.empty()).toBe(true);
  });
});
