/* CanvasCraft live: a websocket client for the studio's streams (docs/live.md), no dependencies.
 *
 *   var stream = CanvasCraftLive.connect("/ws/runs/12/", {
 *     onMessage: function (message) { ... },  // every stream message, in order, none twice
 *     onState: function (state) { ... },      // "connecting", "open", "reconnecting", "closed"
 *   });
 *   stream.close();                            // for good: no reconnect
 *
 * - Keeps the last `seq` it saw and reconnects with `?after=<seq>` after 1 s, 2 s, 4 s … (at
 *   most 15 s; back to 1 s once a connection delivered something), so a dropped connection
 *   misses nothing. A refused one (4400 bad request, 4401 logged out, 4403 foreign page, 4404
 *   not yours) is not retried: its state becomes "closed" and `stream.refusal` says why.
 * - Sends {"type": "ping"} every 25 s so proxies keep an idle connection open.
 * - Every message is also dispatched on `document` as
 *     new CustomEvent("canvascraft:live", {detail: message})
 *   so other panels (the run page's samples) follow the stream without opening their own.
 *
 * Pages with `data-live-events` on an element also follow `/ws/events/` (the user's own runs'
 * status changes) while one of their badges shows a queued or running run, or they have a
 * `[data-live-runs]` list: every badge `[data-run-status="<run id>"]` takes the new status, and
 * the list shows the runs training right now (see followEvents below).
 */
(function () {
  "use strict";

  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
  var PING_MS = 25000;
  var REFUSED = { 4400: "bad request", 4401: "not logged in", 4403: "origin not allowed", 4404: "not found" };
  var STATUS_LABELS = {
    queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed", cancelled: "Cancelled",
  };
  var FINAL_STATUSES = ["succeeded", "failed", "cancelled"];

  function socketUrl(path, after) {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = scheme + "//" + window.location.host + path;
    return after === null ? url : url + (url.indexOf("?") >= 0 ? "&" : "?") + "after=" + after;
  }

  function announce(message) {
    var event;
    try {
      event = new CustomEvent("canvascraft:live", { detail: message });
    } catch (error) { // very old browsers: no CustomEvent constructor
      event = document.createEvent("CustomEvent");
      event.initCustomEvent("canvascraft:live", false, false, message);
    }
    document.dispatchEvent(event);
  }

  /* One stream: connects at once, reconnects until close() or a refusal. */
  function connect(path, handlers) {
    handlers = handlers || {};
    var stream = { path: path, lastSeq: null, state: "connecting", refusal: null, close: close };
    var socket = null;
    var attempt = 0;
    var retryTimer = 0;
    var pingTimer = 0;
    var closed = false;

    function setState(state) {
      if (stream.state === state) return;
      stream.state = state;
      if (handlers.onState) handlers.onState(state, stream);
    }

    function open() {
      window.clearTimeout(retryTimer);
      if (closed) return;
      setState(attempt ? "reconnecting" : "connecting");
      try {
        socket = new WebSocket(socketUrl(path, stream.lastSeq));
      } catch (error) {
        retry();
        return;
      }
      socket.onopen = function () {
        setState("open");
        window.clearInterval(pingTimer);
        pingTimer = window.setInterval(ping, PING_MS);
      };
      socket.onmessage = function (event) { receive(event.data); };
      socket.onclose = function (event) {
        window.clearInterval(pingTimer);
        socket = null;
        if (closed) return;
        if (REFUSED[event.code]) {
          stream.refusal = stream.refusal || REFUSED[event.code];
          closed = true;
          setState("closed");
          return;
        }
        retry();
      };
    }

    function retry() {
      if (closed) return;
      setState("reconnecting");
      var delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
      attempt += 1;
      retryTimer = window.setTimeout(open, delay);
    }

    function ping() {
      if (socket && socket.readyState === 1) socket.send('{"type":"ping"}');
    }

    function receive(text) {
      var message;
      try { message = JSON.parse(text); } catch (error) { return; }
      if (!message || typeof message !== "object") return;
      if (message.type === "pong") return;
      if (message.type === "error") {
        stream.refusal = message.detail || message.code || "refused";
        return;
      }
      if (typeof message.seq === "number") {
        // Snapshot messages all carry the seq S they show; events after it come one by one.
        if (!message.snapshot && stream.lastSeq !== null && message.seq <= stream.lastSeq) return;
        stream.lastSeq = Math.max(stream.lastSeq || 0, message.seq);
      }
      attempt = 0; // this connection works: a later drop starts the backoff from 1 s again
      if (handlers.onMessage) {
        try { handlers.onMessage(message, stream); } catch (error) { window.setTimeout(function () { throw error; }); }
      }
      announce(message);
    }

    function close() {
      closed = true;
      window.clearTimeout(retryTimer);
      window.clearInterval(pingTimer);
      if (socket) socket.close(1000);
      setState("closed");
    }

    // Back online: no reason to wait out the backoff.
    window.addEventListener("online", function () { if (!closed && !socket) { attempt = 0; open(); } });
    open();
    return stream;
  }

  /* A "live" chip: connected, reconnecting…, or offline (`[data-live-indicator]`). */
  function showState(indicator, state) {
    if (!indicator) return;
    var text = { connecting: "connecting…", open: "live", reconnecting: "reconnecting…", closed: "offline" }[state];
    indicator.setAttribute("data-state", state);
    var label = indicator.querySelector("[data-live-indicator-text]") || indicator;
    label.textContent = text || state;
    indicator.title = state === "open" ? "Updates arrive as they happen" :
      state === "closed" ? "Not following: reload the page to try again" : "Connection lost; trying again";
  }

  /* ---------- /ws/events/: status badges of the user's runs, anywhere on the page ---------- */
  function setBadge(badge, status) {
    badge.className = badge.className.replace(/\bbadge-(queued|running|succeeded|failed|cancelled)\b/, "badge-" + status);
    if (!/\bbadge-(queued|running|succeeded|failed|cancelled)\b/.test(badge.className)) badge.classList.add("badge-" + status);
    badge.textContent = STATUS_LABELS[status] || status;
    badge.setAttribute("data-status", status);
  }

  function runItem(message) {
    var item = document.createElement("li");
    item.className = "live-run";
    item.setAttribute("data-live-run", String(message.run));
    var link = document.createElement("a");
    link.href = "/runs/" + encodeURIComponent(message.run) + "/";
    var name = document.createElement("span");
    name.className = "live-run-name";
    name.textContent = message.name || "run " + message.run;
    var experiment = document.createElement("span");
    experiment.className = "live-run-sub";
    experiment.textContent = message.experiment_name || "";
    var badge = document.createElement("span");
    badge.className = "badge badge-" + message.status;
    badge.setAttribute("data-run-status", String(message.run));
    link.appendChild(name);
    link.appendChild(experiment);
    link.appendChild(badge);
    item.appendChild(link);
    return item;
  }

  /* The runs training now, for `[data-live-runs]` (optionally `data-experiment="<id>"`). */
  function listRun(container, message) {
    var only = container.getAttribute("data-experiment");
    if (only && String(message.experiment) !== only) return;
    var list = container.querySelector("[data-live-runs-list]");
    if (!list || FINAL_STATUSES.indexOf(message.status) >= 0) return; // ended before we saw it
    var shown = document.querySelector("[data-run-status='" + message.run + "']");
    if (shown) return; // listed already, here or in the page's own table
    list.insertBefore(runItem(message), list.firstChild);
    container.hidden = false;
  }

  function followEvents() {
    var stream = connect("/ws/events/", {
      onState: function (state) {
        Array.prototype.forEach.call(document.querySelectorAll("[data-live-indicator]"), function (indicator) {
          showState(indicator, state);
        });
      },
      onMessage: function (message) {
        if (message.type !== "status" || typeof message.run !== "number") return;
        Array.prototype.forEach.call(document.querySelectorAll("[data-live-runs]"), function (container) {
          listRun(container, message);
        });
        Array.prototype.forEach.call(document.querySelectorAll("[data-run-status='" + message.run + "']"), function (badge) {
          setBadge(badge, message.status);
        });
      },
    });
    return stream;
  }

  window.CanvasCraftLive = {
    connect: connect,
    showState: showState,
    setBadge: setBadge,
    statusLabels: STATUS_LABELS,
    finalStatuses: FINAL_STATUSES.slice(),
    followEvents: followEvents,
  };

  function start() {
    if (!document.querySelector("[data-live-events]")) return;
    // A page whose badges all show finished runs has nothing to follow, unless it lists new runs.
    var waiting = document.querySelector("[data-live-runs], [data-run-status].badge-queued, [data-run-status].badge-running");
    if (waiting) followEvents();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
