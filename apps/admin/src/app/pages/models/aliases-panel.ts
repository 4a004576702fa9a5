import { ChangeDetectionStrategy, Component, type OnInit, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { type Observable, firstValueFrom } from 'rxjs';
import type { ModelAliasList } from '#contracts';
import { describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { type AliasRow, rowsOf, rowsToMap, sourceLabel } from './aliases-view';
import { ModelsStore } from './models.store';

/**
 * 模型别名: requested ids (with `*` globs) that a catalog model serves, e.g. `claude-*` →
 * qwen-2.5-coder-32b. Edited as a whole table and saved in the gateway's storage, in place of
 * MODEL_ALIASES; 恢复默认 goes back to that.
 */
@Component({
  selector: 'app-aliases-panel',
  imports: [MatButtonModule, MatIconModule, MatTooltipModule],
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
      @if (list(); as l) {
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
        @if (problems().length) {
          <ul class="error" role="alert" data-testid="aliases-problems">
            @for (p of problems(); track p) {
              <li>{{ p }}</li>
            }
          </ul>
        }
        <div class="actions">
          <button mat-button type="button" (click)="add()" data-testid="alias-add"><mat-icon>add</mat-icon>添加别名</button>
          <button mat-flat-button type="button" [disabled]="busy() || !dirty()" (click)="save()" data-testid="aliases-save">保存</button>
          @if (l.source === 'console') {
            <button mat-button type="button" [disabled]="busy()" (click)="reset()" data-testid="aliases-reset">恢复默认</button>
          }
        </div>
      }
    </section>
  `,
  styles: `
    .aliases {
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
      margin: 4px 0;
      flex-wrap: wrap;
    }
    .row input {
      flex: 1 1 180px;
      min-width: 0;
      padding: 6px 8px;
      font: inherit;
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
export class AliasesPanel implements OnInit {
  private readonly api = inject(ApiService);
  private readonly store = inject(ModelsStore);
  private readonly snackBar = inject(MatSnackBar);

  readonly list = signal<ModelAliasList | null>(null);
  readonly rows = signal<AliasRow[]>([]);
  readonly problems = signal<string[]>([]);
  readonly busy = signal(false);
  readonly loadFailure = signal<string | null>(null);

  readonly source = computed(() => {
    const l = this.list();
    return l ? sourceLabel(l) : '';
  });
  /** Suggestions for the target: the catalog's ids. */
  readonly modelIds = computed(() => this.store.list()?.models.map((m) => m.id) ?? []);
  /** The table differs from what is in effect. */
  readonly dirty = computed(() => {
    const l = this.list();
    return !!l && JSON.stringify(rowsToMap(this.rows()).aliases) !== JSON.stringify(rowsToMap(rowsOf(l.aliases)).aliases);
  });

  ngOnInit(): void {
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.show(await firstValueFrom(this.api.aliases()));
      this.loadFailure.set(null);
    } catch (err) {
      this.loadFailure.set(describeApiError(err).message);
    }
  }

  edit(index: number, field: keyof AliasRow, value: string): void {
    this.rows.update((rows) => rows.map((r, i) => (i === index ? { ...r, [field]: value } : r)));
    this.problems.set([]);
  }

  add(): void {
    this.rows.update((rows) => [...rows, { pattern: '', model: '' }]);
  }

  remove(index: number): void {
    this.rows.update((rows) => rows.filter((_, i) => i !== index));
    this.problems.set([]);
  }

  /** Saves the whole table; what the gateway refuses (an unknown model, say) is shown as it said it. */
  async save(): Promise<void> {
    const { aliases, problems } = rowsToMap(this.rows());
    this.problems.set(problems);
    if (problems.length) return;
    await this.change(this.api.setAliases(aliases), '已保存模型别名');
  }

  async reset(): Promise<void> {
    await this.change(this.api.resetAliases(), '已恢复默认别名');
  }

  private async change(call: Observable<ModelAliasList>, done: string): Promise<void> {
    this.busy.set(true);
    try {
      this.show(await firstValueFrom(call));
      this.snackBar.open(done, undefined, { duration: 3000 });
    } catch (err) {
      const failure = describeApiError(err);
      this.problems.set([failure.detail ?? failure.message]);
    } finally {
      this.busy.set(false);
    }
  }

  private show(list: ModelAliasList): void {
    this.list.set(list);
    this.rows.set(rowsOf(list.aliases));
    this.problems.set([]);
  }
}
