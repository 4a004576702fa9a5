import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { RouterLink } from '@angular/router';
import type { NavItem } from '../../core/nav';

/** Stands in for a page that a later release builds: what it will do, and a way back. */
@Component({
  selector: 'app-coming-soon',
  imports: [MatButtonModule, MatIconModule, RouterLink],
  template: `
    <section class="app-card soon" data-testid="coming-soon">
      <div class="badge">
        <mat-icon>{{ item().icon }}</mat-icon>
      </div>
      <span class="chip">即将上线</span>
      <h2>{{ item().label }}</h2>
      <p class="summary">{{ item().summary }}</p>
      <p class="app-muted">此页面正在建设中，将在后续版本中提供。现在可以先在控制台查看服务的实时状态。</p>
      <a mat-flat-button routerLink="/dashboard"><mat-icon>space_dashboard</mat-icon>返回控制台</a>
    </section>
  `,
  styles: `
    .soon {
      max-width: 560px;
      margin: 24px auto;
      padding: 40px 24px;
      display: flex;
      flex-direction: column;
      align-items: center;
      text-align: center;
      gap: 12px;
    }
    .badge {
      width: 72px;
      height: 72px;
      border-radius: 20px;
      display: grid;
      place-items: center;
      background: var(--mat-sys-primary-container);
      color: var(--mat-sys-on-primary-container);
    }
    .badge mat-icon {
      width: 36px;
      height: 36px;
      font-size: 36px;
    }
    .chip {
      padding: 2px 10px;
      border-radius: 999px;
      font: var(--mat-sys-label-medium);
      background: var(--mat-sys-tertiary-container);
      color: var(--mat-sys-on-tertiary-container);
    }
    h2 {
      margin: 0;
      font: var(--mat-sys-headline-small);
    }
    p {
      margin: 0;
      line-height: 1.7;
    }
    .summary {
      font: var(--mat-sys-body-large);
    }
    a {
      margin-top: 8px;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ComingSoon {
  readonly item = input.required<NavItem>();
}
