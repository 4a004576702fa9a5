import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import type { RouteState } from '#contracts';

export interface PinDialogData {
  action: 'pin' | 'unpin';
  model: string;
  provider: string;
  upstream: string;
  state: RouteState;
}

/** What pinning (or unpinning) a route does, before it is done. Closes with `true` to go ahead. */
@Component({
  selector: 'app-pin-dialog',
  imports: [MatButtonModule, MatDialogModule, MatIconModule],
  template: `
    <h2 mat-dialog-title>{{ data.action === 'pin' ? '固定这条路由？' : '取消固定这条路由？' }}</h2>
    <mat-dialog-content>
      <p class="route">
        <strong>{{ data.model }}</strong> → <strong>{{ data.provider }}</strong> 上的 <code>{{ data.upstream }}</code>
      </p>
      @if (data.action === 'pin') {
        <p>
          固定后，即使 {{ data.provider }} 返回的模型列表里没有 <code>{{ data.upstream }}</code>，网关也会继续把这个模型的请求路由到它。
        </p>
        <p class="muted">适用于提供商的列表不完整、或你确定这个上游模型可用的情况。固定保存在数据库中，重启后仍然有效，可随时取消。</p>
        <p class="muted" data-testid="pin-not-force">
          固定<strong>不会</strong>让这个模型只走 {{ data.provider }}：其他提供商照常按路由策略参与。要让这个模型总是先用
          {{ data.provider }}，请在模型卡片的“路由设置”中选择“强制”；单个请求只用某个提供商，可在请求中带 <code>"provider": "{{ data.provider }}"</code>。
        </p>
      } @else {
        <p>取消后，是否路由到这里由模型发现决定：提供商的模型列表里有这个上游模型（或还没读到列表）就照常使用，没有就跳过。</p>
        @if (data.state === 'missing') {
          <p class="warn" data-testid="unpin-warning">
            <mat-icon>warning</mat-icon>
            <span>{{ data.provider }} 的列表中目前没有这个上游模型：取消固定后，请求将不再路由到这里。</span>
          </p>
        }
      }
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" [mat-dialog-close]="false">取消</button>
      <button mat-flat-button type="button" [mat-dialog-close]="true" data-testid="pin-confirm">{{ data.action === 'pin' ? '固定' : '取消固定' }}</button>
    </mat-dialog-actions>
  `,
  styles: `
    p {
      margin: 0 0 12px;
      line-height: 1.7;
    }
    .route {
      overflow-wrap: anywhere;
    }
    code {
      padding: 0 4px;
      border-radius: 4px;
      background: var(--app-code-bg);
      overflow-wrap: anywhere;
    }
    .muted {
      color: var(--app-muted);
    }
    .warn {
      display: flex;
      gap: 8px;
      align-items: flex-start;
      padding: 8px 12px;
      border-radius: 10px;
      background: color-mix(in srgb, var(--app-warning) 14%, transparent);
    }
    .warn mat-icon {
      flex: none;
      color: var(--app-warning);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PinDialog {
  protected readonly data = inject<PinDialogData>(MAT_DIALOG_DATA);
}
