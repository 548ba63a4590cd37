// shopkeeper dashboard: draws the embedded Plotly figures and refreshes the jobs page.
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
  };

  function drawCharts() {
    if (!window.Plotly) {
      return;
    }
    var nodes = document.querySelectorAll("[data-figure]");
    Array.prototype.forEach.call(nodes, function (node) {
      var source = document.getElementById(node.getAttribute("data-figure"));
      if (!source) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(node, figure.data, figure.layout, CONFIG).then(function () {
        node.setAttribute("data-drawn", "true");
      });
    });
  }

  // While a job is queued or running the page says so; reload it to follow progress.
  function scheduleRefresh() {
    var marker = document.querySelector("[data-refresh]");
    if (marker) {
      var seconds = parseFloat(marker.getAttribute("data-refresh")) || 3;
      window.setTimeout(function () {
        window.location.reload();
      }, seconds * 1000);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    scheduleRefresh();
  });
})();
