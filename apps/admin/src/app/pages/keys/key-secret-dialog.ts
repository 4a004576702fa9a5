import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, DestroyRef, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { CreatedClientKey } from '#contracts';
import { curlExample, formatRpm } from './keys-view';

export interface KeySecretDialogData {
  key: CreatedClientKey;
  /** This server's origin, for the example. */
  origin: string;
}

/**
 * The new key's secret, shown this once: the API keeps only its hash. Closing needs a click on
 * the button (no backdrop or Escape), so it is not lost by accident.
 */
@Component({
  selector: 'app-key-secret-dialog',
  imports: [MatDialogModule, MatButtonModule, MatIconModule, MatTooltipModule],
  template: `
    <h2 mat-dialog-title>密钥已创建</h2>
    <mat-dialog-content class="content">
      <p class="warning" role="alert">
        <mat-icon>warning</mat-icon>
        <span><strong>完整密钥只显示这一次。</strong>关闭后无法再次查看（服务器只保存它的哈希），请立即复制并妥善保存；丢失后只能吊销并重新创建。</span>
      </p>
      <div class="meta">
        <span class="name">{{ data.key.name }}</span>
        <span class="app-muted">限速 {{ rpm }}</span>
      </div>
      <div class="secret-row">
        <code class="secret" data-testid="created-secret">{{ data.key.secret }}</code>
        <button mat-flat-button type="button" (click)="copy('secret', data.key.secret)" data-testid="copy-secret">
          <mat-icon>{{ copied() === 'secret' ? 'check' : 'content_copy' }}</mat-icon>
          {{ copied() === 'secret' ? '已复制' : '复制' }}
        </button>
      </div>
      <div class="usage">
        <div class="usage-head">
          <span class="app-muted">调用时放在请求头 <code>Authorization: Bearer …</code> 中，例如：</span>
          <button mat-icon-button type="button" (click)="copy('curl', curl)" matTooltip="复制示例" aria-label="复制示例">
            <mat-icon>{{ copied() === 'curl' ? 'check' : 'content_copy' }}</mat-icon>
          </button>
        </div>
        <pre class="example">{{ curl }}</pre>
      </div>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-flat-button type="button" mat-dialog-close data-testid="secret-done">我已保存密钥</button>
    </mat-dialog-actions>
  `,
  styles: `
    .content {
      display: flex;
      flex-direction: column;
      gap: 14px;
      max-width: 560px;
    }
    .warning {
      display: flex;
      gap: 8px;
      align-items: flex-start;
      margin: 0;
      padding: 10px 12px;
      border-radius: 10px;
      line-height: 1.6;
      background: color-mix(in srgb, var(--app-warning) 16%, transparent);
      border: 1px solid color-mix(in srgb, var(--app-warning) 45%, transparent);
      color: var(--mat-sys-on-surface);
    }
    .warning mat-icon {
      flex: none;
      color: var(--app-warning);
    }
    .meta {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 8px;
      align-items: baseline;
    }
    .meta .name {
      font: var(--mat-sys-title-small);
    }
    .secret-row {
      display: flex;
      gap: 8px;
      align-items: stretch;
      flex-wrap: wrap;
    }
    .secret {
      flex: 1 1 260px;
      min-width: 0;
      padding: 10px 12px;
      border-radius: 10px;
      background: var(--app-code-bg);
      color: var(--app-code-fg);
      border: 1px solid var(--app-card-border);
      font-size: 14px;
      overflow-wrap: anywhere;
      user-select: all;
    }
    .secret-row button {
      flex: none;
      height: auto;
      min-height: 40px;
    }
    .usage-head {
      display: flex;
      align-items: center;
      justify-content: space-between;
      gap: 8px;
    }
    .example {
      margin: 4px 0 0;
      padding: 10px 12px;
      border-radius: 10px;
      background: var(--app-code-bg);
      color: var(--app-code-fg);
      font-size: 12px;
      white-space: pre-wrap;
      overflow-wrap: anywhere;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class KeySecretDialog {
  protected readonly data = inject<KeySecretDialogData>(MAT_DIALOG_DATA);
  private readonly clipboard = inject(Clipboard);

  protected readonly rpm = formatRpm(this.data.key.rpmLimit);
  protected readonly curl = curlExample(this.data.origin, this.data.key.secret);
  readonly copied = signal<'secret' | 'curl' | null>(null);
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => clearTimeout(this.timer));
  }

  copy(what: 'secret' | 'curl', text: string): void {
    if (!this.clipboard.copy(text)) return;
    this.copied.set(what);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.copied.set(null), 2000);
  }
}
