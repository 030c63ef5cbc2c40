/* Runs a published version's ONNX export (model/model.onnx + model/onnx.json, see docs/models.md)
   in this browser with ONNX Runtime Web's WASM build, preparing the input exactly as the server's
   brushes do, and answers in the predict API's shape. The model page's "try it" panel uses it
   through window.CanvasCraftOnnx.

   - The runtime (vendor/ort/ort.wasm.min.js, installed by `make` from npm) is loaded on first use
     by a script tag; its URLs come from the page (<script id="ort-urls" type="application/json">).
     One thread: the studio sends no COOP/COEP headers, so WebAssembly threads are unavailable.
   - A version's manifest, model bytes and inference session are fetched and built once per page.
   - Tables: the manifest's columns in order, as its input_dtype says: float64 (a Float64Array,
     JavaScript's own numbers, so the graph preprocesses exactly what the server's brushes do) or
     float32 for exports made before input_dtype; booleans 0/1; a column listed in the manifest's
     categories goes as the position of its value in that list (-1 for a value the model never
     saw), as the server maps it; a column left blank (null) where the manifest's missing_allowed
     lists it, as NaN. Scaling, imputation and one_hot are inside the graph.
   - Images: [1, H, W, C] float32 pixel values 0..255, prepared as the server's image_resize
     brush prepares them by static/js/model_onnx_images.js (loaded before this file).
*/
(function () {
  "use strict";

  var runtime = null;   // Promise of the `ort` namespace, once asked for
  var runtimeMs = null; // how long the runtime took to load (reported with the first answer)
  var wasmStarted = false;
  var manifests = {};   // files URL -> Promise of the manifest
  var runners = {};     // files URL -> Promise of {manifest, session, timings}
  var lookupsOf = new WeakMap(); // manifest -> its category lookups
  var MAX_SUGGESTIONS = 200;     // category suggestions offered in a form field

  /* ---------- the runtime ---------- */
  function runtimeUrls() {
    var element = document.getElementById("ort-urls");
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function absolute(url) {
    return new URL(url, window.location.href).href;
  }

  function loadRuntime() {
    if (runtime) return runtime;
    var urls = runtimeUrls();
    if (!urls) return Promise.reject(new Error("ONNX Runtime Web is not installed on this studio (run `make` with npm available)."));
    var started = performance.now();
    runtime = new Promise(function (resolve, reject) {
      if (window.ort && window.ort.InferenceSession) { resolve(window.ort); return; }
      var script = document.createElement("script");
      script.src = urls.script;
      script.async = true;
      script.onload = function () {
        if (window.ort && window.ort.InferenceSession) resolve(window.ort);
        else reject(new Error("ONNX Runtime Web loaded but defined no `ort`."));
      };
      script.onerror = function () { reject(new Error("ONNX Runtime Web could not be loaded from " + urls.script + ".")); };
      document.head.appendChild(script);
    }).then(function (ort) {
      ort.env.wasm.numThreads = 1;
      // Exact files rather than a folder prefix: after collectstatic their names carry a hash.
      ort.env.wasm.wasmPaths = { mjs: absolute(urls.module), wasm: absolute(urls.wasm) };
      runtimeMs = performance.now() - started;
      return ort;
    });
    runtime.catch(function () { runtime = null; }); // a later click may try again
    return runtime;
  }

  /* ---------- a version's export ---------- */
  function fetchOk(url, what) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (response.status === 404) throw new Error("This version has no " + what + " (no ONNX export).");
      if (!response.ok) throw new Error("The " + what + " could not be fetched (HTTP " + response.status + ").");
      return response;
    }, function () {
      throw new Error("The " + what + " could not be fetched (network error).");
    });
  }

  function checkManifest(manifest) {
    if (!manifest || manifest.format !== 1) throw new Error("This ONNX export's manifest has a format this page does not know.");
    if (!manifest.browser || !manifest.browser.supported) {
      throw new Error("This version cannot run in a browser: " + ((manifest.browser && manifest.browser.reason) || "no reason given") + ".");
    }
    if (manifest.input_kind !== "table" && manifest.input_kind !== "image") {
      throw new Error("This page cannot prepare " + manifest.input_kind + " inputs in the browser.");
    }
    return manifest;
  }

  /** The manifest (model/onnx.json) of the version whose files live under `filesUrl`. */
  function manifest(filesUrl) {
    if (!manifests[filesUrl]) {
      manifests[filesUrl] = fetchOk(filesUrl + "model/onnx.json", "ONNX manifest").then(function (response) {
        return response.json();
      });
      manifests[filesUrl].catch(function () { delete manifests[filesUrl]; });
    }
    return manifests[filesUrl];
  }

  function load(filesUrl) {
    if (runners[filesUrl]) return runners[filesUrl];
    var timings = {};
    runners[filesUrl] = Promise.all([loadRuntime(), manifest(filesUrl).then(checkManifest)])
      .then(function (loaded) {
        var started = performance.now();
        return fetchOk(filesUrl + "model/model.onnx", "ONNX model").then(function (response) {
          return response.arrayBuffer();
        }).then(function (bytes) {
          timings.download_ms = performance.now() - started;
          timings.model_bytes = bytes.byteLength;
          started = performance.now();
          return loaded[0].InferenceSession.create(new Uint8Array(bytes), {
            executionProviders: ["wasm"],
            graphOptimizationLevel: "all",
          }).catch(function (error) {
            throw new Error("ONNX Runtime Web could not open the model: " + (error && error.message ? error.message : error));
          });
        }).then(function (session) {
          timings.session_ms = performance.now() - started;
          timings.runtime_ms = runtimeMs;
          // The WebAssembly module is fetched and compiled with the page's first session.
          timings.wasm_started = !wasmStarted;
          wasmStarted = true;
          return { ort: loaded[0], manifest: loaded[1], session: session, timings: timings, runs: 0 };
        });
      });
    runners[filesUrl].catch(function () { delete runners[filesUrl]; });
    return runners[filesUrl];
  }

  /* ---------- tables ---------- */
  /** {column: {category text: position}} from the manifest's categories (one_hot's order). */
  function categoryLookups(spec) {
    if (lookupsOf.has(spec)) return lookupsOf.get(spec);
    var lookups = {};
    Object.keys(spec.categories || {}).forEach(function (name) {
      var positions = Object.create(null);
      spec.categories[name].forEach(function (category, index) { positions[category] = index; });
      lookups[name] = positions;
    });
    lookupsOf.set(spec, lookups);
    return lookups;
  }

  /** Python's str() of a cell, as the one_hot brush compares categories ("True"/"False"). */
  function categoryText(name, value) {
    if (value === true) return "True";
    if (value === false) return "False";
    if (typeof value !== "string") throw new Error("Give text for " + name + ".");
    return value;
  }

  /** The tensor type of a table manifest's input: "float64" or, without input_dtype, "float32". */
  function tableInputType(spec) {
    return spec.input_dtype === "float64" ? "float64" : "float32";
  }

  /** The row as the graph's input: the manifest's columns in order, numbers as they are
      (booleans 0/1), a column with categories as its value's position (-1: unseen), a null
      in a column of the manifest's missing_allowed as NaN (the server sends the same). */
  function tableTensorData(spec, row) {
    var columns = spec.columns || [];
    var lookups = categoryLookups(spec);
    var data = tableInputType(spec) === "float64" ? new Float64Array(columns.length) : new Float32Array(columns.length);
    var fills = spec.missing_allowed || [];
    columns.forEach(function (name, index) {
      var value = row[name];
      if (value === null || value === undefined) { // a gap: NaN, which the graph's impute fills
        if (fills.indexOf(name) < 0) throw new Error("Give a value for " + name + ": this model does not fill in missing values for this column.");
        data[index] = NaN;
        return;
      }
      if (lookups[name]) {
        var position = lookups[name][categoryText(name, value)];
        data[index] = position === undefined ? -1 : position;
        return;
      }
      if (value === true || value === false) value = value ? 1 : 0;
      if (typeof value !== "number" || !isFinite(value)) throw new Error("Give a number for " + name + ".");
      data[index] = value;
    });
    return data;
  }

  /** Gives each text field of a category column (`[data-column]` inputs under `form`) a list
      of the categories the manifest knows, as suggestions: any other text is still accepted
      (an unseen category, all indicators 0, as on the server). */
  function suggestCategories(form, spec) {
    var categories = (spec && spec.categories) || {};
    form.querySelectorAll("input[type=text][data-column]").forEach(function (field, index) {
      var known = categories[field.getAttribute("data-column")];
      if (!known || !known.length || field.getAttribute("list")) return;
      var list = document.createElement("datalist");
      list.id = "onnx-categories-" + index;
      known.slice(0, MAX_SUGGESTIONS).forEach(function (category) {
        var option = document.createElement("option");
        option.value = category;
        list.appendChild(option);
      });
      field.after(list);
      field.setAttribute("list", list.id);
      var examples = known.slice(0, 3).join(", ") + (known.length > 3 ? ", …" : "");
      // Short enough for the field: the label already says the model fills a blank in.
      field.placeholder = examples + (field.hasAttribute("data-nullable") ? " or blank" : "");
    });
  }

  /* ---------- running ---------- */
  function inputTensor(runner, input, options) {
    var spec = runner.manifest;
    if (spec.input_kind === "table") {
      if (!input.row) throw new Error("This model takes a table row.");
      var values = tableTensorData(spec, input.row);
      return new runner.ort.Tensor(tableInputType(spec), values, [1, values.length]);
    }
    var image = spec.image;
    var data;
    if (input.pixels) {
      data = Float32Array.from(input.pixels);
      if (data.length !== image.width * image.height * image.channels) {
        throw new Error("expected " + image.width + "×" + image.height + "×" + image.channels + " pixel values, got " + data.length);
      }
    } else if (input.image) {
      data = window.CanvasCraftOnnxImages.imageTensorData(input.image, image, options);
    } else {
      throw new Error("This model takes a picture.");
    }
    return new runner.ort.Tensor("float32", data, [1, image.height, image.width, image.channels]);
  }

  function answerOf(spec, output) {
    var data = output.data;
    if (spec.task === "regression") return { value: Number(data[0]) };
    var names = spec.label_names || [];
    if (output.dims[output.dims.length - 1] !== names.length) {
      throw new Error("The model gives " + output.dims[output.dims.length - 1] + " probabilities for " + names.length + " classes.");
    }
    var probabilities = {};
    var best = 0;
    for (var i = 0; i < names.length; i++) {
      probabilities[names[i]] = Number(data[i]);
      if (data[i] > data[best]) best = i;
    }
    return { label: names[best], probabilities: probabilities };
  }

  /** Runs the version under `filesUrl` (".../versions/<n>/files/") on one input:
      {row: {column: value}} | {image: canvas/img/bitmap} | {pixels: H*W*C values 0..255}.
      Answers like POST …/predict/: {predictions: [{label, probabilities} | {value}]}, plus
      backend and timings (ms): runtime/download/session the first time, inference each time. */
  function predict(filesUrl, input, options) {
    return load(filesUrl).then(function (runner) {
      var started = performance.now();
      var tensor = inputTensor(runner, input, options || {});
      var prepared = performance.now();
      var feeds = {};
      feeds[runner.manifest.input] = tensor;
      return runner.session.run(feeds).then(function (results) {
        var finished = performance.now();
        var output = results[runner.manifest.output];
        if (!output) throw new Error("The model has no output named " + runner.manifest.output + ".");
        var features = runner.manifest.features_output && results[runner.manifest.features_output];
        if (features && !Array.prototype.every.call(features.data, isFinite)) {
          // As the server refuses it: finite numbers whose scaled features pass float32's range.
          throw new Error("This input gives values the model cannot take after preprocessing (infinite or NaN); is it far outside the training data?");
        }
        var timings = { preprocess_ms: prepared - started, inference_ms: finished - prepared };
        if (runner.runs === 0) Object.assign(timings, runner.timings);
        runner.runs += 1;
        return { predictions: [answerOf(runner.manifest, output)], backend: "wasm", timings: timings };
      }, function (error) {
        throw new Error("ONNX Runtime Web failed to run the model: " + (error && error.message ? error.message : error));
      });
    });
  }

  /** How a server answer and a browser answer compare: {agree, text, max_abs_diff}. */
  function agreement(server, browser, tolerance) {
    tolerance = tolerance === undefined ? 0.01 : tolerance;
    if (server.value !== undefined || browser.value !== undefined) {
      var gap = Math.abs(Number(server.value) - Number(browser.value));
      var scale = Math.max(1, Math.abs(Number(server.value)));
      var close = gap <= tolerance * scale;
      return { agree: close, max_abs_diff: gap, text: close ? "server and browser agree (values within " + gap.toPrecision(2) + ")" : "they differ: server " + Number(server.value).toPrecision(5) + ", browser " + Number(browser.value).toPrecision(5) };
    }
    var largest = 0;
    Object.keys(server.probabilities || {}).forEach(function (name) {
      var other = (browser.probabilities || {})[name];
      largest = Math.max(largest, other === undefined ? 1 : Math.abs(server.probabilities[name] - other));
    });
    var sameLabel = String(server.label) === String(browser.label);
    var within = largest <= tolerance;
    var text;
    if (sameLabel && within) text = "server and browser agree (" + (largest === 0 ? "identical probabilities" : "probabilities within " + largest.toExponential(1)) + ")";
    else if (sameLabel) text = "they differ: same answer " + server.label + ", but probabilities differ by up to " + (largest * 100).toFixed(1) + " points";
    else text = "they differ: the server says " + server.label + ", the browser " + browser.label;
    return { agree: sameLabel && within, same_label: sameLabel, max_abs_diff: largest, text: text };
  }

  window.CanvasCraftOnnx = {
    available: function () { return runtimeUrls() !== null; },
    manifest: manifest,
    predict: predict,
    imageTensorData: function (source, image, options) {
      return window.CanvasCraftOnnxImages.imageTensorData(source, image, options);
    },
    tableTensorData: tableTensorData,
    suggestCategories: suggestCategories,
    agreement: agreement,
  };
})();
