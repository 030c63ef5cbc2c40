"""A visitor turns on "Also run in this browser" on a model page: the version's ONNX export
answers in the page (ONNX Runtime Web, WASM, one thread) beside the server's answer, and the
two agree. The demo digits model is really trained and exported (seed_demo), so the digit drawn
on the pad goes through a real network twice: PyTorch on the server, ONNX in Chromium."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from gallery import demo_models
from gallery.demo import seed_demo
from gallery.demo_datasets import wine_csv
from gallery.hosting import host_for
from gallery.vendor import ort_available
from pipelines.publishing import publish_run
from pipelines.runner import execute_run
from pipelines.services import start_run
from registry import artifact_store, services
from registry.models import ModelVersion, ModelVersionFile, RegisteredModel, Visibility
from tests.e2e.test_model_pages import _draw_a_one
from tests.gallery.test_api_models_onnx import FLOWER_ROWS, flowers_csv

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ort_available(), reason="ONNX Runtime Web is not installed (run `make npm`)"
    ),
]

ONNX_FILES = ("model/model.onnx", "model/onnx.json")
DIGITS = "sketch-digits"
WINE = "wine-cultivars"
FILES_URL = "/models/sketch-digits/versions/{}/files/"  # gallery:model-file, one version's
# The drawing goes through two resizes that do the same arithmetic (Pillow's bilinear filter
# on the server, its port in model_onnx.js): both see the same pixels up to float rounding.
SAME_DRAWING_TOLERANCE = 1e-3
EXACT_TOLERANCE = 1e-4


def _with_export(name: str) -> RegisteredModel:
    model = RegisteredModel.objects.get(name=name)
    version = ModelVersion.objects.get(model=model, number=1)
    paths = set(version.files.values_list("path", flat=True))
    if not set(ONNX_FILES) <= paths:
        pytest.fail(f"{name} v1 was published without its ONNX export: {sorted(paths)}")
    return model


def _seed_only(monkeypatch, name: str) -> None:
    """seed_demo with one of its models: each test trains only the model it looks at."""
    monkeypatch.setattr(
        demo_models, "DEMO_MODELS", [m for m in demo_models.DEMO_MODELS if m.name == name]
    )
    seed_demo()


@pytest.fixture
def demo(settings, tmp_path, monkeypatch):
    """The demo studio's sketch-digits: a CNN really trained on the demo digits, published."""
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    # One torch thread: two collapse when other processes share the cores (docs: STACK).
    monkeypatch.setenv("CANVASCRAFT_TORCH_THREADS", "1")
    _seed_only(monkeypatch, DIGITS)
    return _with_export(DIGITS)


@pytest.fixture
def wine(settings, tmp_path, monkeypatch):
    """The demo studio's wine-cultivars: a random forest on the wine table (seconds to train)."""
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    _seed_only(monkeypatch, WINE)
    return _with_export(WINE)


def _browser_predict(page, files_url: str, input_js: str) -> dict:
    """window.CanvasCraftOnnx.predict on `input_js` (a JS expression of the input object)."""
    return page.evaluate(
        f"""async () => {{
            const input = await ({input_js});
            return await window.CanvasCraftOnnx.predict({json.dumps(files_url)}, input);
        }}"""
    )


def _max_abs_diff(first: dict, second: dict) -> float:
    assert first.keys() == second.keys()
    return max(abs(first[name] - second[name]) for name in first)


def _server_sized(drawing_png: bytes, size: tuple[int, int], channels: int) -> Image.Image:
    """The picture the server's image_resize makes of the drawing (RGB -> luma in float for a
    grey model, Pillow's bilinear resize in float), rounded to 8 bits to travel as a PNG."""
    rgb = np.asarray(Image.open(io.BytesIO(drawing_png)).convert("RGB"), dtype=np.float32) / 255
    planes = (
        [rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)]
        if channels == 1
        else [rgb[:, :, channel] for channel in range(3)]
    )
    small = np.stack(
        [np.asarray(Image.fromarray(p).resize(size, Image.Resampling.BILINEAR)) for p in planes],
        axis=-1,
    )
    pixels = np.clip(np.rint(small * 255), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels)


def _check_the_exact_pixels(page, client, drawing: str) -> float:
    """The picture the server would make of the drawing, at the model's size, sent to the API as
    a PNG and given to the browser both drawn on a canvas of that size and as raw pixel values:
    the answers agree within 1e-4. Returns the largest difference seen."""
    manifest = page.evaluate(f"window.CanvasCraftOnnx.manifest({json.dumps(FILES_URL.format(1))})")
    image = manifest["image"]
    small = _server_sized(
        base64.b64decode(drawing.split(",", 1)[1]),
        (image["width"], image["height"]),
        image["channels"],
    )
    buffer = io.BytesIO()
    small.save(buffer, format="PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    response = client.post(
        "/api/v1/models/sketch-digits/predict/?version=1",
        {"inputs": [png]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    (server,) = response.json()["predictions"]

    on_canvas = _browser_predict(
        page,
        FILES_URL.format(1),
        f"""new Promise((resolve, reject) => {{
            const picture = new Image();
            picture.onload = () => {{
                const canvas = document.createElement('canvas');
                canvas.width = picture.width; canvas.height = picture.height;
                canvas.getContext('2d').drawImage(picture, 0, 0);
                resolve({{image: canvas}});
            }};
            picture.onerror = reject;
            picture.src = 'data:image/png;base64,{png}';
        }})""",
    )
    pixels = np.asarray(small, dtype=np.float32).reshape(-1).tolist()
    as_pixels = _browser_predict(page, FILES_URL.format(1), f"({{pixels: {json.dumps(pixels)}}})")
    largest = 0.0
    for answer in (on_canvas, as_pixels):
        (browser,) = answer["predictions"]
        assert browser["label"] == server["label"]
        largest = max(largest, _max_abs_diff(browser["probabilities"], server["probabilities"]))
    assert largest < EXACT_TOLERANCE
    return largest


def _check_an_upload(page) -> float:
    """An uploaded colour picture of another size and shape (decoded by the browser, resized in
    the page) gets the server's answer too. Returns the largest probability difference."""
    generator = np.random.default_rng(7)
    pixels = (generator.random((200, 300, 3)) * 60).astype(np.uint8)
    pixels[30:170, 140:165] = (250, 240, 230)  # a 1, off-white on dark noise
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    page.set_input_files(
        "[data-try-file]",
        files=[{"name": "one.png", "mimeType": "image/png", "buffer": buffer.getvalue()}],
    )
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-onnx-agreement]:not([hidden])", timeout=30_000)
    agreement = page.locator("[data-onnx-agreement]")
    assert agreement.get_attribute("data-agree") == "yes", agreement.inner_text()
    assert page.locator("[data-onnx-label]").inner_text() == (
        page.locator("[data-try-label]").inner_text()
    )
    return float(agreement.get_attribute("data-max-abs-diff"))


def test_a_drawing_gets_the_same_answer_in_the_browser_as_on_the_server(
    page, live_server, client, screenshot, demo
):
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/models/sketch-digits/")
    switch = page.locator("[data-onnx-switch]")
    assert switch.is_enabled()
    assert not switch.is_checked()
    assert "can also run on your device" in page.locator("[data-onnx-note]").inner_text()
    switch.check()

    _draw_a_one(page)
    drawing = page.locator("[data-draw-pad]").evaluate("pad => pad.toDataURL('image/png')")
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-try-result]:not([hidden])")
    page.wait_for_selector("[data-onnx-agreement]:not([hidden])", timeout=30_000)
    server_label = page.locator("[data-try-label]").inner_text()
    agreement = page.locator("[data-onnx-agreement]")
    assert page.locator("[data-onnx-label]").inner_text() == server_label
    assert agreement.get_attribute("data-agree") == "yes"
    assert agreement.inner_text().startswith("server and browser agree")
    timings = page.locator("[data-onnx-timings]").inner_text()
    assert "WASM started and session created in" in timings and "inference" in timings
    assert page.locator("[data-onnx-error]").is_hidden()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top of the picture
    screenshot("73-model-page-onnx")

    # The same drawing: the server's answer (the predictor the API uses) against the browser's.
    version = ModelVersion.objects.get(model=demo, number=1)
    (server,) = host_for().predict(version, [drawing.split(",", 1)[1]])
    answer = _browser_predict(
        page, FILES_URL.format(1), "({image: document.querySelector('[data-draw-pad]')})"
    )
    (browser,) = answer["predictions"]
    assert browser["label"] == server["label"] == server_label
    top = max(server["probabilities"], key=server["probabilities"].get)
    assert abs(browser["probabilities"][top] - server["probabilities"][top]) < 0.05
    drawing_diff = _max_abs_diff(browser["probabilities"], server["probabilities"])
    assert drawing_diff < SAME_DRAWING_TOLERANCE
    assert answer["backend"] == "wasm" and answer["timings"]["inference_ms"] > 0
    session_ms = float(page.locator("[data-onnx-result]").get_attribute("data-session-ms"))
    inference_ms = float(page.locator("[data-onnx-result]").get_attribute("data-inference-ms"))
    assert session_ms > 0 and inference_ms > 0

    exact_diff = _check_the_exact_pixels(page, client, drawing)
    print(
        f"\nONNX in Chromium: session {session_ms:.1f} ms, first inference {inference_ms:.1f} ms, "
        f"later {answer['timings']['inference_ms']:.1f} ms; max |p_browser - p_server|: "
        f"drawing {drawing_diff:.2e}, server-sized pixels {exact_diff:.2e}; "
        f"top {top} {server['probabilities'][top]:.4f}"
    )

    upload_diff = _check_an_upload(page)
    print(f"uploaded 300x200 colour PNG: max |p_browser - p_server| {upload_diff:.2e}")

    # The switch is remembered: after a reload it is still on.
    page.reload()
    assert page.locator("[data-onnx-switch]").is_checked()
    assert not console_errors, console_errors


def _publish_copy(model: RegisteredModel) -> ModelVersion:
    from pipelines.publishing import publish_run

    run = ModelVersion.objects.get(model=model, number=1).run
    return publish_run(user=model.owner, run=run, name=model.name, description="same weights")


def _replace_file(version: ModelVersion, path: str, data: bytes) -> None:
    blob = artifact_store.store_stream(io.BytesIO(data), max_bytes=len(data))
    ModelVersionFile.objects.filter(version=version, path=path).update(
        sha256=blob.sha256, size_bytes=len(data)
    )


def _fill_a_wine(page) -> None:
    rows = wine_csv().decode().splitlines()
    names, values = rows[0].split(","), rows[1].split(",")
    for name, value in zip(names, values, strict=True):
        field = page.locator(f"[data-column='{name}']")
        if field.count():
            field.fill(value)


def test_a_table_model_runs_in_the_browser_and_the_switch_says_when_it_cannot(
    page, live_server, screenshot, wine
):
    page.goto(f"{live_server.url}/models/{WINE}/")
    page.locator("[data-onnx-switch]").check()
    _fill_a_wine(page)
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-onnx-agreement]:not([hidden])", timeout=30_000)
    assert (
        page.locator("[data-onnx-label]").inner_text()
        == page.locator("[data-try-label]").inner_text()
    )
    assert page.locator("[data-onnx-agreement]").get_attribute("data-agree") == "yes"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("74-model-page-onnx-table")

    # A version published before exports existed, and one whose input needs Python.
    without_export = _publish_copy(wine)
    ModelVersionFile.objects.filter(version=without_export, path__in=ONNX_FILES).delete()
    server_only = _publish_copy(wine)
    manifest_file = server_only.files.get(path="model/onnx.json")
    manifest = json.loads(artifact_store.read_checked(manifest_file.sha256, max_bytes=2**20))
    # As an export of a table whose text column no one_hot encodes would say.
    reason = "column 'note' is text and no one_hot brush encodes it: Python only"
    manifest["browser"] = {"supported": False, "reason": reason}
    _replace_file(server_only, "model/onnx.json", json.dumps(manifest).encode())

    page.goto(f"{live_server.url}/models/{WINE}/")
    switch = page.locator("[data-onnx-switch]")
    note = page.locator("[data-onnx-note]")
    assert switch.is_enabled() and switch.is_checked()
    page.select_option("[data-try-target]", f"version={without_export.number}")
    assert switch.is_disabled() and not switch.is_checked()
    assert note.inner_text() == f"Version {without_export.number} has no ONNX export."
    page.select_option("[data-try-target]", f"version={server_only.number}")
    page.wait_for_function(
        "document.querySelector('[data-onnx-note]').textContent.includes('one_hot')"
    )
    assert switch.is_disabled()
    assert note.inner_text() == f"Not in a browser: {reason}."
    assert page.locator("[data-onnx-box] label").get_attribute("title") == note.inner_text()
    screenshot("75-model-page-onnx-unsupported")
    page.select_option("[data-try-target]", "alias=production")
    page.wait_for_function("!document.querySelector('[data-onnx-switch]').disabled")

    # ONNX Runtime Web's WASM cannot be fetched: the page says so, and the server still answers.
    page.route("**/ort-wasm-simd-threaded.wasm", lambda route: route.abort())
    page.reload()
    _fill_a_wine(page)
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-onnx-error]:not([hidden])", timeout=30_000)
    page.wait_for_selector("[data-try-result]:not([hidden])")
    error = page.locator("[data-onnx-error]").inner_text()
    assert error.startswith("In your browser: ONNX Runtime Web could not open the model"), error
    assert page.locator("[data-onnx-result]").is_hidden()
    assert page.locator("[data-try-label]").inner_text() != ""


FLOWERS = "flowers"


@pytest.fixture
def flowers(settings, tmp_path, monkeypatch, owner):
    """A small network on a table with a category column and a boolean one, trained with the
    default brushes (impute, impute, one_hot, standard_scaler) and published."""
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    monkeypatch.setenv("CANVASCRAFT_TORCH_THREADS", "1")
    _dataset, dataset_version = services.dataset_create(
        owner=owner,
        name="Flowers",
        modality="tabular",
        upload=io.BytesIO(flowers_csv()),
        original_name="flowers.csv",
    )
    experiment = services.experiment_create(owner=owner, name="Flowers")
    config = {
        "dataset_version": dataset_version.pk,
        "task": "classification",
        "target": "species",
        "template": "mlp",
        "params": {"epochs": 60, "hidden_units": [16]},
        "device": "cpu",
    }
    run = start_run(owner=owner, experiment=experiment, name=FLOWERS, config=config)
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    version = publish_run(user=owner, run=run, name=FLOWERS, visibility=Visibility.PUBLIC)
    services.model_alias_move(user=owner, model=version.model, alias="production", version=version)
    return _with_export(FLOWERS)


def _fill_a_flower(page, row: dict) -> None:
    for name, value in row.items():
        field = page.locator(f"[data-column='{name}']")
        if isinstance(value, bool):
            field.select_option("true" if value else "false")
        else:
            field.fill(str(value))


def test_a_table_with_categories_runs_in_the_browser_as_on_the_server(
    page, live_server, screenshot, flowers
):
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/models/{FLOWERS}/")
    switch = page.locator("[data-onnx-switch]")
    assert switch.is_enabled(), page.locator("[data-onnx-note]").inner_text()
    switch.check()
    # The colour field suggests the colours the model knows (from the export's manifest).
    suggestions = page.locator("[data-column='colour']").evaluate(
        "field => Array.from(field.list.options, option => option.value)"
    )
    assert suggestions == ["blue", "red", "white", "yellow"]

    # Through the form: a colour the model never saw, and a wild one.
    _fill_a_flower(page, FLOWER_ROWS[3])
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-onnx-agreement]:not([hidden])", timeout=30_000)
    agreement = page.locator("[data-onnx-agreement]")
    assert agreement.get_attribute("data-agree") == "yes", agreement.inner_text()
    assert (
        page.locator("[data-onnx-label]").inner_text()
        == page.locator("[data-try-label]").inner_text()
    )
    assert float(agreement.get_attribute("data-max-abs-diff")) < EXACT_TOLERANCE
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("77-model-page-onnx-categories")

    # Every row (known and unseen colours, both booleans): the server's predictor and the
    # browser's export give the same probabilities.
    version = ModelVersion.objects.get(model=flowers, number=1)
    server_answers = host_for("in-process").predict(version, FLOWER_ROWS)
    files_url = f"/models/{FLOWERS}/versions/1/files/"
    for row, server in zip(FLOWER_ROWS, server_answers, strict=True):
        answer = _browser_predict(page, files_url, f"({{row: {json.dumps(row)}}})")
        (browser,) = answer["predictions"]
        assert browser["label"] == server["label"], row
        assert _max_abs_diff(browser["probabilities"], server["probabilities"]) < EXACT_TOLERANCE
    # The graph takes the colour's position among the categories, -1 for one never seen.
    unseen = json.dumps(FLOWER_ROWS[3])
    tensor = page.evaluate(
        f"""async () => {{
            const spec = await window.CanvasCraftOnnx.manifest({json.dumps(files_url)});
            return Array.from(window.CanvasCraftOnnx.tableTensorData(spec, {unseen}));
        }}"""
    )
    assert tensor == [4.0, -1.0, 1.0, 6.0]
    assert not console_errors, console_errors
