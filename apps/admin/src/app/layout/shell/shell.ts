import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, type OnInit, computed, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatListModule } from '@angular/material/list';
import { MatSidenavModule } from '@angular/material/sidenav';
import { MatTooltipModule } from '@angular/material/tooltip';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { filter, map } from 'rxjs';
import { AuthService } from '../../core/auth.service';
import { NAV_ITEMS } from '../../core/nav';
import { ThemeService } from '../../core/theme.service';
import { Logo } from '../../shared/logo/logo';

/** Below this width the navigation becomes a drawer behind a menu button. */
export const PHONE_QUERY = '(max-width: 959.98px)';

/** The console's frame: navigation (all pages), the page title, theme switch and logout. */
@Component({
  selector: 'app-shell',
  imports: [MatSidenavModule, MatListModule, MatIconModule, MatButtonModule, MatTooltipModule, RouterOutlet, RouterLink, RouterLinkActive, Logo],
  templateUrl: './shell.html',
  styleUrl: './shell.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class Shell implements OnInit {
  private readonly router = inject(Router);
  private readonly auth = inject(AuthService);
  protected readonly theme = inject(ThemeService);
  protected readonly nav = NAV_ITEMS;

  protected readonly isPhone = toSignal(
    inject(BreakpointObserver)
      .observe(PHONE_QUERY)
      .pipe(map((s) => s.matches)),
    { initialValue: false },
  );

  private readonly url = toSignal(
    this.router.events.pipe(
      filter((e): e is NavigationEnd => e instanceof NavigationEnd),
      map((e) => e.urlAfterRedirects),
    ),
    { initialValue: this.router.url },
  );

  /** The menu entry of the page shown (null on 页面不存在). */
  protected readonly current = computed(() => {
    const first = this.url().split(/[/?#]/)[1] ?? '';
    return this.nav.find((n) => n.path === first) ?? null;
  });

  ngOnInit(): void {
    // A session the server no longer knows (revoked, expired, logged out elsewhere) goes back to 登录
    // now, not at the first API call of whichever page is open.
    this.auth.verify();
  }

  /** The skip link moves focus itself: with `<base href="/">`, following `#main-content` would leave the page. */
  protected skipToMain(event: Event, main: HTMLElement): void {
    event.preventDefault();
    main.focus();
  }

  protected logout(): void {
    this.auth.logout();
  }
}
