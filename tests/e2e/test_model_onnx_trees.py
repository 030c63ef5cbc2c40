"""A random forest's exact export in Chromium: the table goes in as a Float64Array and the
browser's probabilities are the server's ONNX Runtime ones bit for bit (the same graph, float64
preprocessing and float64 thresholds) and Python's within float32 rounding; an export made
before `input_dtype` (float32 input) still runs. Kept apart from test_model_onnx.py, which had
grown past 400 lines."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from gallery.demo_datasets import wine_csv
from gallery.hosting import host_for, serves_onnx
from gallery.vendor import ort_available
from registry import artifact_store
from registry.models import ModelVersion
from tests.e2e.test_model_onnx import (
    WINE,
    _browser_predict,
    _publish_copy,
    _replace_file,
    _seed_only,
    _with_export,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ort_available(), reason="ONNX Runtime Web is not installed (run `make npm`)"
    ),
]


@pytest.fixture
def wine(settings, tmp_path, monkeypatch):
    """The demo studio's wine-cultivars: a random forest on the wine table, published."""
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    _seed_only(monkeypatch, WINE)
    return _with_export(WINE)


def _wine_rows(n_rows: int) -> list[dict]:
    lines = wine_csv().decode().splitlines()
    names = lines[0].split(",")
    rows = []
    for line in lines[1 : n_rows + 1]:
        row = dict(zip(names, line.split(","), strict=True))
        rows.append({name: float(value) for name, value in row.items() if name != "cultivar"})
    return rows


def _as_float32_export(model_bytes: bytes) -> bytes:
    """The export as one made before `input_dtype` was: a float32 input cast to float64 in
    the graph, and no `features` output."""
    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT
    widened = "input_as_float64"
    for node in graph.node:
        node.input[:] = [widened if name == "input" else name for name in node.input]
    graph.node.insert(0, helper.make_node("Cast", ["input"], [widened], to=TensorProto.DOUBLE))
    kept = [output for output in graph.output if output.name == "output"]
    copies = []
    for output in kept:
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(output)
        copies.append(copy)
    del graph.output[:]
    graph.output.extend(copies)
    return model.SerializeToString()


def _stored(version: ModelVersion, path: str) -> bytes:
    file = version.files.get(path=path)
    return artifact_store.read_checked(file.sha256, max_bytes=2**26)


def test_a_forest_runs_in_the_browser_with_float64_input_as_on_the_server(
    page, live_server, screenshot, wine
):
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    version = ModelVersion.objects.get(model=wine, number=1)
    assert version.lineage["template"] == "random_forest"
    assert (version.lineage["onnx"]["exact"], version.lineage["onnx"]["input_dtype"]) == (
        True,
        "float64",
    )
    assert serves_onnx(version)  # auto answers this forest with its export
    page.goto(f"{live_server.url}/models/{WINE}/")
    files_url = f"/models/{WINE}/versions/1/files/"

    rows = _wine_rows(12)
    onnx_answers = host_for("onnx").predict(version, rows)
    python_answers = host_for("in-process").predict(version, rows)
    tensor_type = page.evaluate(
        f"""async () => {{
            const spec = await window.CanvasCraftOnnx.manifest({json.dumps(files_url)});
            return window.CanvasCraftOnnx.tableTensorData(spec, {json.dumps(rows[0])})
                .constructor.name;
        }}"""
    )
    assert tensor_type == "Float64Array"
    largest = 0.0
    for row, on_server, in_python in zip(rows, onnx_answers, python_answers, strict=True):
        (browser,) = _browser_predict(page, files_url, f"({{row: {json.dumps(row)}}})")[
            "predictions"
        ]
        assert browser == on_server  # the same graph on the same float64 numbers: identical
        assert browser["label"] == in_python["label"], row
        gaps = [
            abs(browser["probabilities"][name] - probability)
            for name, probability in in_python["probabilities"].items()
        ]
        largest = max(largest, *gaps)
    assert largest <= 1e-7

    # An export made before input_dtype (float32 input) still runs, from a Float32Array.
    old = _publish_copy(wine)
    manifest = json.loads(_stored(old, "model/onnx.json"))
    for key in ("input_dtype", "features_output", "exact"):
        manifest.pop(key)
    _replace_file(old, "model/onnx.json", json.dumps(manifest).encode())
    _replace_file(old, "model/model.onnx", _as_float32_export(_stored(old, "model/model.onnx")))
    old_url = f"/models/{WINE}/versions/{old.number}/files/"
    old_answer = _browser_predict(page, old_url, f"({{row: {json.dumps(rows[0])}}})")
    (old_browser,) = old_answer["predictions"]
    old_server = host_for("onnx").predict(ModelVersion.objects.get(pk=old.pk), rows[:1])[0]
    assert old_browser["label"] == old_server["label"]
    np.testing.assert_allclose(
        list(old_browser["probabilities"].values()),
        list(old_server["probabilities"].values()),
        atol=1e-7,
    )

    page.locator("[data-onnx-switch]").check()
    for name, value in rows[0].items():
        field = page.locator(f"[data-column='{name}']")
        if field.count():
            field.fill(str(value))
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-onnx-agreement]:not([hidden])", timeout=30_000)
    agreement = page.locator("[data-onnx-agreement]")
    assert agreement.get_attribute("data-agree") == "yes", agreement.inner_text()
    assert float(agreement.get_attribute("data-max-abs-diff")) <= 1e-7
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("78-model-page-onnx-forest-exact")
    assert not console_errors, console_errors
