/* Runs a published version's ONNX export (model/model.onnx + model/onnx.json, see docs/models.md)
   in this browser with ONNX Runtime Web's WASM build, preparing the input exactly as the server's
   brushes do, and answers in the predict API's shape. The model page's "try it" panel uses it
   through window.CanvasCraftOnnx.

   - The runtime (vendor/ort/ort.wasm.min.js, installed by `make` from npm) is loaded on first use
     by a script tag; its URLs come from the page (<script id="ort-urls" type="application/json">).
     One thread: the studio sends no COOP/COEP headers, so WebAssembly threads are unavailable.
   - A version's manifest, model bytes and inference session are fetched and built once per page.
   - Tables: the manifest's columns in order, as float32 (booleans 0/1); scaling and imputation
     are inside the graph.
   - Images: [1, H, W, C] float32 pixel values 0..255. When the server's chain resizes (its
     image_resize brush: RGB -> float luma, then Pillow's bilinear resize in float, antialiased),
     the same arithmetic is done here, so both see the same numbers up to float rounding; a
     resample this file does not know falls back to a canvas resize (close, not equal). When the
     chain does not resize, the picture must already be W x H and grey is Pillow's "L" (rounded).
*/
(function () {
  "use strict";

  var runtime = null;   // Promise of the `ort` namespace, once asked for
  var runtimeMs = null; // how long the runtime took to load (reported with the first answer)
  var wasmStarted = false;
  var manifests = {};   // files URL -> Promise of the manifest
  var runners = {};     // files URL -> Promise of {manifest, session, timings}
  var LUMA = [0.299, 0.587, 0.114];

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
  function tableTensorData(spec, row) {
    var columns = spec.columns || [];
    var data = new Float32Array(columns.length);
    columns.forEach(function (name, index) {
      var value = row[name];
      if (value === true || value === false) value = value ? 1 : 0;
      if (typeof value !== "number" || !isFinite(value)) throw new Error("Give a number for " + name + ".");
      data[index] = value;
    });
    return data;
  }

  /* ---------- images ---------- */
  function sizeOf(source) {
    return {
      width: source.naturalWidth || source.videoWidth || source.width,
      height: source.naturalHeight || source.videoHeight || source.height,
    };
  }

  /** RGBA bytes of a canvas, image or bitmap at its own size. */
  function rgbaOf(source) {
    var size = sizeOf(source);
    var canvas = source;
    if (!(source instanceof HTMLCanvasElement)) {
      canvas = document.createElement("canvas");
      canvas.width = size.width;
      canvas.height = size.height;
      canvas.getContext("2d").drawImage(source, 0, 0);
    }
    return { width: size.width, height: size.height, data: canvas.getContext("2d").getImageData(0, 0, size.width, size.height).data };
  }

  /** Pillow's resampling weights (Resample.c, precompute_coeffs) with its bilinear filter. */
  function coefficients(inSize, outSize) {
    var scale = inSize / outSize;
    var filterScale = Math.max(scale, 1);
    var support = filterScale; // the bilinear filter's support is 1
    var inverse = 1 / filterScale;
    var rows = [];
    for (var out = 0; out < outSize; out++) {
      var center = (out + 0.5) * scale;
      var first = Math.max(0, Math.trunc(center - support + 0.5));
      var last = Math.min(inSize, Math.trunc(center + support + 0.5));
      var weights = [];
      var total = 0;
      for (var at = first; at < last; at++) {
        var distance = Math.abs((at - center + 0.5) * inverse);
        var weight = distance < 1 ? 1 - distance : 0;
        weights.push(weight);
        total += weight;
      }
      if (total !== 0) weights = weights.map(function (weight) { return weight / total; });
      rows.push({ first: first, weights: weights });
    }
    return rows;
  }

  /** One float channel resized like Pillow's "F" mode: horizontal pass, then vertical. */
  function resizePlane(plane, width, height, outWidth, outHeight) {
    var across = width === outWidth ? null : coefficients(width, outWidth);
    var down = height === outHeight ? null : coefficients(height, outHeight);
    var wide = plane;
    if (across) {
      wide = new Float32Array(outWidth * height);
      for (var y = 0; y < height; y++) {
        for (var x = 0; x < outWidth; x++) {
          var sum = 0;
          var row = across[x];
          for (var k = 0; k < row.weights.length; k++) sum += row.weights[k] * plane[y * width + row.first + k];
          wide[y * outWidth + x] = sum;
        }
      }
    }
    if (!down) return wide;
    var tall = new Float32Array(outWidth * outHeight);
    for (var yy = 0; yy < outHeight; yy++) {
      var column = down[yy];
      for (var xx = 0; xx < outWidth; xx++) {
        var total = 0;
        for (var j = 0; j < column.weights.length; j++) total += column.weights[j] * wide[(column.first + j) * outWidth + xx];
        tall[yy * outWidth + xx] = total;
      }
    }
    return tall;
  }

  /** Python's round(): halves to even, as the server's pad mode sizes the picture. */
  function roundHalfEven(value) {
    var floor = Math.floor(value);
    var rest = value - floor;
    if (rest > 0.5) return floor + 1;
    if (rest < 0.5) return floor;
    return floor % 2 === 0 ? floor : floor + 1;
  }

  /** The planes (0..255 floats) the image_resize brush would make: RGB -> channels, then size. */
  function brushPlanes(rgba, image) {
    var n = rgba.width * rgba.height;
    var planes = [];
    if (image.channels === 1) {
      var grey = new Float32Array(n);
      for (var i = 0; i < n; i++) {
        grey[i] = rgba.data[4 * i] * LUMA[0] + rgba.data[4 * i + 1] * LUMA[1] + rgba.data[4 * i + 2] * LUMA[2];
      }
      planes.push(grey);
    } else {
      for (var c = 0; c < 3; c++) {
        var plane = new Float32Array(n);
        for (var p = 0; p < n; p++) plane[p] = rgba.data[4 * p + c];
        planes.push(plane);
      }
    }
    var width = image.width;
    var height = image.height;
    var left = 0;
    var top = 0;
    var fill = image.pad_value || 0; // the manifest gives it in pixel values 0..255
    if (image.mode === "pad") {
      var scale = Math.min(image.height / rgba.height, image.width / rgba.width);
      height = Math.min(image.height, Math.max(1, roundHalfEven(rgba.height * scale)));
      width = Math.min(image.width, Math.max(1, roundHalfEven(rgba.width * scale)));
      top = Math.floor((image.height - height) / 2);
      left = Math.floor((image.width - width) / 2);
    }
    return planes.map(function (plane) {
      var resized = resizePlane(plane, rgba.width, rgba.height, width, height);
      var placed = new Float32Array(image.width * image.height).fill(fill);
      for (var y = 0; y < height; y++) {
        for (var x = 0; x < width; x++) {
          placed[(top + y) * image.width + left + x] = Math.min(255, Math.max(0, resized[y * width + x]));
        }
      }
      return placed;
    });
  }

  /** The planes from a canvas resize (for a resample this file does not reproduce). */
  function canvasPlanes(source, image) {
    var canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    var context = canvas.getContext("2d");
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.drawImage(source, 0, 0, image.width, image.height);
    return brushPlanes(rgbaOf(canvas), image);
  }

  /** Pillow's convert("L") (integer, rounded) or convert("RGB"), for a picture already W x H. */
  function exactPlanes(rgba, image) {
    if (rgba.width !== image.width || rgba.height !== image.height) {
      throw new Error("image is " + rgba.width + "×" + rgba.height + "; this model takes " + image.width + "×" + image.height);
    }
    var n = rgba.width * rgba.height;
    var planes = [];
    for (var c = 0; c < image.channels; c++) planes.push(new Float32Array(n));
    for (var i = 0; i < n; i++) {
      var r = rgba.data[4 * i], g = rgba.data[4 * i + 1], b = rgba.data[4 * i + 2];
      if (image.channels === 1) planes[0][i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
      else { planes[0][i] = r; planes[1][i] = g; planes[2][i] = b; }
    }
    return planes;
  }

  function interleave(planes, image) {
    var n = image.width * image.height;
    var data = new Float32Array(n * image.channels);
    for (var i = 0; i < n; i++) {
      for (var c = 0; c < image.channels; c++) data[i * image.channels + c] = planes[c][i];
    }
    return data;
  }

  /** [H*W*C] float32 pixel values 0..255 (layout H, W, C) for a canvas, image or bitmap.
      The manifest's image.resizes (else options.resizes) false: the server takes only W x H
      pictures and converts their channels itself. */
  function imageTensorData(source, image, options) {
    var resizes = typeof image.resizes === "boolean" ? image.resizes : !(options && options.resizes === false);
    if (!resizes) return interleave(exactPlanes(rgbaOf(source), image), image);
    if ((image.resample || "bilinear") !== "bilinear") return interleave(canvasPlanes(source, image), image);
    return interleave(brushPlanes(rgbaOf(source), image), image);
  }

  /* ---------- running ---------- */
  function inputTensor(runner, input, options) {
    var spec = runner.manifest;
    if (spec.input_kind === "table") {
      if (!input.row) throw new Error("This model takes a table row.");
      var values = tableTensorData(spec, input.row);
      return new runner.ort.Tensor("float32", values, [1, values.length]);
    }
    var image = spec.image;
    var data;
    if (input.pixels) {
      data = Float32Array.from(input.pixels);
      if (data.length !== image.width * image.height * image.channels) {
        throw new Error("expected " + image.width + "×" + image.height + "×" + image.channels + " pixel values, got " + data.length);
      }
    } else if (input.image) {
      data = imageTensorData(input.image, image, options);
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
    imageTensorData: imageTensorData,
    agreement: agreement,
  };
})();
