import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { formatClock } from '../../core/format';
import type { PollState } from '../../core/polling';

/**
 * Says that a refresh failed and the page shows older data: the failure, the time of the data
 * shown, and 立即重试. Put `data-testid` on it as the page's tests expect.
 */
@Component({
  selector: 'app-stale-banner',
  imports: [MatButtonModule, MatIconModule],
  host: { class: 'app-banner', role: 'alert' },
  template: `
    <mat-icon>cloud_off</mat-icon>
    <span class="app-banner-text">
      {{ state().failure()?.message }}
      @if (showDetail() && state().failure()?.detail; as detail) {
        <span class="app-muted">（{{ detail }}）</span>
      }
      @if (state().updatedAt(); as at) {
        下面显示的是 {{ clock(at) }} 的{{ subject() }}。
      }
    </span>
    <button mat-button type="button" (click)="retry.emit()">立即重试</button>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class StaleBanner {
  readonly state = input.required<PollState>();
  /** What is shown: 数据 (the default), 状态 … */
  readonly subject = input('数据');
  /** Adds the API's own message (English) after the sentence. */
  readonly showDetail = input(false);
  readonly retry = output();
  protected readonly clock = formatClock;
}
