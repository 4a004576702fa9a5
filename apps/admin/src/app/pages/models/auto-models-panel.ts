import { ChangeDetectionStrategy, Component, type OnInit, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { type Observable, firstValueFrom } from 'rxjs';
import type { AutoModelKind, AutoModelList } from '#contracts';
import { describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { type AutoModelRow, KIND_LABELS, autoRowsOf, autoRowsToModels, autoSourceLabel } from './auto-models-view';
import { ModelsStore } from './models.store';

/**
 * 虚拟模型: `auto`, `auto-coder`… and their ordered preference lists. Each request for one is
 * served by the best model of its list that can serve it now. Edited as a whole table and saved
 * in the gateway's storage, in place of the built-in ones; 恢复默认 goes back to them.
 */
@Component({
  selector: 'app-auto-models-panel',
  imports: [MatButtonModule, MatIconModule, MatTooltipModule],
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
      @if (list(); as l) {
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
                (input)="edit(i, { id: $any($event.target).value })"
                data-testid="auto-model-id"
              />
              <select aria-label="类型" [value]="row.kind" (change)="edit(i, { kind: $any($event.target).value })" data-testid="auto-model-kind">
                @for (k of kinds; track k) {
                  <option [value]="k" [selected]="k === row.kind">{{ kindLabels[k] }}</option>
                }
              </select>
              <input
                class="prefs"
                aria-label="偏好列表（目录中的模型 id，逗号分隔，靠前的优先）"
                placeholder="deepseek-v3, qwen-3-235b"
                [value]="row.models"
                (input)="edit(i, { models: $any($event.target).value })"
                data-testid="auto-model-prefs"
              />
              <label class="flag" matTooltip="偏好列表之后，再用同类的其他目录模型（按延迟）">
                <input type="checkbox" [checked]="row.others" (change)="edit(i, { others: $any($event.target).checked })" data-testid="auto-model-others" />
                再用其他模型
              </label>
              <label class="flag" matTooltip="只用能看图的模型">
                <input type="checkbox" [checked]="row.vision" (change)="edit(i, { vision: $any($event.target).checked })" data-testid="auto-model-vision" />
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
        @if (problems().length) {
          <ul class="error" role="alert" data-testid="auto-models-problems">
            @for (p of problems(); track p) {
              <li>{{ p }}</li>
            }
          </ul>
        }
        <div class="actions">
          <button mat-button type="button" (click)="add()" data-testid="auto-model-add"><mat-icon>add</mat-icon>添加虚拟模型</button>
          <button mat-flat-button type="button" [disabled]="busy() || !dirty()" (click)="save()" data-testid="auto-models-save">保存</button>
          @if (l.source === 'console') {
            <button mat-button type="button" [disabled]="busy()" (click)="reset()" data-testid="auto-models-reset">恢复默认</button>
          }
        </div>
      }
    </section>
  `,
  styles: `
    .auto-models {
      margin: 16px 0;
    }
    .hint,
    .source {
      color: var(--mat-sys-on-surface-variant);
      margin: 4px 0;
    }
    .row {
      display: flex;
      align-items: center;
      gap: 8px;
      margin: 6px 0;
      flex-wrap: wrap;
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
export class AutoModelsPanel implements OnInit {
  private readonly api = inject(ApiService);
  private readonly store = inject(ModelsStore);
  private readonly snackBar = inject(MatSnackBar);

  protected readonly kinds: readonly AutoModelKind[] = ['chat', 'image'];
  protected readonly kindLabels = KIND_LABELS;
  readonly list = signal<AutoModelList | null>(null);
  readonly rows = signal<AutoModelRow[]>([]);
  readonly problems = signal<string[]>([]);
  readonly busy = signal(false);
  readonly loadFailure = signal<string | null>(null);

  readonly source = computed(() => {
    const l = this.list();
    return l ? autoSourceLabel(l) : '';
  });
  /** The table differs from what is in effect. */
  readonly dirty = computed(() => {
    const l = this.list();
    return !!l && JSON.stringify(autoRowsToModels(this.rows()).models) !== JSON.stringify(autoRowsToModels(autoRowsOf(l.models)).models);
  });

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.show(await firstValueFrom(this.api.autoModels()));
      this.loadFailure.set(null);
    } catch (err) {
      this.loadFailure.set(describeApiError(err).message);
    }
  }

  edit(index: number, change: Partial<AutoModelRow>): void {
    this.rows.update((rows) => rows.map((r, i) => (i === index ? { ...r, ...change } : r)));
    this.problems.set([]);
  }

  add(): void {
    this.rows.update((rows) => [...rows, { id: '', kind: 'chat', models: '', others: false, vision: false, description: '' }]);
  }

  remove(index: number): void {
    this.rows.update((rows) => rows.filter((_, i) => i !== index));
    this.problems.set([]);
  }

  /** Saves the whole table; what the gateway refuses (an unknown model, say) is shown as it said it. */
  async save(): Promise<void> {
    const { models, problems } = autoRowsToModels(this.rows());
    this.problems.set(problems);
    if (problems.length) return;
    await this.change(this.api.setAutoModels(models), '已保存虚拟模型');
  }

  async reset(): Promise<void> {
    await this.change(this.api.resetAutoModels(), '已恢复默认虚拟模型');
  }

  private async change(call: Observable<AutoModelList>, done: string): Promise<void> {
    this.busy.set(true);
    try {
      this.show(await firstValueFrom(call));
      this.snackBar.open(done, undefined, { duration: 3000 });
      // /api/models lists the virtual models too.
      void this.store.load();
    } catch (err) {
      const failure = describeApiError(err);
      this.problems.set([failure.detail ?? failure.message]);
    } finally {
      this.busy.set(false);
    }
  }

  private show(list: AutoModelList): void {
    this.list.set(list);
    this.rows.set(autoRowsOf(list.models));
    this.problems.set([]);
  }
}
