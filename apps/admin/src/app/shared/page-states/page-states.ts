import { NgTemplateOutlet } from '@angular/common';
import { ChangeDetectionStrategy, Component, TemplateRef, computed, contentChild, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import type { PollState } from '../../core/polling';
import { StateView } from '../state/state';
import { StaleBanner } from './stale-banner';

/**
 * A page's data states in one place: loading, unreachable and error (each with 重试) while there
 * is nothing to show, then the page's own content (an `<ng-template>` inside this element), under a
 * stale banner when the latest refresh failed. Renders no box of its own (`display: contents`), so
 * the page's layout sees the states and the content directly.
 *
 * The test ids are `<testid>-unreachable`, `<testid>-error` and `staleTestid` (`stale-banner`).
 */
@Component({
  selector: 'app-page-states',
  imports: [NgTemplateOutlet, MatButtonModule, MatIconModule, StateView, StaleBanner],
  template: `
    @switch (state().status()) {
      @case ('loading') {
        <app-state class="app-card" kind="loading" [heading]="loadingHeading()" />
      }
      @case ('unreachable') {
        <app-state class="app-card" kind="unreachable" [message]="unreachableMessage()" [attr.data-testid]="testid() + '-unreachable'">
          <button mat-flat-button type="button" (click)="retry.emit()"><mat-icon>refresh</mat-icon>重试</button>
        </app-state>
      }
      @case ('error') {
        <app-state class="app-card" kind="error" [message]="state().failure()?.message ?? null" [attr.data-testid]="testid() + '-error'">
          @if (showDetail() && state().failure()?.detail; as detail) {
            <code class="error-detail">{{ detail }}</code>
          }
          <button mat-flat-button type="button" (click)="retry.emit()"><mat-icon>refresh</mat-icon>重试</button>
        </app-state>
      }
      @case ('ready') {
        @if (state().stale()) {
          <app-stale-banner
            [state]="state()"
            [subject]="staleSubject()"
            [showDetail]="showDetail()"
            [attr.data-testid]="staleTestid()"
            (retry)="retry.emit()"
          />
        }
        <ng-container [ngTemplateOutlet]="content()" />
      }
    }
  `,
  styles: `
    :host {
      display: contents;
    }
    .error-detail {
      display: block;
      max-width: 36rem;
      margin-bottom: 8px;
      color: var(--app-muted);
      overflow-wrap: anywhere;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PageStates {
  readonly state = input.required<PollState>();
  /** Prefix of the states' test ids: `dashboard` gives `dashboard-unreachable` and `dashboard-error`. */
  readonly testid = input.required<string>();
  readonly staleTestid = input('stale-banner');
  readonly loadingHeading = input.required<string>();
  /** The page retries by itself this often (s); null when it does not. */
  readonly retrySeconds = input<number | null>(null);
  /** The stale banner's word for what is shown (数据, 状态 …). */
  readonly staleSubject = input('数据');
  /** Shows the API's own message (English) with the error and the stale banner. */
  readonly showDetail = input(false);
  readonly retry = output();

  /** The page's content, shown once there is data. */
  protected readonly content = contentChild.required(TemplateRef, { descendants: false });
  protected readonly unreachableMessage = computed(() => {
    const seconds = this.retrySeconds();
    return '请检查服务是否在运行、网络是否通畅。' + (seconds ? `页面每 ${seconds} 秒自动重试。` : '');
  });
}
