/* OpenPCF analysis charts: the contribution treemap, the variance shares and the scenarios.
 *
 * Markup (no inline script: the Content-Security-Policy forbids it):
 *   <div class="chart" role="img" aria-label="..." data-analysis-chart='{"kind": ...}'></div>
 * The data sit in the attribute, not in a <script type="application/json"> block as for
 * static/charts.js, because these sections arrive by htmx swaps, and htmx removes every
 * <script> element of swapped content when allowScriptTags is off (the base template).
 * Kinds:
 *   "treemap" ({unit, data: [root]}): each node {name, value (area: |kg CO2e|), co2e, share,
 *     children}; one level at a time, a click on a box opens its children, the breadcrumb goes
 *     back (ECharts' own drill-down);
 *   "shares" ({unit, labels, values}): horizontal bars, largest first;
 *   "stacked" ({unit, labels, series: [{name, values}]}): one stacked bar per scenario;
 *   "histogram" ({unit, labels, values}): Monte Carlo iterations per bin of the total.
 * The same numbers are in a table next to each chart. Names come from model files: tooltips
 * escape them (echarts.format.encodeHTML). Runs again after htmx swaps content in.
 */
(function () {
  "use strict";
  var CHART_HEIGHT = 360;
  var GREEN = "#2f6f4e";
  var INK = "#1d2521";
  // light tints, so that dark labels keep a contrast of at least 4.5:1 (WCAG AA)
  var TINTS = ["#a8d5ba", "#b3cdee", "#f3d9a4", "#eab8bd", "#cdbfe9", "#b7e2df", "#dfe0ad"];

  function readData(box) {
    try { return JSON.parse(box.getAttribute("data-analysis-chart")); } catch (e) { return null; }
  }

  function number(value) { return Number(value).toPrecision(4); }

  function treemap(data, esc) {
    var root = data.data[0];
    return {
      animation: false,
      color: TINTS,
      tooltip: {
        formatter: function (info) {
          var d = info.data || {};
          if (d.co2e === undefined) { return esc(info.name); }
          return esc(info.name) + ": " + number(d.co2e) + " " + esc(data.unit) +
            " (" + (100 * d.share).toFixed(1) + " %)";
        }
      },
      series: [{
        type: "treemap",
        name: root.name,
        data: root.children && root.children.length ? root.children : [root],
        leafDepth: 1,
        roam: false,
        nodeClick: "zoomToNode",
        breadcrumb: { show: true, bottom: 0,
                      itemStyle: { color: "#ffffff", borderColor: "#76867d", textStyle: { color: INK } } },
        top: 10, bottom: 40, left: 5, right: 5,
        label: { show: true, formatter: "{b}", overflow: "truncate", color: INK },
        upperLabel: { show: true, height: 22, color: INK },
        levels: [
          { itemStyle: { borderColor: "#ffffff", borderWidth: 2, gapWidth: 2 } },
          { itemStyle: { borderColorSaturation: 0.6, gapWidth: 1 } }
        ]
      }]
    };
  }

  function shares(data) {
    return {
      animation: false,
      grid: { left: 20, right: 40, top: 20, bottom: 30, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", name: data.unit },
      yAxis: { type: "category", data: data.labels, inverse: true,
               axisLabel: { width: 260, overflow: "truncate" } },
      series: [{ type: "bar", data: data.values, itemStyle: { color: GREEN },
                 label: { show: true, position: "right",
                          formatter: function (p) { return Number(p.value).toFixed(1); } } }]
    };
  }

  function stacked(data) {
    return {
      animation: false,
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 40, bottom: 40, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0 } },
      yAxis: { type: "value", name: data.unit },
      series: data.series.map(function (s) {
        return { type: "bar", stack: "stages", name: s.name, data: s.values };
      })
    };
  }

  function histogram(data) {
    return {
      animation: false,
      grid: { left: 50, right: 20, top: 20, bottom: 50, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: data.labels, name: data.unit, nameLocation: "middle",
               nameGap: 36 },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.values, barCategoryGap: "5%",
                 itemStyle: { color: GREEN } }]
    };
  }

  function draw(root) {
    var echarts = window.echarts;
    if (typeof echarts === "undefined") { return; }
    var esc = echarts.format.encodeHTML;
    var boxes = (root || document).querySelectorAll("[data-analysis-chart]");
    Array.prototype.forEach.call(boxes, function (box) {
      var data = readData(box);
      if (!data) { return; }
      var option = null;
      if (data.kind === "treemap" && data.data && data.data.length) {
        option = treemap(data, esc);
      } else if (data.kind === "shares" && data.labels) {
        option = shares(data);
      } else if (data.kind === "stacked" && data.series) {
        option = stacked(data);
      } else if (data.kind === "histogram" && data.labels) {
        option = histogram(data);
      }
      if (!option) { return; }
      // a bar per input: the box grows with them rather than stretching two bars
      var height = data.kind === "shares" ? Math.min(CHART_HEIGHT, 70 + 40 * data.labels.length)
        : CHART_HEIGHT;
      var chart = echarts.getInstanceByDom(box) || echarts.init(box, null,
        { renderer: "svg", height: height });
      chart.setOption(option, true);
    });
  }

  function start() { draw(document); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // free the charts of content htmx is about to replace, and draw those it brought
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || typeof window.echarts === "undefined") { return; }
    Array.prototype.forEach.call(target.querySelectorAll("[data-analysis-chart]"), function (box) {
      var chart = window.echarts.getInstanceByDom(box);
      if (chart) { chart.dispose(); }
    });
  });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  window.addEventListener("resize", function () {
    if (typeof window.echarts === "undefined") { return; }
    var boxes = document.querySelectorAll("[data-analysis-chart]");
    Array.prototype.forEach.call(boxes, function (box) {
      var chart = window.echarts.getInstanceByDom(box);
      if (chart) { chart.resize(); }
    });
  });
})();
