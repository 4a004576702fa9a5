import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatTooltipModule } from '@angular/material/tooltip';
import type { Observable } from 'rxjs';
import type { AutoModel, AutoModelKind, AutoModelList } from '#contracts';
import { ApiService } from '../../core/api.service';
import { type AutoModelRow, KIND_LABELS, autoRowsOf, autoRowsToModels, autoSourceLabel } from './auto-models-view';
import { RowTableActions } from './row-table-actions';
import { type ParsedRows, RowTableEditor } from './row-table-editor';

/**
 * 虚拟模型: `auto`, `auto-coder`… and their ordered preference lists. Each request for one is
 * served by the best model of its list that can serve it now. Edited as a whole table and saved
 * in the gateway's storage, in place of the built-in ones; 恢复默认 goes back to them.
 */
@Component({
  selector: 'app-auto-models-panel',
  imports: [MatButtonModule, MatIconModule, MatTooltipModule, RowTableActions],
  template: `
    <section class="auto-models" data-testid="auto-models-panel" aria-labelledby="auto-models-title">
      <h2 id="auto-models-title">虚拟模型（auto）</h2>
      <p class="hint">
        客户端请求
        <code>auto</code>
        这样的虚拟模型时，网关从它的偏好列表里挑出现在可用、能满足请求（工具、图片、JSON、上下文长度）的模型：先看健康度与配额，再按列表顺序；一个模型失败时换下一个。
      </p>
      @if (loadFailure(); as failure) {
        <p class="error" role="alert" data-testid="auto-models-load-error">无法读取虚拟模型：{{ failure }}</p>
      }
      @if (list()) {
        <p class="source" data-testid="auto-models-source">{{ source() }}</p>
        <div class="rows">
          @for (row of rows(); track $index; let i = $index) {
            <div class="row" data-testid="auto-model-row">
              <input
                class="id"
                aria-label="虚拟模型 id"
                placeholder="auto-xxx"
                maxlength="64"
                [value]="row.id"
                (input)="patch(i, { id: $any($event.target).value })"
                data-testid="auto-model-id"
              />
              <select aria-label="类型" [value]="row.kind" (change)="patch(i, { kind: $any($event.target).value })" data-testid="auto-model-kind">
                @for (k of kinds; track k) {
                  <option [value]="k" [selected]="k === row.kind">{{ kindLabels[k] }}</option>
                }
              </select>
              <input
                class="prefs"
                aria-label="偏好列表（目录中的模型 id，逗号分隔，靠前的优先）"
                placeholder="deepseek-v3, qwen-3-235b"
                [value]="row.models"
                (input)="patch(i, { models: $any($event.target).value })"
                data-testid="auto-model-prefs"
              />
              <label class="flag" matTooltip="偏好列表之后，再用同类的其他目录模型（按延迟）">
                <input type="checkbox" [checked]="row.others" (change)="patch(i, { others: $any($event.target).checked })" data-testid="auto-model-others" />
                再用其他模型
              </label>
              <label class="flag" matTooltip="只用能看图的模型">
                <input type="checkbox" [checked]="row.vision" (change)="patch(i, { vision: $any($event.target).checked })" data-testid="auto-model-vision" />
                只用识图模型
              </label>
              <button
                mat-icon-button
                type="button"
                matTooltip="删除这个虚拟模型"
                aria-label="删除这个虚拟模型"
                (click)="remove(i)"
                data-testid="auto-model-remove"
              >
                <mat-icon>delete</mat-icon>
              </button>
            </div>
          } @empty {
            <p class="empty" data-testid="auto-models-empty">没有虚拟模型。</p>
          }
        </div>
        <app-row-table-actions [editor]="this" addLabel="添加虚拟模型" rowTestid="auto-model" tableTestid="auto-models" />
      }
    </section>
  `,
  styleUrl: './row-table-editor.scss',
  styles: `
    .auto-models {
      margin: 16px 0;
    }
    .row {
      margin: 6px 0;
    }
    .row input.id {
      flex: 0 1 160px;
      min-width: 0;
    }
    .row input.prefs {
      flex: 1 1 240px;
      min-width: 0;
    }
    .row input:not([type]),
    .row select {
      padding: 6px 8px;
      font: inherit;
    }
    .flag {
      display: inline-flex;
      align-items: center;
      gap: 4px;
      white-space: nowrap;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AutoModelsPanel extends RowTableEditor<AutoModelList, AutoModelRow, AutoModel[]> {
  private readonly api = inject(ApiService);

  protected readonly kinds: readonly AutoModelKind[] = ['chat', 'image'];
  protected readonly kindLabels = KIND_LABELS;

  protected fetch(): Observable<AutoModelList> {
    return this.api.autoModels();
  }

  protected put(models: AutoModel[]): Observable<AutoModelList> {
    return this.api.setAutoModels(models);
  }

  protected restore(): Observable<AutoModelList> {
    return this.api.resetAutoModels();
  }

  protected rowsOf(list: AutoModelList): AutoModelRow[] {
    return autoRowsOf(list.models);
  }

  protected parse(rows: AutoModelRow[]): ParsedRows<AutoModel[]> {
    const { models, problems } = autoRowsToModels(rows);
    return { value: models, problems };
  }

  protected sourceLabel(list: AutoModelList): string {
    return autoSourceLabel(list);
  }

  protected blankRow(): AutoModelRow {
    return { id: '', kind: 'chat', models: '', others: false, vision: false, description: '' };
  }

  protected done(): { saved: string; reset: string } {
    return { saved: '已保存虚拟模型', reset: '已恢复默认虚拟模型' };
  }

  /** /api/models lists the virtual models too. */
  protected override changed(): void {
    void this.store.load();
  }
}
