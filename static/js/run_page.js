/* CanvasCraft run page: charts for every run; while a run is queued or running, its status,
 * progress (percent and ETA), log and charts follow the run's websocket stream (live.js).
 *
 * Reads #run-page-config (json_script): {run, status, is_active, stream, metrics_url,
 * device_class, progress}. A finished run's charts load once from the metrics API; an
 * active run's come with the stream's snapshot and grow with each `metric` message, a chart
 * per key (a key first seen mid-run gets a new chart). A final status reloads the page once,
 * after the last messages are drawn, so the result, artifacts and errors render server-side.
 */
(function () {
  "use strict";

  var FINAL_STATUSES = ["succeeded", "failed", "cancelled"];
  var MAX_LOG_LINES = 2000;
  var LOG_SLACK_LINES = 200; // trimmed in batches, not line by line
  var QUIET_BEFORE_RELOAD_MS = 1200;
  var MAX_WAIT_BEFORE_RELOAD_MS = 5000;
  var MAX_KEYS_PER_REQUEST = 20;
  var MAX_POINTS = 1000;

  function each(selector, callback) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), callback);
  }

  function setText(selector, text) { each(selector, function (node) { node.textContent = text; }); }

  function capitalized(text) { return text ? text.charAt(0).toUpperCase() + text.slice(1) : ""; }

  /* 80 -> "about 1 min 20 s left"; rounded so the text does not flicker every second. */
  function etaText(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return "";
    if (seconds < 5) return "almost done";
    if (seconds < 57.5) return "about " + Math.round(seconds / 5) * 5 + " s left";
    if (seconds < 3595) {
      var total = Math.round(seconds / 10) * 10;
      var minutes = Math.floor(total / 60);
      var rest = total % 60;
      return "about " + minutes + " min" + (rest ? " " + rest + " s" : "") + " left";
    }
    var allMinutes = Math.round(seconds / 60);
    var hours = Math.floor(allMinutes / 60);
    var leftover = allMinutes % 60;
    return "about " + hours + " h" + (leftover ? " " + leftover + " min" : "") + " left";
  }

  /* ---------- charts ---------- */
  function ChartGrid(config) {
    this.config = config;
    this.grid = document.querySelector("[data-live-charts]");
    this.empty = document.querySelector("[data-live-metrics-empty]");
    this.count = document.querySelector("[data-live-metrics-count]");
    this.charts = {};
    this.order = 0;
    var self = this;
    each("[data-live-chart]", function (figure) { self.attach(figure); });
  }

  ChartGrid.prototype.attach = function (figure) {
    var key = figure.getAttribute("data-live-chart");
    var palette = window.CanvasCraftLiveCharts.palette;
    this.charts[key] = window.CanvasCraftLiveCharts.attach(figure, {
      key: key, color: palette[this.order % palette.length],
    });
    this.order += 1;
    return this.charts[key];
  };

  ChartGrid.prototype.chart = function (key) {
    if (this.charts[key]) return this.charts[key];
    if (!this.grid) return null;
    var figure = window.CanvasCraftLiveCharts.card(key);
    this.grid.appendChild(figure);
    this.grid.hidden = false;
    if (this.empty) this.empty.hidden = true;
    var chart = this.attach(figure);
    if (this.count) {
      var n = Object.keys(this.charts).length;
      this.count.textContent = n + " metric" + (n === 1 ? "" : "s");
    }
    return chart;
  };

  /* A `metric` message: a snapshot replaces every series, an event appends. */
  ChartGrid.prototype.receive = function (message) {
    var points = message.points || {};
    var totals = message.n_points_total || {};
    var self = this;
    Object.keys(points).forEach(function (key) {
      var chart = self.chart(key);
      if (!chart) return;
      if (message.replace) chart.replace(points[key], totals[key]);
      else chart.append(points[key]);
    });
    if (message.replace) {
      // Charts the page drew for keys the snapshot does not have (none yet): empty, not loading.
      Object.keys(this.charts).forEach(function (key) {
        if (!(key in points)) self.charts[key].replace([], 0);
      });
    }
  };

  /* A finished run: its series once from the metrics API, MAX_KEYS_PER_REQUEST keys a call. */
  ChartGrid.prototype.load = function () {
    var keys = Object.keys(this.charts);
    var self = this;
    for (var start = 0; start < keys.length; start += MAX_KEYS_PER_REQUEST) {
      var chunk = keys.slice(start, start + MAX_KEYS_PER_REQUEST);
      var url = this.config.metrics_url + "?keys=" + encodeURIComponent(chunk.join(",")) + "&max_points=" + MAX_POINTS;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (body) {
          Object.keys(body.series || {}).forEach(function (key) {
            var one = body.series[key];
            var points = one.steps.map(function (step, index) { return [step, one.values[index]]; });
            if (self.charts[key]) self.charts[key].replace(points, one.n_points_total);
          });
        })
        .catch(function () {
          chunk.forEach(function (key) {
            var figure = self.charts[key] && self.charts[key].figure;
            if (figure) figure.setAttribute("data-state", "error");
            var meta = figure && figure.querySelector("[data-live-chart-meta]");
            if (meta) meta.textContent = "couldn’t load this chart";
          });
        });
    }
  };

  /* ---------- the log ---------- */
  function Log() {
    this.box = document.querySelector("[data-live-log]");
    this.section = document.querySelector("[data-log-section]");
    var text = this.box ? this.box.textContent.replace(/\n$/, "") : "";
    this.lines = text ? text.split("\n") : [];
    if (this.lines.length > MAX_LOG_LINES) this.write(this.lines.slice(-MAX_LOG_LINES));
    if (this.box) this.box.scrollTop = this.box.scrollHeight;
  }

  Log.prototype.atBottom = function () {
    var box = this.box;
    return box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  };

  Log.prototype.write = function (lines) {
    this.lines = lines;
    this.box.textContent = lines.length ? lines.join("\n") + "\n" : "";
  };

  /* The snapshot's tail (the last 300 lines) usually overlaps what the page rendered: keep
   * the page's older lines and add only what is new. */
  Log.prototype.merge = function (lines) {
    var current = this.lines;
    for (var at = Math.max(0, current.length - lines.length); at <= current.length; at++) {
      var overlap = current.length - at;
      var same = true;
      for (var i = 0; i < overlap && same; i++) same = current[at + i] === lines[i];
      if (same) return lines.slice(overlap);
    }
    return null;
  };

  Log.prototype.receive = function (message) {
    if (!this.box) return;
    var lines = message.lines || [];
    var stick = this.atBottom();
    if (message.replace) {
      var added = this.merge(lines);
      if (added === null) this.write(lines.slice(-MAX_LOG_LINES));
      else if (added.length) this.append(added);
    } else if (lines.length) {
      this.append(lines);
    }
    if (this.section && this.lines.length) this.section.hidden = false;
    if (stick) this.box.scrollTop = this.box.scrollHeight;
  };

  Log.prototype.append = function (lines) {
    this.lines = this.lines.concat(lines);
    if (this.lines.length > MAX_LOG_LINES + LOG_SLACK_LINES) {
      this.write(this.lines.slice(-MAX_LOG_LINES));
      return;
    }
    this.box.appendChild(document.createTextNode(lines.join("\n") + "\n"));
  };

  /* ---------- status and progress ---------- */
  function Status(config, onFinal) {
    this.config = config;
    this.panel = document.querySelector("[data-run-live]");
    this.status = config.status;
    this.progress = config.progress || null; // what the page was drawn with
    this.onFinal = onFinal;
  }

  Status.prototype.phaseText = function () {
    var progress = this.progress || {};
    if (this.status === "queued") return "Waiting for a " + (this.config.device_class || "") + " worker…";
    if (this.status === "succeeded") return "Finished · loading the result…";
    if (this.status === "failed") return "Failed";
    if (this.status === "cancelled") return "Cancelled";
    if (progress.phase === "train" && progress.epoch && progress.n_epochs) return "Training · epoch " + progress.epoch + " of " + progress.n_epochs;
    if (progress.phase) return capitalized(progress.phase) + "…";
    return "Starting…";
  };

  Status.prototype.percent = function () {
    var progress = this.progress || {};
    if (this.status === "succeeded") return 100;
    if (this.status !== "running") return null;
    if (typeof progress.percent === "number") return Math.max(0, Math.min(100, progress.percent));
    if (progress.epoch && progress.n_epochs) return Math.max(0, Math.min(100, (100 * progress.epoch) / progress.n_epochs));
    return null;
  };

  Status.prototype.receive = function (message) {
    if (message.type === "progress") {
      this.progress = message;
    } else if (message.type === "status") {
      if (message.status !== this.status && message.status !== "running") this.progress = null;
      this.status = message.status;
      this.showStatus(message);
    }
    this.showProgress();
    if (message.type === "status" && FINAL_STATUSES.indexOf(message.status) >= 0) this.onFinal(message.status);
  };

  Status.prototype.showStatus = function (message) {
    each("[data-live-status]", function (badge) { window.CanvasCraftLive.setBadge(badge, message.status); });
    // The facts card was drawn while the run waited: say that it started.
    each("[data-live-started]", function (node) {
      if (!message.started_at || !node.querySelector(".muted")) return; // not yet, or shown
      node.textContent = "just now";
      node.title = message.started_at;
    });
    // And where: the worker's device, known once a worker took the run.
    each("[data-live-device]", function (node) {
      if (!message.device || node.textContent.trim() === message.device) return;
      var code = document.createElement("code");
      code.textContent = message.device;
      node.textContent = "";
      node.appendChild(code);
    });
    if (!this.panel) return;
    this.panel.setAttribute("data-status", message.status);
    var attempt = this.panel.querySelector("[data-live-attempt]");
    if (attempt) {
      attempt.hidden = !(message.attempt > 1);
      setText("[data-live-attempt-number]", String(message.attempt));
    }
    each("[data-live-cancel]", function (node) { node.hidden = !message.cancel_requested; });
  };

  Status.prototype.showProgress = function () {
    if (!this.panel) return;
    setText("[data-live-phase]", this.phaseText());
    var percent = this.percent();
    var known = percent !== null;
    var bar = this.panel.querySelector("[data-live-bar]");
    if (bar) {
      var track = bar.parentNode;
      track.classList.toggle("is-indeterminate", !known);
      bar.style.width = known ? percent.toFixed(1) + "%" : "";
      if (known) track.setAttribute("aria-valuenow", String(Math.round(percent * 10) / 10));
      else track.removeAttribute("aria-valuenow");
    }
    setText("[data-live-percent]", known ? Math.floor(percent) + "%" : "");
    var progress = this.progress || {};
    var eta = this.status === "running" && progress.phase === "train" ? etaText(progress.eta_s) : "";
    setText("[data-live-eta]", eta);
    each("[data-live-eta]", function (node) { node.hidden = !eta; });
  };

  /* ---------- wiring ---------- */
  function follow(config, grid) {
    var log = new Log();
    var stream = null;
    var finishing = null;
    var status = new Status(config, function () {
      if (finishing) return;
      finishing = { started: Date.now(), timer: 0 };
      waitForQuiet();
    });

    // The last messages (the final log lines, test scores) trail the final status by a few
    // hundred milliseconds: reload once the stream has been quiet a moment, after drawing.
    function waitForQuiet() {
      window.clearTimeout(finishing.timer);
      var left = MAX_WAIT_BEFORE_RELOAD_MS - (Date.now() - finishing.started);
      finishing.timer = window.setTimeout(reload, Math.max(0, Math.min(QUIET_BEFORE_RELOAD_MS, left)));
    }

    function reload() {
      if (stream) stream.close();
      window.CanvasCraftLiveCharts.flush();
      var next = window.requestAnimationFrame || function (callback) { window.setTimeout(callback, 16); };
      next(function () { window.location.reload(); });
    }

    var indicator = document.querySelector("[data-live-indicator]");
    stream = window.CanvasCraftLive.connect(config.stream, {
      onState: function (state) {
        if (!finishing) window.CanvasCraftLive.showState(indicator, state);
      },
      onMessage: function (message) {
        if (message.type === "metric") grid.receive(message);
        else if (message.type === "log") log.receive(message);
        else if (message.type === "status" || message.type === "progress") status.receive(message);
        if (finishing) waitForQuiet();
      },
    });
  }

  function start() {
    var node = document.getElementById("run-page-config");
    if (!node || !window.CanvasCraftLiveCharts) return;
    var config = JSON.parse(node.textContent);
    var grid = new ChartGrid(config);
    var log = document.querySelector("[data-live-log]");
    if (log) log.scrollTop = log.scrollHeight;
    if (config.is_active && window.CanvasCraftLive) follow(config, grid);
    else grid.load();
  }

  window.CanvasCraftRunPage = { etaText: etaText };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
