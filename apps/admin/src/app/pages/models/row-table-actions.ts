import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import type { EditedList, RowTableEditor } from './row-table-editor';

/** Under a whole-table editor: what keeps the rows from being saved, then 添加 / 保存 / 恢复默认 (the last only over the console's own table). */
@Component({
  selector: 'app-row-table-actions',
  imports: [MatButtonModule, MatIconModule],
  template: `
    @let e = editor();
    @if (e.problems().length) {
      <ul class="error" role="alert" [attr.data-testid]="tableTestid() + '-problems'">
        @for (p of e.problems(); track p) {
          <li>{{ p }}</li>
        }
      </ul>
    }
    <div class="actions">
      <button mat-button type="button" (click)="e.add()" [attr.data-testid]="rowTestid() + '-add'"><mat-icon>add</mat-icon>{{ addLabel() }}</button>
      <button mat-flat-button type="button" [disabled]="e.busy() || !e.dirty()" (click)="e.save()" [attr.data-testid]="tableTestid() + '-save'">保存</button>
      @if (e.list()?.source === 'console') {
        <button mat-button type="button" [disabled]="e.busy()" (click)="e.reset()" [attr.data-testid]="tableTestid() + '-reset'">恢复默认</button>
      }
    </div>
  `,
  styles: `
    :host {
      display: block;
    }
    .actions {
      display: flex;
      gap: 8px;
      margin-top: 8px;
      flex-wrap: wrap;
    }
    .error {
      color: var(--mat-sys-error);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RowTableActions {
  readonly editor = input.required<RowTableEditor<EditedList, unknown, unknown>>();
  /** 添加别名, 添加虚拟模型. */
  readonly addLabel = input.required<string>();
  /** Test ids: `<row>-add`, `<table>-save`, `<table>-reset`, `<table>-problems`. */
  readonly rowTestid = input.required<string>();
  readonly tableTestid = input.required<string>();
}
