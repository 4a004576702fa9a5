import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { UpstreamForm } from './upstream-form';

/** 添加上游: a new OpenAI-compatible upstream (Ollama, vLLM, OpenRouter, a company proxy …). */
@Component({
  selector: 'app-upstream-dialog',
  imports: [MatDialogModule, MatButtonModule, UpstreamForm],
  template: `
    <h2 mat-dialog-title>添加上游</h2>
    <mat-dialog-content data-testid="upstream-dialog">
      <p class="intro">接入任何 OpenAI 兼容的接口，把它的模型映射成网关的模型 ID。它会和内置提供商一样参与路由、熔断与健康检查。</p>
      <app-upstream-form (saved)="ref.close($event)">
        <button mat-button type="button" mat-dialog-close data-testid="upstream-cancel">取消</button>
      </app-upstream-form>
    </mat-dialog-content>
  `,
  styles: `
    .intro {
      margin: 0 0 16px;
      color: var(--app-muted);
      line-height: 1.6;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class UpstreamDialog {
  protected readonly ref = inject(MatDialogRef<UpstreamDialog>);
}
