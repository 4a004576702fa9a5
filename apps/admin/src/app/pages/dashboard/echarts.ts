/**
 * The part of ECharts the dashboard draws with (line and bar charts, canvas), loaded lazily with
 * the dashboard so that the login page and the other pages do not carry it.
 */
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export { init } from 'echarts/core';
