import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, computed, effect, inject, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { MatSnackBar } from '@angular/material/snack-bar';
import { firstValueFrom } from 'rxjs';
import type { DiscoveryAutoAdd } from '#contracts';
import { describeApiError } from '../../core/api-error';
import { ApiService } from '../../core/api.service';
import { formatClock, formatRelative } from '../../core/format';
import { RefreshButton } from '../../shared/live-status/refresh-button';
import { ROUTE_STATE_LABELS, discoveryRow, discoverySummary, intervalLabel, refreshResultRow, summarizeRefresh } from './models-view';
import { ModelsStore } from './models.store';

/**
 * 模型发现: what each provider's model list said and when, the 刷新发现 button (the page runs the
 * refresh and reports it) and the last refresh's result, until dismissed.
 */
@Component({
  selector: 'app-discovery-panel',
  imports: [MatButtonModule, MatIconModule, MatProgressBarModule, MatTooltipModule, RefreshButton],
  templateUrl: './discovery-panel.html',
  styleUrl: './discovery-panel.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DiscoveryPanel {
  protected readonly store = inject(ModelsStore);
  /** 刷新发现 was pressed. */
  readonly refresh = output<void>();

  /** The explanation and the providers' lists are shown (folded away at first on phones). */
  readonly expanded = signal(!inject(BreakpointObserver).isMatched('(max-width: 599.98px)'));
  /** The refresh result the admin closed (its time), so that the next one shows again. */
  readonly dismissed = signal<number | null>(null);

  readonly discovery = computed(() => {
    const d = this.store.list()?.discovery;
    if (!d) return null;
    return {
      interval: intervalLabel(d.intervalMinutes),
      summary: discoverySummary(d.providers),
      providers: d.providers.map((p) => discoveryRow(p, (ts) => `${formatClock(ts)}（${formatRelative(ts)}）`)),
    };
  });
  readonly refreshResult = computed(() => {
    const last = this.store.lastRefresh();
    if (!last) return null;
    return { at: last.at, summary: summarizeRefresh(last.results), rows: last.results.map(refreshResultRow) };
  });

  private readonly api = inject(ApiService);
  private readonly snackBar = inject(MatSnackBar);
  /** Per provider: whether models its list has and the catalog lacks are added (自动添加). */
  readonly autoAdd = signal<ReadonlyMap<string, DiscoveryAutoAdd>>(new Map());
  /** The provider whose switch is being saved. */
  readonly savingAutoAdd = signal<string | null>(null);

  constructor() {
    // Every reload of the catalog (a refresh, a promotion) may have changed what was added.
    effect(() => {
      if (this.store.list()) void this.loadAutoAdd();
    });
  }

  async loadAutoAdd(): Promise<void> {
    try {
      const list = await firstValueFrom(this.api.discoveryAutoAdd());
      this.autoAdd.set(new Map(list.providers.map((p) => [p.provider, p])));
    } catch {
      // The switches are extras: the panel still shows the lists without them.
    }
  }

  /** Turns 自动添加 on or off for one provider, then reloads the catalog (models come or go at once). */
  async setAutoAdd(provider: string, enabled: boolean): Promise<void> {
    this.savingAutoAdd.set(provider);
    try {
      const list = await firstValueFrom(this.api.setDiscoveryAutoAdd(provider, enabled));
      this.autoAdd.set(new Map(list.providers.map((p) => [p.provider, p])));
      this.snackBar.open(`${provider}：已${enabled ? '开启' : '关闭'}自动添加`, undefined, { duration: 3000 });
      await this.store.load();
    } catch (err) {
      this.snackBar.open(`设置自动添加失败：${describeApiError(err).message}`, '关闭', { duration: 8000 });
    } finally {
      this.savingAutoAdd.set(null);
    }
  }

  protected readonly fmt = { clock: formatClock, relative: formatRelative };
  protected readonly stateLabels = ROUTE_STATE_LABELS;
}
