/* CanvasCraft studio: the run page's "Sample predictions" panel, kept fresh (no dependencies).
 *
 * The page renders the run's newest sample; the live client dispatches every message of the run's
 * stream as a `canvascraft:live` event on the document, and each `sample` message (see
 * docs/live.md) replaces the panel's epoch, picture, clip and items. Messages older than the
 * shown sample (by stream sequence) are ignored, so a late snapshot never rolls the panel back.
 */
(function () {
  "use strict";

  var panel = document.querySelector("[data-live-sample]");
  if (!panel) return;
  var shownSeq = Number(panel.getAttribute("data-sample-seq")) || 0;

  function part(name) { return panel.querySelector("[data-sample-" + name + "]"); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function number(value) {
    if (typeof value !== "number" || !isFinite(value)) return "—";
    return String(Math.round(value * 1000) / 1000);
  }

  function itemNode(item) {
    var classification = Object.prototype.hasOwnProperty.call(item, "label");
    var node = el("li", "sample-item" + (item.correct === true ? " is-right" : item.correct === false ? " is-wrong" : ""));
    var truth = el("span", "sample-truth", classification ? item.label : number(item.value));
    var predicted = el("span", "sample-predicted", classification ? item.predicted : number(item.predicted));
    truth.title = classification ? "true: " + item.label : "true value";
    predicted.title = classification ? "predicted: " + item.predicted : "predicted value";
    var arrow = el("span", "sample-arrow", "→");
    arrow.setAttribute("aria-label", "predicted");
    node.appendChild(truth);
    node.appendChild(arrow);
    node.appendChild(predicted);
    if (classification && typeof item.confidence === "number") {
      node.appendChild(el("span", "sample-confidence", Math.round(item.confidence * 100) + "%"));
    } else if (!classification && typeof item.error === "number") {
      var error = el("span", "sample-confidence", number(item.error));
      error.title = "error: predicted − true";
      node.appendChild(error);
    }
    return node;
  }

  function show(node, url) {
    if (url) {
      node.setAttribute("src", url);
      node.hidden = false;
    } else {
      node.removeAttribute("src");
      node.hidden = true;
    }
  }

  function render(sample) {
    var items = Array.isArray(sample.items) ? sample.items : [];
    part("epoch").textContent = "epoch " + sample.epoch;
    var verdicts = items.filter(function (item) { return typeof item.correct === "boolean"; });
    var score = part("score");
    score.hidden = verdicts.length === 0;
    score.textContent = verdicts.filter(function (item) { return item.correct; }).length + " of " + items.length + " right";
    var picture = part("picture");
    show(picture, sample.url);
    picture.alt = (sample.kind === "audio" ? "Spectrograms" : "Pictures") + " of the sample examples at epoch " + sample.epoch;
    var audio = part("audio");
    // The clip is the same example every epoch: a playing clip is not cut off by a new sample.
    if (!sample.audio_url || !audio.getAttribute("src") || audio.paused) show(audio, sample.audio_url);
    var body = picture.parentNode;
    body.style.setProperty("--sample-columns", String(sample.columns || 5));
    var list = part("items");
    list.classList.toggle("is-table", !sample.url);
    list.replaceChildren.apply(list, items.map(itemNode));
    panel.hidden = false;
  }

  document.addEventListener("canvascraft:live", function (event) {
    var message = event.detail;
    if (!message || message.type !== "sample") return;
    var seq = Number(message.seq) || 0;
    if (seq && seq < shownSeq) return;
    shownSeq = Math.max(shownSeq, seq);
    render(message);
  });
})();
