import { ChangeDetectionStrategy, Component, input, linkedSignal } from '@angular/core';
import { MatIconModule } from '@angular/material/icon';
import { formatDuration } from '../../core/format';
import { PlaygroundTabError } from './playground-tab-error';
import { attemptLine } from './playground-view';
import type { TabRun } from './tab-store';

/**
 * How a request of the 嵌入 or 语音识别 tab ended: stopped, failed (in Chinese, with every
 * attempt), or answered — the facts line (the tab's own facts projected first, then who served it
 * and how long it took) and the failover tries from the request log.
 */
@Component({
  selector: 'app-playground-tab-run',
  imports: [MatIconModule, PlaygroundTabError],
  templateUrl: './playground-tab-run.html',
  styleUrl: './playground-tab-run.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundTabRun {
  readonly run = input.required<TabRun>();
  /** Test ids start with it: emb, stt. */
  readonly prefix = input.required<string>();
  /** Said beside the time of a failure (the file, say). */
  readonly failureNote = input('');

  /** Folded again for every new request. */
  protected readonly showAttempts = linkedSignal({ source: () => this.run().startedAt, computation: () => false });
  protected readonly formatDuration = formatDuration;
  protected readonly attemptLine = attemptLine;
}
