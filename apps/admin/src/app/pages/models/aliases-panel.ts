import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { Observable } from 'rxjs';
import type { ModelAliasList } from '#contracts';
import { ApiService } from '../../core/api.service';
import { type AliasRow, rowsOf, rowsToMap, sourceLabel } from './aliases-view';
import { RowTableActions } from './row-table-actions';
import { type ParsedRows, RowTableEditor } from './row-table-editor';

/**
 * 模型别名: requested ids (with `*` globs) that a catalog model serves, e.g. `claude-*` →
 * qwen-2.5-coder-32b. Edited as a whole table and saved in the gateway's storage, in place of
 * MODEL_ALIASES; 恢复默认 goes back to that.
 */
@Component({
  selector: 'app-aliases-panel',
  imports: [MatButtonModule, MatIconModule, MatTooltipModule, RowTableActions],
  template: `
    <section class="aliases" data-testid="aliases-panel" aria-labelledby="aliases-title">
      <h2 id="aliases-title">模型别名</h2>
      <p class="hint">
        把客户端请求的模型 id（可用 <code>*</code> 通配，如 <code>claude-*</code>）交给目录中的某个模型处理。目录中已有的 id
        总是优先；多条规则都匹配时，字面字符最多的那条生效。
      </p>
      @if (loadFailure(); as failure) {
        <p class="error" role="alert" data-testid="aliases-load-error">无法读取模型别名：{{ failure }}</p>
      }
      @if (list()) {
        <p class="source" data-testid="aliases-source">{{ source() }}</p>
        <datalist id="alias-models">
          @for (id of modelIds(); track id) {
            <option [value]="id"></option>
          }
        </datalist>
        <div class="rows">
          @for (row of rows(); track $index; let i = $index) {
            <div class="row" data-testid="alias-row">
              <input
                aria-label="匹配规则"
                placeholder="claude-*"
                maxlength="128"
                [value]="row.pattern"
                (input)="edit(i, 'pattern', $any($event.target).value)"
                data-testid="alias-pattern"
              />
              <mat-icon aria-hidden="true">arrow_forward</mat-icon>
              <input
                aria-label="目标模型"
                placeholder="目录中的模型 id"
                list="alias-models"
                maxlength="128"
                [value]="row.model"
                (input)="edit(i, 'model', $any($event.target).value)"
                data-testid="alias-model"
              />
              <button mat-icon-button type="button" matTooltip="删除这条别名" aria-label="删除这条别名" (click)="remove(i)" data-testid="alias-remove">
                <mat-icon>delete</mat-icon>
              </button>
            </div>
          } @empty {
            <p class="empty" data-testid="aliases-empty">没有别名。</p>
          }
        </div>
        <app-row-table-actions [editor]="this" addLabel="添加别名" rowTestid="alias" tableTestid="aliases" />
      }
    </section>
  `,
  styleUrl: './row-table-editor.scss',
  styles: `
    .aliases {
      margin: 16px 0;
    }
    .row {
      margin: 4px 0;
    }
    .row input {
      flex: 1 1 180px;
      min-width: 0;
      padding: 6px 8px;
      font: inherit;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AliasesPanel extends RowTableEditor<ModelAliasList, AliasRow, Record<string, string>> {
  private readonly api = inject(ApiService);

  /** Suggestions for the target: the catalog's ids. */
  readonly modelIds = computed(() => this.store.list()?.models.map((m) => m.id) ?? []);

  edit(index: number, field: keyof AliasRow, value: string): void {
    this.patch(index, { [field]: value });
  }

  protected fetch(): Observable<ModelAliasList> {
    return this.api.aliases();
  }

  protected put(aliases: Record<string, string>): Observable<ModelAliasList> {
    return this.api.setAliases(aliases);
  }

  protected restore(): Observable<ModelAliasList> {
    return this.api.resetAliases();
  }

  protected rowsOf(list: ModelAliasList): AliasRow[] {
    return rowsOf(list.aliases);
  }

  protected parse(rows: AliasRow[]): ParsedRows<Record<string, string>> {
    const { aliases, problems } = rowsToMap(rows);
    return { value: aliases, problems };
  }

  protected sourceLabel(list: ModelAliasList): string {
    return sourceLabel(list);
  }

  protected blankRow(): AliasRow {
    return { pattern: '', model: '' };
  }

  protected done(): { saved: string; reset: string } {
    return { saved: '已保存模型别名', reset: '已恢复默认别名' };
  }
}
