"""A visitor leaves fields blank in the "try it" form of a table model whose brushes impute:
the page sends `null` to the server and NaN into the browser's ONNX tensor, and both answer
as the in-process model answers such a row. Kept apart from test_model_onnx.py, which had grown
past 400 lines."""

from __future__ import annotations

import json
import math

import pytest

from gallery.hosting import host_for
from gallery.vendor import ort_available
from registry.models import ModelVersion
from tests.e2e.test_model_onnx import (
    EXACT_TOLERANCE,
    FLOWERS,
    _browser_predict,
    _max_abs_diff,
    flowers,  # noqa: F401  (fixture)
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not ort_available(), reason="ONNX Runtime Web is not installed (run `make npm`)"
    ),
]

# petal_length and colour left empty, "blank" picked for wild: the model fills all three in.
BLANK_ROW = {"petal_length": None, "colour": None, "wild": None, "petals": 5}


def test_fields_left_blank_are_filled_in_by_the_model_in_the_browser_and_on_the_server(
    page,
    live_server,
    screenshot,
    flowers,  # noqa: F811  (fixture)
):
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sent: list[dict] = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data)) if "/predict/" in r.url else None,
    )
    page.goto(f"{live_server.url}/models/{FLOWERS}/")
    switch = page.locator("[data-onnx-switch]")
    assert switch.is_enabled(), page.locator("[data-onnx-note]").inner_text()
    switch.check()
    for name in ("petal_length", "petals"):  # numbers: blank allowed, so not required
        field = page.locator(f"[data-column='{name}']")
        assert field.get_attribute("required") is None
        assert field.get_attribute("placeholder") == "blank: the model fills it in"
    assert page.locator("[data-column='colour']").get_attribute("placeholder") == (
        "blue, red, white, … or blank"
    )

    page.locator("[data-column='petals']").fill("5")
    page.locator("[data-column='wild']").select_option("")
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-onnx-agreement]:not([hidden])", timeout=30_000)

    assert sent == [{"inputs": [BLANK_ROW]}]
    assert page.locator("[data-try-error]").is_hidden()
    agreement = page.locator("[data-onnx-agreement]")
    assert agreement.get_attribute("data-agree") == "yes", agreement.inner_text()
    assert float(agreement.get_attribute("data-max-abs-diff")) < EXACT_TOLERANCE
    version = ModelVersion.objects.get(model=flowers, number=1)
    (server,) = host_for("in-process").predict(version, [BLANK_ROW])
    assert page.locator("[data-try-label]").inner_text() == server["label"]
    assert page.locator("[data-onnx-label]").inner_text() == server["label"]
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("79-model-page-onnx-blank-fields")

    # The browser's tensor holds NaN where the row has a gap, and answers as the server does.
    files_url = f"/models/{FLOWERS}/versions/1/files/"
    tensor = page.evaluate(
        f"""async () => {{
            const spec = await window.CanvasCraftOnnx.manifest({json.dumps(files_url)});
            return Array.from(window.CanvasCraftOnnx.tableTensorData(spec, {json.dumps(BLANK_ROW)}))
                .map(value => Number.isNaN(value) ? "NaN" : value);
        }}"""
    )
    assert tensor == ["NaN", "NaN", "NaN", 5.0]
    answer = _browser_predict(page, files_url, f"({{row: {json.dumps(BLANK_ROW)}}})")
    (browser,) = answer["predictions"]
    assert browser["label"] == server["label"]
    assert _max_abs_diff(browser["probabilities"], server["probabilities"]) < EXACT_TOLERANCE
    assert not any(math.isnan(p) for p in browser["probabilities"].values())
    assert not console_errors, console_errors
