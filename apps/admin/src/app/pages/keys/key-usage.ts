import { ChangeDetectionStrategy, Component, computed, inject, input } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialog, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { ClientKey, KeyUsageResponse, StatsRange } from '#contracts';
import { ApiService } from '../../core/api.service';
import { formatCount, formatPercent } from '../../core/format';
import { RangeLoad } from '../../shared/range/range-load';
import { RangeToggle } from '../../shared/range/range-toggle';
import { KEY_USAGE_RANGES, usageBars, usageSummary } from './key-usage-view';

export interface KeyUsageDialogData {
  id: string;
  name: string;
}

/** One client key's usage over 24 hours to 90 days: totals and a bar per hour or day. */
@Component({
  selector: 'app-key-usage-dialog',
  imports: [MatDialogModule, MatButtonModule, MatProgressBarModule, RangeToggle],
  template: `
    <h2 mat-dialog-title>用量 · {{ data.name }}</h2>
    <mat-dialog-content class="content">
      <app-range-toggle [ranges]="ranges" [value]="range()" (picked)="load($event)" label="用量时间范围" testid="key-usage-range" />
      <div class="progress">
        @if (busy()) {
          <mat-progress-bar mode="indeterminate" />
        }
      </div>
      @if (error(); as e) {
        <p class="error" role="alert">{{ e }}</p>
      }
      @if (usage(); as u) {
        <dl class="totals" data-testid="key-usage-totals">
          <div>
            <dt>请求</dt>
            <dd>{{ fmt.count(u.totals.requests) }}</dd>
          </div>
          <div>
            <dt>成功率</dt>
            <dd>{{ fmt.percent(u.totals.successRate) }}</dd>
          </div>
          <div>
            <dt>输入 Token</dt>
            <dd>{{ fmt.count(u.totals.promptTokens) }}</dd>
          </div>
          <div>
            <dt>输出 Token</dt>
            <dd>{{ fmt.count(u.totals.completionTokens) }}</dd>
          </div>
        </dl>
        <div class="chart" role="img" [attr.aria-label]="summary()" data-testid="key-usage-chart">
          @for (b of bars(); track b.start) {
            <span
              class="bar"
              [class.failed]="b.failures > 0"
              [style.height.%]="b.height * 100"
              [title]="b.label + ' · 请求 ' + b.requests + (b.failures ? '（失败 ' + b.failures + '）' : '') + ' · Token ' + b.tokens"
            ></span>
          }
        </div>
        <div class="axis app-muted" aria-hidden="true">
          <span>{{ bars()[0]?.label }}</span>
          <span>现在</span>
        </div>
      }
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" mat-dialog-close>关闭</button>
    </mat-dialog-actions>
  `,
  styles: `
    .content {
      display: flex;
      flex-direction: column;
      gap: 12px;
      min-width: min(520px, 80vw);
    }
    app-range-toggle {
      align-self: flex-start;
    }
    .progress {
      height: 4px;
    }
    .totals {
      display: grid;
      grid-template-columns: repeat(4, 1fr);
      gap: 8px;
      margin: 0;
    }
    .totals dt {
      font-size: 12px;
      opacity: 0.75;
    }
    .totals dd {
      margin: 2px 0 0;
      font-size: 18px;
      font-weight: 500;
    }
    .chart {
      display: flex;
      align-items: flex-end;
      gap: 1px;
      height: 120px;
      border-bottom: 1px solid var(--mat-sys-outline-variant);
    }
    .bar {
      flex: 1 1 0;
      min-height: 1px;
      background: var(--mat-sys-primary);
      border-radius: 2px 2px 0 0;
    }
    .bar.failed {
      background: var(--mat-sys-error);
    }
    .axis {
      display: flex;
      justify-content: space-between;
      font-size: 12px;
    }
    .error {
      color: var(--mat-sys-error);
      margin: 0;
    }
    @media (max-width: 599px) {
      .totals {
        grid-template-columns: repeat(2, 1fr);
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class KeyUsageDialog {
  private readonly api = inject(ApiService);
  protected readonly data = inject<KeyUsageDialogData>(MAT_DIALOG_DATA);
  protected readonly ranges = KEY_USAGE_RANGES;
  protected readonly fmt = { count: formatCount, percent: formatPercent };

  /** The chart stays while the next range loads. */
  private readonly loader = new RangeLoad<KeyUsageResponse>({
    fetch: (range) => this.api.keyUsage(this.data.id, range),
    initial: '7d',
    keepWhileLoading: true,
  });
  readonly range = this.loader.range;
  readonly usage = this.loader.data;
  readonly busy = this.loader.busy;
  readonly error = this.loader.error;
  readonly bars = computed(() => {
    const u = this.usage();
    return u ? usageBars(u) : [];
  });
  readonly summary = computed(() => {
    const u = this.usage();
    return u ? usageSummary(u, KEY_USAGE_RANGES.find((r) => r.range === u.range)?.label ?? u.range) : '';
  });

  constructor() {
    this.load(this.range());
  }

  /** Shows `range`, cancelling a load under way; the last chart stays until the new one arrives. */
  load(range: StatsRange): void {
    this.loader.load(range);
  }
}

/** The 用量 button of a key's row: opens its usage chart. */
@Component({
  selector: 'app-key-usage-button',
  imports: [MatButtonModule, MatIconModule, MatTooltipModule],
  template: `
    <button mat-icon-button type="button" (click)="open()" [attr.aria-label]="'查看 ' + key().name + ' 的用量'" matTooltip="用量" data-testid="key-usage">
      <mat-icon>monitoring</mat-icon>
    </button>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class KeyUsageButton {
  private readonly dialog = inject(MatDialog);
  readonly key = input.required<ClientKey>();

  open(): void {
    const k = this.key();
    this.dialog.open<KeyUsageDialog, KeyUsageDialogData>(KeyUsageDialog, { data: { id: k.id, name: k.name }, autoFocus: 'dialog' });
  }
}
