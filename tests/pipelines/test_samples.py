"""Sample outputs per epoch: the plain maker (choice, grid, marks, items, clip, cost), the loops'
hooks, RunIO's schedule, and a real run that leaves samples on its stream and its page."""

from __future__ import annotations

import io
import re
import statistics
import time
import wave

import numpy as np
import pytest
import torch
from django.urls import reverse
from PIL import Image

from pipelines.run_io import Heartbeat, RunIO
from pipelines.training.callbacks import TrainingCallbacks
from pipelines.training.samples import (
    FRAME_PX,
    GAP_PX,
    IMAGE_CELL_PX,
    MAX_SAMPLES_PER_RUN,
    NEUTRAL_FRAME,
    RIGHT_FRAME,
    SPECTROGRAM_CELL_PX,
    WRONG_FRAME,
    Predictions,
    SampleMaker,
    choose_examples,
    grid_png,
    model_predictions,
    picture_tile,
    wav_bytes,
)
from pipelines.training.templates import check_params, get_template
from pipelines.training.torch_loop import TorchRun
from pipelines.training.trainer import train
from tests.clients import signed_in
from tests.pipelines.training.samples import LABEL_NAMES, tiny_data


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def sample_hooks(due=lambda epoch, is_last: True):
    """Callbacks that take every due sample's predictions at once, as RunIO does."""
    asked: list[tuple[int, bool]] = []
    taken: list[tuple[int, Predictions]] = []
    indices = np.arange(5)

    def sample_due(epoch: int, is_last: bool) -> bool:
        asked.append((epoch, is_last))
        return due(epoch, is_last)

    callbacks = TrainingCallbacks(
        sample_due=sample_due,
        on_sample=lambda epoch, predict: taken.append((epoch, predict(indices))),
        log=lambda line: None,
    )
    return callbacks, asked, taken


# --- choosing the examples ------------------------------------------------------------------
def test_the_examples_are_a_pure_function_of_the_seed_and_cover_every_class():
    codes = np.repeat(np.arange(3), 10)  # 30 validation samples, 3 classes

    chosen = choose_examples(codes, task="classification", seed=7)

    assert len(chosen) == 10 and len(set(chosen.tolist())) == 10
    assert sorted(np.bincount(codes[chosen]).tolist()) == [3, 3, 4]
    assert codes[chosen].tolist() == sorted(codes[chosen].tolist())  # grouped by class
    np.testing.assert_array_equal(chosen, choose_examples(codes, task="classification", seed=7))
    assert not np.array_equal(chosen, choose_examples(codes, task="classification", seed=8))


def test_more_classes_than_examples_shows_one_example_each_of_seeded_classes():
    codes = np.repeat(np.arange(40), 2)

    chosen = choose_examples(codes, task="classification", seed=1)

    assert len(np.unique(codes[chosen])) == 10


def test_a_small_split_shows_all_and_regression_reads_in_value_order():
    values = np.array([5.0, 1.0, 3.0, 2.0], dtype=np.float32)

    chosen = choose_examples(values, task="regression", seed=0)

    assert chosen.tolist() == [1, 3, 2, 0]


# --- the picture ------------------------------------------------------------------------------
def test_an_eight_pixel_digit_grows_by_a_whole_factor_without_blurring():
    digit = (np.indices((8, 8)).sum(axis=0) % 2 * 255).astype(np.uint8)[:, :, None]

    tile = picture_tile(digit, IMAGE_CELL_PX)

    assert tile.size == (96, 96)
    pixels = np.asarray(tile)[:, :, 0]
    np.testing.assert_array_equal(pixels[::12, ::12], digit[:, :, 0])
    assert set(np.unique(pixels).tolist()) == {0, 255}


def test_big_images_shrink_into_their_cell_and_spectrograms_fill_theirs():
    photo = np.zeros((300, 600, 3), dtype=np.uint8)
    spectrogram = np.linspace(-80, 0, 64 * 101, dtype=np.float32).reshape(64, 101)

    assert picture_tile(photo, IMAGE_CELL_PX).size == (96, 48)
    assert picture_tile(spectrogram, SPECTROGRAM_CELL_PX).size == SPECTROGRAM_CELL_PX


def test_the_grid_frames_right_green_wrong_red_and_no_verdict_neutral():
    tiles = [picture_tile(np.full((8, 8, 1), 0.5, np.float32), IMAGE_CELL_PX)] * 7
    verdicts = [True, False, None, True, True, False, True]

    grid = png_image(grid_png(tiles, verdicts, columns=5)).convert("RGB")

    cell = IMAGE_CELL_PX[0] + 2 * FRAME_PX
    assert grid.size == (5 * cell + 4 * GAP_PX, 2 * cell + GAP_PX)
    corners = [
        grid.getpixel(((position % 5) * (cell + GAP_PX), (position // 5) * (cell + GAP_PX)))
        for position in range(7)
    ]
    expected = {True: RIGHT_FRAME, False: WRONG_FRAME, None: NEUTRAL_FRAME}
    assert corners == [expected[verdict] for verdict in verdicts]


# --- the maker --------------------------------------------------------------------------------
def image_maker(**extra) -> SampleMaker:
    return SampleMaker.for_validation(tiny_data("image", "classification"), seed=3, **extra)


def test_an_image_sample_holds_a_grid_and_one_item_per_example():
    maker = image_maker()
    wrong_first = (maker.truth + np.eye(len(maker.truth), dtype=np.int64)[0]) % 3
    confidence = np.linspace(0.4, 0.9, len(maker.truth))

    sample = maker.render(4, Predictions(wrong_first, confidence))

    assert (sample.epoch, sample.kind, list(sample.files)) == (5, "image", ["grid.png"])
    assert len(sample.items) == len(maker.indices) == 10 and sample.columns == 5
    assert sample.items[0] == {
        "label": LABEL_NAMES[maker.truth[0]],
        "predicted": LABEL_NAMES[wrong_first[0]],
        "correct": False,
        "confidence": 0.4,
    }
    assert [item["correct"] for item in sample.items[1:]] == [True] * 9
    assert png_image(sample.files["grid.png"]).size == (5 * 104 + 4 * GAP_PX, 2 * 104 + GAP_PX)


def test_original_pictures_replace_the_features_and_a_failing_loader_falls_back():
    originals = [np.full((8, 8, 3), 200, np.uint8)] * 10
    loaded = image_maker(load_pictures=lambda: originals)
    broken = image_maker(load_pictures=lambda: 1 / 0)
    predictions = Predictions(loaded.truth)

    grid = png_image(loaded.render(0, predictions).files["grid.png"]).convert("RGB")
    fallback = png_image(broken.render(0, predictions).files["grid.png"]).convert("RGB")

    assert grid.getpixel((50, 50)) == (200, 200, 200)
    assert fallback.getpixel((50, 50)) != (200, 200, 200)


def test_an_audio_sample_holds_spectrograms_and_the_first_clip_as_wav():
    data = tiny_data("audio", "classification")
    clip = np.sin(np.linspace(0, 400, 8000 * 6)).astype(np.float32)  # 6 s at 8 kHz
    maker = SampleMaker.for_validation(data, seed=0, load_clip=lambda: (clip, 8000))

    sample = maker.render(0, Predictions(maker.truth))

    assert sample.kind == "audio" and set(sample.files) == {"spectrograms.png", "clip.wav"}
    with wave.open(io.BytesIO(sample.files["clip.wav"])) as reader:
        assert (reader.getnchannels(), reader.getframerate()) == (1, 8000)
        assert reader.getnframes() == 4 * 8000  # cut to MAX_CLIP_S


def test_a_table_sample_has_items_only_and_regression_items_carry_the_error():
    data = tiny_data("tabular", "regression")
    maker = SampleMaker.for_validation(data, seed=0)
    predicted = maker.truth + 1.5

    sample = maker.render(0, Predictions(predicted.astype(np.float32)))

    assert sample.kind == "table" and sample.files == {}
    assert [item["error"] for item in sample.items] == [1.5] * len(maker.indices)
    assert sample.items[0]["value"] == pytest.approx(float(maker.truth[0]), rel=1e-5)


def test_a_wav_is_mono_sixteen_bit_and_clipped():
    data = wav_bytes(np.array([0.0, 2.0, -2.0, 0.5]), 16000)

    with wave.open(io.BytesIO(data)) as reader:
        frames = np.frombuffer(reader.readframes(4), dtype="<i2")
        assert (reader.getsampwidth(), reader.getnchannels()) == (2, 1)
    assert frames.tolist() == [0, 32767, -32767, 16384]


def test_rendering_a_full_sample_costs_milliseconds_and_kilobytes():
    data = tiny_data("image", "classification", n_samples=120)
    pictures = [np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)] * 12
    maker = SampleMaker.for_validation(data, seed=0, n_examples=12)
    maker.pictures = pictures
    predictions = Predictions(maker.truth, np.full(12, 0.5))
    maker.render(0, predictions)  # the tiles are made once

    timings = []
    for epoch in range(5):
        started = time.perf_counter()
        sample = maker.render(epoch, predictions)
        timings.append(time.perf_counter() - started)

    assert statistics.median(timings) < 0.05
    assert len(sample.files["grid.png"]) < 64 * 1024


# --- the loops' hooks -------------------------------------------------------------------------
def test_the_torch_loop_asks_every_epoch_and_samples_only_when_due():
    callbacks, asked, taken = sample_hooks(due=lambda epoch, is_last: is_last)

    train(
        "mlp",
        {"epochs": 3},
        tiny_data("image", "classification"),
        device="cpu",
        seed=0,
        callbacks=callbacks,
    )

    assert asked == [(0, False), (1, False), (2, True)]
    assert [epoch for epoch, _ in taken] == [2]


def test_a_sample_reads_the_validation_outputs_of_its_epoch():
    data = tiny_data("image", "classification")
    callbacks, _, taken = sample_hooks()
    params = check_params("mlp", {"epochs": 2}, task="classification")
    run = TorchRun(get_template("mlp"), params, data, device="cpu", seed=0, callbacks=callbacks)

    run.run_epoch(0)

    with torch.inference_mode():  # the network as the epoch left it (eval mode)
        logits = run.network(torch.from_numpy(data.x_val[:5])).float()
    probabilities = torch.softmax(logits, dim=1).numpy()
    ((epoch, predictions),) = taken
    assert epoch == 0
    np.testing.assert_array_equal(predictions.predicted, probabilities.argmax(axis=1))
    np.testing.assert_allclose(predictions.confidence, probabilities.max(axis=1), rtol=1e-5)


def test_scikit_learn_samples_once_at_the_end():
    callbacks, asked, taken = sample_hooks()

    model = train(
        "logistic_regression",
        {},
        tiny_data("tabular", "classification"),
        device="cpu",
        seed=0,
        callbacks=callbacks,
    )

    assert asked == [(0, True)]
    ((_, predictions),) = taken
    expected = model_predictions(model, tiny_data("tabular", "classification").x_val[:5])
    np.testing.assert_array_equal(predictions.predicted, expected.predicted)
    np.testing.assert_array_equal(predictions.confidence, expected.confidence)


# --- RunIO's schedule -------------------------------------------------------------------------
@pytest.fixture
def run_io(run, settings, tmp_path) -> RunIO:
    settings.CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.SAMPLE_EVERY_S = 5
    return RunIO(run, heartbeat=Heartbeat(run.pk, 5), timeout_s=60)


@pytest.mark.django_db
def test_the_first_epoch_is_sampled_then_one_per_interval_and_always_the_last(run_io):
    assert run_io.sample_due(0, False)
    run_io.n_samples, run_io.last_sample = 1, time.monotonic()
    assert not run_io.sample_due(1, False)
    assert run_io.sample_due(1, True)
    run_io.last_sample = time.monotonic() - 5
    assert run_io.sample_due(2, False)


@pytest.mark.django_db
def test_a_run_never_has_more_than_fifty_samples_and_the_last_keeps_its_place(run_io):
    run_io.n_samples, run_io.last_sample = MAX_SAMPLES_PER_RUN - 1, None
    assert not run_io.sample_due(60, False)
    assert run_io.sample_due(61, True)
    run_io.n_samples = MAX_SAMPLES_PER_RUN
    assert not run_io.sample_due(62, True)


# --- a real run -------------------------------------------------------------------------------
# The runner writes from helper threads with their own connections: they must see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_training_run_streams_samples_and_its_page_shows_the_newest(owner, settings):
    from pipelines.runner import execute_run
    from pipelines.services import start_run
    from registry import services
    from registry.models import Artifact, Run, StreamEvent
    from tests.dataset_files import image_zip

    settings.SAMPLE_EVERY_S = 0
    _dataset, version = services.dataset_create(
        owner=owner,
        name="shapes",
        modality="image",
        upload=io.BytesIO(image_zip(n_per_class=8, classes=("cats", "dogs", "owls"))),
        original_name="shapes.zip",
    )
    experiment = services.experiment_create(owner=owner, name="samples")
    run = start_run(
        owner=owner,
        experiment=experiment,
        name="mlp",
        config={
            "dataset_version": version.pk,
            "task": "classification",
            "template": "mlp",
            "device": "cpu",
            "params": {"epochs": 3, "patience": 3},
            "brushes": [{"name": "image_resize", "params": {"height": 8, "width": 8}}],
        },
    )

    assert execute_run(run.pk) == "succeeded", Run.objects.get(pk=run.pk).error_text

    events = list(
        StreamEvent.objects.filter(stream__name=f"run:{run.pk}", type="sample").order_by("seq")
    )
    assert [event.payload["epoch"] for event in events] == [1, 2, 3]
    newest = events[-1].payload
    picture = Artifact.objects.get(run=run, path="samples/epoch-003.png")
    assert newest["url"] == f"/api/v1/runs/{run.pk}/artifacts/{picture.pk}/"
    assert (newest["kind"], newest["columns"], len(newest["items"])) == ("image", 4, 4)
    assert {item["label"] for item in newest["items"]} <= {"cats", "dogs", "owls"}
    client = signed_in(owner)
    page = client.get(reverse("gallery:run", args=[run.pk])).content.decode()
    assert "data-live-sample" in page and "epoch 3" in page
    assert f'src="{newest["url"]}"' in page
    assert "js/live_sample.js" in page and "css/live_sample.css" in page


@pytest.mark.django_db
def test_the_run_page_waits_for_a_first_sample_and_shows_table_items(experiment, owner):
    from registry import services
    from tests.factories import RunFactory

    studio = RunFactory(experiment=experiment, config={"template": "mlp", "dataset_version": 0})
    script = RunFactory(experiment=experiment)
    client = signed_in(owner)

    waiting = client.get(reverse("gallery:run", args=[studio.pk])).content.decode()
    services.run_log_sample(
        run=studio, epoch=2, kind="table", items=[{"value": 1.5, "predicted": 2.25, "error": 0.75}]
    )
    shown = client.get(reverse("gallery:run", args=[studio.pk])).content.decode()
    untouched = client.get(reverse("gallery:run", args=[script.pk])).content.decode()

    assert 'data-live-sample data-sample-seq="0" aria-labelledby="sample-title" hidden' in waiting
    opening = re.search(r'<section class="card live-sample"[^>]*>', shown).group(0)
    panel = shown[shown.index(opening) : shown.index("</section>", shown.index(opening))]
    assert "hidden" not in opening
    assert "epoch 2" in panel and "1.500" in panel and "2.250" in panel and "0.750" in panel
    assert "is-table" in panel and "data-sample-picture hidden" in panel
    assert "data-live-sample" not in untouched


@pytest.mark.django_db(transaction=True)
def test_an_audio_run_samples_spectrograms_and_the_first_original_clip(owner, settings):
    from pipelines.runner import execute_run
    from pipelines.services import start_run
    from registry import artifact_store, services
    from registry.models import Artifact, Run, StreamEvent
    from tests.dataset_files import audio_zip

    settings.SAMPLE_EVERY_S = 3600  # the first and the last epoch only
    _dataset, version = services.dataset_create(
        owner=owner,
        name="tones",
        modality="audio",
        upload=io.BytesIO(audio_zip(n_per_class=6)),
        original_name="tones.zip",
    )
    experiment = services.experiment_create(owner=owner, name="listen")
    config = {"task": "classification", "template": "audio_cnn", "params": {"epochs": 3}}
    run = start_run(
        owner=owner,
        experiment=experiment,
        name="tones",
        config={"dataset_version": version.pk, "device": "cpu", **config},
    )

    assert execute_run(run.pk) == "succeeded", Run.objects.get(pk=run.pk).error_text

    events = StreamEvent.objects.filter(stream__name=f"run:{run.pk}", type="sample")
    payloads = [event.payload for event in events.order_by("seq")]
    assert [(payload["epoch"], payload["kind"]) for payload in payloads] == [
        (1, "audio"),
        (3, "audio"),
    ]
    clip = Artifact.objects.get(run=run, path="samples/epoch-003.wav")
    assert payloads[-1]["audio_url"] == f"/api/v1/runs/{run.pk}/artifacts/{clip.pk}/"
    with wave.open(str(artifact_store.blob_path(clip.sha256))) as reader:
        # An original clip of the dataset (0.25 s at 8 kHz), not a spectrogram's length.
        assert (reader.getframerate(), reader.getnframes()) == (8000, 2000)
