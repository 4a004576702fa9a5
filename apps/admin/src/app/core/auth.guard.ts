import { inject } from '@angular/core';
import { type CanActivateFn, Router } from '@angular/router';
import { AuthService } from './auth.service';

/** Console pages need a live session; without one, 登录 (and back here afterwards). */
export const authGuard: CanActivateFn = (_route, state) => {
  const auth = inject(AuthService);
  const hadSession = auth.expiresAt() !== null;
  if (auth.isLoggedIn()) return true;
  // A stored session that ran out is "expired", not "never logged in".
  if (hadSession) auth.notice.set('expired');
  const returnUrl = state.url && state.url !== '/' && state.url !== '/dashboard' ? state.url : undefined;
  return inject(Router).createUrlTree(['/login'], { queryParams: returnUrl ? { returnUrl } : {} });
};

/** Logged in already: 登录 has nothing to do, go to the console. */
export const loginGuard: CanActivateFn = () => (inject(AuthService).isLoggedIn() ? inject(Router).createUrlTree(['/dashboard']) : true);
