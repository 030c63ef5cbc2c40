/* CanvasCraft dataset uploads: a real progress bar (no dependencies).
 *
 * Every <form data-upload-form data-max-bytes="N"> is sent with XMLHttpRequest instead of a page
 * load: the bar shows the percentage and megabytes sent (upload.onprogress), then "Checking…"
 * while the server validates the whole file. The view answers JSON to requests carrying
 * `X-Requested-With: XMLHttpRequest`: {"redirect": url} on success, {"errors": {field: [msg]}}
 * with 400 on refusal. Without this script the form posts normally and the page re-renders.
 *
 * Also: the modality radio cards set the file input's `accept` and hint; the drop zone shows the
 * chosen file's name and size; a file over the limit is refused before a byte is sent.
 */
(function () {
  "use strict";

  var MB = 1024 * 1024;

  function megabytes(bytes) {
    var value = bytes / MB;
    return (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)) + " MB";
  }

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < MB) return (bytes / 1024).toFixed(1) + " KB";
    return megabytes(bytes);
  }

  function fieldOf(form, name) {
    var input = form.querySelector('[name="' + name + '"]');
    return input ? input.closest(".field") : null;
  }

  /* ---------- errors ---------- */
  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-js-error]"), function (node) { node.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll(".field.has-error"), function (field) {
      field.classList.remove("has-error");
      Array.prototype.forEach.call(field.querySelectorAll(".errorlist"), function (list) { list.remove(); });
    });
    var banner = form.querySelector("[data-upload-refusal]");
    if (banner) banner.hidden = true;
  }

  function showErrors(form, errors) {
    clearErrors(form);
    var banner = form.querySelector("[data-upload-refusal]");
    var list = banner && banner.querySelector("[data-refusal-list]");
    if (list) list.textContent = "";
    Object.keys(errors).forEach(function (name) {
      var messages = errors[name] || [];
      var field = name === "__all__" ? null : fieldOf(form, name);
      if (field) {
        field.classList.add("has-error");
        var fieldList = document.createElement("ul");
        fieldList.className = "errorlist";
        fieldList.setAttribute("data-js-error", "");
        messages.forEach(function (message) {
          var item = document.createElement("li");
          item.textContent = message;
          fieldList.appendChild(item);
        });
        field.appendChild(fieldList);
      }
      messages.forEach(function (message) {
        if (!list) return;
        var item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
    });
    if (banner) {
      var hint = banner.querySelector(".refusal-hint");
      if (!hint) {
        hint = document.createElement("p");
        hint.className = "refusal-hint";
        hint.setAttribute("data-js-error", "");
        hint.textContent = "Nothing was stored. Fix what is marked, then upload again.";
        list.parentNode.appendChild(hint);
      }
      banner.hidden = false;
      banner.scrollIntoView({ behavior: "smooth", block: "center" });
    }
  }

  /* ---------- progress ---------- */
  function Progress(form) {
    this.root = form.querySelector("[data-upload-progress]");
    if (!this.root) return;
    this.stage = this.root.querySelector("[data-upload-stage]");
    this.percent = this.root.querySelector("[data-upload-percent]");
    this.bar = this.root.querySelector("[data-upload-bar]");
    this.fill = this.root.querySelector("[data-upload-fill]");
    this.bytes = this.root.querySelector("[data-upload-bytes]");
    this.cancel = this.root.querySelector("[data-upload-cancel]");
  }

  Progress.prototype.set = function (state, sent, total) {
    if (!this.root) return;
    this.root.hidden = false;
    this.root.setAttribute("data-state", state);
    if (state === "uploading") {
      var ratio = total ? Math.min(1, sent / total) : 0;
      var percent = Math.floor(ratio * 100);
      this.stage.textContent = "Uploading…";
      this.percent.textContent = percent + "%";
      this.fill.style.width = (ratio * 100).toFixed(1) + "%";
      this.bar.setAttribute("aria-valuenow", String(percent));
      this.bytes.textContent = megabytes(sent) + " of " + megabytes(total) + " sent";
      this.cancel.hidden = false;
    } else if (state === "validating") {
      this.stage.textContent = "Validating…";
      this.percent.textContent = "100%";
      this.fill.style.width = "100%";
      this.bar.removeAttribute("aria-valuenow"); // indeterminate while the server checks
      this.bytes.textContent = "Sent. Checking every row and file before anything is kept.";
      this.cancel.hidden = true;
    } else if (state === "done") {
      this.stage.textContent = "Accepted ✓";
      this.bytes.textContent = "Opening the preview…";
      this.cancel.hidden = true;
    }
  };

  Progress.prototype.hide = function () {
    if (this.root) this.root.hidden = true;
  };

  /* ---------- modality cards and drop zone ---------- */
  function setUpModality(form) {
    var input = form.querySelector('input[type="file"]');
    var hint = form.querySelector("[data-accept-hint]");
    Array.prototype.forEach.call(form.querySelectorAll("[data-accept]"), function (card) {
      var radio = card.querySelector('input[type="radio"]');
      if (!radio) return;
      var apply = function () {
        if (!radio.checked || !input) return;
        input.setAttribute("accept", card.getAttribute("data-accept"));
        if (hint) hint.textContent = card.getAttribute("data-formats");
      };
      radio.addEventListener("change", apply);
      apply();
    });
  }

  function setUpDropzone(form) {
    var zone = form.querySelector("[data-dropzone]");
    var input = zone && zone.querySelector('input[type="file"]');
    if (!input) return;
    var text = zone.querySelector("[data-dropzone-text]");
    var initial = text.innerHTML;
    zone.classList.add("is-enhanced");
    var show = function () {
      var file = input.files && input.files[0];
      zone.classList.toggle("has-file", !!file);
      if (!file) { text.innerHTML = initial; return; }
      text.textContent = "";
      var name = document.createElement("strong");
      name.textContent = file.name;
      text.appendChild(name);
      text.appendChild(document.createTextNode(" · " + humanSize(file.size)));
    };
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.add("is-dragging"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("is-dragging"); });
    });
    show();
  }

  /* ---------- sending ---------- */
  function setUpForm(form) {
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var submit = form.querySelector("[data-upload-submit]");
    var progress = new Progress(form);
    var request = null;

    function finish() {
      request = null;
      if (submit) submit.disabled = false;
      form.removeAttribute("aria-busy");
    }

    if (progress.cancel) {
      progress.cancel.addEventListener("click", function () {
        if (request) request.abort();
      });
    }

    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) return; // plain post
      event.preventDefault();
      if (request) return;
      var fileInput = form.querySelector('input[type="file"]');
      var file = fileInput && fileInput.files && fileInput.files[0];
      if (file && maxBytes && file.size > maxBytes) {
        showErrors(form, {
          file: [
            "This file is " + megabytes(file.size) + "; datasets are limited to " + megabytes(maxBytes) +
            ". Nothing was sent.",
          ],
        });
        return;
      }
      clearErrors(form);
      var data = new FormData(form);
      request = new XMLHttpRequest();
      request.open("POST", form.getAttribute("action") || window.location.href);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      request.setRequestHeader("Accept", "application/json");
      request.responseType = "json";
      var total = file ? file.size : 0;
      progress.set("uploading", 0, total);
      if (submit) submit.disabled = true;
      form.setAttribute("aria-busy", "true");

      request.upload.addEventListener("progress", function (progressEvent) {
        var size = progressEvent.lengthComputable ? progressEvent.total : total;
        progress.set("uploading", progressEvent.loaded, size);
      });
      request.upload.addEventListener("load", function () { progress.set("validating"); });
      request.addEventListener("load", function () {
        var body = request.response || {};
        if (request.status >= 200 && request.status < 300 && body.redirect) {
          progress.set("done");
          window.location.assign(body.redirect);
          return;
        }
        progress.hide();
        var errors = body.errors;
        if (!errors) {
          errors = {
            __all__: [request.status === 413
              ? "The file is larger than the server accepts."
              : "The server could not take this upload (HTTP " + request.status + "). Try again."],
          };
        }
        showErrors(form, errors);
        finish();
      });
      request.addEventListener("error", function () {
        progress.hide();
        showErrors(form, { __all__: ["The connection dropped before the upload finished. Try again."] });
        finish();
      });
      request.addEventListener("abort", function () {
        progress.hide();
        finish();
      });
      request.send(data);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-upload-form]"), function (form) {
      setUpModality(form);
      setUpDropzone(form);
      setUpForm(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
