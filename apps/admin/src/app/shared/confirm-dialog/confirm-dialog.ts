import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialog, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { type Observable, map } from 'rxjs';

export interface ConfirmData {
  title: string;
  /** One paragraph, or several. */
  message: string | string[];
  /** The confirming button's text, e.g. 删除. */
  confirm: string;
  /** Destructive actions get a red button and a warning icon. */
  danger?: boolean;
}

/** A yes / no question before an action that cannot be undone (取消 has the focus). Open it with `confirm()`. */
@Component({
  selector: 'app-confirm-dialog',
  imports: [MatDialogModule, MatButtonModule, MatIconModule],
  template: `
    <h2 mat-dialog-title class="title">
      @if (data.danger) {
        <mat-icon class="warn" aria-hidden="true">warning</mat-icon>
      }
      {{ data.title }}
    </h2>
    <mat-dialog-content>
      @for (p of paragraphs; track $index) {
        <p class="message">{{ p }}</p>
      }
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" [mat-dialog-close]="false" data-testid="confirm-cancel">取消</button>
      <button mat-flat-button type="button" [class.danger]="data.danger" [mat-dialog-close]="true" data-testid="confirm-ok">
        {{ data.confirm }}
      </button>
    </mat-dialog-actions>
  `,
  styles: `
    .title {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .warn {
      color: var(--app-danger);
    }
    .message {
      margin: 0 0 10px;
      line-height: 1.6;
      overflow-wrap: anywhere;
    }
    .danger {
      --mat-button-filled-container-color: var(--app-danger);
      --mat-button-filled-label-text-color: var(--mat-sys-surface);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConfirmDialog {
  protected readonly data = inject<ConfirmData>(MAT_DIALOG_DATA);
  protected readonly paragraphs = typeof this.data.message === 'string' ? [this.data.message] : this.data.message;
}

/** Asks; emits true when confirmed, false when cancelled or dismissed. */
export function confirm(dialog: MatDialog, data: ConfirmData): Observable<boolean> {
  return dialog
    .open<ConfirmDialog, ConfirmData, boolean>(ConfirmDialog, { data, width: '440px', maxWidth: 'calc(100vw - 32px)', autoFocus: 'first-tabbable' })
    .afterClosed()
    .pipe(map((ok) => ok === true));
}
