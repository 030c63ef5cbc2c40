/* CanvasCraft studio: the training pages (no dependencies).
 *
 * - "New training" / "Remix" form: template cards filtered by the dataset's kind and the task,
 *   hyper-parameter inputs generated from the template's JSON Schema (with "reset to defaults"),
 *   the brushes editor (add, remove, reorder, settings from each brush's schema), a live recipe
 *   and config preview; on submit the whole request goes into the hidden `config` field.
 * The form still works without JavaScript (the studio's defaults fill params and brushes).
 * (The run page follows a training through its websocket stream: see run_page.js.)
 */
(function () {
  "use strict";

  /* ---------- small helpers ---------- */
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      var value = attributes[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clone(value) { return value === undefined ? undefined : JSON.parse(JSON.stringify(value)); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function each(selector, root, callback) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), callback);
  }

  /* ---------- JSON Schema -> inputs ---------- */
  function typesOf(spec) {
    if (Array.isArray(spec.type)) return spec.type;
    return spec.type ? [spec.type] : [];
  }

  function kindOf(spec) {
    var types = typesOf(spec);
    if (spec.enum) return "enum";
    if (spec.anyOf || types.indexOf("string") >= 0) return "mixed";
    if (types.indexOf("boolean") >= 0) return "boolean";
    if (types.indexOf("array") >= 0) return "list";
    if (types.indexOf("integer") >= 0) return "integer";
    if (types.indexOf("number") >= 0) return "number";
    return "mixed";
  }

  function isNullable(spec) { return typesOf(spec).indexOf("null") >= 0; }

  function boundsText(spec) {
    var low = spec.minimum !== undefined ? "≥ " + spec.minimum : spec.exclusiveMinimum !== undefined ? "> " + spec.exclusiveMinimum : "";
    var high = spec.maximum !== undefined ? "≤ " + spec.maximum : spec.exclusiveMaximum !== undefined ? "< " + spec.exclusiveMaximum : "";
    if (spec.minimum !== undefined && spec.maximum !== undefined) return spec.minimum + " – " + spec.maximum;
    return [low, high].filter(Boolean).join(", ");
  }

  function shownValue(kind, value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.join(", ");
    return String(value);
  }

  function parseScalar(text, itemType) {
    if (itemType === "string") return text;
    var number = Number(text);
    return text !== "" && !isNaN(number) ? number : text;
  }

  function readInput(input) {
    var spec = input._spec;
    var kind = input._kind;
    var raw = input.value.trim();
    if (kind === "boolean") return input.checked;
    if (kind === "enum") return JSON.parse(input.value);
    if (raw === "") return null;
    if (kind === "integer" || kind === "number") return parseScalar(raw, kind);
    if (kind === "list") {
      var itemType = (spec.items && spec.items.type) || "number";
      return raw.split(",").map(function (part) { return part.trim(); })
        .filter(Boolean).map(function (part) { return parseScalar(part, itemType); });
    }
    return parseScalar(raw, "mixed");
  }

  function fieldHelp(spec, kind) {
    var parts = [spec.description || ""];
    var bounds = kind === "list" && spec.items ? boundsText(spec.items) : boundsText(spec);
    if (bounds && kind !== "enum" && kind !== "boolean") parts.push(kind === "list" ? "each " + bounds : bounds);
    if (kind === "list") parts.push("comma-separated");
    if (isNullable(spec) && kind !== "enum") parts.push("blank: " + (spec.default === null ? "automatic" : "none"));
    return parts.filter(Boolean).join(" · ");
  }

  function buildInput(id, spec, kind, value) {
    var input;
    if (kind === "enum") {
      input = el("select", { id: id });
      spec.enum.forEach(function (option) {
        input.appendChild(el("option", { value: JSON.stringify(option), selected: same(option, value), text: String(option) }));
      });
    } else if (kind === "boolean") {
      input = el("input", { id: id, type: "checkbox", checked: value === true });
    } else if (kind === "integer" || kind === "number") {
      input = el("input", {
        id: id, type: "number", inputmode: kind === "integer" ? "numeric" : "decimal",
        step: kind === "integer" ? "1" : "any",
        min: spec.minimum !== undefined ? spec.minimum : spec.exclusiveMinimum,
        max: spec.maximum !== undefined ? spec.maximum : spec.exclusiveMaximum,
        placeholder: value === null && isNullable(spec) ? "automatic" : null,
        value: shownValue(kind, value),
      });
    } else {
      input = el("input", { id: id, type: "text", value: shownValue(kind, value), placeholder: isNullable(spec) ? "automatic" : null, spellcheck: "false" });
      if (spec.anyOf) {
        var options = [];
        spec.anyOf.forEach(function (option) { if (option.enum) options = options.concat(option.enum); });
        if (options.length) {
          input.setAttribute("list", id + "-options");
          input._datalist = el("datalist", { id: id + "-options" }, options.map(function (option) { return el("option", { value: String(option) }); }));
        }
      }
    }
    input._spec = spec;
    input._kind = kind;
    return input;
  }

  /* One input for one schema property, with its description, bounds, "changed" dot and error. */
  function buildField(idPrefix, name, spec, value, error) {
    var kind = kindOf(spec);
    var id = idPrefix + name;
    var input = buildInput(id, spec, kind, value);
    input.setAttribute("data-param", name);
    var helpId = id + "-help";
    input.setAttribute("aria-describedby", helpId);
    var wrap = el("div", { class: "field param-field param-" + kind + (error ? " has-error" : "") });
    if (kind === "boolean") {
      wrap.appendChild(el("label", { class: "switch param-switch" }, [input, el("span", { class: "param-name", text: name })]));
    } else {
      wrap.appendChild(el("label", { for: id }, [el("span", { class: "param-name", text: name })]));
      wrap.appendChild(input);
      if (input._datalist) wrap.appendChild(input._datalist);
    }
    wrap.appendChild(el("div", { class: "help", id: helpId, text: fieldHelp(spec, kind) }));
    if (error) {
      input.setAttribute("aria-invalid", "true");
      wrap.appendChild(el("ul", { class: "errorlist" }, [el("li", { text: error })]));
    }
    markChanged(wrap, input);
    return wrap;
  }

  function markChanged(wrap, input) {
    var changed = false;
    try { changed = !same(readInput(input), input._spec.default); } catch (error) { changed = true; }
    wrap.classList.toggle("is-changed", changed);
  }

  function readFields(container) {
    var values = {};
    each("[data-param]", container, function (input) { values[input.getAttribute("data-param")] = readInput(input); });
    return values;
  }

  function defaultsOf(schema) {
    var values = {};
    Object.keys((schema && schema.properties) || {}).forEach(function (name) {
      values[name] = clone(schema.properties[name].default);
    });
    return values;
  }

  /* ---------- the training form ---------- */
  function setUpTrainingForm(form) {
    var dataNode = document.getElementById("training-data");
    if (!dataNode) return;
    var data = JSON.parse(dataNode.textContent);
    var templates = {};
    data.templates.forEach(function (template) { templates[template.name] = template; });
    var brushes = {};
    data.brushes.forEach(function (brush) { brushes[brush.name] = brush; });
    var elements = form.elements;
    var hooks = {};
    ["params", "brushes", "brushes-empty", "brush-error", "brush-add-select", "brush-add", "brush-add-help",
      "version-info", "target-field", "new-experiment", "no-template", "params-template", "params-reset",
      "config", "config-preview", "train-submit", "recipe-dataset", "recipe-learns", "recipe-template",
      "recipe-brushes", "recipe-device"].forEach(function (name) {
      hooks[name] = form.querySelector("[data-" + name + "]");
    });

    var errors = data.errors || { params: {}, brushes: null };
    var state = {
      template: checkedValue("template"),
      paramsByTemplate: {},
      brushes: data.editor.brushes ? clone(data.editor.brushes) : null,
      modality: null,
      openBrushes: {},
    };
    if (state.template && data.editor.params) state.paramsByTemplate[state.template] = clone(data.editor.params);

    function checkedValue(name) {
      var checked = form.querySelector("input[name='" + name + "']:checked");
      return checked ? checked.value : "";
    }
    function version() { return data.versions[elements.dataset_version.value] || null; }
    function task() { return checkedValue("task") || "classification"; }

    /* --- name suggestions --- */
    var nameInput = elements.name;
    function suggestedName() {
      var current = version();
      if (!current || !state.template) return "";
      return (current.dataset + "-" + state.template).replace(/ /g, "-").toLowerCase();
    }
    var nameIsAuto = nameInput.value === "" || nameInput.value === suggestedName();
    nameInput.addEventListener("input", function () { nameIsAuto = nameInput.value === ""; });
    function refreshName() { if (nameIsAuto) nameInput.value = suggestedName(); }

    /* --- experiment --- */
    function refreshExperiment() {
      hooks["new-experiment"].hidden = elements.experiment.value !== "new";
    }
    elements.experiment.addEventListener("change", function () {
      refreshExperiment();
      if (!hooks["new-experiment"].hidden) elements.new_experiment.focus();
    });

    /* --- dataset, target, task --- */
    function refreshTarget() {
      var current = version();
      var isTable = current && current.modality === "tabular";
      hooks["target-field"].hidden = !isTable;
      var select = elements.target;
      if (!isTable) return;
      var previous = select.value;
      var names = current.columns.map(function (column) { return column.name; });
      select.textContent = "";
      select.appendChild(el("option", { value: "", text: "—" }));
      current.columns.forEach(function (column) {
        select.appendChild(el("option", { value: column.name, text: column.name + (column.type ? "  ·  " + column.type : "") }));
      });
      select.value = names.indexOf(previous) >= 0 ? previous : (names[names.length - 1] || "");
    }

    function refreshVersionInfo() {
      var current = version();
      var info = hooks["version-info"];
      if (!current) { info.textContent = ""; return; }
      var unit = current.modality === "tabular" ? "rows" : "samples";
      var parts = [current.modality, current.n_samples.toLocaleString() + " " + unit];
      if (current.modality === "tabular") parts.push(current.columns.length + " columns");
      else parts.push(current.classes.length + " classes" + (current.classes.length ? ": " + current.classes.slice(0, 6).join(", ") + (current.classes.length > 6 ? "…" : "") : ""));
      info.textContent = parts.join(" · ");
    }

    function refreshTasks() {
      var current = version();
      var tableOnly = !current || current.modality !== "tabular";
      each("[data-task-option='regression'] input", form, function (input) {
        input.disabled = tableOnly;
        if (tableOnly && input.checked) form.querySelector("[data-task-option='classification'] input").checked = true;
      });
      each("[data-task-option='regression']", form, function (label) { label.classList.toggle("is-disabled", tableOnly); });
    }

    function suggestTaskFromTarget() {
      var current = version();
      if (!current || current.modality !== "tabular") return;
      var column = current.columns.filter(function (item) { return item.name === elements.target.value; })[0];
      if (!column) return;
      var wanted = column.type === "float" ? "regression" : "classification";
      var radio = form.querySelector("[data-task-option='" + wanted + "'] input");
      if (radio && !radio.disabled) radio.checked = true;
    }

    /* --- templates --- */
    function refreshTemplates() {
      var current = version();
      var modality = current ? current.modality : null;
      var visible = [];
      each("[data-template]", form, function (card) {
        var fits = !modality || (card.getAttribute("data-modalities").split(" ").indexOf(modality) >= 0 &&
          card.getAttribute("data-tasks").split(" ").indexOf(task()) >= 0);
        card.hidden = !fits;
        var badge = card.querySelector("[data-recommended]");
        badge.hidden = !(modality && data.recommended[modality] === card.getAttribute("data-template"));
        card.classList.toggle("is-recommended", !badge.hidden);
        if (fits) visible.push(card.getAttribute("data-template"));
      });
      hooks["no-template"].hidden = visible.length > 0;
      if (visible.indexOf(state.template) < 0) {
        var recommended = modality ? data.recommended[modality] : null;
        selectTemplate(visible.indexOf(recommended) >= 0 ? recommended : visible[0] || "");
      }
    }

    function selectTemplate(name) {
      rememberParams();
      if (name !== state.template) errors.params = {};
      state.template = name;
      each("input[name='template']", form, function (input) { input.checked = input.value === name; });
      renderParams();
    }

    /* --- params --- */
    function rememberParams() {
      if (state.template && hooks.params.childElementCount) state.paramsByTemplate[state.template] = readFields(hooks.params);
    }

    function renderParams() {
      var container = hooks.params;
      container.textContent = "";
      var template = templates[state.template];
      hooks["params-template"].textContent = template ? "of " + template.name : "";
      hooks["params-reset"].hidden = !template;
      if (!template) return;
      var schema = template.param_schema;
      var values = Object.assign(defaultsOf(schema), state.paramsByTemplate[state.template] || {});
      Object.keys(schema.properties).forEach(function (name) {
        container.appendChild(buildField("param-", name, schema.properties[name], values[name], errors.params[name]));
      });
      var unknown = Object.keys(errors.params).filter(function (name) { return !schema.properties[name]; });
      unknown.forEach(function (name) {
        container.appendChild(el("p", { class: "field-error" }, [name + ": " + errors.params[name]]));
      });
    }

    hooks["params-reset"].addEventListener("click", function () {
      delete state.paramsByTemplate[state.template];
      errors.params = {};
      renderParams();
      assemble();
    });

    /* --- brushes --- */
    function readBrushes() {
      if (!state.brushes) return;
      each("[data-brush-index]", hooks.brushes, function (item) {
        var index = Number(item.getAttribute("data-brush-index"));
        state.brushes[index].params = readFields(item);
        state.openBrushes[index] = item.querySelector("details").open;
      });
    }

    function brushSummary(brush, params) {
      var schema = brush.config_schema.properties;
      var changed = Object.keys(params).filter(function (name) { return schema[name] && !same(params[name], schema[name].default); });
      if (!changed.length) return "defaults";
      return changed.slice(0, 3).map(function (name) { return name + " " + shownValue("", params[name]); }).join(" · ") + (changed.length > 3 ? " …" : "");
    }

    function toolButton(label, text, action, index, disabled) {
      return el("button", { type: "button", class: "icon-button", "aria-label": label, title: label, "data-brush-action": action, "data-index": index, disabled: disabled, text: text });
    }

    function renderBrushes(focus) {
      var list = hooks.brushes;
      list.textContent = "";
      var chain = state.brushes || [];
      chain.forEach(function (item, index) {
        var brush = brushes[item.name];
        var params = Object.assign(brush ? defaultsOf(brush.config_schema) : {}, item.params || {});
        var settings = el("div", { class: "param-grid param-grid-compact" });
        if (brush) {
          Object.keys(brush.config_schema.properties).forEach(function (name) {
            settings.appendChild(buildField("brush-" + index + "-", name, brush.config_schema.properties[name], params[name], null));
          });
        }
        var details = el("details", { class: "brush-settings", open: !!state.openBrushes[index] }, [
          el("summary", {}, ["Settings ", el("span", { class: "muted", "data-brush-summary": true, text: brush ? "· " + brushSummary(brush, params) : "" })]),
          settings,
        ]);
        var head = el("div", { class: "brush-head" }, [
          el("strong", { class: "brush-name", text: item.name }),
          brush && brush.training_only ? el("span", { class: "badge badge-plain badge-training-only", text: "training only" }) : null,
        ]);
        list.appendChild(el("li", { class: "brush-item", "data-brush-index": index }, [
          el("span", { class: "brush-step", "aria-hidden": "true", text: String(index + 1) }),
          el("div", { class: "brush-main" }, [head, el("p", { class: "brush-desc", text: brush ? brush.description : "Unknown brush." }), details]),
          el("div", { class: "brush-tools" }, [
            toolButton("Move " + item.name + " up", "↑", "up", index, index === 0),
            toolButton("Move " + item.name + " down", "↓", "down", index, index === chain.length - 1),
            toolButton("Remove " + item.name, "×", "remove", index, false),
          ]),
        ]));
      });
      hooks["brushes-empty"].hidden = chain.length > 0;
      if (focus) {
        var target = list.querySelector("[data-brush-action='" + focus.action + "'][data-index='" + focus.index + "']");
        if (target && !target.disabled) target.focus();
        else if (list.querySelector("button:not([disabled])")) list.querySelector("button:not([disabled])").focus();
      }
    }

    function refreshBrushChoices() {
      var select = hooks["brush-add-select"];
      select.textContent = "";
      data.brushes.filter(function (brush) { return brush.modality === state.modality; }).forEach(function (brush) {
        select.appendChild(el("option", { value: brush.name, text: brush.name + (brush.training_only ? " (training only)" : "") }));
      });
      refreshBrushHelp();
    }

    function refreshBrushHelp() {
      var brush = brushes[hooks["brush-add-select"].value];
      hooks["brush-add-help"].textContent = brush ? brush.description : "";
    }

    hooks["brush-add-select"].addEventListener("change", refreshBrushHelp);
    hooks["brush-add"].addEventListener("click", function () {
      var name = hooks["brush-add-select"].value;
      if (!brushes[name]) return;
      readBrushes();
      state.brushes = state.brushes || [];
      state.brushes.push({ name: name, params: defaultsOf(brushes[name].config_schema) });
      state.openBrushes[state.brushes.length - 1] = true;
      renderBrushes();
      assemble();
    });

    hooks.brushes.addEventListener("click", function (event) {
      var button = event.target.closest("[data-brush-action]");
      if (!button) return;
      readBrushes();
      var index = Number(button.getAttribute("data-index"));
      var action = button.getAttribute("data-brush-action");
      var swap = action === "up" ? index - 1 : action === "down" ? index + 1 : null;
      if (action === "remove") {
        state.brushes.splice(index, 1);
        var open = {};
        Object.keys(state.openBrushes).forEach(function (key) {
          var position = Number(key);
          if (position !== index) open[position > index ? position - 1 : position] = state.openBrushes[key];
        });
        state.openBrushes = open;
      } else if (swap !== null && swap >= 0 && swap < state.brushes.length) {
        var moved = state.brushes[index];
        state.brushes[index] = state.brushes[swap];
        state.brushes[swap] = moved;
        var openHere = state.openBrushes[index];
        state.openBrushes[index] = state.openBrushes[swap];
        state.openBrushes[swap] = openHere;
      }
      hideBrushError();
      renderBrushes(swap !== null ? { action: action, index: swap } : { action: "remove", index: Math.min(index, state.brushes.length - 1) });
      assemble();
    });

    function hideBrushError() { hooks["brush-error"].hidden = true; }
    if (errors.brushes) {
      hooks["brush-error"].textContent = errors.brushes;
      hooks["brush-error"].hidden = false;
    }

    /* --- recipe, config preview, hidden field --- */
    function assemble() {
      readBrushes();
      var current = version();
      var config = {
        dataset_version: current ? Number(elements.dataset_version.value) : null,
        task: task(),
        template: state.template,
        brushes: state.brushes || [],
        params: templates[state.template] ? readFields(hooks.params) : {},
        device: checkedValue("device") || "auto",
        seed: Number(elements.seed.value || 0),
        validation_fraction: Number(elements.validation_fraction.value),
        test_fraction: Number(elements.test_fraction.value),
      };
      if (current && current.modality === "tabular") config.target = elements.target.value || null;
      if (elements.timeout_s.value !== "") config.timeout_s = Number(elements.timeout_s.value);
      hooks.config.value = JSON.stringify(config);
      hooks["config-preview"].textContent = JSON.stringify(config, null, 2);
      refreshRecipe(config, current);
      return config;
    }

    function refreshRecipe(config, current) {
      hooks["recipe-dataset"].textContent = current ? current.dataset + " · v" + current.number : "—";
      var learns = "—";
      if (current && current.modality === "tabular") learns = (config.target || "—") + " (" + config.task + ")";
      else if (current) learns = current.classes.length + " classes (" + config.task + ")";
      hooks["recipe-learns"].textContent = learns;
      hooks["recipe-template"].textContent = config.template || "—";
      var chain = hooks["recipe-brushes"];
      chain.textContent = "";
      if (!config.brushes.length) chain.textContent = "studio defaults";
      config.brushes.forEach(function (brush, index) {
        if (index) chain.appendChild(el("span", { class: "chain-arrow", "aria-hidden": "true", text: "→" }));
        chain.appendChild(el("span", { class: "chain-chip", text: brush.name }));
      });
      hooks["recipe-device"].textContent = config.device === "auto" ? "auto" : config.device.toUpperCase();
    }

    /* --- wiring --- */
    function onVersionChange() {
      var current = version();
      var modality = current ? current.modality : null;
      if (modality !== state.modality) {
        state.modality = modality;
        state.brushes = current ? clone(current.default_brushes) : [];
        state.openBrushes = {};
        refreshBrushChoices();
        renderBrushes();
      }
      refreshVersionInfo();
      refreshTarget();
      refreshTasks();
      refreshTemplates();
      refreshName();
    }

    elements.dataset_version.addEventListener("change", function () {
      onVersionChange();
      suggestTaskFromTarget();
      refreshTemplates();
      assemble();
    });
    elements.target.addEventListener("change", function () { suggestTaskFromTarget(); refreshTemplates(); });
    form.addEventListener("change", function (event) {
      var input = event.target;
      if (input.name === "task") refreshTemplates();
      if (input.name === "template") { selectTemplate(input.value); refreshName(); }
      assemble();
    });
    form.addEventListener("input", function (event) {
      var input = event.target;
      var wrap = input.closest(".param-field");
      if (wrap) {
        if (hooks.params.contains(wrap)) delete errors.params[input.getAttribute("data-param")];
        wrap.classList.remove("has-error");
        input.removeAttribute("aria-invalid");
        var list = wrap.querySelector(".errorlist");
        if (list) list.remove();
        markChanged(wrap, input);
      }
      assemble();
      var item = input.closest("[data-brush-index]");
      if (item) {
        var chosen = state.brushes[Number(item.getAttribute("data-brush-index"))];
        item.querySelector("[data-brush-summary]").textContent = "· " + brushSummary(brushes[chosen.name], chosen.params);
      }
    });
    form.addEventListener("submit", function () {
      assemble();
      var button = hooks["train-submit"];
      // Disabled after this event, so the browser still sends the form once.
      window.setTimeout(function () { button.disabled = true; button.classList.add("is-busy"); }, 0);
    });

    // First paint: the version's own modality, the posted or stored brushes kept.
    var initial = version();
    state.modality = initial ? initial.modality : null;
    if (!state.brushes) state.brushes = initial ? clone(initial.default_brushes) : [];
    refreshExperiment();
    refreshBrushChoices();
    refreshVersionInfo();
    refreshTasks();
    refreshTarget();
    refreshTemplates();
    renderParams();
    renderBrushes();
    assemble();
    errors = { params: errors.params, brushes: null };
    var firstError = form.querySelector(".has-error input, .has-error select");
    if (firstError && !document.querySelector("[data-toast]")) firstError.focus({ preventScroll: true });
  }

  function start() {
    each("[data-training-form]", document, setUpTrainingForm);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
