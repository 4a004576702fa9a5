import { jest } from '@jest/globals';
import { HttpClient } from '@angular/common/http';
import type { ActivatedRouteSnapshot, RouterStateSnapshot } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { createHarness, type Harness } from '../../testing/harness';
import { authGuard, loginGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { STORAGE_KEYS } from './browser';

const HOUR = 3_600_000;
const unauthorized = { status: 401, statusText: 'Unauthorized' };
const expiredBody = {
  error: { message: 'The admin session has expired or is invalid; log in again.', type: 'authentication_error', param: null, code: 'admin_session_expired' },
};

function storeSession(h: Harness, token: string, expiresAt: number): void {
  h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token, expiresAt }));
}

const state = (url: string) => ({ url }) as RouterStateSnapshot;
const route = {} as ActivatedRouteSnapshot;

describe('AuthService', () => {
  let h: Harness;
  afterEach(() => {
    h.http.verify();
    h.destroy();
  });

  it('logs in with the password and keeps the session in localStorage', async () => {
    h = createHarness();
    const auth = h.get(AuthService);
    expect(auth.isLoggedIn()).toBe(false);
    const done = firstValueFrom(auth.login('secret'));
    const req = h.http.expectOne('/api/auth/login');
    expect(req.request.method).toBe('POST');
    expect(req.request.body).toEqual({ password: 'secret' });
    expect(req.request.headers.has('Authorization')).toBe(false);
    const expiresAt = Date.now() + HOUR;
    req.flush({ token: 'tok-1', expiresAt });
    await done;
    expect(auth.token()).toBe('tok-1');
    expect(auth.expiresAt()).toBe(expiresAt);
    expect(JSON.parse(h.storage.getItem(STORAGE_KEYS.session)!)).toEqual({ token: 'tok-1', expiresAt });
  });

  it('picks a stored session up, and forgets it once it has expired', () => {
    h = createHarness();
    storeSession(h, 'tok-2', Date.now() + HOUR);
    const auth = h.get(AuthService);
    expect(auth.token()).toBe('tok-2');
    expect(auth.token(Date.now() + 2 * HOUR)).toBeNull();
    expect(h.storage.getItem(STORAGE_KEYS.session)).toBeNull();
  });

  it('ignores a corrupt stored session', () => {
    h = createHarness();
    h.storage.setItem(STORAGE_KEYS.session, '{"token":42');
    expect(h.get(AuthService).isLoggedIn()).toBe(false);
  });

  it('follows a login or logout in another tab', () => {
    h = createHarness();
    const auth = h.get(AuthService);
    storeSession(h, 'tok-other-tab', Date.now() + HOUR);
    h.document.defaultView.dispatch('storage', { key: STORAGE_KEYS.session });
    expect(auth.token()).toBe('tok-other-tab');
    h.storage.removeItem(STORAGE_KEYS.session);
    h.document.defaultView.dispatch('storage', { key: STORAGE_KEYS.session });
    expect(auth.isLoggedIn()).toBe(false);
  });

  it('checks the stored session with the server when the console opens', () => {
    h = createHarness();
    storeSession(h, 'tok-revoked', Date.now() + HOUR);
    const auth = h.get(AuthService);
    auth.verify();
    const req = h.http.expectOne('/api/auth/session');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok-revoked');
    req.flush(expiredBody, unauthorized);
    expect(auth.isLoggedIn()).toBe(false);
    expect(auth.notice()).toBe('expired');
    expect(h.router.navigations).toHaveLength(1);
  });

  it('takes the server’s expiry, and does not ask without a session', () => {
    h = createHarness();
    const auth = h.get(AuthService);
    auth.verify();
    h.http.expectNone('/api/auth/session');
    storeSession(h, 'tok-ok', Date.now() + HOUR);
    h.document.defaultView.dispatch('storage', { key: STORAGE_KEYS.session });
    auth.verify();
    const later = Date.now() + 2 * HOUR;
    h.http.expectOne('/api/auth/session').flush({ expiresAt: later });
    expect(auth.expiresAt()).toBe(later);
    expect(JSON.parse(h.storage.getItem(STORAGE_KEYS.session)!).expiresAt).toBe(later);
  });

  it('returns to 登录 by itself when the session runs out, even on a page that polls nothing', () => {
    jest.useFakeTimers();
    try {
      h = createHarness();
      storeSession(h, 'tok-short', Date.now() + 60_000);
      const auth = h.get(AuthService);
      jest.advanceTimersByTime(59_999);
      expect(h.router.navigations).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(auth.notice()).toBe('expired');
      expect(h.router.navigations).toHaveLength(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('logs out here at once and on the server', () => {
    h = createHarness();
    storeSession(h, 'tok-3', Date.now() + HOUR);
    const auth = h.get(AuthService);
    auth.logout();
    const req = h.http.expectOne('/api/auth/logout');
    expect(req.request.headers.get('Authorization')).toBe('Bearer tok-3');
    req.flush(null, { status: 204, statusText: 'No Content' });
    expect(auth.isLoggedIn()).toBe(false);
    expect(auth.notice()).toBe('logged-out');
    expect(h.router.navigations).toEqual([{ url: '/login' }]);
  });
});

describe('authInterceptor', () => {
  let h: Harness;
  afterEach(() => {
    h.http.verify();
    h.destroy();
  });

  it('adds the bearer token to /api calls only', () => {
    h = createHarness();
    storeSession(h, 'tok-4', Date.now() + HOUR);
    const http = h.get(HttpClient);
    http.get('/api/stats').subscribe();
    http.get('/v1/models').subscribe();
    http.get('/health').subscribe();
    expect(h.http.expectOne('/api/stats').request.headers.get('Authorization')).toBe('Bearer tok-4');
    expect(h.http.expectOne('/v1/models').request.headers.has('Authorization')).toBe(false);
    expect(h.http.expectOne('/health').request.headers.has('Authorization')).toBe(false);
  });

  it('sends the admin to 登录 on 401, once, remembering the page', async () => {
    h = createHarness();
    storeSession(h, 'tok-5', Date.now() + HOUR);
    h.router.url = '/providers?tab=keys';
    const http = h.get(HttpClient);
    const errors: number[] = [];
    for (const url of ['/api/stats', '/api/providers', '/api/models']) http.get(url).subscribe({ error: (e: { status: number }) => errors.push(e.status) });
    for (const url of ['/api/stats', '/api/providers', '/api/models']) h.http.expectOne(url).flush(expiredBody, unauthorized);
    expect(errors).toEqual([401, 401, 401]);
    const auth = h.get(AuthService);
    expect(auth.isLoggedIn()).toBe(false);
    expect(auth.notice()).toBe('expired');
    expect(h.router.navigations).toEqual([{ commands: ['/login'], extras: { queryParams: { returnUrl: '/providers?tab=keys' } } }]);
    expect(h.storage.getItem(STORAGE_KEYS.session)).toBeNull();
  });

  it('treats 403 like 401, but leaves other errors and the login call alone', () => {
    h = createHarness();
    storeSession(h, 'tok-6', Date.now() + HOUR);
    const http = h.get(HttpClient);
    http.get('/api/stats').subscribe({ error: () => undefined });
    h.http.expectOne('/api/stats').flush({}, { status: 500, statusText: 'Server Error' });
    expect(h.get(AuthService).isLoggedIn()).toBe(true);
    http.post('/api/auth/login', { password: 'wrong' }).subscribe({ error: () => undefined });
    h.http.expectOne('/api/auth/login').flush(expiredBody, unauthorized);
    expect(h.get(AuthService).isLoggedIn()).toBe(true);
    expect(h.router.navigations).toEqual([]);
    http.get('/api/keys').subscribe({ error: () => undefined });
    h.http.expectOne('/api/keys').flush({}, { status: 403, statusText: 'Forbidden' });
    expect(h.get(AuthService).isLoggedIn()).toBe(false);
    expect(h.router.navigations).toHaveLength(1);
  });
});

describe('guards', () => {
  let h: Harness;
  afterEach(() => h.destroy());

  it('let a live session through', () => {
    h = createHarness();
    storeSession(h, 'tok-7', Date.now() + HOUR);
    expect(h.run(() => authGuard(route, state('/keys')))).toBe(true);
    expect(h.run(() => loginGuard(route, state('/login')))).toEqual({ commands: ['/dashboard'], extras: undefined });
  });

  it('send everyone else to 登录 with the page to come back to', () => {
    h = createHarness();
    expect(h.run(() => authGuard(route, state('/keys')))).toEqual({ commands: ['/login'], extras: { queryParams: { returnUrl: '/keys' } } });
    expect(h.run(() => authGuard(route, state('/dashboard')))).toEqual({ commands: ['/login'], extras: { queryParams: {} } });
    expect(h.get(AuthService).notice()).toBeNull();
    expect(h.run(() => loginGuard(route, state('/login')))).toBe(true);
  });

  it('call a session that ran out "expired"', () => {
    h = createHarness();
    storeSession(h, 'tok-8', Date.now() - 1);
    expect(h.run(() => authGuard(route, state('/logs')))).toEqual({ commands: ['/login'], extras: { queryParams: { returnUrl: '/logs' } } });
    expect(h.get(AuthService).notice()).toBe('expired');
  });
});
