import { ChangeDetectionStrategy, Component, DestroyRef, computed, inject, input, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MAT_DIALOG_DATA, MatDialog, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { Subscription } from 'rxjs';
import type { ClientKey, KeyUsageResponse, StatsRange } from '#contracts';
import { ApiService } from '../../core/api.service';
import { describeApiError } from '../../core/api-error';
import { formatCount, formatPercent } from '../../core/format';
import { KEY_USAGE_RANGES, usageBars, usageSummary } from './key-usage-view';

export interface KeyUsageDialogData {
  id: string;
  name: string;
}

/** One client key's usage over 24 hours to 90 days: totals and a bar per hour or day. */
@Component({
  selector: 'app-key-usage-dialog',
  imports: [MatDialogModule, MatButtonModule, MatButtonToggleModule, MatProgressBarModule],
  template: `
    <h2 mat-dialog-title>用量 · {{ data.name }}</h2>
    <mat-dialog-content class="content">
      <mat-button-toggle-group
        hideSingleSelectionIndicator
        [value]="range()"
        (change)="load($event.value)"
        aria-label="用量时间范围"
        data-testid="key-usage-range"
      >
        @for (r of ranges; track r.range) {
          <mat-button-toggle [value]="r.range">{{ r.label }}</mat-button-toggle>
        }
      </mat-button-toggle-group>
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
    mat-button-toggle-group {
      align-self: flex-start;
      --mat-button-toggle-height: 32px;
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

  readonly range = signal<StatsRange>('7d');
  readonly usage = signal<KeyUsageResponse | null>(null);
  readonly busy = signal(false);
  readonly error = signal<string | null>(null);
  readonly bars = computed(() => {
    const u = this.usage();
    return u ? usageBars(u) : [];
  });
  readonly summary = computed(() => {
    const u = this.usage();
    return u ? usageSummary(u, KEY_USAGE_RANGES.find((r) => r.range === u.range)?.label ?? u.range) : '';
  });
  private sub: Subscription | undefined;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.sub?.unsubscribe());
    this.load(this.range());
  }

  /** Shows `range`, cancelling a load under way; the last chart stays until the new one arrives. */
  load(range: StatsRange): void {
    this.range.set(range);
    this.sub?.unsubscribe();
    this.busy.set(true);
    this.error.set(null);
    this.sub = this.api.keyUsage(this.data.id, range).subscribe({
      next: (usage) => {
        this.usage.set(usage);
        this.busy.set(false);
      },
      error: (err: unknown) => {
        this.busy.set(false);
        this.error.set(describeApiError(err).message);
      },
    });
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
