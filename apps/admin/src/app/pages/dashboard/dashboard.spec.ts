import { jest } from '@jest/globals';
import type { EChartsCoreOption } from 'echarts/core';
import { createHarness, type Harness } from '../../../testing/harness';
import { models, provider, stats } from '../../../testing/fixtures';
import { STORAGE_KEYS } from '../../core/browser';
import { ThemeService } from '../../core/theme.service';
import DashboardPage, { rateTone } from './dashboard';
import { DASHBOARD_POLL_MS, DashboardStore } from './dashboard.store';

type ChartMap = Record<'requests' | 'successRate' | 'latency' | 'tokens', EChartsCoreOption>;
interface DashboardView {
  store: DashboardStore;
  baseUrl: string;
  pollSeconds: number;
  rangeLabel(): string;
  liveLabel(): string;
  chartOptions(): ChartMap;
  chartData(): ChartMap | null;
  chartSummary(): Record<keyof ChartMap, string>;
  ngOnInit(): void;
}

describe('DashboardPage', () => {
  let h: Harness;
  let page: DashboardView;

  function poll(perBucket: number[]): void {
    h.http.expectOne((r) => r.url === '/api/stats').flush(stats(perBucket, { range: '24h' }));
    h.http.expectOne('/api/providers').flush([provider('DeepInfra')]);
    for (const r of h.http.match('/api/models')) r.flush(models([]));
  }

  beforeEach(() => {
    jest.useFakeTimers();
    h = createHarness([DashboardStore, { provide: DASHBOARD_POLL_MS, useValue: 3000 }]);
    h.storage.setItem(STORAGE_KEYS.session, JSON.stringify({ token: 'tok', expiresAt: Date.UTC(2100, 0, 1) }));
    page = h.run(() => new DashboardPage()) as unknown as DashboardView;
  });
  afterEach(() => {
    page.store.stop();
    h.http.verify({ ignoreCancelled: true });
    h.destroy();
    jest.useRealTimers();
  });

  it("starts polling, and shows this server's own base URL", () => {
    expect(page.baseUrl).toBe('http://pool.test:8080/v1');
    expect(page.pollSeconds).toBe(3);
    expect(page.rangeLabel()).toBe('近 24 小时');
    expect(page.liveLabel()).toBe('实时 · 每 3 秒刷新');
    page.ngOnInit();
    poll([2, 3]);
    expect(page.store.status()).toBe('ready');
    expect(page.chartSummary()).toEqual({ requests: '共 5 次', successRate: '整体 100%', latency: 'P50 120 ms · P95 480 ms', tokens: '共 150' });
  });

  it('feeds the charts new data on every poll without rebuilding them; a theme switch rebuilds them', () => {
    page.ngOnInit();
    poll([1]);
    const options = page.chartOptions();
    const firstData = page.chartData();
    expect((options.requests['series'] as Array<{ data: number[] }>)[0]!.data.at(-1)).toBe(1);

    jest.advanceTimersByTime(3000);
    poll([1, 4]);
    expect(page.chartOptions()).toBe(options);
    expect(page.chartData()).not.toBe(firstData);
    expect((page.chartData()!.requests['series'] as Array<{ data: number[] }>)[0]!.data.at(-1)).toBe(4);

    h.get(ThemeService).toggle();
    const light = page.chartOptions();
    expect(light).not.toBe(options);
    // Rebuilt with the data shown now, so nothing blinks away until the next poll.
    expect((light.requests['series'] as Array<{ data: number[] }>)[0]!.data.at(-1)).toBe(4);
    expect((light['requests']['textStyle'] as { color: string }).color).not.toBe((options['requests']['textStyle'] as { color: string }).color);
  });

  it('colours success rates', () => {
    expect(rateTone(null)).toBe('neutral');
    expect(rateTone(0.99)).toBe('success');
    expect(rateTone(0.9)).toBe('warning');
    expect(rateTone(0.5)).toBe('danger');
  });
});
