import { createHarness, type Harness } from '../../../testing/harness';
import { AuthService } from '../../core/auth.service';
import { STORAGE_KEYS } from '../../core/browser';
import LoginPage, { safeReturnUrl } from './login';

/** The page's protected members, for driving it as a class. */
interface LoginView {
  password: { set(v: string): void };
  pending(): boolean;
  error(): string | null;
  notice(): { icon: string; text: string } | null;
  submit(): void;
}

describe('LoginPage', () => {
  let h: Harness;
  let page: LoginView;

  beforeEach(() => {
    h = createHarness();
    page = h.run(() => new LoginPage()) as unknown as LoginView;
  });
  afterEach(() => {
    h.http.verify();
    h.destroy();
  });

  it('asks for the password before calling the API', () => {
    page.submit();
    expect(page.error()).toBe('请输入管理员密码。');
    h.http.expectNone('/api/auth/login');
  });

  it('logs in and goes to the console', () => {
    page.password.set('secret');
    page.submit();
    expect(page.pending()).toBe(true);
    page.submit(); // a double click sends one request
    h.http.expectOne('/api/auth/login').flush({ token: 'tok', expiresAt: Date.now() + 60_000 });
    expect(page.pending()).toBe(false);
    expect(h.get(AuthService).isLoggedIn()).toBe(true);
    expect(h.router.navigations).toEqual([{ url: '/dashboard' }]);
    expect(h.storage.getItem(STORAGE_KEYS.session)).toContain('"tok"');
  });

  it('says so when the password is wrong', () => {
    page.password.set('nope');
    page.submit();
    h.http
      .expectOne('/api/auth/login')
      .flush(
        { error: { message: 'Wrong admin password.', type: 'authentication_error', param: 'password', code: 'invalid_admin_password' } },
        { status: 401, statusText: 'Unauthorized' },
      );
    expect(page.error()).toBe('密码错误，请重试。');
    expect(page.pending()).toBe(false);
    expect(h.router.navigations).toEqual([]);
  });

  it('passes on the throttle and unreachable messages', () => {
    page.password.set('nope');
    page.submit();
    h.http
      .expectOne('/api/auth/login')
      .flush(
        { error: { message: 'Too many failed logins; try again in 30 s.', type: 'rate_limit_exceeded', param: null, code: 'too_many_logins' } },
        { status: 429, statusText: 'Too Many Requests', headers: { 'retry-after': '30' } },
      );
    expect(page.error()).toBe('请求过于频繁，请 30 秒后再试。');
    page.submit();
    h.http.expectOne('/api/auth/login').error({ type: 'error' } as ProgressEvent, { status: 0 });
    expect(page.error()).toContain('无法连接到服务器');
  });

  it('explains why it is shown', () => {
    expect(page.notice()).toBeNull();
    h.get(AuthService).notice.set('expired');
    expect(page.notice()?.text).toBe('登录已过期，请重新登录。');
    h.get(AuthService).notice.set('logged-out');
    expect(page.notice()?.text).toBe('已退出登录。');
  });
});

describe('safeReturnUrl', () => {
  it('returns only to pages of this console', () => {
    expect(safeReturnUrl('/keys?x=1')).toBe('/keys?x=1');
    expect(safeReturnUrl(undefined)).toBe('/dashboard');
    expect(safeReturnUrl('https://evil.example/')).toBe('/dashboard');
    expect(safeReturnUrl('//evil.example/')).toBe('/dashboard');
    expect(safeReturnUrl('/\\evil.example')).toBe('/dashboard');
    expect(safeReturnUrl('/login?returnUrl=/x')).toBe('/dashboard');
  });
});
