/* CanvasCraft sweep pages: the sweep page's charts, counts, best trial and trial table, and the
 * sweep list's badges, all following /ws/sweeps/<id>/ (live.js).
 *
 * The sweep page reads #sweep-page-config (json_script): {sweep, status, is_active, stream,
 * data_url, importances_url, run_url, remix_url, objectives, params, n_trials, live_rows,
 * per_page}. It loads every trial once from `data_url` (columns: numbers, state codes, values
 * per objective, params), keeps them in a columnar store, and upserts each `trial` message of
 * the stream into it by number. Each trial remembers the stream `seq` of its last update, and
 * the data endpoint says which `seq` it shows at least (the head it read before the trials), so
 * a message newer than a slow response is applied again over it, and an older one is dropped.
 * Redraws are coalesced (one per animation frame). Importances and, for several objectives,
 * the Pareto front are computed by the server: fetched again a second after a trial ends, then
 * at most every 15 s while trials keep ending.
 *
 * A snapshot that says `"truncated": true` (the stream sends the newest 500 trials) after a
 * reconnect makes the page fetch the data endpoint again.
 *
 * The list page (`[data-sweep-row][data-sweep-live]`) follows each active sweep of the page:
 * status badge, trials done and best value.
 *
 * Each chart figure carries data-state: "loading", then "ready" once drawn (or "empty" when
 * there is nothing to draw yet, "error" when its data could not be loaded).
 */
(function () {
  "use strict";

  var STATUS_LABELS = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed", stopped: "Stopped" };
  var STATE_LABELS = { running: "Running", complete: "Complete", pruned: "Pruned", failed: "Failed" };
  var ACTIVE = ["queued", "running"];
  var RESUMABLE = ["stopped", "failed"];
  var FINISHED_STATES = ["complete", "pruned", "failed"];
  var REFETCH_MS = 15000;
  var REFETCH_SOON_MS = 1000;
  var FRONT_ROWS = 12;

  function each(selector, callback, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), callback);
  }

  function formatValue(value) { return window.CanvasCraftSweepCharts.formatValue(value); }

  function formatParam(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "number" && !Number.isInteger(value)) return String(parseFloat(value.toPrecision(4)));
    return String(value);
  }

  function formatCount(n) { return Number(n).toLocaleString("en-US"); }

  function better(a, b, maximize) { return maximize ? a > b : a < b; }

  function setStatusBadge(badge, status) {
    badge.className = badge.className.replace(/\bbadge-(queued|running|succeeded|failed|stopped)\b/g, "").trim() + " badge-" + status;
    badge.textContent = STATUS_LABELS[status] || status;
    badge.setAttribute("data-status", status);
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(new Error("HTTP " + response.status)); });
  }

  /* ---------- the trials, as columns ---------- */
  function Store(config) {
    this.maximize = config.objectives.length ? config.objectives[0].direction === "maximize" : false;
    this.nObjectives = Math.max(1, config.objectives.length);
    this.loaded = false;
    this.reset({ numbers: [], state: [], runs: [], values: [], params: [], columns: {}, states: ["running", "complete", "pruned", "failed"], seq: 0 });
  }

  Store.prototype.reset = function (data) {
    var self = this;
    this.states = data.states;
    this.axes = data.params;
    this.numbers = data.numbers.slice();
    this.state = data.state.map(function (code) { return self.states[code]; });
    this.runs = data.runs.slice();
    this.values = [];
    for (var k = 0; k < this.nObjectives; k++) this.values.push((data.values[k] || []).slice());
    this.columns = {};
    this.axes.forEach(function (axis) { self.columns[axis.name] = (data.columns[axis.name] || []).slice(); });
    this.seqs = this.numbers.map(function () { return data.seq; });
    this.index = {};
    this.numbers.forEach(function (number, i) { self.index[number] = i; });
    this.pareto = data.pareto || null;
  };

  /* A data endpoint response; messages newer than it (kept in `recent`) are applied again. */
  Store.prototype.load = function (data, recent) {
    this.reset(data);
    this.loaded = true;
    var self = this;
    Object.keys(recent).forEach(function (number) {
      if (recent[number].seq > data.seq) self.upsert(recent[number]);
    });
  };

  Store.prototype.cell = function (axis, value) {
    if (value === null || value === undefined) return null;
    if (axis.type !== "categorical") return typeof value === "number" ? value : null;
    var at = axis.choices.indexOf(value);
    if (at < 0) { axis.choices.push(value); at = axis.choices.length - 1; }
    return at;
  };

  /* A `trial` message: returns what changed ("new", "state", "values" or null). */
  Store.prototype.upsert = function (message) {
    var i = this.index[message.number];
    var self = this;
    var change = null;
    if (i === undefined) {
      i = this.numbers.length;
      if (i && this.numbers[i - 1] > message.number) { // late arrival: keep numbers sorted
        i = 0;
        while (this.numbers[i] < message.number) i++;
        this.numbers.splice(i, 0, message.number);
        this.state.splice(i, 0, null);
        this.runs.splice(i, 0, null);
        this.seqs.splice(i, 0, 0);
        this.values.forEach(function (column) { column.splice(i, 0, null); });
        this.axes.forEach(function (axis) { self.columns[axis.name].splice(i, 0, null); });
        for (var k = i; k < this.numbers.length; k++) this.index[this.numbers[k]] = k;
      } else {
        this.numbers.push(message.number);
        this.state.push(null);
        this.runs.push(null);
        this.seqs.push(0);
        this.values.forEach(function (column) { column.push(null); });
        this.axes.forEach(function (axis) { self.columns[axis.name].push(null); });
        this.index[message.number] = i;
      }
      change = "new";
    } else if (message.seq <= this.seqs[i]) {
      // What the store shows is as new: the data endpoint's rows are read after its `seq`.
      return null;
    }
    this.seqs[i] = message.seq;
    if (this.state[i] !== message.state) change = change || "state";
    this.state[i] = message.state;
    this.runs[i] = message.run === undefined ? this.runs[i] : message.run;
    var values = message.values || [];
    for (var k2 = 0; k2 < this.nObjectives; k2++) {
      var value = typeof values[k2] === "number" ? values[k2] : null;
      if (this.values[k2][i] !== value) change = change || "values";
      this.values[k2][i] = value;
    }
    var params = message.params || {};
    this.axes.forEach(function (axis) { self.columns[axis.name][i] = self.cell(axis, params[axis.name]); });
    return change;
  };

  Store.prototype.counts = function () {
    var counts = { running: 0, complete: 0, pruned: 0, failed: 0 };
    for (var i = 0; i < this.state.length; i++) if (counts[this.state[i]] !== undefined) counts[this.state[i]] += 1;
    counts.done = counts.complete + counts.pruned + counts.failed;
    counts.started = this.state.length;
    return counts;
  };

  Store.prototype.complete = function () {
    var out = [];
    var primary = this.values[0];
    for (var i = 0; i < this.numbers.length; i++) {
      if (this.state[i] === "complete" && primary[i] !== null) out.push(i);
    }
    return out;
  };

  /* The best complete trial's index (lowest number on a tie, as the server picks it). */
  Store.prototype.best = function () {
    var primary = this.values[0];
    var best = -1;
    var self = this;
    this.complete().forEach(function (i) {
      if (best < 0 || better(primary[i], primary[best], self.maximize)) best = i;
    });
    return best;
  };

  Store.prototype.paramText = function (axis, i) {
    var value = this.columns[axis.name][i];
    if (value === null || value === undefined) return "—";
    return axis.type === "categorical" ? String(axis.choices[value]) : formatParam(value);
  };

  /* ---------- the sweep page ---------- */
  function SweepPage(config) {
    this.config = config;
    this.store = new Store(config);
    this.recent = {}; // number -> newest stream message, re-applied over a slower data response
    this.status = config.status;
    this.frame = 0;
    this.snapshots = 0;
    this.lastImportancesDone = -1;
    this.importancesTimer = 0;
    this.paretoTimer = 0;
    this.importancesAt = Date.now(); // the page's own first fetch
    this.paretoAt = Date.now();
    this.figures = {};
    var self = this;
    each("[data-sweep-chart]", function (figure) { self.figures[figure.getAttribute("data-sweep-chart")] = figure; });
    this.tbody = document.querySelector("[data-trial-rows]");
    if (typeof ResizeObserver === "function") {
      var widths = {};
      Object.keys(this.figures).forEach(function (name) {
        new ResizeObserver(function (entries) {
          var width = Math.round(entries[0].contentRect.width);
          if (widths[name] !== undefined && widths[name] !== width) self.invalidate();
          widths[name] = width;
        }).observe(self.figures[name]);
      });
    }
  }

  SweepPage.prototype.start = function () {
    this.loadData();
    this.loadImportances();
    if (window.CanvasCraftLive) this.follow();
  };

  SweepPage.prototype.setState = function (name, state, note) {
    var figure = this.figures[name];
    if (!figure) return;
    figure.setAttribute("data-state", state);
    var plot = figure.querySelector("[data-chart-plot]");
    if (plot && note) plot.setAttribute("aria-label", note);
  };

  SweepPage.prototype.loadData = function () {
    var self = this;
    return getJSON(this.config.data_url)
      .then(function (data) {
        self.store.load(data, self.recent);
        self.invalidate();
      })
      .catch(function () {
        ["history", "parallel", "pareto"].forEach(function (name) {
          if (!self.figures[name]) return;
          self.setState(name, "error", "Couldn’t load this chart");
          var meta = self.figures[name].querySelector("[data-chart-meta]");
          if (meta) meta.textContent = "couldn’t load the trials";
        });
      });
  };

  SweepPage.prototype.loadImportances = function () {
    var self = this;
    var figure = this.figures.importances;
    if (!figure) return;
    var done = this.store.loaded ? this.store.counts().done : null;
    getJSON(this.config.importances_url)
      .then(function (body) {
        self.lastImportancesDone = done === null ? body.n_done : done;
        var items = Object.keys(body.importances || {}).map(function (name) { return [name, body.importances[name]]; });
        var plot = figure.querySelector("[data-chart-plot]");
        var state = window.CanvasCraftSweepCharts.importances(plot, { items: items, reason: body.reason });
        var meta = figure.querySelector("[data-chart-meta]");
        if (meta && items.length) meta.textContent = "for " + self.config.objectives[0].metric + " · " + formatCount(body.n_trials) + " trials";
        self.setState("importances", state, items.length ? "Parameter importances: " + items.map(function (item) { return item[0] + " " + (100 * item[1]).toFixed(1) + "%"; }).join(", ") : body.reason);
      })
      .catch(function () { self.setState("importances", "error", "Couldn’t load the importances"); });
  };

  /* Importances and the Pareto front are computed on the server: fetched again once trials
   * have ended since, at most every REFETCH_MS. */
  SweepPage.prototype.scheduleRefetch = function () {
    var self = this;
    var now = Date.now();
    // Soon after the first trial that ends, then at most every REFETCH_MS.
    function delay(last) { return Math.max(REFETCH_SOON_MS, REFETCH_MS - (now - last)); }
    if (this.figures.importances && !this.importancesTimer && this.store.counts().done !== this.lastImportancesDone) {
      this.importancesTimer = window.setTimeout(function () {
        self.importancesTimer = 0;
        self.importancesAt = Date.now();
        self.loadImportances();
      }, delay(this.importancesAt));
    }
    if (this.figures.pareto && !this.paretoTimer) {
      this.paretoTimer = window.setTimeout(function () {
        self.paretoTimer = 0;
        self.paretoAt = Date.now();
        self.loadData();
      }, delay(this.paretoAt));
    }
  };

  SweepPage.prototype.invalidate = function () {
    if (this.frame) return;
    var self = this;
    var request = window.requestAnimationFrame || function (callback) { return window.setTimeout(callback, 16); };
    this.frame = request(function () { self.frame = 0; self.render(); });
  };

  SweepPage.prototype.render = function () {
    if (!this.store.loaded) return;
    var store = this.store;
    var charts = window.CanvasCraftSweepCharts;
    var metric = this.config.objectives.length ? this.config.objectives[0].metric : "value";
    var complete = store.complete();
    var best = store.best();
    var numbers = complete.map(function (i) { return store.numbers[i]; });
    var primary = complete.map(function (i) { return store.values[0][i]; });
    if (this.figures.history) {
      var state = charts.history(this.figures.history.querySelector("[data-chart-plot]"), {
        numbers: numbers, values: primary, maximize: store.maximize, metric: metric,
      });
      var line = charts.bestSoFar(primary, store.maximize);
      this.setState("history", state, primary.length
        ? "Optimisation history: " + primary.length + " complete trials, best " + metric + " " + formatValue(line[line.length - 1])
        : "No trial has completed yet");
      this.figures.history.setAttribute("data-points", String(primary.length));
    }
    if (this.figures.parallel) {
      var started = window.performance ? window.performance.now() : 0;
      var parallelState = charts.parallel(this.figures.parallel.querySelector("[data-chart-plot]"), {
        axes: store.axes,
        columns: store.columns,
        values: store.values[0].map(function (value, i) { return store.state[i] === "complete" ? value : null; }),
        numbers: store.numbers,
        maximize: store.maximize,
        metric: metric,
        best: best >= 0 ? store.numbers[best] : null,
      });
      this.setState("parallel", parallelState, "Parallel coordinates of " + complete.length + " complete trials over " + store.axes.length + " params");
      // How long the lines took (browser tests check 10,000 stay smooth).
      if (started) this.figures.parallel.setAttribute("data-draw-ms", String(Math.round(window.performance.now() - started)));
    }
    if (this.figures.pareto) this.renderPareto(complete);
    this.showCounts(store.counts());
    if (best >= 0) this.showBest(best);
  };

  SweepPage.prototype.renderPareto = function (complete) {
    var store = this.store;
    var objectives = this.config.objectives;
    var front = {};
    (store.pareto || []).forEach(function (number) { front[number] = true; });
    var withBoth = complete.filter(function (i) { return store.values[1][i] !== null; });
    var state = window.CanvasCraftSweepCharts.pareto(this.figures.pareto.querySelector("[data-chart-plot]"), {
      xs: withBoth.map(function (i) { return store.values[0][i]; }),
      ys: withBoth.map(function (i) { return store.values[1][i]; }),
      numbers: withBoth.map(function (i) { return store.numbers[i]; }),
      front: withBoth.map(function (i) { return !!front[store.numbers[i]]; }),
      metrics: [objectives[0].metric, objectives[1].metric],
      directions: [objectives[0].direction, objectives[1].direction],
    });
    var meta = this.figures.pareto.querySelector("[data-chart-meta]");
    if (meta) {
      meta.textContent = store.pareto === null
        ? "front not computed"
        : formatCount(store.pareto.length) + " on the front · " + objectives[0].metric + " vs " + objectives[1].metric;
    }
    this.setState("pareto", state, "Pareto front: " + (store.pareto || []).length + " trials on the front of " + withBoth.length);
    this.showFront();
  };

  /* The trials on the front, best primary value first, FRONT_ROWS of them. */
  SweepPage.prototype.showFront = function () {
    var store = this.store;
    var body = document.querySelector("[data-front-rows]");
    if (!body) return;
    var indexes = (store.pareto || [])
      .map(function (number) { return store.index[number]; })
      .filter(function (i) { return i !== undefined && store.values[0][i] !== null; });
    indexes.sort(function (a, b) {
      var difference = store.values[0][a] - store.values[0][b];
      return (store.maximize ? -difference : difference) || store.numbers[a] - store.numbers[b];
    });
    body.textContent = "";
    var config = this.config;
    indexes.slice(0, FRONT_ROWS).forEach(function (i) {
      var row = document.createElement("tr");
      var head = cell("th", "mono", String(store.numbers[i]));
      head.scope = "row";
      row.appendChild(head);
      store.values.forEach(function (column) { row.appendChild(cell("td", "num mono", formatValue(column[i]))); });
      var run = cell("td");
      if (store.runs[i]) {
        var link = cell("a", "", "run #" + store.runs[i]);
        link.href = config.run_url.replace("{id}", store.runs[i]);
        run.appendChild(link);
      } else run.appendChild(muted("—"));
      row.appendChild(run);
      body.appendChild(row);
    });
    each("[data-front-count]", function (node) { node.textContent = store.pareto === null ? "" : String(indexes.length); });
    each("[data-front-more]", function (node) {
      node.hidden = indexes.length <= FRONT_ROWS;
      node.textContent = "and " + (indexes.length - FRONT_ROWS) + " more on the chart";
    });
  };

  SweepPage.prototype.showCounts = function (counts) {
    each("[data-sweep-count]", function (node) {
      var key = node.getAttribute("data-sweep-count");
      if (counts[key] !== undefined) node.textContent = formatCount(counts[key]);
    });
    var meter = document.querySelector("[data-sweep-meter]");
    if (meter && this.config.n_trials) {
      var percent = Math.min(100, Math.round((100 * counts.done) / this.config.n_trials));
      meter.style.width = percent + "%";
      meter.parentNode.setAttribute("aria-valuenow", String(percent));
    }
    each("[data-trials-note]", function (node) {
      node.textContent = formatCount(counts.started) + " trial" + (counts.started === 1 ? "" : "s");
    });
  };

  SweepPage.prototype.showBest = function (i) {
    var store = this.store;
    var card = document.querySelector("[data-sweep-best]");
    if (!card) return;
    var number = store.numbers[i];
    card.setAttribute("data-best-number", String(number));
    each("[data-best-label]", function (node) { node.textContent = "#" + number; }, card);
    each("[data-best-empty]", function (node) { node.hidden = true; }, card);
    each("[data-best-body]", function (node) { node.hidden = false; }, card);
    each("[data-best-value]", function (node) {
      var k = Number(node.getAttribute("data-best-value"));
      node.textContent = formatValue(store.values[k] ? store.values[k][i] : null);
    }, card);
    store.axes.forEach(function (axis) {
      each("[data-best-param='" + axis.name.replace(/['\\]/g, "\\$&") + "']", function (node) { node.textContent = store.paramText(axis, i); }, card);
    });
    var run = store.runs[i];
    var config = this.config;
    each("[data-best-run]", function (link) {
      link.hidden = !run;
      if (run) link.href = config.run_url.replace("{id}", run);
    }, card);
    each("[data-best-remix]", function (link) {
      link.hidden = !run;
      if (run) link.href = config.remix_url.replace("{id}", run);
    }, card);
    each("[data-best-publish]", function (form) {
      form.hidden = !run;
      if (run) form.action = config.publish_url.replace("{id}", run);
    }, card);
    each("tr.is-best", function (row) { if (row.getAttribute("data-trial") !== String(number)) row.classList.remove("is-best"); });
    each("tr[data-trial='" + number + "']", function (row) { row.classList.add("is-best"); });
  };

  /* ---------- status ---------- */
  SweepPage.prototype.showStatus = function (message) {
    this.status = message.status;
    each("[data-sweep-status]", function (badge) { setStatusBadge(badge, message.status); });
    each("[data-sweep-action='stop']", function (form) { form.hidden = ACTIVE.indexOf(message.status) < 0; });
    each("[data-sweep-action='resume']", function (form) { form.hidden = RESUMABLE.indexOf(message.status) < 0; });
    each(".sweep-progress", function (node) { node.setAttribute("data-status", message.status); });
    each("[data-sweep-error]", function (box) {
      box.hidden = !message.error;
      var text = box.querySelector("[data-sweep-error-text]");
      if (text) text.textContent = message.error || "";
    });
    if (!this.store.loaded) {
      this.showCounts({
        complete: message.n_complete, running: message.n_running, pruned: message.n_pruned, failed: message.n_failed,
        done: message.n_complete + message.n_pruned + message.n_failed,
        started: message.n_complete + message.n_running + message.n_pruned + message.n_failed,
      });
    }
  };

  /* ---------- the trial table (page 1, newest first) ---------- */
  SweepPage.prototype.row = function (number) {
    return this.tbody ? this.tbody.querySelector("tr[data-trial='" + number + "']") : null;
  };

  SweepPage.prototype.fillRow = function (row, message) {
    var badge = row.querySelector("[data-trial-state]");
    if (badge) {
      badge.className = "badge badge-trial-" + message.state;
      badge.textContent = STATE_LABELS[message.state] || message.state;
    }
    var values = message.values || [];
    each("[data-trial-value]", function (cell) {
      cell.textContent = formatValue(values[Number(cell.getAttribute("data-trial-value"))]);
    }, row);
    var pruned = row.querySelector("[data-trial-pruned]");
    if (pruned) {
      pruned.textContent = "";
      if (message.pruned_at_step !== null && message.pruned_at_step !== undefined) pruned.textContent = "epoch " + message.pruned_at_step;
      else pruned.appendChild(muted("—"));
    }
    var run = row.querySelector("[data-trial-run]");
    if (run && message.run) {
      run.textContent = "";
      var link = document.createElement("a");
      link.href = this.config.run_url.replace("{id}", message.run);
      link.textContent = "run #" + message.run;
      run.appendChild(link);
    }
  };

  function muted(text) {
    var span = document.createElement("span");
    span.className = "muted";
    span.textContent = text;
    return span;
  }

  function cell(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  SweepPage.prototype.newRow = function (message) {
    var row = document.createElement("tr");
    row.setAttribute("data-trial", String(message.number));
    row.className = "is-new";
    var head = cell("th", "mono", String(message.number));
    head.scope = "row";
    row.appendChild(head);
    var state = cell("td");
    var badge = cell("span", "badge");
    badge.setAttribute("data-trial-state", "");
    state.appendChild(badge);
    row.appendChild(state);
    var params = message.params || {};
    this.config.params.forEach(function (name) { row.appendChild(cell("td", "mono small nowrap", formatParam(params[name]))); });
    for (var k = 0; k < Math.max(1, this.config.objectives.length); k++) {
      var value = cell("td", "num mono");
      value.setAttribute("data-trial-value", String(k));
      row.appendChild(value);
    }
    var pruned = cell("td", "num");
    pruned.setAttribute("data-trial-pruned", "");
    row.appendChild(pruned);
    var duration = cell("td", "num");
    duration.setAttribute("data-trial-duration", "");
    duration.appendChild(muted("—"));
    row.appendChild(duration);
    var run = cell("td");
    run.setAttribute("data-trial-run", "");
    run.appendChild(muted("—"));
    row.appendChild(run);
    this.fillRow(row, message);
    return row;
  };

  SweepPage.prototype.showTrial = function (message, change) {
    var row = this.row(message.number);
    if (row) { this.fillRow(row, message); return; }
    if (change !== "new") return;
    if (!this.config.live_rows || !this.tbody) {
      if (!message.snapshot && this.store.loaded) each("[data-new-trials]", function (note) { note.hidden = false; });
      return;
    }
    var first = this.tbody.querySelector("tr[data-trial]");
    if (first && Number(first.getAttribute("data-trial")) > message.number) return; // an older trial: not on page 1
    this.tbody.insertBefore(this.newRow(message), first);
    var rows = this.tbody.querySelectorAll("tr[data-trial]");
    for (var i = this.config.per_page; i < rows.length; i++) rows[i].parentNode.removeChild(rows[i]);
    each("[data-trials-table]", function (node) { node.hidden = false; });
    each("[data-trials-empty]", function (node) { node.hidden = true; });
  };

  /* ---------- the stream ---------- */
  SweepPage.prototype.receive = function (message) {
    if (message.type === "status") {
      this.showStatus(message);
      if (message.snapshot) {
        this.snapshots += 1;
        // After a reconnect the snapshot holds the newest 500 trials only: read them all.
        if (this.snapshots > 1 && message.truncated) this.loadData();
      }
      return;
    }
    if (message.type !== "trial" || typeof message.number !== "number") return;
    this.recent[message.number] = message;
    var change = this.store.upsert(message);
    if (change === null) return;
    this.showTrial(message, change);
    if (change === "new" || FINISHED_STATES.indexOf(message.state) >= 0) {
      this.invalidate();
      if (!message.snapshot && FINISHED_STATES.indexOf(message.state) >= 0) this.scheduleRefetch();
    }
  };

  SweepPage.prototype.follow = function () {
    var self = this;
    var indicator = document.querySelector("[data-live-indicator]");
    window.CanvasCraftLive.connect(this.config.stream, {
      onState: function (state) { window.CanvasCraftLive.showState(indicator, state); },
      onMessage: function (message) { self.receive(message); },
    });
  };

  /* ---------- the sweep list ---------- */
  function followListRow(row) {
    var id = row.getAttribute("data-sweep-row");
    var maximize = row.getAttribute("data-direction") === "maximize";
    var nTrials = Number(row.getAttribute("data-n-trials")) || 0;
    var states = {};
    var done = 0;
    var best = null;
    function show() {
      each("[data-sweep-done]", function (node) { node.textContent = formatCount(done); }, row);
      each("[data-sweep-meter]", function (node) { if (nTrials) node.style.width = Math.min(100, Math.round((100 * done) / nTrials)) + "%"; }, row);
      each("[data-sweep-best]", function (node) { node.textContent = formatValue(best); }, row);
    }
    return window.CanvasCraftLive.connect("/ws/sweeps/" + encodeURIComponent(id) + "/", {
      onState: function (state) {
        each("[data-live-indicator]", function (indicator) { window.CanvasCraftLive.showState(indicator, state); });
      },
      onMessage: function (message) {
        if (message.type === "status") {
          each("[data-sweep-status]", function (badge) { setStatusBadge(badge, message.status); }, row);
          done = message.n_complete + message.n_pruned + message.n_failed;
          best = message.best && message.best.values ? message.best.values[0] : best;
          show();
        } else if (message.type === "trial") {
          var was = states[message.number];
          states[message.number] = message.state;
          if (message.snapshot) return;
          if (FINISHED_STATES.indexOf(message.state) >= 0 && FINISHED_STATES.indexOf(was) < 0) done += 1;
          var value = message.values && typeof message.values[0] === "number" ? message.values[0] : null;
          if (message.state === "complete" && value !== null && (best === null || better(value, best, maximize))) best = value;
          show();
        }
      },
    });
  }

  function start() {
    var node = document.getElementById("sweep-page-config");
    if (node && window.CanvasCraftSweepCharts) {
      var page = new SweepPage(JSON.parse(node.textContent));
      window.CanvasCraftSweepPage = page;
      page.start();
      return;
    }
    if (window.CanvasCraftLive) each("[data-sweep-row][data-sweep-live]", followListRow);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
