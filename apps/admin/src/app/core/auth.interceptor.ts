import { HttpErrorResponse, type HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, throwError } from 'rxjs';
import { AuthService } from './auth.service';

const LOGIN_URL = '/api/auth/login';

/**
 * Adds `Authorization: Bearer <token>` to admin API calls, and sends the admin back to 登录 when
 * one answers 401/403 (session expired, revoked or never valid). The login call itself is left
 * alone: its 401 means a wrong password.
 */
export const authInterceptor: HttpInterceptorFn = (req, next) => {
  const isAdminApi = req.url.startsWith('/api/') && req.url !== LOGIN_URL;
  if (!isAdminApi) return next(req);
  const auth = inject(AuthService);
  const token = auth.token();
  const authed = token ? req.clone({ setHeaders: { Authorization: `Bearer ${token}` } }) : req;
  return next(authed).pipe(
    catchError((err: unknown) => {
      if (err instanceof HttpErrorResponse && (err.status === 401 || err.status === 403)) auth.expire();
      return throwError(() => err);
    }),
  );
};
