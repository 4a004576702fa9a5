import { DestroyRef, DOCUMENT, Injectable, computed, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import { type Observable, tap } from 'rxjs';
import type { AdminSession } from '#contracts';
import { ApiService } from './api.service';
import { BROWSER_STORAGE, STORAGE_KEYS, readJson, writeJson } from './browser';

/** Why the login page is shown: the session ran out, or the admin logged out. */
export type LoginNotice = 'expired' | 'logged-out';

const isSession = (v: unknown): v is AdminSession =>
  typeof v === 'object' && v !== null && typeof (v as AdminSession).token === 'string' && typeof (v as AdminSession).expiresAt === 'number';

/**
 * The admin session: a bearer token and its expiry, kept in localStorage so that a reload (or a
 * second tab) stays logged in until the server-side session expires.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly api = inject(ApiService);
  private readonly router = inject(Router);
  private readonly storage = inject(BROWSER_STORAGE);
  private readonly session = signal<AdminSession | null>(this.load());

  /** Epoch ms at which the session ends, or null when logged out. */
  readonly expiresAt = computed(() => this.session()?.expiresAt ?? null);
  /** Shown on the login page, then cleared by the next login. */
  readonly notice = signal<LoginNotice | null>(null);

  /** Fires when the session runs out, so that an idle page (one that polls nothing) also returns to 登录. */
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    // Logging in or out in another tab applies here too.
    const win = inject(DOCUMENT).defaultView;
    const onStorage = (e: StorageEvent) => {
      if (e.key === STORAGE_KEYS.session) this.use(this.load());
    };
    win?.addEventListener('storage', onStorage);
    inject(DestroyRef).onDestroy(() => {
      win?.removeEventListener('storage', onStorage);
      clearTimeout(this.expiryTimer);
    });
    this.use(this.session());
  }

  /** The token while the session lasts; null (and forgotten) once it has expired. */
  token(now = Date.now()): string | null {
    const s = this.session();
    if (!s) return null;
    if (s.expiresAt <= now) {
      // Whoever notices first (a guard, a request, the timer), a stored session that ran out is
      // an expired one: 登录 says so.
      this.forget();
      this.notice.set('expired');
      return null;
    }
    return s.token;
  }

  isLoggedIn(now = Date.now()): boolean {
    return this.token(now) !== null;
  }

  login(password: string): Observable<AdminSession> {
    return this.api.login(password).pipe(
      tap((s) => {
        this.notice.set(null);
        this.use(s);
        writeJson(this.storage, STORAGE_KEYS.session, s);
      }),
    );
  }

  /**
   * Asks the server whether the session still holds (the console does this when it opens): a
   * revoked or server-side expired token gets a 401, and the interceptor returns to 登录.
   */
  verify(): void {
    if (!this.token()) return;
    this.api.session().subscribe({
      next: ({ expiresAt }) => {
        const s = this.session();
        if (s && s.expiresAt !== expiresAt) {
          this.use({ ...s, expiresAt });
          writeJson(this.storage, STORAGE_KEYS.session, this.session());
        }
      },
      // 401/403 are handled by the interceptor; an unreachable server is the pages' to show.
      error: () => undefined,
    });
  }

  /** Ends the session here and on the server (best effort: the local logout never waits for it). */
  logout(): void {
    if (this.token()) this.api.logout().subscribe({ error: () => undefined });
    this.forget();
    this.notice.set('logged-out');
    void this.router.navigateByUrl('/login');
  }

  /**
   * The server said 401/403, or the token ran out: back to 登录, remembering where the admin was.
   * Several requests failing at once navigate only once.
   */
  expire(): void {
    const alreadyExpired = this.session() === null && this.notice() === 'expired';
    this.forget();
    this.notice.set('expired');
    if (alreadyExpired) return;
    const current = this.router.url;
    const returnUrl = current && !current.startsWith('/login') && current !== '/' ? current : undefined;
    void this.router.navigate(['/login'], { queryParams: returnUrl ? { returnUrl } : {} });
  }

  private forget(): void {
    this.use(null);
    writeJson(this.storage, STORAGE_KEYS.session, null);
  }

  /** Sets the session and arms the expiry timer. */
  private use(s: AdminSession | null): void {
    this.session.set(s);
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (!s) return;
    // setTimeout holds at most ~24.8 days; a longer session re-arms when the timer fires.
    const wait = Math.min(Math.max(0, s.expiresAt - Date.now()), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => {
      if (this.session()?.token !== s.token) return;
      if (s.expiresAt <= Date.now()) this.expire();
      else this.use(s);
    }, wait);
  }

  private load(): AdminSession | null {
    const s = readJson<unknown>(this.storage, STORAGE_KEYS.session);
    return isSession(s) ? s : null;
  }
}
