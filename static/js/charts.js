/* CanvasCraft charts: a small dependency-free line chart for metric series.
 *
 * Every <canvas data-metric-key="..." data-run-ids="1,2,3"> on the page becomes a chart of that
 * metric for those runs, one coloured line per run, x = step, y = value.
 *
 *   data-run-ids      comma-separated run ids (required)
 *   data-metric-key   the metric key (required)
 *   data-run-names    run names, same order as the ids: a JSON array ('["a","b"]', safe for names
 *                     that contain commas) or a comma-separated list; default "run <id>"
 *   data-legend="off" hide the in-chart legend (the page shows its own); otherwise a legend is
 *                     drawn when there is more than one run
 *
 * Data comes from GET /api/v1/runs/<id>/metrics/?keys=<key>&max_points=1000 (session auth):
 *   {"series": {"<key>": {"steps": [...], "values": [...], "n_points_total": N}}}
 *
 * Each canvas carries data-state: "loading" until its series arrive, then "drawn" (also when
 * there are no points yet), or "error" (browser tests wait for "drawn").
 *
 * Hover (or focus the chart and use the arrow keys) to read the step and value of the nearest
 * point. window.CanvasCraftCharts.refresh(canvas) fetches and redraws one chart;
 * window.CanvasCraftCharts.show(canvas, key, series) draws series the page already holds (the
 * run page's live charts use it when uPlot is not installed).
 */
(function () {
  "use strict";

  // Kept in step with .swatch-N in studio.css.
  var PALETTE = [
    "#e5484d", "#6e56cf", "#12a594", "#f59e0b", "#0b84e5",
    "#d6409f", "#3f9142", "#8d6e63", "#1e1a2b", "#e8590c",
  ];
  var MAX_POINTS = 1000;
  var COLORS = {
    text: "#655e74",
    strong: "#1e1a2b",
    grid: "#eee7dc",
    axis: "#d5c9b8",
    tooltip: "#1e1a2b",
    tooltipText: "#ffffff",
    tooltipMuted: "#c9c2d8",
  };

  var charts = []; // every state, for refreshAll and resize
  var stateOf = typeof WeakMap === "function" ? new WeakMap() : null;

  /* ---------- numbers ---------- */
  function niceNumber(range, round) {
    var exponent = Math.floor(Math.log10(range));
    var fraction = range / Math.pow(10, exponent);
    var nice;
    if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
    else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
    return nice * Math.pow(10, exponent);
  }

  function decimalsFor(step) {
    return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  }

  /* Ticks inside [min, max], about `count` of them, at 1/2/5 x 10^n spacing. */
  function niceTicks(min, max, count, integer) {
    if (!(max > min)) return { step: 1, ticks: [min] };
    var step = niceNumber((max - min) / Math.max(1, count - 1), true);
    if (integer && step < 1) step = 1;
    var decimals = decimalsFor(step);
    var ticks = [];
    for (var value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) {
      ticks.push(parseFloat(value.toFixed(Math.min(20, decimals + 1))));
      if (ticks.length > 50) break;
    }
    return { step: step, ticks: ticks };
  }

  function compact(value) {
    var abs = Math.abs(value);
    var units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][0]) return parseFloat((value / units[i][0]).toPrecision(3)) + units[i][1];
    }
    return String(value);
  }

  function formatTick(value, step) {
    if (value === 0) return "0";
    var abs = Math.abs(value);
    if (abs >= 1e4 && step >= 100) return compact(value);
    if (step < 1e-4 || abs >= 1e9) return value.toExponential(1);
    return value.toFixed(decimalsFor(step));
  }

  function formatValue(value) {
    if (value === 0) return "0";
    var abs = Math.abs(value);
    if (abs >= 1e6 || abs < 1e-4) return value.toExponential(4);
    return String(parseFloat(value.toPrecision(6)));
  }

  function formatStep(step) {
    return Number(step).toLocaleString("en-US");
  }

  /* Index of the point whose step is nearest to `step` (steps are sorted). */
  function nearestIndex(steps, step) {
    var low = 0;
    var high = steps.length - 1;
    if (high < 0) return -1;
    while (low < high) {
      var middle = (low + high) >> 1;
      if (steps[middle] < step) low = middle + 1;
      else high = middle;
    }
    if (low > 0 && Math.abs(steps[low - 1] - step) <= Math.abs(steps[low] - step)) return low - 1;
    return low;
  }

  /* ---------- reading the canvas ---------- */
  function parseNames(canvas, ids) {
    var raw = (canvas.getAttribute("data-run-names") || "").trim();
    var names = [];
    if (raw.charAt(0) === "[") {
      try { names = JSON.parse(raw); } catch (error) { names = []; }
    } else if (raw) {
      names = raw.split(",").map(function (name) { return name.trim(); });
    }
    return ids.map(function (id, index) {
      return names.length === ids.length && names[index] ? String(names[index]) : "run " + id;
    });
  }

  function readConfig(canvas) {
    var ids = (canvas.getAttribute("data-run-ids") || "")
      .split(",")
      .map(function (id) { return id.trim(); })
      .filter(function (id) { return /^\d+$/.test(id); });
    return {
      ids: ids,
      names: parseNames(canvas, ids),
      key: canvas.getAttribute("data-metric-key") || "",
      legend: canvas.getAttribute("data-legend") !== "off" && ids.length > 1,
    };
  }

  /* ---------- data ---------- */
  function fetchSeries(runId, key) {
    var url = "/api/v1/runs/" + encodeURIComponent(runId) + "/metrics/?keys=" +
      encodeURIComponent(key) + "&max_points=" + MAX_POINTS;
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          var error = new Error("HTTP " + response.status);
          error.status = response.status;
          throw error;
        }
        return response.json();
      })
      .then(function (body) {
        var one = (body && body.series && body.series[key]) || {};
        var steps = one.steps || [];
        var values = one.values || [];
        return { steps: steps, values: values, total: one.n_points_total || steps.length };
      });
  }

  function load(state) {
    var config = state.config;
    var generation = ++state.generation;
    if (!state.series) state.status = "loading";
    draw(state);
    return Promise.all(config.ids.map(function (id) { return fetchSeries(id, config.key); }))
      .then(function (series) {
        if (generation !== state.generation) return;
        state.series = series.map(function (one, index) {
          one.name = config.names[index];
          one.color = PALETTE[index % PALETTE.length];
          return one;
        });
        state.status = "ready";
        describe(state);
        draw(state);
      })
      .catch(function (error) {
        if (generation !== state.generation) return;
        state.status = "error";
        state.error = error.status === 401 || error.status === 403
          ? "Log in to see this chart"
          : error.status === 404 ? "Run not found" : "Couldn’t load this chart";
        state.canvas.setAttribute("aria-label", state.error);
        draw(state);
      });
  }

  function describe(state) {
    var parts = state.series.map(function (one) {
      if (!one.values.length) return one.name + ": no points yet";
      return one.name + ": " + one.total + " points, last " + formatValue(one.values[one.values.length - 1]) +
        " at step " + formatStep(one.steps[one.steps.length - 1]);
    });
    state.canvas.setAttribute("aria-label", "Line chart of " + state.config.key + ". " + parts.join("; ") + ".");
  }

  /* ---------- drawing ---------- */
  function fontFamily() {
    return getComputedStyle(document.body).fontFamily || "system-ui, sans-serif";
  }

  function prepare(state) {
    var canvas = state.canvas;
    var rect = canvas.getBoundingClientRect();
    var width = Math.max(1, Math.round(rect.width));
    var height = Math.max(1, Math.round(rect.height));
    var ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return { ctx: ctx, width: width, height: height };
  }

  function centerText(ctx, text, width, height, font) {
    ctx.fillStyle = COLORS.text;
    ctx.font = "600 13px " + font;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, width / 2, height / 2);
  }

  /* Legend entries laid out in rows across the top; returns its height. */
  function layoutLegend(ctx, series, width, font) {
    ctx.font = "600 12px " + font;
    var x = 0;
    var y = 0;
    var items = [];
    series.forEach(function (one) {
      var label = one.name.length > 28 ? one.name.slice(0, 27) + "…" : one.name;
      var itemWidth = 18 + ctx.measureText(label).width + 14;
      if (x > 0 && x + itemWidth > width) { x = 0; y += 18; }
      items.push({ x: x, y: y, label: label, color: one.color });
      x += itemWidth;
    });
    return { items: items, height: items.length ? y + 18 : 0 };
  }

  function drawLegend(ctx, legend, left, top) {
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    legend.items.forEach(function (item) {
      ctx.fillStyle = item.color;
      roundRect(ctx, left + item.x, top + item.y + 3, 12, 12, 3);
      ctx.fill();
      ctx.fillStyle = COLORS.strong;
      ctx.fillText(item.label, left + item.x + 18, top + item.y + 9.5);
    });
  }

  function roundRect(ctx, x, y, w, h, r) {
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arcTo(x + w, y, x + w, y + h, r);
    ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r);
    ctx.arcTo(x, y, x + w, y, r);
    ctx.closePath();
  }

  function dataBounds(series) {
    var bounds = { xMin: Infinity, xMax: -Infinity, yMin: Infinity, yMax: -Infinity };
    series.forEach(function (one) {
      if (!one.steps.length) return;
      bounds.xMin = Math.min(bounds.xMin, one.steps[0]);
      bounds.xMax = Math.max(bounds.xMax, one.steps[one.steps.length - 1]);
      for (var i = 0; i < one.values.length; i++) {
        if (one.values[i] < bounds.yMin) bounds.yMin = one.values[i];
        if (one.values[i] > bounds.yMax) bounds.yMax = one.values[i];
      }
    });
    if (bounds.xMin === bounds.xMax) {
      // One step only: centre it (ticks below step 0 are not drawn).
      bounds.xMin -= 1;
      bounds.xMax += 1;
    }
    if (bounds.yMin === bounds.yMax) {
      var pad = Math.abs(bounds.yMin) * 0.1 || 1;
      bounds.yMin -= pad;
      bounds.yMax += pad;
    } else {
      var margin = (bounds.yMax - bounds.yMin) * 0.06;
      bounds.yMin -= margin;
      bounds.yMax += margin;
    }
    return bounds;
  }

  function draw(state) {
    if (state.frame) return;
    var request = window.requestAnimationFrame || function (callback) { return setTimeout(callback, 16); };
    state.frame = request(function () {
      state.frame = 0;
      render(state);
    });
  }

  function render(state) {
    state.canvas.setAttribute("data-state", state.status === "ready" ? "drawn" : state.status);
    var surface = prepare(state);
    var ctx = surface.ctx;
    var width = surface.width;
    var height = surface.height;
    var font = fontFamily();
    state.plot = null;

    if (state.status === "loading") return centerText(ctx, "Loading…", width, height, font);
    if (state.status === "error") return centerText(ctx, state.error, width, height, font);
    if (!state.series) return;

    var series = state.series;
    var withPoints = series.filter(function (one) { return one.steps.length > 0; });
    var legend = state.config.legend ? layoutLegend(ctx, series, width - 8, font) : { items: [], height: 0 };
    var top = 10 + (legend.height ? legend.height + 8 : 0);
    if (legend.height) drawLegend(ctx, legend, 4, 4);

    if (!withPoints.length) {
      ctx.strokeStyle = COLORS.axis;
      ctx.setLineDash([4, 5]);
      roundRect(ctx, 8.5, top + 0.5, width - 17, height - top - 9, 10);
      ctx.stroke();
      ctx.setLineDash([]);
      return centerText(ctx, "No points yet", width, height + top, font);
    }

    // Downsampled series get a note above the plot, so nobody mistakes it for every point.
    var shown = 0;
    var total = 0;
    series.forEach(function (one) { shown += one.steps.length; total += one.total; });
    var note = total > shown
      ? "showing " + shown.toLocaleString("en-US") + " of " + total.toLocaleString("en-US") + " points"
      : "";
    if (note) top += 14;

    var bounds = dataBounds(withPoints);
    var bottom = 26;
    var right = 14;
    var plotHeight = Math.max(20, height - top - bottom);
    var yTicks = niceTicks(bounds.yMin, bounds.yMax, Math.max(3, Math.floor(plotHeight / 34)), false);
    ctx.font = "500 11px " + font;
    var labelWidth = 0;
    var yLabels = yTicks.ticks.map(function (tick) {
      var label = formatTick(tick, yTicks.step);
      labelWidth = Math.max(labelWidth, ctx.measureText(label).width);
      return label;
    });
    var left = Math.ceil(labelWidth) + 14;
    var plotWidth = Math.max(20, width - left - right);
    var xTicks = niceTicks(bounds.xMin, bounds.xMax, Math.max(2, Math.floor(plotWidth / 90)), true);

    var plot = {
      left: left, top: top, width: plotWidth, height: plotHeight, bounds: bounds,
      x: function (step) { return left + ((step - bounds.xMin) / (bounds.xMax - bounds.xMin)) * plotWidth; },
      y: function (value) { return top + (1 - (value - bounds.yMin) / (bounds.yMax - bounds.yMin)) * plotHeight; },
    };
    plot.step = function (x) { return bounds.xMin + ((x - left) / plotWidth) * (bounds.xMax - bounds.xMin); };
    state.plot = plot;

    // Grid and y labels.
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    yTicks.ticks.forEach(function (tick, index) {
      var y = Math.round(plot.y(tick)) + 0.5;
      ctx.strokeStyle = COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + plotWidth, y);
      ctx.stroke();
      ctx.fillStyle = COLORS.text;
      ctx.fillText(yLabels[index], left - 8, y);
    });
    // x labels and ticks.
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    xTicks.ticks.forEach(function (tick) {
      if (tick < 0) return; // steps start at 0
      var x = Math.round(plot.x(tick)) + 0.5;
      ctx.strokeStyle = COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + plotHeight);
      ctx.stroke();
      ctx.fillStyle = COLORS.text;
      ctx.fillText(formatTick(tick, xTicks.step), x, top + plotHeight + 8);
    });
    // Axis line.
    ctx.strokeStyle = COLORS.axis;
    ctx.beginPath();
    ctx.moveTo(left, Math.round(top + plotHeight) + 0.5);
    ctx.lineTo(left + plotWidth, Math.round(top + plotHeight) + 0.5);
    ctx.stroke();

    // Lines, clipped to the plot.
    ctx.save();
    ctx.beginPath();
    ctx.rect(left - 5, top - 5, plotWidth + 10, plotHeight + 10);
    ctx.clip();
    series.forEach(function (one) {
      if (!one.steps.length) return;
      if (one.steps.length === 1) {
        ctx.fillStyle = one.color;
        ctx.beginPath();
        ctx.arc(plot.x(one.steps[0]), plot.y(one.values[0]), 4, 0, Math.PI * 2);
        ctx.fill();
        return;
      }
      ctx.beginPath();
      for (var i = 0; i < one.steps.length; i++) {
        var x = plot.x(one.steps[i]);
        var y = plot.y(one.values[i]);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      }
      if (series.length === 1) {
        // One run: a soft wash of colour under the curve.
        ctx.save();
        ctx.lineTo(plot.x(one.steps[one.steps.length - 1]), top + plotHeight);
        ctx.lineTo(plot.x(one.steps[0]), top + plotHeight);
        ctx.closePath();
        var wash = ctx.createLinearGradient(0, top, 0, top + plotHeight);
        wash.addColorStop(0, hexAlpha(one.color, 0.2));
        wash.addColorStop(1, hexAlpha(one.color, 0));
        ctx.fillStyle = wash;
        ctx.fill();
        ctx.restore();
        ctx.beginPath();
        for (var j = 0; j < one.steps.length; j++) {
          if (j === 0) ctx.moveTo(plot.x(one.steps[j]), plot.y(one.values[j]));
          else ctx.lineTo(plot.x(one.steps[j]), plot.y(one.values[j]));
        }
      }
      ctx.strokeStyle = one.color;
      ctx.lineWidth = one.steps.length > 400 ? 1.5 : 2.2;
      ctx.lineJoin = "round";
      ctx.lineCap = "round";
      ctx.stroke();
    });
    ctx.restore();

    if (note) {
      ctx.font = "500 10.5px " + font;
      ctx.textAlign = "right";
      ctx.textBaseline = "bottom";
      ctx.fillStyle = COLORS.text;
      ctx.fillText(note, left + plotWidth, top - 4);
    }

    if (state.hover) drawHover(state, ctx, plot, width, height, font);
  }

  function hexAlpha(hex, alpha) {
    var value = parseInt(hex.slice(1), 16);
    return "rgba(" + ((value >> 16) & 255) + "," + ((value >> 8) & 255) + "," + (value & 255) + "," + alpha + ")";
  }

  /* The point nearest to the pointer, and each run's point at that step. */
  function pickPoints(state, plot) {
    var hover = state.hover;
    var best = null;
    var picks = state.series.map(function (one, index) {
      if (!one.steps.length) return null;
      var step = hover.step !== undefined ? hover.step : plot.step(hover.x);
      var i = nearestIndex(one.steps, step);
      var pick = { series: one, index: index, step: one.steps[i], value: one.values[i] };
      pick.px = plot.x(pick.step);
      pick.py = plot.y(pick.value);
      var dy = hover.y !== undefined ? pick.py - hover.y : 0;
      var dx = hover.x !== undefined ? pick.px - hover.x : 0;
      pick.distance = dx * dx + dy * dy;
      if (!best || pick.distance < best.distance) best = pick;
      return pick;
    });
    return { picks: picks.filter(Boolean), best: best };
  }

  function drawHover(state, ctx, plot, width, height, font) {
    var picked = pickPoints(state, plot);
    var best = picked.best;
    if (!best) return;
    // Crosshair.
    ctx.strokeStyle = "rgba(30, 26, 43, 0.35)";
    ctx.setLineDash([3, 4]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(Math.round(best.px) + 0.5, plot.top);
    ctx.lineTo(Math.round(best.px) + 0.5, plot.top + plot.height);
    ctx.stroke();
    ctx.setLineDash([]);
    // Points.
    picked.picks.forEach(function (pick) {
      ctx.beginPath();
      ctx.arc(pick.px, pick.py, pick === best ? 5 : 3.5, 0, Math.PI * 2);
      ctx.fillStyle = "#fff";
      ctx.fill();
      ctx.lineWidth = pick === best ? 3 : 2;
      ctx.strokeStyle = pick.series.color;
      ctx.stroke();
    });
    // Tooltip.
    var lines = [];
    lines.push({ text: "step " + formatStep(best.step), header: true });
    var several = state.series.length > 1;
    picked.picks.forEach(function (pick) {
      var text = several ? pick.series.name + "  " + formatValue(pick.value) : formatValue(pick.value);
      if (several && pick.step !== best.step) text += "  @" + formatStep(pick.step);
      lines.push({ text: text, color: pick.series.color, strong: pick === best });
    });
    var padding = 9;
    var lineHeight = 17;
    var boxWidth = 0;
    lines.forEach(function (line) {
      ctx.font = (line.header ? "600 11px " : line.strong ? "700 12px " : "500 12px ") + font;
      boxWidth = Math.max(boxWidth, ctx.measureText(line.text).width + (line.color ? 16 : 0));
    });
    boxWidth += padding * 2;
    var boxHeight = lines.length * lineHeight + padding * 2 - 4;
    var x = best.px + 14;
    if (x + boxWidth > width - 4) x = best.px - 14 - boxWidth;
    if (x < 4) x = 4;
    var y = best.py - boxHeight / 2;
    y = Math.max(4, Math.min(height - boxHeight - 4, y));
    ctx.fillStyle = COLORS.tooltip;
    ctx.shadowColor = "rgba(30, 20, 40, 0.25)";
    ctx.shadowBlur = 12;
    ctx.shadowOffsetY = 4;
    roundRect(ctx, x, y, boxWidth, boxHeight, 9);
    ctx.fill();
    ctx.shadowColor = "transparent";
    ctx.shadowBlur = 0;
    ctx.shadowOffsetY = 0;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    lines.forEach(function (line, index) {
      var lineY = y + padding + index * lineHeight + 6;
      var textX = x + padding;
      if (line.color) {
        ctx.fillStyle = line.color;
        roundRect(ctx, textX, lineY - 5, 10, 10, 3);
        ctx.fill();
        textX += 16;
      }
      ctx.font = (line.header ? "600 11px " : line.strong ? "700 12px " : "500 12px ") + font;
      ctx.fillStyle = line.header ? COLORS.tooltipMuted : COLORS.tooltipText;
      ctx.fillText(line.text, textX, lineY);
    });
  }

  /* ---------- interaction ---------- */
  function pointerPosition(canvas, event) {
    var rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  function attachEvents(state) {
    var canvas = state.canvas;
    canvas.addEventListener("pointermove", function (event) {
      var plot = state.plot;
      if (!plot) return;
      var position = pointerPosition(canvas, event);
      var inside = position.x >= plot.left - 6 && position.x <= plot.left + plot.width + 6 &&
        position.y >= plot.top - 6 && position.y <= plot.top + plot.height + 6;
      state.hover = inside ? position : null;
      state.keyIndex = null;
      draw(state);
    });
    canvas.addEventListener("pointerleave", function () {
      state.hover = null;
      draw(state);
    });
    canvas.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight" && event.key !== "Home" && event.key !== "End") return;
      var longest = (state.series || []).reduce(function (a, b) {
        return !a || b.steps.length > a.steps.length ? b : a;
      }, null);
      if (!longest || !longest.steps.length || !state.plot) return;
      event.preventDefault();
      var last = longest.steps.length - 1;
      var index = state.keyIndex === null || state.keyIndex === undefined ? last : state.keyIndex;
      if (event.key === "ArrowLeft") index = Math.max(0, index - 1);
      if (event.key === "ArrowRight") index = Math.min(last, index + 1);
      if (event.key === "Home") index = 0;
      if (event.key === "End") index = last;
      state.keyIndex = index;
      var step = longest.steps[index];
      state.hover = { step: step, x: state.plot.x(step), y: state.plot.y(longest.values[index]) };
      draw(state);
    });
    canvas.addEventListener("blur", function () {
      state.hover = null;
      state.keyIndex = null;
      draw(state);
    });
  }

  /* ---------- setup ---------- */
  function stateFor(canvas) {
    if (stateOf) return stateOf.get(canvas);
    for (var i = 0; i < charts.length; i++) if (charts[i].canvas === canvas) return charts[i];
    return undefined;
  }

  function init(canvas) {
    var existing = stateFor(canvas);
    if (existing) return existing;
    if (!canvas.style.height) {
      var initial = Math.round(canvas.getBoundingClientRect().height);
      canvas.style.height = (parseInt(canvas.getAttribute("data-height"), 10) || initial || 250) + "px";
    }
    if (!canvas.style.width) canvas.style.width = "100%";
    canvas.setAttribute("role", "img");
    if (!canvas.hasAttribute("tabindex")) canvas.tabIndex = 0;
    var state = {
      canvas: canvas, config: readConfig(canvas), series: null, status: "loading",
      hover: null, keyIndex: null, generation: 0, frame: 0, plot: null,
    };
    canvas.setAttribute("aria-label", "Line chart of " + state.config.key + " (loading)");
    canvas.setAttribute("data-state", "loading");
    charts.push(state);
    if (stateOf) stateOf.set(canvas, state);
    attachEvents(state);
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(function () { draw(state); }).observe(canvas);
    }
    return state;
  }

  function refresh(canvas) {
    var state = init(canvas);
    state.config = readConfig(canvas);
    return load(state);
  }

  /* Draws series the page already holds (the live charts' fallback when uPlot is missing)
   * instead of fetching them: `series` is [{name, steps, values, total, color}]. */
  function show(canvas, key, series) {
    var state = init(canvas);
    state.generation += 1; // a fetch still in flight must not overwrite these
    state.config.key = key;
    state.series = series.map(function (one, index) {
      return {
        name: one.name || key,
        steps: one.steps,
        values: one.values,
        total: one.total || one.steps.length,
        color: one.color || PALETTE[index % PALETTE.length],
      };
    });
    state.status = "ready";
    describe(state);
    draw(state);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-metric-key]"), function (canvas) {
      load(init(canvas));
    });
    // Also covers browsers without ResizeObserver, and zoom (a new device pixel ratio).
    window.addEventListener("resize", function () { charts.forEach(draw); });
  }

  window.CanvasCraftCharts = {
    palette: PALETTE.slice(),
    refresh: refresh,
    show: show,
    refreshAll: function () { return Promise.all(charts.map(function (state) { return load(state); })); },
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
