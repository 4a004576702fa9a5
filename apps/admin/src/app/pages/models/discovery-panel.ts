import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, computed, inject, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
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

  protected readonly fmt = { clock: formatClock, relative: formatRelative };
  protected readonly stateLabels = ROUTE_STATE_LABELS;
}
