/* CanvasCraft annotator: label image or audio samples one at a time (no dependencies).
 *
 * Reads <script id="annotate-data" type="application/json"> (rendered by the view with
 * json_script): {modality, samples: [{index, path, label}], classes: [name], sample_base_url,
 * save_url}. A sample's bytes are at `${sample_base_url}${index}/`, its thumbnail or spectrogram
 * at `${sample_base_url}${index}/thumbnail.png`.
 *
 * Labels live in this tab (`changes`: path -> class or null) until "Save as new version" POSTs
 * {"labels": changes, "note": "..."} as JSON with the CSRF token; the view answers
 * {"redirect": url} to the new version, or {"errors": {...}} with 400. The version being
 * annotated is never changed.
 *
 * Keys: 1-9 label with that class; typing letters starts a new class name, Enter adds it and
 * labels the sample; → next; ← or Backspace previous; s skip; 0 removes the label; Space plays or
 * pauses a clip. Keys typed in a text field are left alone.
 */
(function () {
  "use strict";

  var MAX_CLASS_LENGTH = 100;
  var SHORTCUT_CLASSES = 9;

  function start() {
    var root = document.querySelector("[data-annotator]");
    var source = document.getElementById("annotate-data");
    if (!root || !source) return;
    var data = JSON.parse(source.textContent);
    var samples = data.samples || [];
    if (!samples.length) return;
    var classes = (data.classes || []).slice();
    var changes = Object.create(null);
    var position = 0;
    var saving = false;
    var audio = null;

    var el = function (selector) { return root.querySelector(selector); };
    var media = el("[data-media]");
    var positionText = el("[data-position]");
    var pathText = el("[data-path]");
    var currentLabel = el("[data-current-label]");
    var buttons = el("[data-class-buttons]");
    var newClassForm = el("[data-new-class]");
    var newClassInput = el("[data-new-class-input]");
    var newClassError = el("[data-new-class-error]");
    var labelledCount = el("[data-labelled-count]");
    var labelledFill = el("[data-labelled-fill]");
    var saveButton = el("[data-save]");
    var changesText = el("[data-changes]");
    var saveError = el("[data-save-error]");
    var note = el("[data-note]");

    function labelOf(sample) {
      return sample.path in changes ? changes[sample.path] : sample.label;
    }

    function sampleUrl(sample, suffix) {
      return data.sample_base_url + sample.index + "/" + (suffix || "");
    }

    function changeCount() {
      return Object.keys(changes).length;
    }

    /* ---------- drawing ---------- */
    function drawMedia(sample) {
      media.textContent = "";
      audio = null;
      if (data.modality === "audio") {
        var spectrogram = document.createElement("img");
        spectrogram.className = "stage-spectrogram";
        spectrogram.alt = "Spectrogram of " + sample.path;
        spectrogram.src = sampleUrl(sample, "thumbnail.png");
        audio = document.createElement("audio");
        audio.controls = true;
        audio.preload = "auto";
        audio.src = sampleUrl(sample);
        media.appendChild(spectrogram);
        media.appendChild(audio);
      } else {
        var image = document.createElement("img");
        image.className = "stage-image";
        image.alt = sample.path;
        image.src = sampleUrl(sample);
        media.appendChild(image);
        var next = samples[position + 1];
        if (next) new Image().src = sampleUrl(next); // warm the cache for the next one
      }
    }

    function drawButtons() {
      buttons.textContent = "";
      var current = labelOf(samples[position]);
      classes.forEach(function (name, index) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "class-button swatch-" + (index % 10);
        button.setAttribute("data-class", name);
        button.setAttribute("aria-pressed", String(current === name));
        if (index < SHORTCUT_CLASSES) {
          var key = document.createElement("kbd");
          key.textContent = String(index + 1);
          button.appendChild(key);
          button.title = "Label as " + name + " (key " + (index + 1) + ")";
        } else {
          button.title = "Label as " + name;
        }
        var text = document.createElement("span");
        text.className = "class-button-name";
        text.textContent = name;
        button.appendChild(text);
        button.addEventListener("click", function () { assign(name); });
        buttons.appendChild(button);
      });
      if (!classes.length) {
        var empty = document.createElement("p");
        empty.className = "small muted mb-0";
        empty.textContent = "No classes yet: type the first one below.";
        buttons.appendChild(empty);
      }
    }

    function drawStatus() {
      var sample = samples[position];
      var label = labelOf(sample);
      positionText.textContent = "Sample " + (position + 1) + " of " + samples.length;
      pathText.textContent = sample.path;
      pathText.title = sample.path;
      currentLabel.textContent = label === null ? "Unlabelled" : label;
      currentLabel.classList.toggle("is-unlabelled", label === null);
      currentLabel.classList.toggle("is-changed", sample.path in changes);
      if (sample.path in changes) {
        currentLabel.title = "was " + (sample.label === null ? "unlabelled" : sample.label);
      } else {
        currentLabel.removeAttribute("title");
      }
      var labelled = 0;
      samples.forEach(function (one) { if (labelOf(one) !== null) labelled += 1; });
      labelledCount.textContent = String(labelled);
      labelledFill.style.width = (labelled / samples.length * 100).toFixed(1) + "%";
      var count = changeCount();
      saveButton.disabled = saving || count === 0;
      changesText.textContent = count === 0
        ? "No changes yet."
        : count + " label" + (count === 1 ? "" : "s") + " changed, not saved yet.";
      root.querySelector("[data-prev]").disabled = position === 0;
      root.querySelector("[data-next]").disabled = position === samples.length - 1;
    }

    function show(index) {
      position = Math.max(0, Math.min(samples.length - 1, index));
      drawMedia(samples[position]);
      drawButtons();
      drawStatus();
    }

    /* ---------- labelling ---------- */
    function assign(label) {
      var sample = samples[position];
      if (label === sample.label) delete changes[sample.path];
      else changes[sample.path] = label;
      if (position < samples.length - 1) {
        show(position + 1);
      } else {
        drawButtons();
        drawStatus();
        changesText.textContent = "That was the last sample. " + changesText.textContent;
      }
    }

    function addClass(raw) {
      var name = raw.trim();
      var problem = "";
      if (!name) problem = "Type a class name first.";
      else if (name.length > MAX_CLASS_LENGTH) problem = "A class name is at most 100 characters.";
      else if (/[\/\\]/.test(name)) problem = "A class name cannot contain slashes.";
      newClassError.hidden = !problem;
      newClassError.textContent = problem;
      if (problem) return false;
      if (classes.indexOf(name) === -1) classes.push(name);
      assign(name);
      return true;
    }

    newClassForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (addClass(newClassInput.value)) {
        newClassInput.value = "";
        newClassInput.blur();
      }
    });

    newClassInput.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        newClassInput.value = "";
        newClassError.hidden = true;
        newClassInput.blur();
      }
    });

    /* ---------- keyboard ---------- */
    function typing(target) {
      var tag = target && target.tagName;
      return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
    }

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (typing(event.target)) return;
      var key = event.key;
      if (/^[1-9]$/.test(key)) {
        var name = classes[parseInt(key, 10) - 1];
        if (name !== undefined) assign(name);
      } else if (key === "0" || key === "Delete") {
        assign(null);
      } else if (key === "ArrowRight") {
        show(position + 1);
      } else if (key === "ArrowLeft" || key === "Backspace") {
        show(position - 1);
      } else if (key === "s" || key === "S") {
        show(position + 1);
      } else if (key === " " && audio) {
        if (audio.paused) audio.play(); else audio.pause();
      } else if (key.length === 1 && /\S/.test(key)) {
        // Any other character starts a new class name.
        newClassInput.focus();
        newClassInput.value = key;
      } else {
        return;
      }
      event.preventDefault();
    });

    root.querySelector("[data-prev]").addEventListener("click", function () { show(position - 1); });
    root.querySelector("[data-next]").addEventListener("click", function () { show(position + 1); });
    root.querySelector("[data-skip]").addEventListener("click", function () { show(position + 1); });
    root.querySelector("[data-clear]").addEventListener("click", function () { assign(null); });

    /* ---------- saving ---------- */
    function showSaveErrors(errors) {
      saveError.textContent = "";
      var title = document.createElement("strong");
      title.textContent = "Not saved. ";
      saveError.appendChild(title);
      Object.keys(errors).forEach(function (field) {
        (errors[field] || []).forEach(function (message) {
          saveError.appendChild(document.createTextNode(message + " "));
        });
      });
      saveError.hidden = false;
    }

    saveButton.addEventListener("click", function () {
      if (saving || !changeCount()) return;
      saving = true;
      saveButton.disabled = true;
      saveButton.textContent = "Saving…";
      saveError.hidden = true;
      fetch(data.save_url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": root.getAttribute("data-csrf"),
          "X-Requested-With": "XMLHttpRequest",
        },
        body: JSON.stringify({ labels: changes, note: note.value }),
      })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            return { ok: response.ok, status: response.status, body: body };
          });
        })
        .then(function (result) {
          if (result.ok && result.body.redirect) {
            changes = Object.create(null); // saved: leaving is safe now
            window.location.assign(result.body.redirect);
            return;
          }
          throw result.body.errors || { __all__: ["The server answered HTTP " + result.status + "."] };
        })
        .catch(function (errors) {
          saving = false;
          saveButton.textContent = "Save as new version";
          showSaveErrors(errors instanceof Error ? { __all__: ["The connection dropped. Try again."] } : errors);
          drawStatus();
        });
    });

    window.addEventListener("beforeunload", function (event) {
      if (!changeCount()) return;
      event.preventDefault();
      event.returnValue = "";
    });

    show(0);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
