import { ClipboardModule } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { LogRow } from './logs-view';

/** An expanded request log row: ids, usage, the final error and every upstream attempt. */
@Component({
  selector: 'app-log-detail',
  imports: [ClipboardModule, MatButtonModule, MatIconModule, MatTooltipModule],
  templateUrl: './log-detail.html',
  styleUrl: './log-detail.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LogDetail {
  readonly row = input.required<LogRow>();
}
