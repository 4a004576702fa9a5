import { ChangeDetectionStrategy, Component, DOCUMENT, type OnInit, computed, inject, untracked } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatButtonToggleModule } from '@angular/material/button-toggle';
import { MatIconModule } from '@angular/material/icon';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { RouterLink } from '@angular/router';
import type { EChartsCoreOption } from 'echarts/core';
import { NgxEchartsDirective, provideEchartsCore } from 'ngx-echarts';
import { formatCount, formatDuration, formatPercent, formatRelative } from '../../core/format';
import { ThemeService } from '../../core/theme.service';
import { HEALTH_SCORE, SUCCESS_RATE } from '../../core/vocabulary';
import { LiveStatus } from '../../shared/live-status/live-status';
import { RefreshButton } from '../../shared/live-status/refresh-button';
import { PageStates } from '../../shared/page-states/page-states';
import { StateView } from '../../shared/state/state';
import { CHART_KINDS, CHART_TITLES, type ChartKind, chartData, chartOption, chartPalette } from './dashboard-charts';
import { liveLabel, rangeOption, rateTone } from './dashboard-view';
import { DASHBOARD_POLL_MS, DashboardStore } from './dashboard.store';
import { QuickStart } from './quick-start';
import { ResponseCache } from './response-cache';
import { baseUrlFor } from './snippets';
import { UsageBreakdown } from './usage-breakdown';

type ChartMap = Record<ChartKind, EChartsCoreOption>;

export { rateTone };

/** 控制台: live totals, charts over time, provider status and quick-start snippets. */
@Component({
  selector: 'app-dashboard-page',
  imports: [
    MatButtonModule,
    MatButtonToggleModule,
    MatIconModule,
    MatProgressBarModule,
    MatTooltipModule,
    RouterLink,
    NgxEchartsDirective,
    StateView,
    PageStates,
    LiveStatus,
    RefreshButton,
    QuickStart,
    UsageBreakdown,
    ResponseCache,
  ],
  providers: [DashboardStore, provideEchartsCore({ echarts: () => import('./echarts') })],
  templateUrl: './dashboard.html',
  styleUrl: './dashboard.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export default class DashboardPage implements OnInit {
  protected readonly store = inject(DashboardStore);
  private readonly theme = inject(ThemeService);
  private readonly pollMs = inject(DASHBOARD_POLL_MS);
  protected readonly pollSeconds = Math.round(this.pollMs / 1000);
  protected readonly baseUrl = baseUrlFor(inject(DOCUMENT).location.origin);

  protected readonly chartKinds = CHART_KINDS;
  protected readonly chartTitles = CHART_TITLES;
  protected readonly fmt = { count: formatCount, percent: formatPercent, duration: formatDuration, relative: formatRelative };
  protected readonly rateTone = rateTone;
  protected readonly terms = { healthScore: HEALTH_SCORE, successRate: SUCCESS_RATE };

  protected readonly rangeLabel = computed(() => rangeOption(this.store.range()).label);
  protected readonly liveLabel = computed(() => liveLabel(this.pollMs, this.store.range()));

  /** Chart bases: rebuilt when the theme changes (with the current data, read untracked). */
  protected readonly chartOptions = computed<ChartMap>(() => {
    const palette = chartPalette(this.theme.isDark());
    const stats = untracked(() => this.store.snapshot()?.stats ?? null);
    return Object.fromEntries(CHART_KINDS.map((k) => [k, chartOption(k, stats, palette)])) as ChartMap;
  });

  /** Chart data: merged into the charts on every poll. */
  protected readonly chartData = computed<ChartMap | null>(() => {
    const stats = this.store.snapshot()?.stats;
    return stats ? (Object.fromEntries(CHART_KINDS.map((k) => [k, chartData(k, stats)])) as ChartMap) : null;
  });

  /** The headline number of each chart's panel. */
  protected readonly chartSummary = computed<Record<ChartKind, string>>(() => {
    const t = this.store.snapshot()?.stats.totals;
    if (!t) return { requests: '', successRate: '', latency: '', tokens: '' };
    return {
      requests: `共 ${formatCount(t.requests)} 次`,
      successRate: `整体 ${formatPercent(t.successRate)}`,
      latency: `P50 ${formatDuration(t.latencyP50Ms)} · P95 ${formatDuration(t.latencyP95Ms)}`,
      tokens: `共 ${formatCount(t.totalTokens)}`,
    };
  });

  ngOnInit(): void {
    this.store.start();
  }
}
