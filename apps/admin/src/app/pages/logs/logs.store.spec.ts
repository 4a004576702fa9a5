import { jest } from '@jest/globals';
import type { TestRequest } from '@angular/common/http/testing';
import type { RequestLogPage } from '#contracts';
import { STORAGE_KEYS } from '../../core/browser';
import { createHarness, type Harness } from '../../../testing/harness';
import { models, provider } from '../../../testing/fixtures';
import { clientKey } from '../keys/keys.fixtures';
import { DEFAULT_QUERY, type LogQuery } from './logs-view';
import { logEntry, logPage } from './logs.fixtures';
import { KEYS_EVERY_N_POLLS, LOGS_POLL_MS, LogsStore } from './logs.store';

const POLL = 5000;
const NETWORK_ERROR = { type: 'error' } as ProgressEvent;
const q = (patch: Partial<LogQuery>): LogQuery => ({ ...DEFAULT_QUERY, ...patch });

describe('LogsStore', () => {
  let h: Harness;
  let store: LogsStore;

  function live(url: string): TestRequest {
    const reqs = h.http.match((r) => r.url === url).filter((r) => !r.cancelled);
    expect(reqs).toHaveLength(1);
    return reqs[0]!;
  }
  const logs = (): TestRequest => live('/api/logs');
  const answer = (page: RequestLogPage = logPage([logEntry('r1')])) => logs().flush(page);
  /** The filters' choices, loaded at start. */
  function options(): void {
    live('/api/providers').flush([provider('Together'), provider('DeepInfra')]);
    live('/api/models').flush(models([]));
    live('/api/keys').flush({ data: [clientKey('ck_1', { name: '团队 A' })] });
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 26, 6, 0) });
    h = createHarness([LogsStore, { provide: LOGS_POLL_MS, useValue: POLL }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    store = h.get(LogsStore);
  });
  afterEach(() => {
    store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('loads the first page and the filters’ choices', () => {
    expect(store.status()).toBe('loading');
    store.start();
    const req = logs();
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    expect(req.request.params.keys().sort()).toEqual(['page', 'pageSize']);
    expect(req.request.params.get('pageSize')).toBe('50');
    req.flush(logPage([logEntry('r1', { clientKey: 'ck_1' })]));
    options();
    expect(store.status()).toBe('ready');
    expect(store.options().providers).toEqual(['DeepInfra', 'Together']);
    expect(store.rows()[0]).toMatchObject({ id: 'r1', keyLabel: '团队 A' });
  });

  it('the URL query set before start is the first one asked for', () => {
    store.setQuery(q({ status: 'error', model: 'gpt-4o-mini', range: '1h' }));
    store.start();
    const req = logs();
    expect(req.request.params.get('status')).toBe('error');
    expect(req.request.params.get('model')).toBe('gpt-4o-mini');
    expect(Number(req.request.params.get('from'))).toBe(Date.now() - 3_600_000);
    req.flush(logPage([]));
    options();
  });

  it('refreshes every few seconds on page 1, re-reading key names now and then', () => {
    store.start();
    answer();
    options();
    for (let i = 1; i < KEYS_EVERY_N_POLLS - 1; i++) {
      jest.advanceTimersByTime(POLL);
      answer(logPage([logEntry(`r${i}`)]));
    }
    expect(h.http.match('/api/keys')).toEqual([]);
    jest.advanceTimersByTime(POLL);
    answer();
    live('/api/keys').flush({ data: [] });
    // Providers and models are read once.
    expect(h.http.match('/api/providers')).toEqual([]);
  });

  it('auto refresh: off by default on later pages, on again on page 1, and a switch', () => {
    store.start();
    answer();
    options();
    store.setQuery(q({ page: 2 }));
    expect(store.autoRefresh()).toBe(false);
    const second = logs();
    expect(second.request.params.get('page')).toBe('2');
    second.flush(logPage([logEntry('old')], { page: 2, total: 60 }));
    // Nothing scheduled after it.
    jest.advanceTimersByTime(POLL * 3);
    expect(h.http.match('/api/logs')).toEqual([]);

    // Switched on by hand: refreshes at once and keeps going.
    store.setAutoRefresh(true);
    answer(logPage([logEntry('old')], { page: 2, total: 61 }));
    jest.advanceTimersByTime(POLL);
    answer(logPage([logEntry('old')], { page: 2, total: 61 }));
    store.setAutoRefresh(false);
    jest.advanceTimersByTime(POLL * 2);
    expect(h.http.match('/api/logs')).toEqual([]);

    store.setQuery(q({ page: 1 }));
    expect(store.autoRefresh()).toBe(true);
    answer();
    jest.advanceTimersByTime(POLL);
    answer();
  });

  it('a filter change on page 1 keeps the switch as it is', () => {
    store.start();
    answer();
    options();
    store.setAutoRefresh(false);
    store.setQuery(q({ status: 'error' }));
    expect(store.autoRefresh()).toBe(false);
    answer(logPage([]));
    expect(store.filtered()).toBe(true);
  });

  it('shows the old rows while another query loads, and knows when they are the new ones', () => {
    store.start();
    answer();
    options();
    store.setQuery(q({ model: 'x' }));
    expect(store.switching()).toBe(true);
    expect(store.rows()).toHaveLength(1);
    answer(logPage([]));
    expect(store.switching()).toBe(false);
    // The same query again: nothing to do.
    store.setQuery(q({ model: 'x' }));
    expect(h.http.match('/api/logs')).toEqual([]);
  });

  it('does not ask for a range that ends before it starts', () => {
    store.setQuery(q({ range: 'custom', from: '2026-11-26T10:00', to: '2026-11-26T09:00' }));
    store.start();
    options();
    expect(h.http.match('/api/logs')).toEqual([]);
    expect(store.invalidRange()).toBe('开始时间晚于结束时间。');
    expect(store.status()).toBe('loading');
  });

  it('keeps the rows through a failed refresh, says so, and recovers', () => {
    store.start();
    answer();
    options();
    jest.advanceTimersByTime(POLL);
    logs().error(NETWORK_ERROR);
    expect(store.stale()).toBe(true);
    expect(store.rows()).toHaveLength(1);
    jest.advanceTimersByTime(POLL);
    answer();
    expect(store.stale()).toBe(false);
  });

  it('a first load that fails; the API refusing a filter is an error with its reason', () => {
    store.start();
    logs().error(NETWORK_ERROR);
    options();
    expect(store.status()).toBe('unreachable');
    jest.advanceTimersByTime(POLL);
    logs().flush(
      { error: { message: "Invalid value for 'from': it is after 'to'.", type: 'invalid_request_error', param: 'from', code: 'invalid_value' } },
      { status: 400, statusText: 'Bad Request' },
    );
    expect(store.status()).toBe('error');
    expect(store.failure()).toMatchObject({ kind: 'request', detail: "Invalid value for 'from': it is after 'to'." });
  });

  it('filters’ choices that fail to load stay empty without breaking the page', () => {
    store.start();
    answer();
    live('/api/providers').error(NETWORK_ERROR);
    live('/api/models').flush(models([]));
    live('/api/keys').flush({ data: [clientKey('ck_1')] });
    expect(store.options()).toEqual({ providers: [], models: [], keys: [clientKey('ck_1')] });
    expect(store.status()).toBe('ready');
  });

  it('remembers which rows are open across refreshes', () => {
    store.start();
    answer();
    options();
    store.toggleExpanded('r1');
    jest.advanceTimersByTime(POLL);
    answer();
    expect(store.expanded().has('r1')).toBe(true);
    store.toggleExpanded('r1');
    expect(store.expanded().has('r1')).toBe(false);
  });

  it('stops on 401 and while the tab is hidden', () => {
    store.start();
    answer();
    options();
    h.document.hidden = true;
    jest.advanceTimersByTime(POLL * 3);
    expect(h.http.match('/api/logs')).toEqual([]);
    h.document.hidden = false;
    h.document.dispatch('visibilitychange');
    logs().flush({ error: { message: 'no', type: 'authentication_error', param: null, code: null } }, { status: 401, statusText: 'Unauthorized' });
    jest.advanceTimersByTime(POLL * 3);
    expect(h.http.match('/api/logs')).toEqual([]);
  });
});
