import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import type { StatsRange } from '#contracts';

/** A range the page offers, as its toggle says it. */
export interface RangeChoice {
  range: StatsRange;
  label: string;
}

/** The toggles that pick a chart's or table's time range (a key's 用量, a provider's per-model numbers). */
@Component({
  selector: 'app-range-toggle',
  imports: [MatButtonToggleModule],
  template: `
    <mat-button-toggle-group
      hideSingleSelectionIndicator
      [value]="value()"
      (change)="picked.emit($event.value)"
      [attr.aria-label]="label()"
      [attr.data-testid]="testid()"
    >
      @for (r of ranges(); track r.range) {
        <mat-button-toggle [value]="r.range">{{ r.label }}</mat-button-toggle>
      }
    </mat-button-toggle-group>
  `,
  styles: `
    :host {
      display: block;
    }
    mat-button-toggle-group {
      --mat-button-toggle-height: 32px;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RangeToggle {
  readonly ranges = input.required<readonly RangeChoice[]>();
  readonly value = input.required<StatsRange>();
  /** What a screen reader calls the group: 用量时间范围… */
  readonly label = input.required<string>();
  readonly testid = input.required<string>();
  readonly picked = output<StatsRange>();
}
