"""A creator uploads a table, images and sounds through the pages, previews them, and labels
samples with the keyboard in the annotator."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
import soundfile
from PIL import Image, ImageDraw

from registry import services
from registry.models import Dataset
from tests.dataset_files import zip_bytes
from tests.e2e.pages import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PALETTE = [(239, 90, 76), (122, 82, 232), (18, 165, 148), (245, 158, 11), (11, 132, 229)]
CSV = (
    "petal_length,petal_width,sepal_length,colour,species\n"
    + "\n".join(
        f"{1.2 + (i % 7) * 0.61:.2f},{0.2 + (i % 5) * 0.37:.2f},"
        f"{4.6 + math.sin(i) * 1.1 + i * 0.02:.2f},"
        f"{['violet', 'white', 'blue', 'yellow'][i % 4] if i % 9 else ''},"
        f"{['setosa', 'versicolor', 'virginica'][i % 3]}"
        for i in range(60)
    )
    + "\n"
)


def _png(draw_shape, colour, index: int) -> bytes:
    size = 64
    background = tuple(min(255, 215 + (channel // 8)) for channel in colour)
    image = Image.new("RGB", (size, size), background)
    draw_shape(ImageDraw.Draw(image), colour, index, size)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _circle(draw, colour, index, size):
    radius = 12 + index * 2
    centre = size // 2 + (index % 3 - 1) * 5
    draw.ellipse([centre - radius, centre - radius, centre + radius, centre + radius], fill=colour)


def _square(draw, colour, index, size):
    side = 20 + index * 3
    start = (size - side) // 2
    draw.rounded_rectangle([start, start, start + side, start + side], radius=4, fill=colour)


def _stripes(draw, colour, index, size):
    for offset in range(-size, size, 12):
        draw.line(
            [(offset + index * 2, size), (offset + size + index * 2, 0)], fill=colour, width=5
        )


def image_zip(*, labelled: bool = True) -> bytes:
    shapes = [("circles", _circle), ("squares", _square), ("stripes", _stripes)]
    members = []
    for position, (name, shape) in enumerate(shapes):
        for index in range(7 - position * 2):
            colour = PALETTE[(position + index) % len(PALETTE)]
            path = f"{name}/{name}-{index}.png" if labelled else f"sketch-{position}{index}.png"
            members.append((path, _png(shape, colour, index)))
    return zip_bytes(members)


def _wav(samples: np.ndarray, sample_rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples.astype(np.float32), sample_rate, format="WAV")
    return buffer.getvalue()


def audio_zip() -> bytes:
    sample_rate = 16_000
    time_s = np.arange(sample_rate) / sample_rate
    envelope = np.minimum(1.0, np.minimum(time_s, 1.0 - time_s) * 20)
    rng = np.random.default_rng(7)
    members = []
    for index in range(4):
        start, end = 300 + index * 150, 3000 + index * 600
        sweep = np.sin(2 * np.pi * (start * time_s + (end - start) * time_s**2 / 2))
        members.append((f"chirps/chirp-{index}.wav", _wav(0.5 * sweep * envelope)))
    for index in range(3):
        tone = np.sin(2 * np.pi * (220 * (index + 1)) * time_s)
        tone += 0.4 * np.sin(2 * np.pi * (440 * (index + 1)) * time_s)
        members.append((f"tones/tone-{index}.wav", _wav(0.3 * tone * envelope)))
    for index in range(2):
        noise = rng.standard_normal(sample_rate) * envelope
        members.append((f"noise/noise-{index}.wav", _wav(0.2 * noise)))
    return zip_bytes(members)


def _upload(page, live_server, *, name: str, modality: str, file_name: str, data: bytes) -> dict:
    """Fills the upload form, submits it, and reports whether the progress bar showed."""
    page.goto(f"{live_server.url}/datasets/new/")
    page.fill("input[name=name]", name)
    page.locator(f"label.modality-card:has(input[value={modality}])").click()
    page.fill("textarea[name=description]", f"{name}, uploaded from the browser test")
    mime = "text/csv" if file_name.endswith(".csv") else "application/zip"
    page.set_input_files(
        "input[name=file]", files=[{"name": file_name, "mimeType": mime, "buffer": data}]
    )
    seen = {}

    def hold(route):
        # The request is on its way: the bar must be showing before the answer comes back.
        seen["progress_visible"] = page.locator("[data-upload-progress]").is_visible()
        seen["stage"] = page.locator("[data-upload-stage]").inner_text()
        route.continue_()

    page.route(re.compile(r".*/datasets/new/$"), hold)
    page.click("[data-upload-submit]")
    page.wait_for_url(re.compile(r".*/datasets/\d+/\?version=\d+$"))
    page.unroute(re.compile(r".*/datasets/new/$"))
    return seen


def test_creator_uploads_a_table_images_and_sounds(page, live_server, screenshot):
    UserFactory(username="paula_painter")
    log_in(page, live_server.url, "paula_painter")

    page.click("nav >> text=Datasets")
    page.wait_for_url(f"{live_server.url}/datasets/")
    assert page.get_by_text("No datasets yet").is_visible()

    seen = _upload(
        page, live_server, name="Iris sketches", modality="tabular", file_name="iris.csv",
        data=CSV.encode(),
    )  # fmt: skip
    assert seen["progress_visible"], seen
    for column in ("petal_length", "petal_width", "sepal_length", "colour", "species"):
        assert page.locator(f"[data-column='{column}']").is_visible()
    assert page.locator("svg.histogram").count() == 3
    assert page.get_by_text("uploaded: 60 rows").is_visible()
    screenshot("10-dataset-table")

    seen = _upload(
        page, live_server, name="Shapes", modality="image", file_name="shapes.zip",
        data=image_zip(),
    )  # fmt: skip
    assert seen["progress_visible"], seen
    page.wait_for_function(
        "() => [...document.querySelectorAll('.thumb img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    assert page.locator(".thumb img").count() == 7 + 5 + 3
    screenshot("11-dataset-images")

    seen = _upload(
        page, live_server, name="Synth sounds", modality="audio", file_name="sounds.zip",
        data=audio_zip(),
    )  # fmt: skip
    assert seen["progress_visible"], seen
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.spectrogram')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    assert page.locator("audio").count() == 4 + 3 + 2
    screenshot("12-dataset-audio")

    page.goto(f"{live_server.url}/datasets/")
    assert page.locator(".dataset-card").count() == 3
    screenshot("09-datasets")
    assert Dataset.objects.count() == 3


def test_a_refused_upload_says_why_on_the_page(page, live_server, screenshot):
    UserFactory(username="paula_painter")
    log_in(page, live_server.url, "paula_painter")
    page.goto(f"{live_server.url}/datasets/new/")
    page.fill("input[name=name]", "Not a zip")
    page.locator("label.modality-card:has(input[value=image])").click()
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "pets.zip", "mimeType": "application/zip", "buffer": b"a,b\n1,2\n"}],
    )
    page.click("[data-upload-submit]")

    banner = page.locator("[data-upload-refusal]")
    banner.wait_for(state="visible")
    assert "refused" in banner.inner_text()
    assert page.locator(".file-field.has-error").is_visible()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("14-dataset-refused")
    assert not Dataset.objects.exists()


def test_creator_labels_two_samples_with_the_keyboard(page, live_server, screenshot):
    owner = UserFactory(username="paula_painter")
    dataset, version = services.dataset_create(
        owner=owner,
        name="Loose sketches",
        modality="image",
        upload=io.BytesIO(image_zip(labelled=False)),
        original_name="sketches.zip",
    )
    log_in(page, live_server.url, "paula_painter")
    page.goto(f"{live_server.url}/datasets/{dataset.pk}/")
    page.click("a:has-text('Annotate')")
    page.wait_for_url(re.compile(r".*/annotate/$"))
    first = page.locator("[data-path]").inner_text()
    assert page.locator("[data-labelled-count]").inner_text() == "0"

    page.keyboard.type("warm")  # typing starts a new class
    page.keyboard.press("Enter")
    second = page.locator("[data-path]").inner_text()
    page.keyboard.press("1")  # the class just made has shortcut 1
    page.keyboard.press("s")
    page.keyboard.type("cool")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Backspace")
    assert page.locator("[data-labelled-count]").inner_text() == "3"
    assert page.locator(".class-button kbd").all_inner_texts() == ["1", "2"]
    assert page.locator("[data-current-label]").inner_text() == "Unlabelled"
    page.keyboard.press("2")  # the skipped one becomes "cool"
    page.fill("[data-note]", "first labels")
    screenshot("13-annotate")

    page.click("[data-save]")
    page.wait_for_url(re.compile(r".*/datasets/\d+/\?version=\d+$"))
    assert page.get_by_text("Labels saved as version 2.").is_visible()
    created = dataset.versions.get(number=2)
    labels = {item["path"]: item["label"] for item in created.manifest}
    assert created.parent_id == version.pk
    assert created.note == "first labels"
    assert (labels[first], labels[second]) == ("warm", "warm")
    assert sorted(label for label in labels.values() if label) == ["cool", "cool", "warm", "warm"]
    version.refresh_from_db()
    assert all(item["label"] is None for item in version.manifest)
