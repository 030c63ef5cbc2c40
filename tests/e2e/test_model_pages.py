"""A visitor browses the model gallery and tries a model; its owner moves production and rolls
it back from the model page. The demo models are really trained (seed_demo), so the digit
drawn on the canvas is read by a real network."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from gallery.demo import seed_demo
from gallery.hosting import host_for
from registry.models import AliasMove, ModelVersion, RegisteredModel
from tests.e2e.pages import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    seed_demo()
    return RegisteredModel.objects.get(name="sketch-digits")


def _draw_a_one(page) -> None:
    """A vertical stroke down the middle of the pad, as a person would draw a 1."""
    pad = page.locator("[data-draw-pad]")
    box = pad.bounding_box()
    x = box["x"] + box["width"] * 0.5
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, box["y"] + box["height"] * (0.15 + 0.7 * step / 20))
    page.mouse.up()


def test_a_visitor_finds_a_model_and_its_answer_to_a_drawing_matches_the_api(
    page, live_server, screenshot, demo
):
    page.goto(f"{live_server.url}/models/")
    cards = page.locator("[data-model-card]")
    assert sorted(cards.evaluate_all("nodes => nodes.map(n => n.dataset.modelCard)")) == [
        "sketch-digits",
        "wine-cultivars",
    ]
    screenshot("70-model-gallery")

    page.fill("#model-q", "digit")
    page.click(".model-filters button[type=submit]")
    assert page.locator("[data-model-card]").count() == 1
    page.click("[data-model-card='sketch-digits']")
    page.wait_for_url(f"{live_server.url}/models/sketch-digits/")
    assert page.locator("[data-alias='production']").inner_text() == "production v1"

    _draw_a_one(page)
    drawing = page.locator("[data-draw-pad]").evaluate("pad => pad.toDataURL('image/png')")
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-try-result]:not([hidden])")
    shown = page.locator("[data-try-label]").inner_text()
    bars = page.locator("[data-try-bars] li")
    assert bars.count() == 5
    assert "answered by version 1 (production)" in page.locator("[data-try-version]").inner_text()
    screenshot("71-model-page-try-it")

    # The same drawing through the predictor the API uses gives the label the page showed.
    version = ModelVersion.objects.get(model=demo, number=1)
    (expected,) = host_for().predict(version, [drawing.split(",", 1)[1]])
    assert shown == expected["label"]
    top = bars.first.locator(".try-bar-value").inner_text()
    assert top == f"{max(expected['probabilities'].values()) * 100:.1f} %"
    picture = Image.open(io.BytesIO(base64.b64decode(drawing.split(",", 1)[1])))
    assert np.asarray(picture.convert("L")).max() == 255  # something was drawn


def test_the_owner_moves_production_and_rolls_it_back_from_the_page(
    page, live_server, screenshot, demo
):
    from pipelines.publishing import publish_run

    run = ModelVersion.objects.get(model=demo, number=1).run
    publish_run(user=demo.owner, run=run, name="sketch-digits", description="same weights")
    log_in(page, live_server.url, *settings.DEMO_CREATOR)
    page.goto(f"{live_server.url}/models/sketch-digits/")

    page.select_option("[data-alias-form] select[name=version]", "2")
    page.fill("[data-alias-form] input[name=reason]", "trying the copy")
    page.click("[data-alias-form] button[type=submit]")
    page.wait_for_selector("text=production moved: version 1 → version 2.")
    assert page.locator("[data-alias='production']").inner_text() == "production v2"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-rollback='production']")
    page.wait_for_selector("text=production rolled back: version 2 → version 1.")
    rows = page.locator("[data-alias-history] tr[data-move]")
    assert rows.count() == 3
    assert "rollback" in rows.first.inner_text()
    screenshot("72-model-page-alias-history")

    # The same drawing, asked of production and of version 2 side by side.
    page.select_option("[data-compare-target]", label="version 2")
    _draw_a_one(page)
    page.click("[data-try-submit]")
    page.wait_for_selector("[data-compare-result]:not([hidden])")
    compared = page.locator("[data-compare-version]").inner_text()
    assert compared == "sketch-digits · answered by version 2"
    same_weights = page.locator("[data-compare-label]").inner_text()
    assert same_weights == page.locator("[data-try-label]").inner_text()
    assert page.locator("[data-compare-bars] li").count() == 5
    screenshot("76-model-page-compare")
    assert list(
        AliasMove.objects.filter(model=demo)
        .order_by("id")
        .values_list("to_version__number", "is_rollback")
    ) == [(1, False), (2, False), (1, True)]


def test_the_3d_view_orbits_the_digits_as_the_network_sees_them(
    page, live_server, screenshot, demo
):
    page.goto(f"{live_server.url}/models/sketch-digits/")
    page.click("[data-embedding-link]")
    page.wait_for_selector("[data-embedding][data-loaded='features']", timeout=60_000)
    page.select_option("[data-embedding-space]", "penultimate")
    page.click(".embedding-controls button[type=submit]")
    page.wait_for_selector("[data-embedding][data-loaded='penultimate']", timeout=60_000)

    legend = page.locator("[data-embedding-legend] li")
    assert legend.count() == 10  # one colour per digit
    assert (
        "1500 of 1797 samples · penultimate"
        in page.locator("[data-embedding-summary]").inner_text()
    )
    canvas = page.locator("[data-embedding-canvas]")
    before = canvas.screenshot()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 180, box["y"] + box["height"] / 2 + 40, steps=8)
    page.mouse.up()
    assert canvas.screenshot() != before  # the cloud turned
    screenshot("74-model-3d-view")
    page.select_option("[data-embedding-colour]", "errors")
    assert [item.split(" · ")[0] for item in legend.all_inner_texts()] == ["right", "wrong"]
