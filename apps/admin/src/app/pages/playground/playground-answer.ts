import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, computed, inject, input, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { MarkdownView } from '../../shared/markdown/markdown-view';
import { type AnswerTurn, answerDetail, attemptLine } from './playground-view';

/** One answer of the conversation: streamed Markdown (or images), how it went, and what it cost. */
@Component({
  selector: 'app-playground-answer',
  imports: [MatButtonModule, MatIconModule, MatProgressSpinnerModule, MatTooltipModule, MarkdownView],
  templateUrl: './playground-answer.html',
  styleUrls: ['./playground-error.scss', './playground-answer.scss'],
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundAnswer {
  private readonly clipboard = inject(Clipboard);
  private readonly snackBar = inject(MatSnackBar);

  readonly answer = input.required<AnswerTurn>();
  /** Another request is under way (retry waits for it). */
  readonly busy = input(false);
  readonly retry = output<number>();

  protected readonly active = computed(() => this.answer().status === 'pending' || this.answer().status === 'streaming');
  protected readonly detail = computed(() => answerDetail(this.answer()));
  protected readonly attemptLine = attemptLine;
  protected readonly showAttempts = signal(false);

  protected copy(): void {
    const ok = this.clipboard.copy(this.answer().content);
    this.snackBar.open(ok ? '已复制回答' : '复制失败，请手动选择文本复制', undefined, { duration: 2000 });
  }
}
