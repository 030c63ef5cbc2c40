/* Prepares a picture for a published version's ONNX export in this browser exactly as the
   server's image_resize brush prepares it (static/js/model_onnx.js runs the model; this file
   is loaded before it and exposed as window.CanvasCraftOnnxImages).

   The result is H*W*C float32 pixel values 0..255 (layout H, W, C). When the server's chain
   resizes (RGB -> float luma, then Pillow's bilinear resize in float, antialiased), the same
   arithmetic is done here, so both see the same numbers up to float rounding; a resample this
   file does not know falls back to a canvas resize (close, not equal). When the chain does not
   resize, the picture must already be W x H and grey is Pillow's "L" (rounded).
*/
(function () {
  "use strict";

  var LUMA = [0.299, 0.587, 0.114];

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

  window.CanvasCraftOnnxImages = { imageTensorData: imageTensorData };
})();
