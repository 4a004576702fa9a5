import { ChangeDetectionStrategy, Component, type Signal, booleanAttribute, input } from '@angular/core';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatIconModule } from '@angular/material/icon';
import { MatSelectModule } from '@angular/material/select';
import type { ProviderOption } from './playground-view';

/** What the provider picker reads and sets: the chat settings' store or a tab's. */
export interface ProviderPicks {
  /** The picked model (none: nothing to pin yet). */
  readonly model: Signal<unknown>;
  readonly providerChoices: Signal<readonly ProviderOption[]>;
  readonly pinned: Signal<ProviderOption | null>;
  update(patch: { provider: string | null }): void;
}

/** 提供商: 自动（网关路由） or one of the model's providers, pinned (no failover); each says whether it can serve now. */
@Component({
  selector: 'app-playground-provider-picker',
  imports: [MatFormFieldModule, MatIconModule, MatSelectModule],
  template: `
    @let p = picks();
    <mat-form-field appearance="outline" class="field" subscriptSizing="dynamic">
      <mat-label>提供商</mat-label>
      @if (icon()) {
        <mat-icon matPrefix>hub</mat-icon>
      }
      <mat-select
        [attr.data-testid]="testid()"
        panelClass="playground-providers"
        [value]="p.pinned()?.name ?? ''"
        (valueChange)="p.update({ provider: $event || null })"
        [disabled]="!p.model()"
      >
        <mat-option value="">自动（网关路由）</mat-option>
        @for (c of p.providerChoices(); track c.name) {
          <mat-option [value]="c.name" [attr.data-provider]="c.name">
            {{ c.name }} <span class="opt-note" [class.ready]="c.ready">{{ c.note }}</span>
          </mat-option>
        }
      </mat-select>
      <mat-hint>
        @if (p.pinned(); as pin) {
          只用 {{ pin.name }}，不做故障转移{{ pin.ready ? '' : '（当前' + pin.note + '）' }}
        } @else {
          按优先级与健康度选择，失败时自动切换
        }
      </mat-hint>
    </mat-form-field>
  `,
  styleUrls: ['./playground-options.scss', './playground-tags.scss'],
  styles: `
    :host {
      display: block;
    }
    .field {
      width: 100%;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PlaygroundProviderPicker {
  readonly picks = input.required<ProviderPicks>();
  /** provider-select, emb-provider-select, stt-provider-select. */
  readonly testid = input.required<string>();
  /** The chat settings show a leading icon on each field. */
  readonly icon = input(false, { transform: booleanAttribute });
}
