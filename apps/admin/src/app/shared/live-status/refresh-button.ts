import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';

/** A header's 立即刷新 icon button; its icon spins while a refresh is in flight. */
@Component({
  selector: 'app-refresh-button',
  imports: [MatButtonModule, MatIconModule, MatTooltipModule],
  template: `
    <button
      mat-icon-button
      type="button"
      (click)="refresh.emit()"
      [disabled]="busy()"
      [matTooltip]="label()"
      [attr.aria-label]="label()"
      [attr.data-testid]="testid()"
    >
      <mat-icon [class.spin]="busy()">refresh</mat-icon>
    </button>
  `,
  styles: `
    :host {
      display: contents;
    }
    .spin {
      animation: spin 1s linear infinite;
    }
    @keyframes spin {
      to {
        transform: rotate(360deg);
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RefreshButton {
  readonly busy = input(false);
  readonly testid = input('refresh');
  /** Its tooltip and accessible name. */
  readonly label = input('立即刷新');
  readonly refresh = output();
}
