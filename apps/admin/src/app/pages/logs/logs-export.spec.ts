import { HttpHeaders, HttpResponse } from '@angular/common/http';
import { createHarness, type Harness } from '../../../testing/harness';
import { STORAGE_KEYS } from '../../core/browser';
import { DEFAULT_QUERY, type LogQuery } from './logs-view';
import { setInput } from '../providers/providers.testing';
import { LogsExport, SAVE_FILE, exportFileName, exportParams } from './logs-export';

const NOW = Date.UTC(2030, 0, 1, 8, 0);

describe('exportParams', () => {
  it('the filters the page shows, without paging, and the format', () => {
    const q: LogQuery = { ...DEFAULT_QUERY, range: '1h', model: 'gpt-4o', status: 'error', key: 'ck_1', provider: 'DeepInfra', page: 3, pageSize: 100 };
    expect(exportParams(q, NOW, 'csv')).toEqual({
      from: NOW - 3_600_000,
      model: 'gpt-4o',
      provider: 'DeepInfra',
      status: 'error',
      clientKey: 'ck_1',
      format: 'csv',
    });
    expect(exportParams(DEFAULT_QUERY, NOW, 'jsonl')).toEqual({ format: 'jsonl' });
  });

  it('takes the server’s file name, else makes one', () => {
    const named = new HttpResponse({ headers: new HttpHeaders({ 'content-disposition': 'attachment; filename="request-log-20300101-0800.csv"' }) });
    expect(exportFileName(named, 'csv')).toBe('request-log-20300101-0800.csv');
    expect(exportFileName(new HttpResponse({}), 'jsonl')).toBe('request-log.jsonl');
  });
});

describe('LogsExport', () => {
  let h: Harness;
  let saved: Array<{ blob: Blob; name: string }>;
  let sut: LogsExport;

  beforeEach(() => {
    saved = [];
    h = createHarness([{ provide: SAVE_FILE, useValue: (blob: Blob, name: string) => saved.push({ blob, name }) }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    sut = h.run(() => new LogsExport());
    setInput(sut.query, { ...DEFAULT_QUERY, model: 'm1' });
  });
  afterEach(() => {
    h.http.verify();
    h.destroy();
  });

  it('downloads the current filter as a file, one export at a time', () => {
    sut.download('csv');
    expect(sut.busy()).toBe(true);
    sut.download('jsonl');
    const req = h.http.expectOne((r) => r.url === '/api/logs/export');
    expect(req.request.params.get('format')).toBe('csv');
    expect(req.request.params.get('model')).toBe('m1');
    expect(req.request.params.has('page')).toBe(false);
    expect(req.request.responseType).toBe('blob');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok');
    req.flush(new Blob(['a,b\r\n']), { headers: { 'content-disposition': 'attachment; filename="request-log-x.csv"' } });
    expect(sut.busy()).toBe(false);
    expect(saved.map((s) => s.name)).toEqual(['request-log-x.csv']);
    expect(sut.error()).toBeNull();
  });

  it('says when the export failed', () => {
    sut.download('jsonl');
    h.http.expectOne((r) => r.url === '/api/logs/export').flush(new Blob(['{}']), { status: 500, statusText: 'Server Error' });
    expect(saved).toEqual([]);
    expect(sut.busy()).toBe(false);
    expect(sut.error()).toMatch(/^导出失败：服务器出错（HTTP 500）/);
  });
});
