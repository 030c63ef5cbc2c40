/* The model page's "try it" panel: gathers one input (a table row, a drawing or picture, a
   sound), posts it to the predict API with the page's session, and shows the top classes with
   their probabilities (or the predicted value) and the version that answered. */
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
        if (type === "boolean") row[field.getAttribute("data-column")] = field.value === "true";
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
  function show(body) {
    var prediction = body.predictions[0];
    var label = panel.querySelector("[data-try-label]");
    var bars = panel.querySelector("[data-try-bars]");
    bars.textContent = "";
    panel.querySelector("[data-try-version]").textContent = "answered by version " + body.version + (body.alias ? " (" + body.alias + ")" : "");
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
    errorBox.hidden = true;
    resultBox.hidden = false;
  }

  function errorMessage(body) {
    if (body && body.errors) {
      return Object.keys(body.errors).map(function (key) { return key + ": " + body.errors[key].join(" "); }).join("; ");
    }
    return (body && body.detail) || "The prediction failed.";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var submit = panel.querySelector("[data-try-submit]");
    submit.disabled = true;
    gatherInput()
      .then(function (input) {
        var target = panel.querySelector("[data-try-target]").value;
        return fetch(panel.getAttribute("data-predict-url") + "?" + target, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ inputs: [input] }),
        });
      })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(errorMessage(body));
          show(body);
        });
      })
      .catch(function (error) { showError(error.message); })
      .finally(function () { submit.disabled = false; });
  });
})();
