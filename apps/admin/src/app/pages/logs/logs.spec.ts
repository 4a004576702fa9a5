import { jest } from '@jest/globals';
import { BreakpointObserver } from '@angular/cdk/layout';
import { ActivatedRoute, type ParamMap, convertToParamMap } from '@angular/router';
import { BehaviorSubject, of } from 'rxjs';
import type { ClientKey } from '#contracts';
import { STORAGE_KEYS } from '../../core/browser';
import { createHarness, type Harness } from '../../../testing/harness';
import { model, models, provider } from '../../../testing/fixtures';
import { clientKey } from '../keys/keys.fixtures';
import LogsPage from './logs';
import type { LogQuery, StatusKind, TimePreset } from './logs-view';
import { logEntry, logPage } from './logs.fixtures';
import { LOGS_POLL_MS, LogsStore } from './logs.store';
import { ZhPaginatorIntl } from './paginator-intl';

interface LogsView {
  store: LogsStore;
  statusChoice(): StatusKind;
  modelText(): string;
  modelSuggestions(): string[];
  providerOptions(): string[];
  keyOptions(): Array<{ id: string; label: string }>;
  ngOnInit(): void;
  update(patch: Partial<LogQuery>): void;
  setRange(range: TimePreset): void;
  setModel(value: string): void;
  setStatusChoice(kind: StatusKind): void;
  setStatusCode(value: string): void;
  clearFilters(): void;
  onPage(e: { pageIndex: number; pageSize: number; length: number }): void;
}

describe('LogsPage', () => {
  let h: Harness;
  let page: LogsView;
  let params: BehaviorSubject<ParamMap>;

  /** The URL the page navigated to last, as query parameters. */
  function lastNavigation(): Record<string, string | null> {
    const nav = h.router.navigations.at(-1)!;
    return (nav.extras as { queryParams: Record<string, string | null> }).queryParams;
  }
  /** What the router would do: the URL's parameters change, the page reads them. */
  function follow(): void {
    const q = Object.fromEntries(Object.entries(lastNavigation()).filter(([, v]) => v !== null)) as Record<string, string>;
    params.next(convertToParamMap(q));
  }
  function options(keys: ClientKey[] = [clientKey('ck_1', { name: '团队 A' }), clientKey('ck_2', { name: '旧', revoked: true })]): void {
    h.http.expectOne('/api/providers').flush([provider('Together'), provider('DeepInfra')]);
    h.http.expectOne('/api/models').flush(models([]));
    h.http.expectOne('/api/keys').flush({ data: keys });
  }
  const logsReq = () => h.http.expectOne((r) => r.url === '/api/logs');

  function setup(url: Record<string, string> = {}): void {
    params = new BehaviorSubject(convertToParamMap(url));
    h = createHarness([
      LogsStore,
      { provide: LOGS_POLL_MS, useValue: 5000 },
      { provide: ActivatedRoute, useValue: { queryParamMap: params.asObservable() } },
      { provide: BreakpointObserver, useValue: { observe: () => of({ matches: false, breakpoints: {} }) } },
    ]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    page = h.run(() => new LogsPage()) as unknown as LogsView;
  }

  beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 10, 26, 6, 0) }));
  afterEach(() => {
    page.store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it('a reload keeps the filters: the first request is the URL’s', () => {
    setup({ status: 'error', model: 'gpt-4o-mini', page: '2', size: '100', key: 'ck_9' });
    page.ngOnInit();
    const req = logsReq();
    expect(req.request.params.get('status')).toBe('error');
    expect(req.request.params.get('model')).toBe('gpt-4o-mini');
    expect(req.request.params.get('page')).toBe('2');
    expect(req.request.params.get('pageSize')).toBe('100');
    expect(req.request.params.get('clientKey')).toBe('ck_9');
    req.flush(logPage([], { page: 2, pageSize: 100 }));
    options();
    expect(page.statusChoice()).toBe('error');
    expect(page.modelText()).toBe('gpt-4o-mini');
    // Page 2: no auto refresh by default.
    expect(page.store.autoRefresh()).toBe(false);
    // A key the list does not have is still offered, so the select shows it.
    expect(page.keyOptions()).toEqual([
      { id: 'ck_9', label: 'ck_9' },
      { id: 'ck_1', label: '团队 A' },
      { id: 'ck_2', label: '旧（已吊销）' },
    ]);
  });

  it('puts every filter change in the URL and goes back to page 1', () => {
    setup({ page: '3' });
    page.ngOnInit();
    logsReq().flush(logPage([logEntry('r1')], { page: 3, total: 200 }));
    options();

    page.update({ provider: 'Together' });
    expect(lastNavigation()).toMatchObject({ provider: 'Together', page: null });
    expect(h.router.navigations.at(-1)!.extras).toMatchObject({ replaceUrl: true });
    follow();
    expect(logsReq().request.params.get('provider')).toBe('Together');

    page.setStatusChoice('success');
    expect(lastNavigation()).toMatchObject({ status: 'success', provider: 'Together' });
    follow();
    logsReq().flush(logPage([]));

    page.setRange('1h');
    expect(lastNavigation()).toMatchObject({ range: '1h' });
    follow();
    expect(Number(logsReq().request.params.get('from'))).toBe(Date.now() - 3_600_000);
  });

  it('pages and page sizes', () => {
    setup();
    page.ngOnInit();
    logsReq().flush(logPage([logEntry('r1')], { total: 500 }));
    options();
    page.onPage({ pageIndex: 2, pageSize: 50, length: 500 });
    expect(lastNavigation()).toMatchObject({ page: '3', size: null });
    follow();
    expect(page.store.autoRefresh()).toBe(false);
    logsReq().flush(logPage([logEntry('r1')], { page: 3, total: 500 }));
    // Another page size starts again from the first page.
    page.onPage({ pageIndex: 2, pageSize: 100, length: 500 });
    expect(lastNavigation()).toMatchObject({ page: null, size: '100' });
  });

  it('a status code: chosen first, typed next; only real codes are sent', () => {
    setup();
    page.ngOnInit();
    logsReq().flush(logPage([]));
    options();
    page.setStatusChoice('code');
    expect(page.statusChoice()).toBe('code');
    // No code yet: the URL has no status, and the choice stays.
    follow();
    expect(page.statusChoice()).toBe('code');
    const before = h.router.navigations.length;
    page.setStatusCode('99');
    expect(h.router.navigations).toHaveLength(before);
    page.setStatusCode('502');
    expect(lastNavigation()).toMatchObject({ status: '502' });
    follow();
    expect(logsReq().request.params.get('status')).toBe('502');
    expect(page.statusChoice()).toBe('code');
  });

  it('the model field: suggestions follow the typing, the filter changes on a pick', () => {
    setup();
    page.ngOnInit();
    logsReq().flush(logPage([]));
    h.http.expectOne('/api/providers').flush([provider('DeepInfra')]);
    h.http.expectOne('/api/models').flush(models(['llama-3.3-70b', 'gpt-4o-mini', 'gpt-4.1'].map((id) => model(id, [['DeepInfra']]))));
    h.http.expectOne('/api/keys').flush({ data: [] });
    (page as unknown as { modelText: { set(v: string): void } }).modelText.set('GPT');
    expect(page.modelSuggestions()).toEqual(['gpt-4.1', 'gpt-4o-mini']);
    page.setModel(' gpt-4.1 ');
    expect(lastNavigation()).toMatchObject({ model: 'gpt-4.1' });
    const count = h.router.navigations.length;
    follow();
    logsReq().flush(logPage([]));
    // The same model again (blur after a pick): no navigation.
    page.setModel('gpt-4.1');
    expect(h.router.navigations).toHaveLength(count);
  });

  it('a custom range starts as the last hour; clearing resets all but the page size', () => {
    setup({ size: '20', model: 'm' });
    page.ngOnInit();
    logsReq().flush(logPage([]));
    options();
    page.setRange('custom');
    const nav = lastNavigation();
    expect(nav['range']).toBe('custom');
    expect(nav['from']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    follow();
    logsReq().flush(logPage([]));
    page.clearFilters();
    expect(lastNavigation()).toEqual({ range: null, from: null, to: null, model: null, provider: null, status: null, key: null, page: null, size: '20' });
  });
});

describe('ZhPaginatorIntl', () => {
  it('speaks Chinese in the paginator', () => {
    const intl = new ZhPaginatorIntl();
    expect(intl.itemsPerPageLabel).toBe('每页条数');
    expect(intl.getRangeLabel(0, 50, 0)).toBe('共 0 条');
    expect(intl.getRangeLabel(1, 50, 128)).toBe('51–100 / 共 128 条');
    expect(intl.getRangeLabel(5, 50, 128)).toBe('共 128 条');
  });
});
