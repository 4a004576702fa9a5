import { ChangeDetectionStrategy, Component, type ElementRef, afterNextRender, computed, inject, input, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatTooltipModule } from '@angular/material/tooltip';
import { Router } from '@angular/router';
import { describeApiError } from '../../core/api-error';
import { AuthService } from '../../core/auth.service';
import { ThemeService } from '../../core/theme.service';
import { Logo } from '../../shared/logo/logo';

/** Where to go after logging in: only paths inside the console, never another site. */
export function safeReturnUrl(url: string | null | undefined): string {
  if (!url || !url.startsWith('/') || url.startsWith('//') || url.startsWith('/\\') || url.startsWith('/login')) return '/dashboard';
  return url;
}

/** 登录: the admin password (ADMIN_PASSWORD) gets a session token. */
@Component({
  selector: 'app-login-page',
  imports: [FormsModule, MatFormFieldModule, MatInputModule, MatButtonModule, MatIconModule, MatProgressSpinnerModule, MatTooltipModule, Logo],
  templateUrl: './login.html',
  styleUrl: './login.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class LoginPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly theme = inject(ThemeService);

  /** ?returnUrl= (bound by the router). */
  readonly returnUrl = input<string | undefined>();

  protected readonly password = signal('');
  protected readonly reveal = signal(false);
  protected readonly pending = signal(false);
  protected readonly error = signal<string | null>(null);
  private readonly passwordInput = viewChild<ElementRef<HTMLInputElement>>('passwordInput');

  constructor() {
    // Ready to type: the password field has the focus when the page opens.
    afterNextRender(() => this.passwordInput()?.nativeElement.focus());
  }

  protected readonly notice = computed(() => {
    switch (this.auth.notice()) {
      case 'expired':
        return { icon: 'schedule', text: '登录已过期，请重新登录。' };
      case 'logged-out':
        return { icon: 'check_circle', text: '已退出登录。' };
      default:
        return null;
    }
  });

  submit(): void {
    const password = this.password();
    if (this.pending()) return;
    if (!password) {
      this.error.set('请输入管理员密码。');
      return;
    }
    this.pending.set(true);
    this.error.set(null);
    this.auth.login(password).subscribe({
      next: () => {
        this.pending.set(false);
        void this.router.navigateByUrl(safeReturnUrl(this.returnUrl()));
      },
      error: (err: unknown) => {
        this.pending.set(false);
        const failure = describeApiError(err);
        this.error.set(failure.status === 401 ? '密码错误，请重试。' : failure.message);
      },
    });
  }
}
