/* The 3-D view of a model: a scatter of its dataset's samples on three principal axes, drawn
   on a 2-D canvas with a perspective projection. Drag to orbit (yaw and pitch), scroll to
   zoom, hover a dot for its sample; points are drawn far to near so near ones cover far ones. */
(function () {
  "use strict";

  var root = document.querySelector("[data-embedding]");
  if (!root) return;
  var canvas = root.querySelector("[data-embedding-canvas]");
  var status = root.querySelector("[data-embedding-status]");
  var tip = root.querySelector("[data-embedding-tip]");
  var legend = root.querySelector("[data-embedding-legend]");
  var summary = root.querySelector("[data-embedding-summary]");
  var spaceSelect = document.querySelector("[data-embedding-space]");
  var colourSelect = document.querySelector("[data-embedding-colour]");
  var PALETTE = ["#7c5cff", "#ff6b4a", "#1fa37a", "#f2a100", "#2f7de1", "#d6336c", "#4dabf7", "#8d6e63", "#20c997", "#495057"];
  var data = null;
  var view = { yaw: 0.7, pitch: 0.35, zoom: 1 };
  var projected = [];

  var params = new URLSearchParams(window.location.search);
  if (params.get("space") && spaceSelect) spaceSelect.value = params.get("space");

  function colourKey(index) {
    var mode = colourSelect.value;
    if (mode === "prediction") return String(data.predictions[index]);
    if (mode === "errors") return data.truth[index] === null ? "unlabelled" : (String(data.predictions[index]) === data.truth[index] ? "right" : "wrong");
    return data.truth[index] === null ? "unlabelled" : data.truth[index];
  }

  function colours() {
    var keys = [];
    var mode = colourSelect.value;
    if (mode === "errors") keys = ["right", "wrong"];
    else if (data.label_names.length) keys = data.label_names.slice();
    var map = {};
    keys.forEach(function (key, i) { map[key] = mode === "errors" ? (key === "right" ? "#1fa37a" : "#e03131") : PALETTE[i % PALETTE.length]; });
    map.unlabelled = "#adb5bd";
    return map;
  }

  function resize() {
    var box = canvas.getBoundingClientRect();
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
  }

  function draw() {
    if (!data) return;
    var context = canvas.getContext("2d");
    var width = canvas.width, height = canvas.height;
    var ratio = window.devicePixelRatio || 1;
    context.clearRect(0, 0, width, height);
    var cy = Math.cos(view.yaw), sy = Math.sin(view.yaw), cp = Math.cos(view.pitch), sp = Math.sin(view.pitch);
    var scale = Math.min(width, height) * 0.36 * view.zoom;
    var map = colours();
    projected = data.points.map(function (p, i) {
      var x = p[0] * cy - p[2] * sy;
      var z = p[0] * sy + p[2] * cy;
      var y = p[1] * cp - z * sp;
      z = p[1] * sp + z * cp;
      var perspective = 3 / (3 + z);
      return { i: i, x: width / 2 + x * scale * perspective, y: height / 2 - y * scale * perspective, z: z, r: (2.2 + perspective) * ratio };
    });
    drawAxes(context, cy, sy, cp, sp, scale, width, height);
    projected.slice().sort(function (a, b) { return b.z - a.z; }).forEach(function (point) {
      context.beginPath();
      context.arc(point.x, point.y, point.r, 0, Math.PI * 2);
      context.fillStyle = map[colourKey(point.i)] || "#868e96";
      context.globalAlpha = 0.55 + 0.45 * (1 - (point.z + 1) / 2);
      context.fill();
    });
    context.globalAlpha = 1;
    drawLegend(map);
  }

  function drawAxes(context, cy, sy, cp, sp, scale, width, height) {
    var axes = [[1, 0, 0, "PC1"], [0, 1, 0, "PC2"], [0, 0, 1, "PC3"]];
    context.strokeStyle = "#cfc6b8";
    context.fillStyle = "#8a8397";
    context.font = (11 * (window.devicePixelRatio || 1)) + "px sans-serif";
    axes.forEach(function (axis) {
      var x = axis[0] * cy - axis[2] * sy;
      var z = axis[0] * sy + axis[2] * cy;
      var y = axis[1] * cp - z * sp;
      context.beginPath();
      context.moveTo(width / 2, height / 2);
      context.lineTo(width / 2 + x * scale, height / 2 - y * scale);
      context.stroke();
      context.fillText(axis[3], width / 2 + x * scale * 1.05, height / 2 - y * scale * 1.05);
    });
  }

  function drawLegend(map) {
    legend.textContent = "";
    var counts = {};
    data.points.forEach(function (_p, i) { var key = colourKey(i); counts[key] = (counts[key] || 0) + 1; });
    Object.keys(counts).sort().forEach(function (key) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = map[key] || "#868e96";
      item.append(swatch, document.createTextNode(key + " · " + counts[key]));
      legend.append(item);
    });
  }

  function load() {
    status.hidden = false;
    status.textContent = "Projecting the samples…";
    var space = spaceSelect ? spaceSelect.value : "features";
    fetch(root.getAttribute("data-url") + "&space=" + encodeURIComponent(space), { credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.detail || "The projection failed.");
          return body;
        });
      })
      .then(function (body) {
        data = body;
        status.hidden = true;
        var shares = body.explained.map(function (share) { return Math.round(share * 100) + " %"; }).join(", ");
        summary.textContent = body.n + " of " + body.n_samples + " samples · " + body.space + " · variance on the axes: " + shares;
        root.setAttribute("data-loaded", body.space);
        resize();
        draw();
      })
      .catch(function (error) { status.textContent = error.message; });
  }

  var dragging = null;
  canvas.addEventListener("pointerdown", function (event) { dragging = [event.clientX, event.clientY]; canvas.setPointerCapture(event.pointerId); });
  canvas.addEventListener("pointerup", function () { dragging = null; });
  canvas.addEventListener("pointermove", function (event) {
    if (dragging) {
      view.yaw += (event.clientX - dragging[0]) * 0.01;
      view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + (event.clientY - dragging[1]) * 0.01));
      dragging = [event.clientX, event.clientY];
      draw();
      return;
    }
    showTip(event);
  });
  canvas.addEventListener("wheel", function (event) {
    event.preventDefault();
    view.zoom = Math.max(0.4, Math.min(4, view.zoom * (event.deltaY < 0 ? 1.1 : 0.9)));
    draw();
  }, { passive: false });
  canvas.addEventListener("pointerleave", function () { tip.hidden = true; });

  function showTip(event) {
    if (!data) return;
    var box = canvas.getBoundingClientRect();
    var ratio = canvas.width / box.width;
    var x = (event.clientX - box.left) * ratio, y = (event.clientY - box.top) * ratio;
    var best = null, bestDistance = 64 * ratio * ratio;
    projected.forEach(function (point) {
      var distance = (point.x - x) * (point.x - x) + (point.y - y) * (point.y - y);
      if (distance < bestDistance && (!best || point.z < best.z + 0.05)) { best = point; bestDistance = distance; }
    });
    if (!best) { tip.hidden = true; return; }
    tip.hidden = false;
    tip.textContent = "true: " + (data.truth[best.i] === null ? "—" : data.truth[best.i]) + " · predicted: " + data.predictions[best.i];
    tip.style.left = (event.clientX - box.left + 12) + "px";
    tip.style.top = (event.clientY - box.top + 12) + "px";
  }

  colourSelect.addEventListener("change", draw);
  window.addEventListener("resize", function () { resize(); draw(); });
  window.CanvasCraftEmbedding = { view: view, redraw: draw };
  load();
})();
