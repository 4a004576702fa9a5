import { Injectable, inject } from '@angular/core';
import { MatSnackBar } from '@angular/material/snack-bar';
import { describeApiError } from '../../core/api-error';
import { formFailure } from './providers-forms';

/** The page's snackbars: what an action did, or why it failed (in Chinese). */
@Injectable()
export class Notice {
  private readonly snack = inject(MatSnackBar);

  ok(message: string): void {
    this.snack.open(message, '关闭', { duration: 4000 });
  }

  /** `what` failed: says why. Nothing for 401/403 (the console is on its way to 登录). */
  error(what: string, err: unknown): void {
    if (describeApiError(err).kind === 'unauthorized') return;
    this.snack.open(`${what}：${formFailure(err, []).message}`, '关闭', { duration: 10_000 });
  }
}
