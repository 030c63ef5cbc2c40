/* CanvasCraft sweep charts: the sweep page's four charts, drawn from plain arrays.
 *
 *   var charts = window.CanvasCraftSweepCharts;
 *   charts.history(plot, {numbers, values, maximize, metric})        // uPlot when loaded
 *   charts.parallel(plot, {axes, columns, values, numbers, maximize, metric, best})
 *   charts.importances(plot, {items: [[name, importance], ...]})
 *   charts.pareto(plot, {xs, ys, numbers, front, metrics, directions})
 *
 * `plot` is the element to draw in (its CSS size is the chart's size); every function draws
 * again from scratch, so callers coalesce redraws (one per animation frame).
 *
 * - History: each complete trial's primary objective by trial number, and the best value so
 *   far as a step line. uPlot (npm, /static/vendor/uplot/) when the page loaded it, else the
 *   same picture on a canvas of our own.
 * - Parallel coordinates: one vertical axis per param (log where the space says so; a
 *   categorical param's choices evenly spread, lines jittered within a choice's band so the
 *   crowd stays readable) and one for the objective; one line per trial, coloured by how good
 *   its value is. Lines are batched into 32 colour buckets, one path each, at an opacity that
 *   falls with the number of trials: 10,000 lines draw in a few tens of milliseconds.
 * - Importances: horizontal bars, most important first.
 * - Pareto front: the first two objectives, the trials on the front larger and joined.
 */
(function () {
  "use strict";

  var COLORS = {
    text: "#655e74",
    strong: "#1e1a2b",
    grid: "#eee7dc",
    axis: "#d5c9b8",
    point: "#7a52e8",
    best: "#ef5a4c",
    muted: "#cbbfae",
  };
  // Worst -> best: warm sand, coral, violet (the studio's accent, read left to right).
  var RAMP = [[244, 214, 184], [239, 79, 109], [99, 55, 212]];
  var BUCKETS = 32;
  var HISTORY_HEIGHT = 260;

  /* ---------- numbers ---------- */
  function formatValue(value) {
    if (value === null || value === undefined || !isFinite(value)) return "—";
    var abs = Math.abs(value);
    if (abs && (abs >= 1e5 || abs < 1e-3)) return value.toExponential(3);
    return String(parseFloat(value.toFixed(4))); // 0.2026, 0.05, 392 (as the server writes them)
  }

  function formatTick(value, step) {
    if (value === 0) return "0";
    var abs = Math.abs(value);
    if (abs >= 1e5 || (step < 1e-3 && abs < 1e-2)) return value.toExponential(1);
    var decimals = Math.max(0, Math.min(6, Math.ceil(-Math.log10(step) - 1e-9)));
    return value.toFixed(decimals);
  }

  function niceStep(range, count) {
    var raw = range / Math.max(1, count);
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var fraction = raw / power;
    return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power;
  }

  function ticks(min, max, count, integer) {
    if (!(max > min)) return { step: 1, values: [min] };
    var step = niceStep(max - min, count);
    if (integer && step < 1) step = 1;
    var values = [];
    for (var value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) {
      values.push(Math.abs(value) < step * 1e-9 ? 0 : value);
      if (values.length > 40) break;
    }
    return { step: step, values: values };
  }

  function padded(min, max) {
    if (!isFinite(min) || !isFinite(max)) return [0, 1];
    if (min === max) {
      var pad = Math.abs(min) * 0.1 || 1;
      return [min - pad, max + pad];
    }
    var margin = (max - min) * 0.06;
    return [min - margin, max + margin];
  }

  function rampColor(t, alpha) {
    t = Math.max(0, Math.min(1, t));
    var scaled = t * (RAMP.length - 1);
    var index = Math.min(RAMP.length - 2, Math.floor(scaled));
    var local = scaled - index;
    var rgb = [0, 1, 2].map(function (c) {
      return Math.round(RAMP[index][c] + (RAMP[index + 1][c] - RAMP[index][c]) * local);
    });
    return "rgba(" + rgb.join(",") + "," + alpha + ")";
  }

  /* ---------- canvas ---------- */
  function fontFamily() {
    return getComputedStyle(document.body).fontFamily || "system-ui, sans-serif";
  }

  function surface(plot) {
    var canvas = plot.querySelector("canvas.sweep-canvas");
    if (!canvas) {
      plot.textContent = "";
      canvas = document.createElement("canvas");
      canvas.className = "sweep-canvas";
      plot.appendChild(canvas);
    }
    var width = Math.max(120, Math.round(plot.clientWidth));
    var height = Math.max(80, Math.round(plot.clientHeight));
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = height + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return { canvas: canvas, ctx: ctx, width: width, height: height, font: fontFamily() };
  }

  function message(plot, text) {
    plot.textContent = "";
    var note = document.createElement("p");
    note.className = "sweep-plot-note";
    note.textContent = text;
    plot.appendChild(note);
  }

  function label(ctx, text, x, y, align, baseline, font, color) {
    ctx.fillStyle = color || COLORS.text;
    ctx.font = font;
    ctx.textAlign = align;
    ctx.textBaseline = baseline;
    ctx.fillText(text, x, y);
  }

  function ellipsis(ctx, text, width) {
    if (ctx.measureText(text).width <= width) return text;
    while (text.length > 1 && ctx.measureText(text + "…").width > width) text = text.slice(0, -1);
    return text + "…";
  }

  /* Grid, ticks and axis titles of an x/y plot; returns the value -> pixel maps. */
  function frame(s, box, xDomain, yDomain, options) {
    var ctx = s.ctx;
    var xTicks = ticks(xDomain[0], xDomain[1], Math.max(3, Math.floor(box.width / 80)), options.integerX);
    var yTicks = ticks(yDomain[0], yDomain[1], Math.max(3, Math.floor(box.height / 36)), false);
    function x(value) { return box.left + ((value - xDomain[0]) / (xDomain[1] - xDomain[0])) * box.width; }
    function y(value) { return box.top + box.height - ((value - yDomain[0]) / (yDomain[1] - yDomain[0])) * box.height; }
    var small = "500 11px " + s.font;
    ctx.lineWidth = 1;
    ctx.strokeStyle = COLORS.grid;
    yTicks.values.forEach(function (value) {
      var at = Math.round(y(value)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(box.left, at);
      ctx.lineTo(box.left + box.width, at);
      ctx.stroke();
      label(ctx, formatTick(value, yTicks.step), box.left - 8, at, "right", "middle", small);
    });
    xTicks.values.forEach(function (value) {
      var at = Math.round(x(value)) + 0.5;
      ctx.strokeStyle = COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(at, box.top);
      ctx.lineTo(at, box.top + box.height);
      ctx.stroke();
      label(ctx, formatTick(value, xTicks.step), at, box.top + box.height + 7, "center", "top", small);
    });
    ctx.strokeStyle = COLORS.axis;
    ctx.beginPath();
    ctx.moveTo(box.left, box.top + box.height + 0.5);
    ctx.lineTo(box.left + box.width, box.top + box.height + 0.5);
    ctx.stroke();
    var title = "650 11px " + s.font;
    if (options.xTitle) label(ctx, options.xTitle, box.left + box.width, box.top + box.height + 24, "right", "top", title, COLORS.strong);
    if (options.yTitle) label(ctx, options.yTitle, box.left, box.top - 12, "left", "bottom", title, COLORS.strong);
    return { x: x, y: y };
  }

  /* A dark bubble near the point nearest to the pointer (within 14 px). */
  function hover(plot, canvas, points) {
    var tip = plot.querySelector(".live-chart-tip");
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "live-chart-tip";
      tip.hidden = true;
      plot.appendChild(tip);
    }
    canvas.onmouseleave = function () { tip.hidden = true; };
    canvas.onmousemove = function (event) {
      var rect = canvas.getBoundingClientRect();
      var px = event.clientX - rect.left;
      var py = event.clientY - rect.top;
      var nearest = -1;
      var best = 14 * 14;
      for (var i = 0; i < points.xs.length; i++) {
        var dx = points.xs[i] - px;
        var dy = points.ys[i] - py;
        var distance = dx * dx + dy * dy;
        if (distance < best) { best = distance; nearest = i; }
      }
      if (nearest < 0) { tip.hidden = true; return; }
      tip.textContent = "";
      var head = document.createElement("span");
      head.className = "live-chart-tip-step";
      head.textContent = points.heads[nearest];
      var body = document.createElement("strong");
      body.textContent = points.bodies[nearest];
      body.style.setProperty("--swatch", points.color);
      tip.appendChild(head);
      tip.appendChild(body);
      tip.hidden = false;
      var left = points.xs[nearest] + 12;
      if (left + tip.offsetWidth > plot.clientWidth) left = points.xs[nearest] - 12 - tip.offsetWidth;
      tip.style.left = Math.max(0, left) + "px";
      tip.style.top = Math.max(0, points.ys[nearest] - tip.offsetHeight / 2) + "px";
    };
  }

  /* ---------- optimisation history ---------- */
  function bestSoFar(values, maximize) {
    var out = new Array(values.length);
    var best = null;
    for (var i = 0; i < values.length; i++) {
      if (best === null || (maximize ? values[i] > best : values[i] < best)) best = values[i];
      out[i] = best;
    }
    return out;
  }

  function historyUplot(plot, data, line) {
    var font = fontFamily();
    var axis = {
      stroke: COLORS.text,
      font: "500 11px " + font,
      grid: { stroke: COLORS.grid, width: 1 },
      ticks: { stroke: COLORS.axis, width: 1, size: 4 },
    };
    var size = { width: Math.max(200, plot.clientWidth), height: HISTORY_HEIGHT };
    var payload = [data.numbers, data.values, line];
    var dots = dotStyle(data.numbers.length);
    if (plot._uplot && plot._uplotDots !== dots.key) { plot._uplot.destroy(); plot._uplot = null; }
    if (plot._uplot) {
      if (plot._uplot.width !== size.width) plot._uplot.setSize(size);
      plot._uplot.setData(payload);
      return;
    }
    plot.textContent = "";
    var tip = document.createElement("div");
    tip.className = "live-chart-tip";
    tip.hidden = true;
    var options = {
      width: size.width,
      height: size.height,
      legend: { show: false },
      scales: { x: { time: false } },
      cursor: { drag: { x: true, y: false }, y: false, points: { size: 9, width: 2, fill: "#fff", stroke: COLORS.point } },
      series: [
        {},
        {
          label: data.metric,
          stroke: COLORS.point,
          paths: function () { return null; },
          points: { show: true, size: 2 * dots.radius, width: 0, fill: dots.fill, stroke: dots.fill },
        },
        { label: "best so far", stroke: COLORS.best, width: 2, paths: window.uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      ],
      axes: [
        Object.assign({ label: "trial", labelSize: 16, labelGap: 0, labelFont: "650 11px " + font }, axis),
        Object.assign({ size: 60 }, axis),
      ],
      hooks: {
        setCursor: [function (u) {
          var index = u.cursor.idx;
          if (index === null || index === undefined) { tip.hidden = true; return; }
          tip.textContent = "";
          var head = document.createElement("span");
          head.className = "live-chart-tip-step";
          head.textContent = "trial #" + u.data[0][index] + " · best so far " + formatValue(u.data[2][index]);
          var body = document.createElement("strong");
          body.textContent = data.metric + " " + formatValue(u.data[1][index]);
          body.style.setProperty("--swatch", COLORS.point);
          tip.appendChild(head);
          tip.appendChild(body);
          tip.hidden = false;
          var left = u.valToPos(u.data[0][index], "x") + 14;
          if (left + tip.offsetWidth > u.over.clientWidth) left -= 28 + tip.offsetWidth;
          tip.style.left = Math.max(0, left) + "px";
          tip.style.top = Math.max(0, u.valToPos(u.data[1][index], "y") - tip.offsetHeight / 2) + "px";
        }],
      },
    };
    plot._uplot = new window.uPlot(options, payload, plot);
    plot._uplotDots = dots.key;
    plot._uplot.over.appendChild(tip);
    plot._uplot.over.addEventListener("mouseleave", function () { tip.hidden = true; });
  }

  /* Smaller, lighter dots as trials crowd the chart, so its density stays readable. */
  function dotStyle(n) {
    var key = n > 3000 ? 2 : n > 1000 ? 1 : 0;
    return {
      key: key,
      radius: [2.5, 2, 1.5][key],
      fill: "rgba(122, 82, 232, " + [0.55, 0.4, 0.3][key] + ")",
    };
  }

  function historyCanvas(plot, data, line) {
    var s = surface(plot);
    var n = data.numbers.length;
    var yMin = Infinity;
    var yMax = -Infinity;
    for (var i = 0; i < n; i++) {
      if (data.values[i] < yMin) yMin = data.values[i];
      if (data.values[i] > yMax) yMax = data.values[i];
    }
    var box = { left: 62, top: 22, width: s.width - 62 - 14, height: s.height - 22 - 40 };
    var map = frame(s, box, padded(data.numbers[0], data.numbers[n - 1]), padded(yMin, yMax), {
      integerX: true, xTitle: "trial", yTitle: data.metric,
    });
    var ctx = s.ctx;
    var xs = new Array(n);
    var ys = new Array(n);
    var dots = dotStyle(n);
    ctx.fillStyle = dots.fill;
    ctx.beginPath();
    for (i = 0; i < n; i++) {
      xs[i] = map.x(data.numbers[i]);
      ys[i] = map.y(data.values[i]);
      ctx.moveTo(xs[i] + dots.radius, ys[i]);
      ctx.arc(xs[i], ys[i], dots.radius, 0, 2 * Math.PI);
    }
    ctx.fill();
    ctx.strokeStyle = COLORS.best;
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (i = 0; i < n; i++) {
      var y = map.y(line[i]);
      if (i === 0) ctx.moveTo(xs[i], y);
      else { ctx.lineTo(xs[i], map.y(line[i - 1])); ctx.lineTo(xs[i], y); }
    }
    ctx.stroke();
    hover(plot, s.canvas, {
      xs: xs,
      ys: ys,
      color: COLORS.point,
      heads: data.numbers.map(function (number, k) { return "trial #" + number + " · best so far " + formatValue(line[k]); }),
      bodies: data.values.map(function (value) { return data.metric + " " + formatValue(value); }),
    });
  }

  function history(plot, data) {
    if (!data.numbers.length) {
      if (plot._uplot) { plot._uplot.destroy(); plot._uplot = null; }
      message(plot, "No trial has completed yet.");
      return "empty";
    }
    var line = bestSoFar(data.values, data.maximize);
    if (window.uPlot) historyUplot(plot, data, line);
    else historyCanvas(plot, data, line);
    return "ready";
  }

  /* ---------- parallel coordinates ---------- */
  function numericScale(axis, column, valid) {
    var min = Infinity;
    var max = -Infinity;
    for (var i = 0; i < column.length; i++) {
      if (!valid[i] || column[i] === null) continue;
      if (column[i] < min) min = column[i];
      if (column[i] > max) max = column[i];
    }
    if (typeof axis.low === "number") min = Math.min(min, axis.low);
    if (typeof axis.high === "number") max = Math.max(max, axis.high);
    var log = axis.log && min > 0;
    var f = log ? Math.log : function (v) { return v; };
    var lo = f(min);
    var hi = f(max);
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    return {
      position: function (value) { return (f(value) - lo) / (hi - lo); },
      labels: function () {
        if (!isFinite(min)) return [];
        if (log) {
          var out = [];
          for (var p = Math.ceil(Math.log10(min)); p <= Math.floor(Math.log10(max)); p++) out.push([Math.pow(10, p), "1e" + p]);
          if (out.length < 2) out = [[min, formatTick(min, min / 10)], [max, formatTick(max, max / 10)]];
          return out.map(function (item) { return [(Math.log(item[0]) - lo) / (hi - lo), item[1]]; });
        }
        var t = ticks(min, max, 4, axis.type === "int");
        return t.values.map(function (value) { return [(value - lo) / (hi - lo), formatTick(value, t.step)]; });
      },
    };
  }

  function categoricalScale(axis) {
    var k = Math.max(1, axis.choices.length);
    return {
      band: 1 / k,
      position: function (index) { return (index + 0.5) / k; },
      labels: function () { return axis.choices.map(function (choice, index) { return [(index + 0.5) / k, String(choice)]; }); },
    };
  }

  function jitter(number) {
    var hash = Math.sin(number * 12.9898 + 78.233) * 43758.5453;
    return hash - Math.floor(hash) - 0.5;
  }

  function parallel(plot, data) {
    var objective = data.values;
    var n = data.numbers.length;
    var valid = objective.map(function (value) { return value !== null && value !== undefined; });
    var count = valid.filter(Boolean).length;
    if (!count) { message(plot, "No trial has completed yet."); return "empty"; }
    var s = surface(plot);
    var ctx = s.ctx;
    var axes = data.axes.map(function (axis) {
      var column = data.columns[axis.name];
      var scale = axis.type === "categorical" ? categoricalScale(axis) : numericScale(axis, column, valid);
      return { name: axis.name, column: column, scale: scale, categorical: axis.type === "categorical" };
    });
    var objectiveAxis = { name: data.metric, column: objective, scale: numericScale({}, objective, valid), objective: true };
    axes.push(objectiveAxis);
    var box = { left: 56, top: 40, right: 70, bottom: 18 };
    var width = s.width - box.left - box.right;
    var height = s.height - box.top - box.bottom;
    var gap = axes.length > 1 ? width / (axes.length - 1) : 0;
    function xOf(a) { return box.left + a * gap; }
    function yOf(t) { return box.top + (1 - t) * height; }

    // How good each trial is: 0 (worst) .. 1 (best) along the objective's range.
    var lo = Infinity;
    var hi = -Infinity;
    for (var i = 0; i < n; i++) {
      if (!valid[i]) continue;
      lo = Math.min(lo, objective[i]);
      hi = Math.max(hi, objective[i]);
    }
    var span = hi - lo || 1;
    var buckets = [];
    for (var b = 0; b < BUCKETS; b++) buckets.push([]);
    for (i = 0; i < n; i++) {
      if (!valid[i]) continue;
      var quality = (objective[i] - lo) / span;
      if (!data.maximize) quality = 1 - quality;
      buckets[Math.min(BUCKETS - 1, Math.floor(quality * BUCKETS))].push(i);
    }
    var alpha = Math.max(0.05, Math.min(0.65, 7 / Math.sqrt(count)));
    ctx.lineWidth = count > 2000 ? 1 : 1.3;
    ctx.lineJoin = "round";
    function trace(index) {
      var drawing = false;
      for (var a = 0; a < axes.length; a++) {
        var value = axes[a].column[index];
        if (value === null || value === undefined) { drawing = false; continue; }
        var t = axes[a].scale.position(value);
        if (axes[a].categorical) t += jitter(data.numbers[index] * (a + 1)) * axes[a].scale.band * 0.55;
        var x = xOf(a);
        var y = yOf(t);
        if (drawing) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        drawing = true;
      }
    }
    // Worst first, so the best lines lie on top.
    buckets.forEach(function (members, bucket) {
      if (!members.length) return;
      ctx.strokeStyle = rampColor((bucket + 0.5) / BUCKETS, alpha);
      ctx.beginPath();
      members.forEach(trace);
      ctx.stroke();
    });
    if (data.best !== null && data.best !== undefined) {
      var bestIndex = data.numbers.indexOf(data.best);
      if (bestIndex >= 0) {
        ctx.strokeStyle = COLORS.strong;
        ctx.lineWidth = 2.5;
        ctx.beginPath();
        trace(bestIndex);
        ctx.stroke();
      }
    }
    // Axes on top of the lines.
    var small = "600 11px " + s.font;
    axes.forEach(function (axis, a) {
      var x = Math.round(xOf(a)) + 0.5;
      ctx.strokeStyle = axis.objective ? COLORS.strong : "#a99c8a";
      ctx.lineWidth = axis.objective ? 2 : 1;
      ctx.beginPath();
      ctx.moveTo(x, box.top);
      ctx.lineTo(x, box.top + height);
      ctx.stroke();
      var align = a === 0 ? "left" : a === axes.length - 1 ? "right" : "center";
      var titleX = a === 0 ? x - 8 : a === axes.length - 1 ? x + 8 : x;
      ctx.font = "700 12px " + s.font;
      var title = ellipsis(ctx, axis.name + (axis.objective ? (data.maximize ? " ↑" : " ↓") : ""), Math.max(60, gap - 10));
      label(ctx, title, titleX, box.top - 14, align, "bottom", "700 12px " + s.font, COLORS.strong);
      axis.scale.labels().forEach(function (item) {
        var y = yOf(item[0]);
        ctx.font = small;
        var text = ellipsis(ctx, item[1], Math.max(40, gap / 2 - 8));
        var w = ctx.measureText(text).width;
        ctx.fillStyle = "rgba(255, 253, 249, 0.85)";
        ctx.fillRect(x + 5, y - 7, w + 6, 14);
        ctx.strokeStyle = COLORS.strong;
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(x - 3, Math.round(y) + 0.5);
        ctx.lineTo(x + 3, Math.round(y) + 0.5);
        ctx.stroke();
        label(ctx, text, x + 8, y, "left", "middle", small, COLORS.text);
      });
    });
    s.canvas.setAttribute("data-lines", String(count));
    return "ready";
  }

  /* ---------- importances ---------- */
  function importances(plot, data) {
    var items = data.items || [];
    if (!items.length) { message(plot, data.reason || "No importances yet."); return "empty"; }
    var rowHeight = 30;
    plot.style.height = Math.max(140, items.length * rowHeight + 34) + "px";
    var s = surface(plot);
    var ctx = s.ctx;
    ctx.font = "600 12px " + s.font;
    var labelWidth = Math.min(s.width * 0.35, Math.max.apply(null, items.map(function (item) { return ctx.measureText(item[0]).width; })) + 14);
    var left = labelWidth + 6;
    var right = 64;
    var width = Math.max(40, s.width - left - right);
    var max = Math.max.apply(null, items.map(function (item) { return item[1]; })) || 1;
    var gradient = ctx.createLinearGradient(left, 0, left + width, 0);
    gradient.addColorStop(0, "#ff8a5c");
    gradient.addColorStop(0.45, "#ef4f6d");
    gradient.addColorStop(1, "#8a5cf5");
    items.forEach(function (item, index) {
      var y = 8 + index * rowHeight;
      var barWidth = Math.max(2, (item[1] / max) * width);
      ctx.fillStyle = COLORS.grid;
      roundRect(ctx, left, y + 5, width, rowHeight - 12, 6);
      ctx.fill();
      ctx.fillStyle = gradient;
      roundRect(ctx, left, y + 5, barWidth, rowHeight - 12, 6);
      ctx.fill();
      ctx.font = "600 12px " + s.font;
      label(ctx, ellipsis(ctx, item[0], labelWidth - 8), left - 10, y + rowHeight / 2 - 1, "right", "middle", "600 12px " + s.font, COLORS.strong);
      label(ctx, (100 * item[1]).toFixed(1) + "%", left + barWidth + 8, y + rowHeight / 2 - 1, "left", "middle", "700 12px " + s.font, COLORS.text);
    });
    return "ready";
  }

  function roundRect(ctx, x, y, w, h, r) {
    r = Math.min(r, w / 2, h / 2);
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arcTo(x + w, y, x + w, y + h, r);
    ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r);
    ctx.arcTo(x, y, x + w, y, r);
    ctx.closePath();
  }

  /* ---------- Pareto front ---------- */
  function pareto(plot, data) {
    var n = data.xs.length;
    if (!n) { message(plot, "No trial has completed yet."); return "empty"; }
    var s = surface(plot);
    var ctx = s.ctx;
    var xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
    for (var i = 0; i < n; i++) {
      xMin = Math.min(xMin, data.xs[i]); xMax = Math.max(xMax, data.xs[i]);
      yMin = Math.min(yMin, data.ys[i]); yMax = Math.max(yMax, data.ys[i]);
    }
    var arrows = data.directions.map(function (direction) { return direction === "maximize" ? " ↑" : " ↓"; });
    var box = { left: 62, top: 22, width: s.width - 62 - 14, height: s.height - 22 - 40 };
    var map = frame(s, box, padded(xMin, xMax), padded(yMin, yMax), {
      xTitle: data.metrics[0] + arrows[0], yTitle: data.metrics[1] + arrows[1],
    });
    var xs = new Array(n);
    var ys = new Array(n);
    var front = [];
    ctx.fillStyle = "rgba(171, 157, 140, 0.45)";
    ctx.beginPath();
    for (i = 0; i < n; i++) {
      xs[i] = map.x(data.xs[i]);
      ys[i] = map.y(data.ys[i]);
      if (data.front[i]) { front.push(i); continue; }
      ctx.moveTo(xs[i] + 2.5, ys[i]);
      ctx.arc(xs[i], ys[i], 2.5, 0, 2 * Math.PI);
    }
    ctx.fill();
    front.sort(function (a, b) { return data.xs[a] - data.xs[b]; });
    if (front.length > 1) {
      ctx.strokeStyle = "rgba(239, 90, 76, 0.7)";
      ctx.lineWidth = 1.5;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      front.forEach(function (index, k) { if (k) ctx.lineTo(xs[index], ys[index]); else ctx.moveTo(xs[index], ys[index]); });
      ctx.stroke();
      ctx.setLineDash([]);
    }
    front.forEach(function (index) {
      ctx.fillStyle = COLORS.best;
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.arc(xs[index], ys[index], 4.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    });
    hover(plot, s.canvas, {
      xs: xs,
      ys: ys,
      color: COLORS.best,
      heads: data.numbers.map(function (number, k) { return "trial #" + number + (data.front[k] ? " · on the front" : ""); }),
      bodies: data.xs.map(function (x, k) { return data.metrics[0] + " " + formatValue(x) + " · " + data.metrics[1] + " " + formatValue(data.ys[k]); }),
    });
    s.canvas.setAttribute("data-front", String(front.length));
    return "ready";
  }

  window.CanvasCraftSweepCharts = {
    history: history,
    parallel: parallel,
    importances: importances,
    pareto: pareto,
    bestSoFar: bestSoFar,
    formatValue: formatValue,
  };
})();
