import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule, MatDialogRef } from '@angular/material/dialog';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import type { ModelRouting, SetModelRoutingRequest } from '#contracts';
import { FORCE_HELP, STRATEGY_EFFECT, WEIGHT_MAX, type EditorState, editorState, moveRow, routingChange, weightError } from './routing-editor';

export interface RoutingDialogData {
  routing: ModelRouting;
}

/** How the dialog closed: save this change, reset to the providers' settings, or (undefined) nothing. */
export type RoutingDialogResult = { kind: 'save'; change: Partial<SetModelRoutingRequest> } | { kind: 'reset' };

/**
 * 路由设置 of one model: its routes in order with a weight each (replacing the providers' priority
 * and weight for this model alone), the provider it is forced to, and 恢复默认.
 */
@Component({
  selector: 'app-routing-dialog',
  imports: [MatButtonModule, MatDialogModule, MatFormFieldModule, MatIconModule, MatInputModule, MatSelectModule],
  template: `
    <h2 mat-dialog-title>路由设置：{{ data.routing.model }}</h2>
    <mat-dialog-content data-testid="routing-dialog">
      <p class="muted">
        只对这个模型生效，代替提供商管理中的优先级与权重（没改过的路由沿用提供商的设置）。当前路由策略：<strong>{{ effect.label }}</strong
        >。<span data-testid="routing-effect">{{ effect.effect }}</span>
      </p>

      <ol class="rows" aria-label="路由顺序与权重">
        @for (r of state().rows; track r.provider; let i = $index, last = $last) {
          <li class="row" data-testid="routing-row" [attr.data-provider]="r.provider">
            <span class="pos">{{ i + 1 }}</span>
            <div class="who">
              <span class="provider">{{ r.provider }}</span>
              <code class="upstream">{{ r.upstream }}</code>
              <span class="muted small">提供商默认：权重 {{ r.providerWeight }} · 优先级 {{ r.providerPriority ?? '未设' }}</span>
            </div>
            <mat-form-field appearance="outline" subscriptSizing="dynamic" class="weight">
              <mat-label>权重</mat-label>
              <input
                matInput
                type="number"
                inputmode="numeric"
                min="0"
                [max]="max"
                step="1"
                [value]="isNaN(r.weight) ? '' : r.weight"
                (input)="setWeight(i, $any($event.target).value)"
                [attr.aria-label]="r.provider + ' 的权重'"
                [attr.aria-invalid]="weightError(r.weight) !== null"
                data-testid="routing-weight"
              />
            </mat-form-field>
            <div class="moves">
              <button
                mat-icon-button
                type="button"
                [disabled]="i === 0"
                (click)="move(i, -1)"
                [attr.aria-label]="r.provider + ' 上移'"
                data-testid="routing-up"
              >
                <mat-icon>arrow_upward</mat-icon>
              </button>
              <button mat-icon-button type="button" [disabled]="last" (click)="move(i, 1)" [attr.aria-label]="r.provider + ' 下移'" data-testid="routing-down">
                <mat-icon>arrow_downward</mat-icon>
              </button>
            </div>
            @if (weightError(r.weight); as err) {
              <span class="error" role="alert">{{ err }}</span>
            }
          </li>
        }
      </ol>

      <mat-form-field appearance="outline" subscriptSizing="dynamic" class="force">
        <mat-label>强制使用的提供商</mat-label>
        <mat-select [value]="state().forced ?? ''" (selectionChange)="setForced($event.value)" data-testid="routing-forced">
          <mat-option value="">不强制（按路由策略）</mat-option>
          @for (r of state().rows; track r.provider) {
            <mat-option [value]="r.provider">{{ r.provider }}</mat-option>
          }
        </mat-select>
      </mat-form-field>
      <p class="muted" data-testid="force-help">{{ forceHelp }}</p>
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      @if (data.routing.custom || data.routing.forced) {
        <button mat-button type="button" class="reset" (click)="ref.close({ kind: 'reset' })" data-testid="routing-reset">恢复默认</button>
      }
      <button mat-button type="button" [mat-dialog-close]="undefined">取消</button>
      <button mat-flat-button type="button" [disabled]="invalid()" (click)="save()" data-testid="routing-save">保存</button>
    </mat-dialog-actions>
  `,
  styles: `
    p {
      margin: 0 0 12px;
      line-height: 1.7;
    }
    .muted {
      color: var(--app-muted);
    }
    .small {
      font-size: 12px;
    }
    .rows {
      list-style: none;
      margin: 0 0 16px;
      padding: 0;
      display: flex;
      flex-direction: column;
      gap: 8px;
    }
    .row {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 4px 12px;
      padding: 8px 0;
      border-bottom: 1px solid var(--app-card-border);
    }
    .pos {
      width: 20px;
      font-variant-numeric: tabular-nums;
      color: var(--app-muted);
    }
    .who {
      flex: 1 1 180px;
      min-width: 0;
      display: flex;
      flex-direction: column;
    }
    .provider {
      font-weight: 500;
    }
    .upstream {
      font-size: 12px;
      overflow-wrap: anywhere;
    }
    .weight {
      width: 96px;
    }
    .moves {
      display: flex;
    }
    .error {
      flex-basis: 100%;
      color: var(--app-danger-text);
      font-size: 12px;
    }
    .force {
      width: 100%;
      max-width: 320px;
      margin-bottom: 8px;
    }
    .reset {
      margin-right: auto;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RoutingDialog {
  protected readonly data = inject<RoutingDialogData>(MAT_DIALOG_DATA);
  protected readonly ref = inject(MatDialogRef<RoutingDialog, RoutingDialogResult>);
  protected readonly effect = STRATEGY_EFFECT[this.data.routing.strategy];
  protected readonly forceHelp = FORCE_HELP;
  protected readonly max = WEIGHT_MAX;
  protected readonly weightError = weightError;
  protected readonly isNaN = Number.isNaN;

  readonly state = signal<EditorState>(editorState(this.data.routing));
  readonly invalid = computed(() => this.state().rows.some((r) => weightError(r.weight) !== null));

  move(index: number, delta: number): void {
    this.state.update((s) => ({ ...s, rows: moveRow(s.rows, index, delta), touched: true }));
  }

  setWeight(index: number, raw: string): void {
    const weight = raw.trim() === '' ? NaN : Number(raw);
    this.state.update((s) => ({ ...s, rows: s.rows.map((r, i) => (i === index ? { ...r, weight } : r)), touched: true }));
  }

  setForced(provider: string): void {
    this.state.update((s) => ({ ...s, forced: provider || null }));
  }

  save(): void {
    if (this.invalid()) return;
    this.ref.close({ kind: 'save', change: routingChange(this.state()) });
  }
}
