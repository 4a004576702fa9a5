import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MAT_DIALOG_DATA, MatDialogModule } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatTabsModule } from '@angular/material/tabs';
import { StateView } from '../../shared/state/state';
import { ProviderKeys } from './provider-keys';
import { ProviderOverview } from './provider-overview';
import { ProviderSettings } from './provider-settings';
import { KIND_LABEL, providerKind } from './providers-view';
import { STATUS_META } from '../dashboard/dashboard-view';
import { ProvidersStore } from './providers.store';
import { UpstreamForm } from './upstream-form';

export type ProviderTab = 'keys' | 'settings' | 'overview';

export interface ProviderDialogData {
  name: string;
  tab: ProviderTab;
}

/**
 * One provider, managed: its keys and its settings (a built-in's settings, a console upstream's
 * definition, or a file upstream's, read-only). It reads the page's live list, so key states and
 * the status follow the polls while the forms keep what is typed.
 */
@Component({
  selector: 'app-provider-dialog',
  imports: [MatDialogModule, MatButtonModule, MatIconModule, MatTabsModule, StateView, ProviderKeys, ProviderSettings, UpstreamForm, ProviderOverview],
  template: `
    <h2 mat-dialog-title class="title">
      <span class="name">{{ provider()?.name ?? data.name }}</span>
      @if (meta(); as m) {
        <span class="status-chip" [class]="'chip-' + m.tone" data-testid="dialog-status">{{ m.label }}</span>
      }
      @if (kindLabel(); as k) {
        <span class="tag">{{ k }}</span>
      }
    </h2>
    <mat-dialog-content class="content" data-testid="provider-dialog">
      @if (provider(); as p) {
        <mat-tab-group
          [selectedIndex]="data.tab === 'keys' ? 0 : data.tab === 'settings' ? 1 : 2"
          animationDuration="0ms"
          mat-stretch-tabs="false"
          mat-align-tabs="start"
        >
          <mat-tab [label]="'上游密钥 (' + keyCount() + ')'">
            <app-provider-keys class="tab" [provider]="p" />
          </mat-tab>
          <mat-tab label="设置">
            <div class="tab">
              @switch (kind()) {
                @case ('builtin') {
                  <app-provider-settings [provider]="p" />
                }
                @case ('console') {
                  <app-upstream-form [provider]="p" />
                }
                @default {
                  <p class="readonly-note" data-testid="upstream-readonly">
                    <mat-icon aria-hidden="true">lock</mat-icon>
                    这个上游定义在 PROVIDERS_FILE 中，只能在文件里修改；在这里可以启用 / 停用它、检查它和管理它的密钥。
                  </p>
                  <dl class="facts">
                    <dt>接口地址</dt>
                    <dd class="mono">{{ p.baseUrl }}</dd>
                    <dt>出品方</dt>
                    <dd>{{ p.upstream?.ownedBy ?? '—' }}</dd>
                    <dt>优先级</dt>
                    <dd>{{ p.priority ?? '—' }}</dd>
                    <dt>模型映射</dt>
                    <dd>
                      @for (m of fileModels(); track m[0]) {
                        <div class="mono">{{ m[0] }} → {{ m[1] }}</div>
                      }
                    </dd>
                  </dl>
                }
              }
            </div>
          </mat-tab>
          <mat-tab label="概况">
            <app-provider-overview class="tab" [provider]="p" data-testid="provider-overview" />
          </mat-tab>
        </mat-tab-group>
      } @else {
        <app-state kind="error" heading="这个提供商已不存在" message="它可能刚在别处被删除了。" data-testid="provider-gone" />
      }
    </mat-dialog-content>
    <mat-dialog-actions align="end">
      <button mat-button type="button" mat-dialog-close data-testid="dialog-close">关闭</button>
    </mat-dialog-actions>
  `,
  styleUrl: './provider-dialog.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProviderDialog {
  protected readonly data = inject<ProviderDialogData>(MAT_DIALOG_DATA);
  private readonly store = inject(ProvidersStore);

  /** The live provider; null once it is gone (deleted elsewhere). */
  protected readonly provider = computed(() => this.store.provider(this.data.name));
  protected readonly kind = computed(() => {
    const p = this.provider();
    return p ? providerKind(p) : null;
  });
  protected readonly kindLabel = computed(() => {
    const k = this.kind();
    return k ? KIND_LABEL[k] : null;
  });
  protected readonly meta = computed(() => {
    const p = this.provider();
    return p ? STATUS_META[p.status] : null;
  });
  protected readonly keyCount = computed(() => this.provider()?.keys.filter((k) => k.id !== 'anonymous').length ?? 0);
  protected readonly fileModels = computed(() => Object.entries(this.provider()?.upstream?.models ?? {}));
}
