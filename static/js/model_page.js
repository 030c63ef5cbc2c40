/* The model page's "try it" panel: gathers one input (a table row, a drawing or picture, a
   sound), posts it to the predict API with the page's session, and shows the top classes with
   their probabilities (or the predicted value) and the version that answered. With the "run in
   this browser" switch on, the same version's ONNX export also answers in the page
   (static/js/model_onnx.js), beside the server's answer, with a note on whether they agree. */
(function () {
  "use strict";

  var panel = document.querySelector("[data-try-it]");
  if (!panel) return;
  var form = panel.querySelector("[data-try-form]");
  var resultBox = panel.querySelector("[data-try-result]");
  var errorBox = panel.querySelector("[data-try-error]");
  var fileInput = panel.querySelector("[data-try-file]");
  var pad = panel.querySelector("[data-draw-pad]");
  var recorded = null;
  var drawn = false;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    resultBox.hidden = true;
  }

  /* ---------- the drawing pad ---------- */
  function clearPad() {
    var context = pad.getContext("2d");
    context.fillStyle = "#000";
    context.fillRect(0, 0, pad.width, pad.height);
    drawn = false;
  }

  if (pad) {
    clearPad();
    var drawing = false;
    var context = pad.getContext("2d");
    var point = function (event) {
      var box = pad.getBoundingClientRect();
      return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
    };
    pad.addEventListener("pointerdown", function (event) {
      drawing = true;
      drawn = true;
      pad.setPointerCapture(event.pointerId);
      var at = point(event);
      context.beginPath();
      context.moveTo(at[0], at[1]);
    });
    pad.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var at = point(event);
      context.strokeStyle = "#fff";
      context.lineWidth = pad.width / 8;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.lineTo(at[0], at[1]);
      context.stroke();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      pad.addEventListener(name, function () { drawing = false; });
    });
    panel.querySelector("[data-draw-clear]").addEventListener("click", clearPad);
  }

  /* ---------- recording (16-bit mono WAV made in the page) ---------- */
  function wavBytes(samples, rate) {
    var buffer = new ArrayBuffer(44 + samples.length * 2);
    var view = new DataView(buffer);
    var text = function (offset, value) { for (var i = 0; i < value.length; i++) view.setUint8(offset + i, value.charCodeAt(i)); };
    text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
    text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
    text(36, "data"); view.setUint32(40, samples.length * 2, true);
    for (var i = 0; i < samples.length; i++) {
      var s = Math.max(-1, Math.min(1, samples[i]));
      view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    return new Uint8Array(buffer);
  }

  var recordButton = panel.querySelector("[data-record]");
  if (recordButton) {
    var recordState = panel.querySelector("[data-record-state]");
    recordButton.addEventListener("click", function () {
      if (!navigator.mediaDevices || !window.AudioContext) {
        recordState.textContent = "This browser cannot record here; upload a file instead.";
        return;
      }
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var audio = new AudioContext();
        var source = audio.createMediaStreamSource(stream);
        var processor = audio.createScriptProcessor(4096, 1, 1);
        var chunks = [];
        processor.onaudioprocess = function (event) { chunks.push(new Float32Array(event.inputBuffer.getChannelData(0))); };
        source.connect(processor);
        processor.connect(audio.destination);
        recordState.textContent = "Recording…";
        setTimeout(function () {
          processor.disconnect(); source.disconnect();
          stream.getTracks().forEach(function (track) { track.stop(); });
          var length = chunks.reduce(function (sum, chunk) { return sum + chunk.length; }, 0);
          var samples = new Float32Array(length);
          var offset = 0;
          chunks.forEach(function (chunk) { samples.set(chunk, offset); offset += chunk.length; });
          recorded = wavBytes(samples, audio.sampleRate);
          recordState.textContent = "Recorded " + (length / audio.sampleRate).toFixed(1) + " s.";
          audio.close();
        }, 2000);
      }).catch(function () { recordState.textContent = "No microphone allowed; upload a file instead."; });
    });
  }

  /* ---------- gathering the input ---------- */
  function base64Of(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }

  function fileInputValue() {
    return new Promise(function (resolve, reject) {
      var file = fileInput && fileInput.files[0];
      if (!file) { resolve(null); return; }
      var reader = new FileReader();
      reader.onload = function () { resolve(base64Of(new Uint8Array(reader.result))); };
      reader.onerror = function () { reject(new Error("The file could not be read.")); };
      reader.readAsArrayBuffer(file);
    });
  }

  function gatherInput() {
    var columns = form.querySelectorAll("[data-column]");
    if (columns.length) {
      var row = {};
      for (var i = 0; i < columns.length; i++) {
        var field = columns[i];
        var type = field.getAttribute("data-type");
        // A column the model fills in: empty means missing (null), as an empty training cell.
        if (field.hasAttribute("data-nullable") && field.value === "") row[field.getAttribute("data-column")] = null;
        else if (type === "boolean") row[field.getAttribute("data-column")] = field.value === "true";
        else if (field.type === "number") {
          if (field.value === "") return Promise.reject(new Error("Give a value for " + field.getAttribute("data-column") + "."));
          row[field.getAttribute("data-column")] = type === "integer" ? parseInt(field.value, 10) : Number(field.value);
        } else row[field.getAttribute("data-column")] = field.value;
      }
      return Promise.resolve(row);
    }
    return fileInputValue().then(function (fromFile) {
      if (fromFile) return fromFile;
      if (pad && drawn) return pad.toDataURL("image/png").split(",")[1];
      if (recorded) return base64Of(recorded);
      throw new Error(pad ? "Draw something, or pick a picture." : "Pick a sound, or record one.");
    });
  }

  /* ---------- asking and showing ---------- */
  function show(body, box) {
    box = box || resultBox;
    // The answer and the compared answer have the same parts, named try-… and compare-….
    var part = box === resultBox ? "try" : "compare";
    var prediction = body.predictions[0];
    var label = box.querySelector("[data-" + part + "-label]");
    var bars = box.querySelector("[data-" + part + "-bars]");
    bars.textContent = "";
    var who = box === resultBox ? "" : body.model + " · ";
    box.querySelector("[data-" + part + "-version]").textContent = who + "answered by version " + body.version + (body.alias ? " (" + body.alias + ")" : "");
    if (prediction.probabilities) {
      label.textContent = prediction.label;
      Object.keys(prediction.probabilities)
        .map(function (name) { return [name, prediction.probabilities[name]]; })
        .sort(function (a, b) { return b[1] - a[1]; })
        .slice(0, 5)
        .forEach(function (pair) {
          var item = document.createElement("li");
          item.setAttribute("data-class", pair[0]);
          var name = document.createElement("span");
          name.className = "try-bar-name";
          name.textContent = pair[0];
          var bar = document.createElement("span");
          bar.className = "try-bar";
          bar.style.setProperty("--share", (pair[1] * 100).toFixed(1) + "%");
          var value = document.createElement("span");
          value.className = "try-bar-value";
          value.textContent = (pair[1] * 100).toFixed(1) + " %";
          item.append(name, bar, value);
          bars.append(item);
        });
    } else {
      label.textContent = prediction.label !== undefined ? prediction.label : Number(prediction.value).toPrecision(5);
    }
    if (box === resultBox) errorBox.hidden = true;
    box.hidden = false;
  }

  /* ---------- comparing with another version or model, on the same input ---------- */
  var compareTarget = panel.querySelector("[data-compare-target]");
  var compareBox = panel.querySelector("[data-compare-result]");
  var compareError = panel.querySelector("[data-compare-error]");

  function askCompared() {
    if (!compareTarget || !compareTarget.value) return Promise.resolve(null);
    compareBox.hidden = true;
    compareError.hidden = true;
    return predictOn(compareTarget.value)
      .then(function (body) { show(body, compareBox); return body; })
      .catch(function (error) {
        compareError.textContent = "Compared model: " + error.message;
        compareError.hidden = false;
        return null;
      });
  }

  /* The predict API's answer for the panel's input at `url`; a refusal rejects with its message. */
  function predictOn(url) {
    return gatherInput()
      .then(function (input) {
        return fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ inputs: [input] }),
        });
      })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(errorMessage(body));
          return body;
        });
      });
  }

  function errorMessage(body) {
    if (body && body.errors) {
      return Object.keys(body.errors).map(function (key) { return key + ": " + body.errors[key].join(" "); }).join("; ");
    }
    return (body && body.detail) || "The prediction failed.";
  }

  /* ---------- running in this browser (static/js/model_onnx.js) ---------- */
  var onnx = window.CanvasCraftOnnx;
  var target = panel.querySelector("[data-try-target]");
  var onnxSwitch = panel.querySelector("[data-onnx-switch]");
  var onnxNote = panel.querySelector("[data-onnx-note]");
  var onnxResult = panel.querySelector("[data-onnx-result]");
  var onnxError = panel.querySelector("[data-onnx-error]");
  var SWITCH_KEY = "canvascraft.try-in-browser";
  var checking = 0;

  function jsonOf(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  var signature = jsonOf("try-signature") || {};
  var cardManifest = jsonOf("try-onnx");
  if (onnx && cardManifest) onnx.suggestCategories(form, cardManifest); // known categories

  function remembered() {
    try { return window.localStorage.getItem(SWITCH_KEY) === "on"; } catch (error) { return false; }
  }

  function targetVersion() {
    var option = target.options[target.selectedIndex];
    return { number: option.getAttribute("data-version"), hasOnnx: option.getAttribute("data-onnx") === "1" };
  }

  function filesUrl(number) {
    return panel.getAttribute("data-files-url") + number + "/files/";
  }

  function setSwitch(enabled, note) {
    onnxSwitch.disabled = !enabled;
    onnxSwitch.checked = enabled && remembered();
    onnxNote.textContent = note;
    onnxSwitch.closest("label").title = enabled ? "" : note;
  }

  function describeExport(number, manifest) {
    var check = manifest.check || {};
    var text = "Version " + number + ", exported to ONNX, can also run on your device.";
    if (typeof check.max_abs_diff === "number") {
      text += " At export it matched the server on " + check.n_samples + " samples to " + check.max_abs_diff.toExponential(1) + ".";
    }
    return text;
  }

  /* The switch follows the version asked: off, with the reason, when it cannot run here. */
  function updateSwitch() {
    if (!onnxSwitch) return;
    var version = targetVersion();
    var ticket = ++checking;
    if (!onnx || !onnx.available()) { setSwitch(false, "ONNX Runtime Web is not installed on this studio."); return; }
    if (!version.hasOnnx) { setSwitch(false, "Version " + version.number + " has no ONNX export."); return; }
    var manifest = version.number === panel.getAttribute("data-card-version") && cardManifest
      ? Promise.resolve(cardManifest) : onnx.manifest(filesUrl(version.number));
    manifest.then(function (spec) {
      if (ticket !== checking) return;
      if (!spec.browser || !spec.browser.supported) {
        var reason = (spec.browser && spec.browser.reason) || "this model's input cannot be prepared in a browser";
        setSwitch(false, "Not in a browser: " + reason.replace(/\.$/, "") + ".");
      } else setSwitch(true, describeExport(version.number, spec));
    }, function (error) {
      if (ticket === checking) setSwitch(false, error.message);
    });
  }

  if (onnxSwitch) {
    onnxSwitch.addEventListener("change", function () {
      try { window.localStorage.setItem(SWITCH_KEY, onnxSwitch.checked ? "on" : "off"); } catch (error) { /* private mode */ }
      if (!onnxSwitch.checked) { onnxResult.hidden = true; onnxError.hidden = true; }
    });
    target.addEventListener("change", updateSwitch);
    updateSwitch();
  }

  /* The browser's input: the row, or the picture itself (decoded here, not sent anywhere). */
  function browserInput() {
    if (form.querySelectorAll("[data-column]").length) return gatherInput().then(function (row) { return { row: row }; });
    var file = fileInput && fileInput.files[0];
    if (file) {
      return createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" }).then(
        function (bitmap) { return { image: bitmap }; },
        function () { throw new Error("This browser could not decode the picture."); }
      );
    }
    if (pad && drawn) return Promise.resolve({ image: pad });
    return Promise.reject(new Error(pad ? "Draw something, or pick a picture." : "Pick a sound, or record one."));
  }

  function runInBrowser(version) {
    return browserInput().then(function (input) {
      return onnx.predict(filesUrl(version), input, { resizes: signature.resizes !== false });
    });
  }

  function milliseconds(value) {
    return value < 10 ? value.toFixed(1) + " ms" : Math.round(value) + " ms";
  }

  function showBrowser(answer) {
    var prediction = answer.predictions[0];
    var label = panel.querySelector("[data-onnx-label]");
    var detail = panel.querySelector("[data-onnx-detail]");
    var timings = answer.timings;
    if (prediction.probabilities) {
      label.textContent = prediction.label;
      detail.textContent = "· " + (prediction.probabilities[prediction.label] * 100).toFixed(1) + " % · " + milliseconds(timings.inference_ms);
    } else {
      label.textContent = Number(prediction.value).toPrecision(5);
      detail.textContent = "· " + milliseconds(timings.inference_ms);
    }
    var parts = [answer.backend.toUpperCase() + ": inference " + milliseconds(timings.inference_ms), "preparing the input " + milliseconds(timings.preprocess_ms)];
    if (timings.session_ms !== undefined) {
      if (timings.wasm_started && timings.runtime_ms) parts.push("runtime loaded in " + milliseconds(timings.runtime_ms));
      parts.push("model " + Math.round(timings.model_bytes / 1024) + " KB fetched in " + milliseconds(timings.download_ms));
      parts.push((timings.wasm_started ? "WASM started and session created in " : "session created in ") + milliseconds(timings.session_ms));
    }
    panel.querySelector("[data-onnx-timings]").textContent = parts.join(" · ");
    onnxResult.setAttribute("data-inference-ms", timings.inference_ms.toFixed(2));
    if (timings.session_ms !== undefined) onnxResult.setAttribute("data-session-ms", timings.session_ms.toFixed(2));
    onnxError.hidden = true;
    onnxResult.hidden = false;
  }

  function showAgreement(server, browser, browserVersion) {
    var note = panel.querySelector("[data-onnx-agreement]");
    var verdict = onnx.agreement(server.predictions[0], browser.predictions[0]);
    var text = verdict.text;
    if (String(server.version) !== String(browserVersion)) {
      verdict.agree = false;
      text = "they differ: the server answered with version " + server.version + ", the browser ran version " + browserVersion;
    }
    note.textContent = text;
    note.className = "try-agreement " + (verdict.agree ? "is-agreed" : "is-different");
    note.setAttribute("data-agree", verdict.agree ? "yes" : "no");
    note.setAttribute("data-max-abs-diff", String(verdict.max_abs_diff));
    note.hidden = false;
  }

  function showBrowserError(message) {
    onnxError.textContent = "In your browser: " + message;
    onnxError.hidden = false;
    onnxResult.hidden = true;
  }

  function askServer() {
    return predictOn(panel.getAttribute("data-predict-url") + "?" + target.value)
      .then(function (body) { show(body); return body; })
      .catch(function (error) { showError(error.message); return null; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var submit = panel.querySelector("[data-try-submit]");
    submit.disabled = true;
    var inBrowser = onnxSwitch && onnxSwitch.checked && !onnxSwitch.disabled;
    var version = targetVersion().number;
    onnxError.hidden = true;
    onnxResult.hidden = true;
    panel.querySelector("[data-onnx-agreement]").hidden = true;
    // Both start at once; each shows its answer as soon as it has one.
    var browser = inBrowser
      ? runInBrowser(version).then(function (answer) { showBrowser(answer); return answer; })
        .catch(function (error) { showBrowserError(error.message || String(error)); return null; })
      : Promise.resolve(null);
    Promise.all([askServer(), browser, askCompared()])
      .then(function (answers) {
        if (answers[0] && answers[1]) showAgreement(answers[0], answers[1], version);
      })
      .finally(function () { submit.disabled = false; });
  });
})();
