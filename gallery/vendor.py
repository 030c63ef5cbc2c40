"""Browser libraries installed from npm by `make` (package-lock.json) and served through
staticfiles, and whether each one is there: without npm the pages fall back or say so."""

from __future__ import annotations

from typing import TypedDict

from django.contrib.staticfiles import finders
from django.templatetags.static import static

# ONNX Runtime Web's WASM build, copied out of node_modules/onnxruntime-web by the Makefile into
# the folder settings.ORT_DIR serves under this prefix.
ORT_PREFIX = "vendor/ort/"
ORT_SCRIPT = ORT_PREFIX + "ort.wasm.min.js"
ORT_MODULE = ORT_PREFIX + "ort-wasm-simd-threaded.mjs"
ORT_WASM = ORT_PREFIX + "ort-wasm-simd-threaded.wasm"


class OrtUrls(TypedDict):
    """Where static/js/model_onnx.js loads ONNX Runtime Web from (hashed names after
    `collectstatic`, so each may be cached for good)."""

    script: str
    module: str
    wasm: str


def ort_available() -> bool:
    """Whether ONNX Runtime Web's WASM build is installed (`make` copies it when npm works)."""
    return all(finders.find(name) is not None for name in (ORT_SCRIPT, ORT_MODULE, ORT_WASM))


def ort_urls() -> OrtUrls | None:
    """The three files' URLs, or None when ONNX Runtime Web is not installed."""
    if not ort_available():
        return None
    return {"script": static(ORT_SCRIPT), "module": static(ORT_MODULE), "wasm": static(ORT_WASM)}
