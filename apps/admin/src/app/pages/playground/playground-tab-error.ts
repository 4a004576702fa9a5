import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { attemptLine } from './playground-view';
import type { TabError } from './tab-view';

/** A failed request of the 嵌入 or 语音识别 tab: what went wrong in Chinese, the API's words, every upstream try. */
@Component({
  selector: 'app-playground-tab-error',
  imports: [MatIconModule],
  template: `
    @let e = error();
    <div class="error" role="alert" data-testid="tab-error">
      <mat-icon>{{ e.kind === 'unreachable' ? 'cloud_off' : 'error' }}</mat-icon>
      <div class="error-text">
        <div class="error-message">{{ e.message }}</div>
        @if (e.detail) {
          <div class="error-detail" data-testid="tab-error-detail">{{ e.detail }}</div>
        }
        @if (e.attempts.length) {
          <ol class="attempts">
            @for (t of e.attempts; track $index) {
              <li>{{ attemptLine(t) }}</li>
            }
          </ol>
        }
      </div>
    </div>
  `,
  styleUrl: './playground-error.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundTabError {
  readonly error = input.required<TabError>();
  protected readonly attemptLine = attemptLine;
}
