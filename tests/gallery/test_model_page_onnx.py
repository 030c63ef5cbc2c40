"""The model page's side of "run in this browser": a version's ONNX export is served to whoever
may ask the model, and the try-it switch is on offer only when the version has an export a
browser can run and ONNX Runtime Web is installed, saying why otherwise. Versions are made from
stored files (tests/gallery/test_model_pages.py); the browser itself is in
tests/e2e/test_model_onnx.py."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from gallery import model_views
from pipelines.brushes import BrushChain
from registry import artifact_store
from registry.models import ModelVersion, ModelVersionFile
from tests.gallery.test_model_pages import publish, signed_in

MANIFEST = {
    "format": 1,
    "opset": 17,
    "input": "input",
    "output": "output",
    "input_shape": [None, 1],
    "input_kind": "table",
    "columns": ["hue"],
    "task": "classification",
    "label_names": ["a", "b"],
    "browser": {"supported": True, "reason": ""},
    "check": {"n_samples": 16, "max_abs_diff": 2.4e-07, "tolerance": 1e-4, "labels_agree": True},
}
ORT_URLS = {
    "script": "/static/vendor/ort/ort.wasm.min.js",
    "module": "/static/vendor/ort/ort-wasm-simd-threaded.mjs",
    "wasm": "/static/vendor/ort/ort-wasm-simd-threaded.wasm",
}
SWITCH_OFF = 'data-onnx-switch aria-describedby="try-onnx-note" disabled'


def add_file(version: ModelVersion, path: str, data: bytes) -> None:
    blob = artifact_store.store_stream(io.BytesIO(data), max_bytes=len(data))
    ModelVersionFile.objects.create(
        version=version, path=path, sha256=blob.sha256, size_bytes=len(data)
    )


def add_export(version: ModelVersion, manifest: dict | bytes = MANIFEST) -> None:
    add_file(version, "model/model.onnx", b"\x08\x08onnx graph bytes")
    data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    add_file(version, "model/onnx.json", data)


@pytest.fixture
def ort_installed(monkeypatch):
    monkeypatch.setattr(model_views, "ort_urls", lambda: ORT_URLS)


@pytest.fixture
def ort_missing(monkeypatch):
    monkeypatch.setattr(model_views, "ort_urls", lambda: None)


def test_an_export_is_served_to_whoever_may_ask_the_model(owner, stranger):
    private = publish(owner, "my-private")
    public = publish(owner, "my-public", visibility="public")
    add_export(private)
    add_export(public)

    model = signed_in(owner).get("/models/my-private/versions/1/files/model/model.onnx")
    manifest = signed_in(owner).get("/models/my-private/versions/1/files/model/onnx.json")

    assert model.status_code == 200 and model["Content-Type"] == "application/octet-stream"
    assert model.content == b"\x08\x08onnx graph bytes"
    assert "immutable" in model["Cache-Control"]
    assert manifest["Content-Type"] == "application/json" and manifest.json() == MANIFEST
    path = "/versions/1/files/model/model.onnx"
    assert signed_in(stranger).get(f"/models/my-private{path}").status_code == 404
    assert Client().get(f"/models/my-public{path}").status_code == 200
    # The training weights stay private to the run.
    assert Client().get("/models/my-public/versions/1/files/model/model.skops").status_code == 404


def test_the_switch_is_on_offer_for_a_version_a_browser_can_run(owner, ort_installed):
    version = publish(owner, "my-public", visibility="public")
    add_export(version)

    page = Client().get("/models/my-public/")

    assert page.context["onnx_manifest"] == MANIFEST
    assert page.context["onnx_versions"] == {1}
    assertContains(page, '<script id="ort-urls" type="application/json">')
    assertContains(page, 'data-version="1" data-onnx="1"')
    assertContains(page, "data-onnx-switch")
    assertNotContains(page, SWITCH_OFF)
    assertContains(page, "js/model_onnx.js")


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        (None, "This version has no ONNX export."),
        (
            {
                **MANIFEST,
                "browser": {"supported": False, "reason": "the one_hot brush runs in Python"},
            },
            "Not in a browser: the one_hot brush runs in Python.",
        ),
        (b"{not json", "This version has no ONNX export."),
    ],
)
def test_the_switch_is_off_and_says_why(owner, ort_installed, manifest, reason):
    version = publish(owner, "my-public", visibility="public")
    if manifest is not None:
        add_export(version, manifest)

    page = Client().get("/models/my-public/")

    assertContains(page, SWITCH_OFF)
    assertContains(page, reason)


def test_without_onnx_runtime_web_the_switch_is_off(owner, ort_missing):
    add_export(publish(owner, "my-public", visibility="public"))

    page = Client().get("/models/my-public/")

    assertContains(page, SWITCH_OFF)
    assertContains(page, "ONNX Runtime Web is not installed on this studio.")
    assertNotContains(page, 'id="ort-urls"')


def test_the_try_it_form_lets_a_column_the_brushes_fill_in_be_left_blank(owner):
    version = publish(owner, "gappy")
    # hue is imputed before it is scaled; alcohol is scaled alone, so it needs a value.
    frame = pd.DataFrame({"hue": [0.5, np.nan, 1.5, 1.0], "alcohol": [12.0, 13.0, 12.5, 14.0]})
    chain = BrushChain.from_config(
        [{"name": "impute", "params": {"columns": ["hue"]}}, {"name": "standard_scaler"}]
    ).fit(frame, np.array([0, 1, 0, 1]))
    ModelVersionFile.objects.filter(version=version, path="model/brushes.zip").delete()
    add_file(version, "model/brushes.zip", chain.to_bytes())
    columns = [{"name": "hue", "type": "float"}, {"name": "alcohol", "type": "float"}]
    ModelVersion.objects.filter(pk=version.pk).update(
        signature={"modality": "tabular", "columns": columns}
    )

    page = signed_in(owner).get("/models/gappy/")
    detail = signed_in(owner).get("/api/v1/models/gappy/versions/1/").json()

    assertContains(
        page,
        '<input type="number" step="any" id="try-1" data-column="hue" data-type="float" '
        'data-nullable placeholder="blank: the model fills it in">',
        html=True,
    )
    assertContains(
        page,
        '<input type="number" step="any" id="try-2" data-column="alcohol" data-type="float" '
        "required>",
        html=True,
    )
    assertContains(page, 'hue <span class="muted small">float · may be blank</span>')
    assert page.context["missing_allowed"] == detail["missing_allowed"] == ["hue"]
