import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';

export interface ConfirmDialogData {
  title: string;
  /** Paragraphs. */
  message: string[];
  confirm: string;
  /** A destructive action: the confirm button is red. */
  danger?: boolean;
}

/** Asks before an action; closes with true when confirmed. */
@Component({
  selector: 'app-confirm-dialog',
  imports: [MatDialogModule, MatButtonModule, MatIconModule],
  template: `
    <h2 mat-dialog-title>{{ data.title }}</h2>
    <mat-dialog-content>
      @for (p of data.message; track $index) {
        <p class="p">{{ p }}</p>
      }
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" [mat-dialog-close]="false" cdkFocusInitial>取消</button>
      <button mat-flat-button type="button" [class.danger]="data.danger" [mat-dialog-close]="true" data-testid="confirm-action">{{ data.confirm }}</button>
    </mat-dialog-actions>
  `,
  styles: `
    .p {
      margin: 0 0 10px;
      line-height: 1.6;
      max-width: 460px;
    }
    .danger {
      --mat-button-filled-container-color: var(--app-danger);
      --mat-button-filled-label-text-color: var(--mat-sys-surface);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConfirmDialog {
  protected readonly data = inject<ConfirmDialogData>(MAT_DIALOG_DATA);
}
