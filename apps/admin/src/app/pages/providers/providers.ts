import { ChangeDetectionStrategy, Component, type OnInit, ViewContainerRef, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatDialog } from '@angular/material/dialog';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressSpinnerModule } from '@angular/material/progress-spinner';
import { type MatSlideToggleChange, MatSlideToggleModule } from '@angular/material/slide-toggle';
import { MatTooltipModule } from '@angular/material/tooltip';
import { formatClock, formatDuration, formatPercent, formatRelative } from '../../core/format';
import { HEALTH_SCORE, SUCCESS_RATE, SUCCESS_RATE_SINCE_START } from '../../core/vocabulary';
import { confirm } from '../../shared/confirm-dialog/confirm-dialog';
import { LiveStatus } from '../../shared/live-status/live-status';
import { RefreshButton } from '../../shared/live-status/refresh-button';
import { PageStates } from '../../shared/page-states/page-states';
import { StateView } from '../../shared/state/state';
import { Notice } from './notice';
import { type ProviderDialogData, type ProviderTab, ProviderDialog } from './provider-dialog';
import { type ProviderRow, checkSentence, rateTone } from './providers-view';
import { PROVIDERS_POLL_MS, ProvidersStore } from './providers.store';
import { RoutingStrategy } from './routing-strategy';
import { UpstreamDialog } from './upstream-dialog';

/** How a dialog of this page opens: wide on desktops, the screen's width (less a margin) on phones. */
export const DIALOG_SIZE = { width: '720px', maxWidth: 'calc(100vw - 24px)', maxHeight: 'calc(100dvh - 24px)' } as const;

/**
 * 提供商管理: every provider (built-in and operator-defined upstreams) with its status, health,
 * breaker and keys, live; switch providers on and off, check them, edit settings and keys, and
 * add, edit and remove OpenAI-compatible upstreams.
 */
@Component({
  selector: 'app-providers-page',
  imports: [
    MatButtonModule,
    MatIconModule,
    MatProgressSpinnerModule,
    MatSlideToggleModule,
    MatTooltipModule,
    StateView,
    PageStates,
    LiveStatus,
    RefreshButton,
    RoutingStrategy,
  ],
  providers: [ProvidersStore, Notice],
  templateUrl: './providers.html',
  styleUrl: './providers.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class ProvidersPage implements OnInit {
  protected readonly store = inject(ProvidersStore);
  private readonly notice = inject(Notice);
  private readonly dialog = inject(MatDialog);
  private readonly vcr = inject(ViewContainerRef);
  protected readonly pollSeconds = Math.round(inject(PROVIDERS_POLL_MS) / 1000);
  protected readonly fmt = { percent: formatPercent, duration: formatDuration, clock: formatClock, relative: formatRelative };
  protected readonly rateTone = rateTone;
  protected readonly terms = { healthScore: HEALTH_SCORE, successRate: SUCCESS_RATE, successRateSinceStart: SUCCESS_RATE_SINCE_START };

  ngOnInit(): void {
    this.store.start();
  }

  /** The row's switch. On failure the switch goes back to what the server says. */
  async setEnabled(row: ProviderRow, change: MatSlideToggleChange): Promise<void> {
    try {
      const p = await this.store.setEnabled(row.name, change.checked);
      this.notice.ok(p.enabled ? `已启用 ${p.name}` : `已停用 ${p.name}：不再参与路由`);
    } catch (err) {
      change.source.checked = !change.checked;
      this.notice.error(change.checked ? `启用 ${row.name} 失败` : `停用 ${row.name} 失败`, err);
    }
  }

  async check(row: ProviderRow): Promise<void> {
    try {
      this.notice.ok(checkSentence(row.name, (await this.store.check(row.name)).lastCheck));
    } catch (err) {
      this.notice.error(`检查 ${row.name} 失败`, err);
    }
  }

  async checkAll(): Promise<void> {
    try {
      const results = await this.store.checkAll();
      if (!results.length) {
        this.notice.ok('没有可检查的提供商：已停用或未配置的提供商不做检查');
        return;
      }
      const failed = results.filter((r) => !r.ok && !r.inconclusive).length;
      this.notice.ok(`已检查 ${results.length} 个提供商：${results.length - failed} 个通过${failed ? `，${failed} 个失败` : ''}`);
    } catch (err) {
      this.notice.error('检查全部提供商失败', err);
    }
  }

  open(row: ProviderRow, tab: ProviderTab): void {
    this.dialog.open<ProviderDialog, ProviderDialogData>(ProviderDialog, {
      ...DIALOG_SIZE,
      data: { name: row.name, tab },
      viewContainerRef: this.vcr,
      autoFocus: 'dialog',
    });
  }

  addUpstream(): void {
    this.dialog.open(UpstreamDialog, { ...DIALOG_SIZE, viewContainerRef: this.vcr, autoFocus: 'first-tabbable' });
  }

  deleteUpstream(row: ProviderRow): void {
    confirm(this.dialog, {
      title: `删除上游 ${row.name}？`,
      message: `将删除这个上游的设置、模型映射和在控制台添加的密钥；它的 ${row.models} 个模型会从 /v1/models 中消失。此操作无法撤销。`,
      confirm: '删除',
      danger: true,
    }).subscribe(async (ok) => {
      if (!ok) return;
      try {
        await this.store.deleteUpstream(row.name);
        this.notice.ok(`已删除上游 ${row.name}`);
      } catch (err) {
        this.notice.error(`删除 ${row.name} 失败`, err);
      }
    });
  }
}
