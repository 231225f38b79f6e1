import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { init, use } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";

use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export function barChart(container: HTMLElement) {
  return init(container, undefined, { renderer: "svg" });
}
