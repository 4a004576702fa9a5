import { point, stats } from '../../../testing/fixtures';
import { CHART_KINDS, chartBase, chartData, chartOption, chartPalette } from './dashboard-charts';

type Opt = { xAxis: { data: string[] }; series: Array<{ id: string; name?: string; data: Array<number | null>; stack?: string }>; yAxis?: { max?: number } };

describe('dashboard charts', () => {
  const report = stats([4, 0, 2]);
  report.series[59] = point(report.series[59]!.bucket, 2, 1);

  it('turn every bucket into a point, labelled by local time', () => {
    for (const kind of CHART_KINDS) {
      const data = chartData(kind, report) as Opt;
      expect(data.xAxis.data).toHaveLength(60);
      expect(data.xAxis.data[0]).toMatch(/^\d\d:\d\d$/);
      for (const s of data.series) expect(s.data).toHaveLength(60);
    }
  });

  it('requests: successes and failures stacked', () => {
    const { series } = chartData('requests', report) as Opt;
    expect(series.map((s) => s.id)).toEqual(['ok', 'failed']);
    expect(series[0]!.data.slice(-3)).toEqual([4, 0, 1]);
    expect(series[1]!.data.slice(-3)).toEqual([0, 0, 1]);
  });

  it('success rate in percent, with gaps where there were no requests', () => {
    const { series } = chartData('successRate', report) as Opt;
    expect(series[0]!.data.slice(-3)).toEqual([100, null, 50]);
    expect((chartBase('successRate', chartPalette(true)) as Opt).yAxis?.max).toBe(100);
  });

  it('latency percentiles and tokens', () => {
    expect((chartData('latency', report) as Opt).series.map((s) => s.data.at(-1))).toEqual([120, 480]);
    expect((chartData('tokens', report) as Opt).series.map((s) => s.data.at(-1))).toEqual([20, 40]);
  });

  it('the first option carries base and data; the palette follows the theme', () => {
    const full = chartOption('requests', report, chartPalette(false)) as Opt;
    expect(full.xAxis.data).toHaveLength(60);
    expect(full.series.map((s) => [s.name, s.stack, s.data.at(-1)])).toEqual([
      ['成功', 'requests', 1],
      ['失败', 'requests', 1],
    ]);
    expect(chartPalette(true).text).not.toBe(chartPalette(false).text);
    expect((chartOption('requests', null, chartPalette(true)) as Opt).series[0]!.data).toEqual([]);
  });
});
