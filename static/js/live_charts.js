/* CanvasCraft live charts: one line chart per metric key that grows as points arrive.
 *
 *   var chart = CanvasCraftLiveCharts.attach(figure, {key: "val_loss", color: "#6e56cf"});
 *   chart.replace([[step, value], ...], total);   // a snapshot (total: points the run holds)
 *   chart.append([[step, value], ...]);           // new points
 *   CanvasCraftLiveCharts.card("val_loss")        // a new <figure> for a key seen mid-run
 *   CanvasCraftLiveCharts.flush()                 // draw now what is pending (before a reload)
 *
 * Drawn by uPlot (npm, served from /static/vendor/uplot/) when the page loaded it, else by the
 * studio's own renderer (charts.js, `CanvasCraftCharts.show`).
 *
 * Long series stay smooth: the points are kept in growing Float64Arrays, and what is drawn is a
 * view of them: min and max per pixel column for the older points (about 2x the plot width),
 * the newest EXACT_TAIL points as they are. Redraws are coalesced to one per animation frame.
 *
 * The figure carries what tests watch: data-points (points held), data-drawn-points (points in
 * the drawn view) and data-state ("loading", then "ready" once data was drawn).
 */
(function () {
  "use strict";

  var EXACT_TAIL = 500;
  var HEIGHT = 240;
  var INITIAL_CAPACITY = 256;
  var COLORS = { text: "#655e74", grid: "#eee7dc", axis: "#d5c9b8" };
  // Kept in step with PALETTE in charts.js and .swatch-N in studio.css.
  var PALETTE = [
    "#e5484d", "#6e56cf", "#12a594", "#f59e0b", "#0b84e5",
    "#d6409f", "#3f9142", "#8d6e63", "#1e1a2b", "#e8590c",
  ];

  var pending = [];
  var frame = 0;

  /* ---------- numbers ---------- */
  function formatValue(value) {
    if (value === null || value === undefined || !isFinite(value)) return "—";
    if (value === 0) return "0";
    var abs = Math.abs(value);
    if (abs >= 1e6 || abs < 1e-4) return value.toExponential(3);
    return String(parseFloat(value.toPrecision(5)));
  }

  function formatCount(count) { return Number(count).toLocaleString("en-US"); }

  /* Axis labels with as many decimals as the tick spacing needs (uPlot's own stop at 3). */
  function tickLabel(value, increment) {
    if (value === 0) return "0";
    var abs = Math.abs(value);
    if (increment < 1e-4 || abs >= 1e9) return value.toExponential(1);
    if (abs >= 1e3 && increment >= 1e3) {
      var units = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
      for (var i = 0; i < units.length; i++) {
        if (abs >= units[i][0]) return parseFloat((value / units[i][0]).toPrecision(3)) + units[i][1];
      }
    }
    return value.toFixed(Math.max(0, Math.ceil(-Math.log10(increment) - 1e-9)));
  }

  function tickLabels(u, splits, axisIndex, space, increment) {
    return splits.map(function (value) { return value === null || value === undefined ? "" : tickLabel(value, increment); });
  }

  // Steps are whole numbers: x ticks at 1, 2, 5 x 10^n, never between two steps.
  var STEP_INCREMENTS = [];
  for (var power = 1; power <= 1e12; power *= 10) STEP_INCREMENTS.push(power, 2 * power, 5 * power);

  /* ---------- a series: steps and values in growing typed arrays, sorted by step ---------- */
  function Series() {
    this.steps = new Float64Array(INITIAL_CAPACITY);
    this.values = new Float64Array(INITIAL_CAPACITY);
    this.length = 0;
  }

  Series.prototype.reserve = function (extra) {
    var needed = this.length + extra;
    if (needed <= this.steps.length) return;
    var capacity = this.steps.length;
    while (capacity < needed) capacity *= 2;
    var steps = new Float64Array(capacity);
    var values = new Float64Array(capacity);
    steps.set(this.steps.subarray(0, this.length));
    values.set(this.values.subarray(0, this.length));
    this.steps = steps;
    this.values = values;
  };

  /* Appends (the usual case), or replaces/inserts a step logged again or late (a resumed run). */
  Series.prototype.push = function (step, value) {
    var n = this.length;
    if (n === 0 || step > this.steps[n - 1]) {
      this.reserve(1);
      this.steps[n] = step;
      this.values[n] = value;
      this.length = n + 1;
      return true;
    }
    var low = 0;
    var high = n;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (this.steps[middle] < step) low = middle + 1;
      else high = middle;
    }
    if (low < n && this.steps[low] === step) {
      this.values[low] = value;
      return false;
    }
    this.reserve(1);
    this.steps.copyWithin(low + 1, low, n);
    this.values.copyWithin(low + 1, low, n);
    this.steps[low] = step;
    this.values[low] = value;
    this.length = n + 1;
    return true;
  };

  /* What to draw for a plot `columns` pixels wide: every point when few, else the older points
   * reduced to min and max per pixel column and the newest EXACT_TAIL points exact. */
  Series.prototype.view = function (columns) {
    var n = this.length;
    var steps = this.steps;
    var values = this.values;
    var xs = [];
    var ys = [];
    var i;
    columns = Math.max(50, Math.round(columns));
    if (n <= 2 * columns + EXACT_TAIL) {
      for (i = 0; i < n; i++) { xs.push(steps[i]); ys.push(values[i]); }
      return [xs, ys];
    }
    var headEnd = n - EXACT_TAIL;
    var first = steps[0];
    var span = steps[n - 1] - first || 1;
    var column = -1;
    var minIndex = -1;
    var maxIndex = -1;
    function flush() {
      if (minIndex < 0) return;
      var a = Math.min(minIndex, maxIndex);
      var b = Math.max(minIndex, maxIndex);
      xs.push(steps[a]); ys.push(values[a]);
      if (b !== a) { xs.push(steps[b]); ys.push(values[b]); }
    }
    xs.push(steps[0]); ys.push(values[0]);
    for (i = 1; i < headEnd; i++) {
      var at = Math.floor(((steps[i] - first) / span) * columns);
      if (at !== column) {
        flush();
        column = at;
        minIndex = maxIndex = i;
      } else {
        if (values[i] < values[minIndex]) minIndex = i;
        if (values[i] > values[maxIndex]) maxIndex = i;
      }
    }
    flush();
    for (i = headEnd; i < n; i++) { xs.push(steps[i]); ys.push(values[i]); }
    return [xs, ys];
  };

  /* ---------- uPlot ---------- */
  function fontFamily() {
    return getComputedStyle(document.body).fontFamily || "system-ui, sans-serif";
  }

  function axisSize(self, values, axisIndex, cycle) {
    var axis = self.axes[axisIndex];
    if (cycle > 1 && axis._size) return axis._size;
    var size = axis.ticks.size + axis.gap;
    var longest = (values || []).reduce(function (a, b) { return String(b).length > a.length ? String(b) : a; }, "");
    if (longest) {
      self.ctx.font = axis.font[0];
      size += self.ctx.measureText(longest).width / (window.devicePixelRatio || 1);
    }
    return Math.ceil(size) + 2;
  }

  function axis(font, isY) {
    var options = {
      stroke: COLORS.text,
      font: "500 11px " + font,
      gap: 6,
      grid: { stroke: COLORS.grid, width: 1 },
      ticks: { stroke: COLORS.axis, width: 1, size: 4 },
      border: { show: !isY, stroke: COLORS.axis, width: 1 },
      values: tickLabels,
    };
    if (isY) options.size = axisSize;
    else options.incrs = STEP_INCREMENTS;
    return options;
  }

  function washFill(color) {
    return function (u) {
      var box = u.bbox;
      if (!box || !box.height) return color + "22";
      var gradient = u.ctx.createLinearGradient(0, box.top, 0, box.top + box.height);
      gradient.addColorStop(0, color + "38");
      gradient.addColorStop(1, color + "00");
      return gradient;
    };
  }

  /* The step and value under the cursor, in a dark bubble (like charts.js draws it). */
  function tooltipPlugin(chart) {
    var tip;
    return {
      hooks: {
        init: function (u) {
          tip = document.createElement("div");
          tip.className = "live-chart-tip";
          tip.hidden = true;
          tip.setAttribute("data-live-chart-tip", "");
          u.over.appendChild(tip);
          u.over.addEventListener("mouseleave", function () { tip.hidden = true; });
        },
        setCursor: function (u) {
          var index = u.cursor.idx;
          var y = index === null || index === undefined ? null : u.data[1][index];
          if (y === null || y === undefined) { tip.hidden = true; return; }
          var x = u.data[0][index];
          tip.textContent = "";
          var head = document.createElement("span");
          head.className = "live-chart-tip-step";
          head.textContent = "step " + formatCount(x);
          var value = document.createElement("strong");
          value.textContent = formatValue(y);
          value.style.setProperty("--swatch", chart.color);
          tip.appendChild(head);
          tip.appendChild(value);
          tip.hidden = false;
          var left = u.valToPos(x, "x");
          var top = u.valToPos(y, "y");
          var width = tip.offsetWidth;
          var room = u.over.clientWidth;
          var placeLeft = left + 14 + width > room;
          tip.style.left = Math.max(0, placeLeft ? left - 14 - width : left + 14) + "px";
          tip.style.top = Math.max(0, Math.min(u.over.clientHeight - tip.offsetHeight, top - tip.offsetHeight / 2)) + "px";
        },
      },
    };
  }

  function makeUplot(chart, width) {
    var font = fontFamily();
    var options = {
      width: width,
      height: HEIGHT,
      legend: { show: false },
      scales: { x: { time: false } },
      cursor: {
        drag: { x: false, y: false },
        points: { size: 9, width: 2, fill: "#ffffff", stroke: chart.color },
        y: false,
      },
      series: [
        {},
        { label: chart.key, stroke: chart.color, width: 2, fill: washFill(chart.color), spanGaps: true },
      ],
      axes: [axis(font, false), axis(font, true)],
      plugins: [tooltipPlugin(chart)],
    };
    return new window.uPlot(options, [[], []], chart.plot);
  }

  /* ---------- one chart ---------- */
  function Chart(figure, options) {
    this.figure = figure;
    this.key = options.key || figure.getAttribute("data-live-chart");
    this.color = options.color || PALETTE[0];
    this.series = new Series();
    this.total = 0;
    this.hasData = false;
    this.plot = figure.querySelector("[data-live-chart-plot]");
    this.meta = figure.querySelector("[data-live-chart-meta]");
    this.uplot = null;
    this.canvas = null;
    this.width = 0;
    figure.setAttribute("data-state", "loading");
    figure.setAttribute("data-points", "0");
    figure.setAttribute("data-renderer", window.uPlot ? "uplot" : "builtin");
    this.plot.setAttribute("role", "img");
    this.plot.setAttribute("aria-label", "Line chart of " + this.key + " (loading)");
    var self = this;
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(function () {
        var width = Math.round(self.plot.clientWidth);
        if (width && width !== self.width) self.invalidate();
      }).observe(this.plot);
    }
  }

  Chart.prototype.replace = function (points, total) {
    this.series = new Series();
    this.series.reserve(points.length);
    this.total = 0;
    this.add(points);
    if (typeof total === "number" && total > this.total) this.total = total;
    this.hasData = true;
    this.invalidate();
  };

  Chart.prototype.append = function (points) {
    this.add(points);
    this.hasData = true;
    this.invalidate();
  };

  Chart.prototype.add = function (points) {
    this.series.reserve(points.length);
    for (var i = 0; i < points.length; i++) {
      var step = Number(points[i][0]);
      var value = points[i][1];
      if (value === null || value === undefined || !isFinite(step) || !isFinite(value)) continue;
      if (this.series.push(step, Number(value))) this.total += 1;
    }
  };

  Chart.prototype.invalidate = function () {
    if (pending.indexOf(this) < 0) pending.push(this);
    if (!frame) {
      var request = window.requestAnimationFrame || function (callback) { return window.setTimeout(callback, 16); };
      frame = request(flush);
    }
  };

  Chart.prototype.render = function () {
    var width = Math.max(120, Math.round(this.plot.clientWidth || 400));
    this.width = width;
    var view = this.series.view(width);
    if (window.uPlot) {
      if (!this.uplot) this.uplot = makeUplot(this, width);
      else if (this.uplot.width !== width) this.uplot.setSize({ width: width, height: HEIGHT });
      this.uplot.setData(view);
    } else if (window.CanvasCraftCharts && window.CanvasCraftCharts.show) {
      if (!this.canvas) {
        this.canvas = document.createElement("canvas");
        this.canvas.className = "chart";
        this.canvas.style.height = HEIGHT + "px";
        this.plot.appendChild(this.canvas);
      }
      window.CanvasCraftCharts.show(this.canvas, this.key, [
        { name: this.key, steps: view[0], values: view[1], total: Math.max(this.total, view[0].length), color: this.color },
      ]);
    }
    this.describe(view[0].length);
  };

  Chart.prototype.describe = function (drawn) {
    var n = this.series.length;
    var figure = this.figure;
    figure.setAttribute("data-points", String(n));
    figure.setAttribute("data-drawn-points", String(drawn));
    if (this.hasData) figure.setAttribute("data-state", "ready");
    var summary;
    if (!n) summary = "no points yet";
    else {
      var last = n - 1;
      summary = formatValue(this.series.values[last]) + " at step " + formatCount(this.series.steps[last]) +
        " · " + formatCount(Math.max(this.total, n)) + " point" + (Math.max(this.total, n) === 1 ? "" : "s");
    }
    if (this.meta) this.meta.textContent = summary;
    this.plot.setAttribute("aria-label", "Line chart of " + this.key + ": " + summary + ".");
  };

  function flush() {
    frame = 0;
    var charts = pending;
    pending = [];
    charts.forEach(function (chart) { chart.render(); });
  }

  /* ---------- public ---------- */
  function card(key) {
    var figure = document.createElement("figure");
    figure.className = "card chart-card live-chart";
    figure.setAttribute("data-live-chart", key);
    var caption = document.createElement("figcaption");
    caption.className = "card-title";
    var code = document.createElement("code");
    code.textContent = key;
    var meta = document.createElement("span");
    meta.className = "chart-meta";
    meta.setAttribute("data-live-chart-meta", "");
    meta.textContent = "by step";
    caption.appendChild(code);
    caption.appendChild(meta);
    var plot = document.createElement("div");
    plot.className = "live-chart-plot";
    plot.setAttribute("data-live-chart-plot", "");
    figure.appendChild(caption);
    figure.appendChild(plot);
    return figure;
  }

  window.CanvasCraftLiveCharts = {
    palette: PALETTE.slice(),
    exactTail: EXACT_TAIL,
    attach: function (figure, options) { return new Chart(figure, options || {}); },
    card: card,
    flush: function () {
      if (frame) {
        (window.cancelAnimationFrame || window.clearTimeout)(frame);
        flush();
      }
    },
    formatValue: formatValue,
  };
})();
