import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { describeApiError } from './api-error';

const envelope = (message: string, code: string | null = null) => ({ error: { message, type: 'x', param: null, code } });

describe('describeApiError', () => {
  it('no answer at all is "unreachable"', () => {
    const f = describeApiError(new HttpErrorResponse({ status: 0, statusText: 'Unknown Error' }));
    expect(f.kind).toBe('unreachable');
    expect(f.message).toContain('无法连接到服务器');
  });

  it("a proxy's 502/503/504 without the API's envelope is unreachable too; the API's own 503 is not", () => {
    expect(describeApiError(new HttpErrorResponse({ status: 502, error: '<html>Bad Gateway</html>' })).kind).toBe('unreachable');
    const own = describeApiError(new HttpErrorResponse({ status: 503, error: envelope('Storage is down', 'storage_unavailable') }));
    expect(own).toMatchObject({ kind: 'server', detail: 'Storage is down', code: 'storage_unavailable' });
    expect(own.message).toContain('503');
  });

  it('401 and 403 are "unauthorized"', () => {
    for (const status of [401, 403]) {
      const f = describeApiError(new HttpErrorResponse({ status, error: envelope('The admin session has expired', 'admin_session_expired') }));
      expect(f).toMatchObject({ kind: 'unauthorized', status, code: 'admin_session_expired' });
    }
  });

  it('429 says how long to wait', () => {
    const f = describeApiError(
      new HttpErrorResponse({ status: 429, headers: new HttpHeaders({ 'retry-after': '42' }), error: envelope('Too many failed logins') }),
    );
    expect(f).toMatchObject({ kind: 'rate-limited', retryAfter: 42 });
    expect(f.message).toBe('请求过于频繁，请 42 秒后再试。');
  });

  it('reads an envelope sent as text, and other errors', () => {
    expect(describeApiError(new HttpErrorResponse({ status: 400, error: JSON.stringify(envelope('bad', 'invalid_value')) }))).toMatchObject({
      kind: 'request',
      detail: 'bad',
      code: 'invalid_value',
    });
    expect(describeApiError(new Error('boom'))).toMatchObject({ kind: 'server', detail: 'boom' });
  });
});
