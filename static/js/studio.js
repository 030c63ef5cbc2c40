/* CanvasCraft studio: small page behaviours (no dependencies).
 *
 * - toasts: dismiss buttons, auto-hide for calm messages (paused while hovered or focused)
 * - copy buttons: [data-copy-target="<element id>"]
 * - experiment page: run selection for "Compare selected" (count, select all, 2..10 runs)
 * - compare page: "only differences" switch, best last value per metric row
 * - forms with [data-confirm] ask before submitting
 * Every behaviour is an enhancement: the pages work without JavaScript.
 */
(function () {
  "use strict";

  var MAX_COMPARE = 10;
  // Metrics where a smaller number is better; everything else is "higher wins".
  var LOWER_IS_BETTER = /(loss|err|error|mse|mae|rmse|perplexity|ppl|fid|wer|cer|latency|duration|time)/i;
  // Settings logged as metrics (a schedule, a counter) have no "best".
  var NO_BEST = /(^|[_.\/ -])(lr|learning_rate|epoch|step|momentum)s?$/i;

  function each(selector, root, callback) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), callback);
  }

  /* ---------- toasts ---------- */
  function dismissToast(toast) {
    if (toast.classList.contains("is-leaving")) return;
    toast.classList.add("is-leaving");
    var remove = function () {
      var list = toast.parentNode;
      toast.remove();
      if (list && !list.children.length) list.remove();
    };
    toast.addEventListener("animationend", remove);
    window.setTimeout(remove, 400); // in case animations are disabled
  }

  function setUpToasts() {
    each("[data-toast]", document, function (toast) {
      var button = toast.querySelector("[data-dismiss]");
      if (button) button.addEventListener("click", function () { dismissToast(toast); });
      var delay = parseInt(toast.getAttribute("data-autohide"), 10);
      if (!delay) return;
      var timer = null;
      var start = function () { timer = window.setTimeout(function () { dismissToast(toast); }, delay); };
      var stop = function () { window.clearTimeout(timer); };
      toast.addEventListener("mouseenter", stop);
      toast.addEventListener("mouseleave", start);
      toast.addEventListener("focusin", stop);
      toast.addEventListener("focusout", start);
      start();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      each("[data-toast]", document, dismissToast);
    });
  }

  /* ---------- copy buttons ---------- */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
      area.remove();
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function setUpCopyButtons() {
    each("[data-copy-target]", document, function (button) {
      var label = button.textContent;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy-target"));
        if (!target) return;
        copyText(target.textContent.trim()).then(function () {
          button.textContent = "Copied ✓";
          button.classList.add("is-copied");
        }, function () {
          // Clipboard refused (e.g. plain http): select the text so Ctrl+C works.
          var range = document.createRange();
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          button.textContent = "Press Ctrl+C";
        });
        window.setTimeout(function () {
          button.textContent = label;
          button.classList.remove("is-copied");
        }, 2200);
      });
    });
  }

  /* ---------- compare selection (experiment page) ---------- */
  function setUpCompareForm() {
    each("[data-compare-form]", document, function (form) {
      var boxes = form.querySelectorAll("[data-run-check]");
      var selectAll = form.querySelector("[data-select-all]");
      var button = form.querySelector("[data-compare-button]");
      var counter = form.querySelector("[data-selected-count]");
      var initialText = counter ? counter.textContent.trim() : "";

      function update() {
        var picked = 0;
        Array.prototype.forEach.call(boxes, function (box) {
          if (box.checked) picked += 1;
          var row = box.closest("tr");
          if (row) row.classList.toggle("is-selected", box.checked);
        });
        if (button) {
          var ready = picked >= 2 && picked <= MAX_COMPARE;
          button.disabled = !ready;
          button.title = ready ? "" : "Tick between 2 and " + MAX_COMPARE + " runs";
        }
        if (counter) {
          if (picked === 0) counter.textContent = initialText;
          else if (picked > MAX_COMPARE) counter.textContent = picked + " selected: compare at most " + MAX_COMPARE + " at once.";
          else counter.textContent = picked + " selected" + (picked < 2 ? ": tick one more to compare." : ".");
        }
        if (selectAll) {
          selectAll.checked = picked > 0 && picked === boxes.length;
          selectAll.indeterminate = picked > 0 && picked < boxes.length;
        }
      }

      Array.prototype.forEach.call(boxes, function (box) { box.addEventListener("change", update); });
      if (selectAll) {
        selectAll.hidden = false;
        selectAll.addEventListener("change", function () {
          Array.prototype.forEach.call(boxes, function (box) { box.checked = selectAll.checked; });
          update();
        });
      }
      update();
    });
  }

  /* ---------- compare page ---------- */
  function setUpDiffToggle() {
    each("[data-diff-toggle]", document, function (toggle) {
      var table = document.getElementById(toggle.getAttribute("aria-controls"));
      var label = toggle.closest("[data-diff-toggle-label]");
      if (!table) return;
      var differing = table.querySelectorAll("tbody tr.differs").length;
      var total = table.querySelectorAll("tbody tr").length;
      if (label) {
        label.hidden = false;
        label.appendChild(document.createTextNode(" (" + differing + " of " + total + ")"));
      }
      toggle.addEventListener("change", function () {
        table.classList.toggle("only-diff", toggle.checked);
      });
    });
  }

  function markBestValues() {
    each("[data-best-table] tbody tr", document, function (row) {
      var cells = row.querySelectorAll("[data-value]");
      if (cells.length < 2) return;
      var key = row.getAttribute("data-metric-key") || "";
      if (NO_BEST.test(key)) return;
      var lower = LOWER_IS_BETTER.test(key);
      var best = null;
      Array.prototype.forEach.call(cells, function (cell) {
        var value = parseFloat(cell.getAttribute("data-value"));
        if (!isFinite(value)) return;
        if (best === null || (lower ? value < best : value > best)) best = value;
      });
      if (best === null) return;
      Array.prototype.forEach.call(cells, function (cell) {
        if (parseFloat(cell.getAttribute("data-value")) === best) {
          cell.classList.add("value-best");
          cell.setAttribute("aria-label", cell.textContent.trim() + " (best)");
        }
      });
    });
  }

  /* ---------- confirmations ---------- */
  function setUpConfirmations() {
    each("form[data-confirm]", document, function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function start() {
    setUpToasts();
    setUpCopyButtons();
    setUpCompareForm();
    setUpDiffToggle();
    markBestValues();
    setUpConfirmations();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
