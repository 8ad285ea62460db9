/* OpenPCF charts: draws every chart whose data sits in a JSON block on the page.
 *
 * Markup (no inline script: the Content-Security-Policy forbids it):
 *   <div class="chart" data-chart="ID" role="img" aria-label="..."></div>
 *   <script type="application/json" id="ID">{"kind": "waterfall", ...}</script>
 * Kinds: "waterfall" ({labels, base, values, total, unit, total_label}) draws each stage as a
 * bar starting where the previous one ended, then the total; "bar" ({labels, values, unit}).
 * The same numbers are in a table next to the chart, so nothing is lost without JavaScript.
 * Runs again after htmx swaps content in (htmx:afterSettle).
 */
(function () {
  "use strict";
  // the box gets its height here: the CSP allows no inline style attribute on the page
  var CHART_HEIGHT = 320;

  function readData(id) {
    var block = document.getElementById(id);
    if (!block) { return null; }
    try { return JSON.parse(block.textContent); } catch (e) { return null; }
  }

  function waterfall(data) {
    var labels = data.labels.concat([data.total_label || "total"]);
    var base = data.base.concat([0]);
    var values = data.values.concat([data.total]);
    return {
      animation: false,
      grid: { left: 60, right: 20, top: 40, bottom: 60, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (params) {
          var bar = params[params.length - 1];
          return bar.name + ": " + Number(bar.value).toPrecision(4) + " " + data.unit;
        }
      },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, rotate: 20 } },
      yAxis: { type: "value", name: data.unit },
      series: [
        { type: "bar", stack: "all", silent: true, data: base,
          itemStyle: { color: "transparent", borderColor: "transparent" } },
        { type: "bar", stack: "all", data: values,
          itemStyle: { color: "#2f6f4e" },
          label: { show: true, position: "top",
                   formatter: function (p) { return Number(p.value).toPrecision(3); } } }
      ]
    };
  }

  function bars(data) {
    return {
      animation: false,
      grid: { left: 60, right: 20, top: 40, bottom: 60, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: 20 } },
      yAxis: { type: "value", name: data.unit },
      series: [{ type: "bar", data: data.values, itemStyle: { color: "#2f6f4e" } }]
    };
  }

  function draw(root) {
    if (typeof window.echarts === "undefined") { return; }
    var boxes = (root || document).querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(boxes, function (box) {
      var data = readData(box.getAttribute("data-chart"));
      if (!data || !data.labels) { return; }
      var option = data.kind === "waterfall" ? waterfall(data) : bars(data);
      var chart = window.echarts.getInstanceByDom(box) || window.echarts.init(box, null,
        { renderer: "svg", height: CHART_HEIGHT });
      chart.setOption(option, true);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  window.addEventListener("resize", function () {
    if (typeof window.echarts === "undefined") { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (box) {
      var chart = window.echarts.getInstanceByDom(box);
      if (chart) { chart.resize(); }
    });
  });
})();
