/* A ward's census and forecast with its 80 % and 95 % intervals, drawn by plotly.js (served by the app). */
(function () {
  "use strict";
  function draw() {
    var target = document.getElementById("forecast-chart");
    var dataNode = document.getElementById("forecast-data");
    if (!target || !dataNode || !window.Plotly) return;
    var data = JSON.parse(dataNode.textContent);
    var labels = JSON.parse(document.getElementById("forecast-labels").textContent);
    var f = data.forecast;
    var traces = [
      { x: f.x, y: f.q975, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
      { x: f.x, y: f.q025, mode: "lines", line: { width: 0 }, fill: "tonexty",
        fillcolor: "rgba(11, 95, 134, 0.15)", name: labels.interval95 },
      { x: f.x, y: f.q90, mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
      { x: f.x, y: f.q10, mode: "lines", line: { width: 0 }, fill: "tonexty",
        fillcolor: "rgba(11, 95, 134, 0.32)", name: labels.interval80 },
      { x: f.x, y: f.mean, mode: "lines+markers", line: { color: "#0b5f86", width: 2, dash: "dot" },
        marker: { size: 5 }, name: labels.mean },
      { x: data.actual.x, y: data.actual.y, mode: "lines", line: { color: "#17212b", width: 2 }, name: labels.actual }
    ];
    var shapes = [];
    if (data.capacity !== null) {
      var xs = data.actual.x.concat(f.x);
      traces.push({ x: [xs[0], xs[xs.length - 1]], y: [data.capacity, data.capacity], mode: "lines",
        line: { color: "#b1251b", width: 1.5, dash: "dash" }, name: labels.capacity });
    }
    var layout = {
      margin: { l: 56, r: 16, t: 16, b: 48 },
      height: 380,
      yaxis: { title: { text: labels.yaxis }, rangemode: "tozero" },
      xaxis: { type: "date" },
      legend: { orientation: "h", y: -0.18 },
      shapes: shapes,
      font: { family: getComputedStyle(document.body).fontFamily }
    };
    window.Plotly.newPlot(target, traces, layout, { displaylogo: false, responsive: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
