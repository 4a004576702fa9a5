import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';

/**
 * A page's (or a panel's) state when there is nothing normal to show: `loading`, `empty`,
 * `unreachable` (the API did not answer) or `error`. Actions (retry buttons, links) go in the
 * content.
 */
export type StateKind = 'loading' | 'empty' | 'unreachable' | 'error';

const DEFAULTS: Record<StateKind, { icon: string; title: string }> = {
  loading: { icon: '', title: '正在加载…' },
  empty: { icon: 'inbox', title: '暂无数据' },
  unreachable: { icon: 'cloud_off', title: '无法连接到服务器' },
  error: { icon: 'error', title: '加载失败' },
};

@Component({
  selector: 'app-state',
  imports: [MatIconModule, MatProgressSpinnerModule],
  template: `
    <div
      class="state"
      [class]="'state-' + kind()"
      [attr.role]="kind() === 'loading' ? 'status' : kind() === 'empty' ? null : 'alert'"
      [attr.data-state]="kind()"
    >
      @if (kind() === 'loading') {
        <mat-spinner diameter="36" />
      } @else {
        <mat-icon class="icon">{{ icon() || defaults().icon }}</mat-icon>
      }
      <div class="title">{{ heading() || defaults().title }}</div>
      @if (message()) {
        <p class="message">{{ message() }}</p>
      }
      <div class="actions"><ng-content /></div>
    </div>
  `,
  styles: `
    :host {
      display: block;
    }
    .state {
      display: flex;
      flex-direction: column;
      align-items: center;
      justify-content: center;
      gap: 8px;
      padding: 40px 16px;
      text-align: center;
      min-height: 160px;
      box-sizing: border-box;
    }
    .icon {
      width: 48px;
      height: 48px;
      font-size: 48px;
      color: var(--app-muted);
    }
    .state-unreachable .icon,
    .state-error .icon {
      color: var(--app-danger);
    }
    .title {
      font: var(--mat-sys-title-medium);
      color: var(--mat-sys-on-surface);
    }
    .message {
      margin: 0;
      max-width: 36rem;
      color: var(--app-muted);
      line-height: 1.6;
    }
    .actions:empty {
      display: none;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      justify-content: center;
      margin-top: 8px;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class StateView {
  readonly kind = input.required<StateKind>();
  readonly heading = input<string>('');
  readonly message = input<string | null>(null);
  readonly icon = input<string>('');
  protected readonly defaults = computed(() => DEFAULTS[this.kind()]);
}
