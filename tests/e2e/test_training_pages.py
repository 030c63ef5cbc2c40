"""A creator starts a training from the page (dataset, target, template, a param, a reordered
brush chain), watches it wait in the queue, and sees it succeed (summary and confusion matrix)
or fail (its error) after the runner trains it in the test process.

The run page follows its run through a websocket (/ws/runs/<id>/), which pytest-django's WSGI
live server cannot serve: here `live_server` is daphne, in a thread of the test process, on the
test database."""

from __future__ import annotations

import io
import math
import re
import socket
import threading
import time

import pytest
from django.test.utils import modify_settings

from pipelines.services import start_run
from registry import services, streams
from registry.models import Run, RunStatus
from tests.dataset_files import IRIS_LIKE_CSV, image_zip
from tests.e2e.pages import log_in
from tests.factories import ExperimentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SPECIES = ["setosa", "versicolor", "virginica"]
# Three species whose measurements overlap: a forest gets most, not all, of them right.
CSV = (
    "petal_length,petal_width,sepal_length,colour,species\n"
    + "\n".join(
        f"{1.4 + (i % 3) * 1.1 + math.sin(i * 2.3):.2f},"
        f"{0.2 + (i % 3) * 0.45 + math.cos(i * 1.3) * 0.45:.2f},"
        f"{4.8 + (i % 3) * 0.5 + math.sin(i * 1.7) * 0.6:.2f},"
        f"{['violet', 'white', 'blue', 'yellow'][i % 4] if i % 9 else ''},"
        f"{SPECIES[i % 3]}"
        for i in range(90)
    )
    + "\n"
).encode()


class AsgiLiveServer:
    """What pytest-django's live server offers the tests (`url`, the ALLOWED_HOSTS it needs),
    served by daphne: pages, static files and websockets."""

    # Twisted's reactor runs once per process: one server for every test of the session.
    url = ""

    def __init__(self) -> None:
        if not AsgiLiveServer.url:
            AsgiLiveServer.url = self._start()
        self._live_server_modified_settings = modify_settings(ALLOWED_HOSTS={"append": "127.0.0.1"})

    @staticmethod
    def _start() -> str:
        from channels.routing import get_default_application
        from daphne.server import Server
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = Server(
            application=ASGIStaticFilesHandler(get_default_application()),
            endpoints=[f"tcp:port={port}:interface=127.0.0.1"],
            signal_handlers=False,
            verbosity=0,
        )
        threading.Thread(target=server.run, name="daphne-live-server", daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("daphne did not start")


@pytest.fixture
def live_server(transactional_db) -> AsgiLiveServer:
    """Overrides pytest-django's (WSGI) live server with daphne: the run page needs its
    websocket."""
    return AsgiLiveServer()


def execute_run(run_id: int) -> str:
    # Imported when used: the runner pulls in the training core (torch, scikit-learn).
    from pipelines.runner import execute_run as run_it

    return run_it(run_id)


def _table(owner, name: str, data: bytes):
    _dataset, version = services.dataset_create(
        owner=owner, name=name, modality="tabular", upload=io.BytesIO(data), original_name="t.csv"
    )
    return version


def _queued_run(username: str, *, experiment: str, dataset: str, data: bytes, name: str, **config):
    """A run of a new creator's, queued through the real `start_run`: it classifies the species
    of a table the creator uploaded; `config` adds the template, params and attempts."""
    owner = UserFactory(username=username)
    experiment_row = ExperimentFactory(owner=owner, name=experiment)
    version = _table(owner, dataset, data)
    return start_run(
        owner=owner,
        experiment=experiment_row,
        name=name,
        config={
            "dataset_version": version.pk,
            "target": "species",
            "task": "classification",
            **config,
        },
    )


def _screenshot(page, screenshot, name: str) -> None:
    # From the top, so the sticky bar and aside sit where a visitor first sees them.
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(name)


def _brush_names(page) -> list[str]:
    return page.locator("[data-brushes] .brush-name").all_inner_texts()


def _check_images_are_offered_their_own_choices(page, images) -> None:
    page.select_option("select[name=dataset_version]", str(images.pk))
    assert page.locator("select[name=target]").is_hidden()
    assert page.locator("[data-task-option=regression] input").is_disabled()
    assert page.locator("input[name=template]:checked").input_value() == "cnn"
    assert page.locator("label.template-card:has(input[value=random_forest])").is_visible()
    assert page.locator("label.template-card:has(input[value=audio_cnn])").is_hidden()
    assert _brush_names(page) == ["image_resize", "image_normalize"]
    assert page.input_value("#brush-0-height") == "32"
    assert "2 classes" in page.locator("[data-version-info]").inner_text()


# The default table brushes (mean, then most frequent) with min_max_scaler added and moved up.
ADDED_ORDER = ["impute", "impute", "one_hot", "standard_scaler", "min_max_scaler"]
EXPECTED_ORDER = ["impute", "impute", "one_hot", "min_max_scaler", "standard_scaler"]


def _fill_the_form(page, version) -> None:
    page.select_option("select[name=dataset_version]", str(version.pk))
    page.select_option("select[name=target]", "species")
    page.locator("label.template-card:has(input[value=random_forest])").click()
    assert page.locator("label.template-card:has(input[value=cnn])").is_hidden()
    assert page.locator("[data-task-option=regression] input").is_enabled()
    page.fill("#param-n_estimators", "30")
    page.fill("#param-max_depth", "6")
    # A fourth brush, added at the end and moved up before the scaler.
    page.select_option("[data-brush-add-select]", "min_max_scaler")
    page.click("[data-brush-add]")
    assert _brush_names(page) == ADDED_ORDER
    page.click("button[aria-label='Move min_max_scaler up']")
    assert _brush_names(page) == EXPECTED_ORDER
    page.locator(".brush-item", has_text="impute").first.locator("summary").click()
    page.select_option("#brush-0-strategy", '"most_frequent"')


def test_creator_starts_a_training_and_watches_it_queue_and_succeed(page, live_server, screenshot):
    owner = UserFactory(username="iris_gardener")
    ExperimentFactory(owner=owner, name="Flower forests")
    version = _table(owner, "iris field notes", CSV)
    _dataset, images = services.dataset_create(
        owner=owner, name="pet sketches", modality="image", upload=io.BytesIO(image_zip())
    )
    log_in(page, live_server.url, "iris_gardener")

    page.click("a:has-text('New training')")
    page.wait_for_url(f"{live_server.url}/train/")
    _check_images_are_offered_their_own_choices(page, images)
    _fill_the_form(page, version)
    page.locator("details.config-preview summary").click()
    _screenshot(page, screenshot, "20-new-training")

    page.fill("#param-n_estimators", "0")  # out of range: the server refuses it
    page.click("[data-train-submit]")
    # Refused: the message sits next to the input, and everything entered is still there.
    page.wait_for_selector(".refusal")
    field = page.locator(".param-field:has(#param-n_estimators)")
    assert "less than the minimum of 1" in field.locator(".errorlist").inner_text()
    assert page.input_value("#param-max_depth") == "6"
    assert _brush_names(page) == EXPECTED_ORDER
    assert not Run.objects.exists()
    _screenshot(page, screenshot, "24-training-refused")

    page.fill("#param-n_estimators", "30")
    assert field.locator(".errorlist").count() == 0
    page.click("[data-train-submit]")
    page.wait_for_url(re.compile(r".*/runs/\d+/$"))

    run = Run.objects.get()
    assert run.status == RunStatus.QUEUED
    assert run.config["params"] == {"n_estimators": 30, "max_depth": 6, "min_samples_leaf": 1}
    assert [brush["name"] for brush in run.config["brushes"]] == [
        "impute",
        "impute",
        "one_hot",
        "min_max_scaler",
        "standard_scaler",
    ]
    assert run.config["brushes"][0]["params"]["strategy"] == "most_frequent"
    assert run.experiment.name == "Flower forests"
    assert page.get_by_text("Waiting for a cpu worker").is_visible()
    _screenshot(page, screenshot, "21-queued-run")

    # The runner trains it here; the page notices the final status by itself and reloads.
    status = execute_run(run.pk)
    run.refresh_from_db()
    assert status == RunStatus.SUCCEEDED, run.error_text
    page.wait_for_selector(".stat-hero", timeout=15_000)
    page.wait_for_function(
        "() => { const img = document.querySelector('.confusion-card img');"
        " return img && img.complete && img.naturalWidth > 0; }",
        timeout=15_000,
    )
    run.refresh_from_db()
    assert page.locator(".stat-hero .stat-key").inner_text() == "test_accuracy"
    assert run.summary["test_accuracy"] > 0.5
    assert page.locator("[data-live-status]").inner_text() == "Succeeded"
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-live-chart]')]"
        ".every(c => c.dataset.state === 'ready')",
        timeout=15_000,
    )
    _screenshot(page, screenshot, "22-succeeded-run")

    page.click("a:has-text('Remix')")
    page.wait_for_url(f"{live_server.url}/runs/{run.pk}/remix/")
    assert page.input_value("input[name=name]") == f"{run.name} remix"
    assert page.input_value("#param-n_estimators") == "30"
    assert _brush_names(page) == EXPECTED_ORDER


def test_a_training_that_fails_shows_its_error(page, live_server, screenshot):
    run = _queued_run(
        "tiny_table",
        experiment="Too little data",
        dataset="six flowers",
        data=IRIS_LIKE_CSV,
        name="forest-on-six-rows",
        template="random_forest",
        params={"n_estimators": 10},
        max_attempts=1,
    )
    assert execute_run(run.pk) == RunStatus.FAILED

    log_in(page, live_server.url, "tiny_table")
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    run.refresh_from_db()
    first_line = run.error_text.strip().splitlines()[0]
    assert page.locator(".failure-head").inner_text() == first_line
    assert (
        page.locator("[data-live-log]")
        .inner_text()
        .strip()
        .endswith(f"finished: failed ({first_line})")
    )
    _screenshot(page, screenshot, "23-failed-run")


def test_the_run_page_follows_a_running_run_and_cancels_it(page, live_server, screenshot):
    run = _queued_run(
        "night_trainer",
        experiment="Flower nets",
        dataset="iris field notes",
        data=CSV,
        name="mlp-64-adam",
        template="mlp",
        params={"epochs": 20, "hidden_units": [64]},
        max_attempts=3,
    )
    # A worker took it (a second time) and is at epoch 7: what the runner's heartbeat stores.
    services.run_claim(run_id=run.pk, device="cpu")
    Run.objects.filter(pk=run.pk).update(attempt=2)
    points = [
        {"key": key, "step": step, "value": value}
        for step in range(7)
        for key, value in (
            ("train_loss", 1.1 * 0.8**step),
            ("val_loss", 1.15 * 0.83**step + 0.02),
            ("val_accuracy", 0.95 - 0.6 * 0.7**step),
        )
    ]
    services.run_log_metrics(run=run, batch=services.check_metric_batch(points))
    services.run_heartbeat(run_id=run.pk, progress={"phase": "train", "epoch": 7, "n_epochs": 20})
    services.run_append_log(
        run_id=run.pk,
        lines=[
            "[21:04:10] attempt 2 of 3 on cpu (4 threads); template mlp",
            "[21:04:10] load dataset…",
            "[21:04:10] split…",
            "[21:04:11] preprocess…",
            "[21:04:11] train…",
            *(
                f"[21:04:{12 + epoch}] epoch {epoch + 1}: train_loss {1.1 * 0.8**epoch:.4f}"
                for epoch in range(7)
            ),
        ],
    )
    log_in(page, live_server.url, "night_trainer")
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    assert page.locator("[data-live-phase]").inner_text() == "Training · epoch 7 of 20"
    assert page.locator("[data-live-attempt]").inner_text() == "Attempt 2 of 3"
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-live-chart]')]"
        ".every(c => c.dataset.state === 'ready' && c.dataset.points === '7')",
        timeout=15_000,
    )
    page.wait_for_selector("[data-live-indicator][data-state=open]")
    _screenshot(page, screenshot, "25-running-run")

    # What the worker reports after the next epoch arrives through the stream: no reload.
    page.evaluate("window.__sameDocument = true")
    services.run_log_metrics(
        run=run,
        batch=services.check_metric_batch([{"key": "val_loss", "step": 7, "value": 0.3}]),
    )
    services.run_report_progress(
        run_id=run.pk,
        progress={"phase": "train", "epoch": 8, "n_epochs": 20, "percent": 40.0, "eta_s": 81.7},
    )
    services.run_append_log(run_id=run.pk, lines=["[21:04:19] epoch 8: train_loss 0.2307"])
    page.wait_for_function(
        "() => document.querySelector('[data-live-phase]').textContent.includes('epoch 8 of 20')",
        timeout=10_000,
    )
    page.wait_for_function(
        "() => document.querySelector('[data-live-log]').textContent.includes('epoch 8: train')",
        timeout=10_000,
    )
    page.wait_for_selector("[data-live-chart='val_loss'][data-points='8']", timeout=10_000)
    assert page.locator("[data-live-chart='train_loss']").get_attribute("data-points") == "7"
    assert page.locator("[data-live-percent]").inner_text() == "40%"
    assert page.locator("[data-live-eta]").inner_text() == "about 1 min 20 s left"
    assert page.evaluate("window.__sameDocument") is True

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Cancel run')")
    page.wait_for_selector("text=Cancel requested…")
    run.refresh_from_db()
    assert run.cancel_requested_at is not None
    assert page.locator("[data-live-cancel]").is_visible()

    # The worker stops at its next batch; the badge says so at once, and once the stream is
    # quiet the page reloads (the server renders the ended run).
    services.run_finish(run=run, status=RunStatus.CANCELLED, error_text="Cancelled while training.")
    page.wait_for_selector("[data-live-status].badge-cancelled", timeout=10_000)
    page.wait_for_selector("[data-run-live]", state="detached", timeout=10_000)
    assert page.locator("[data-live-status]").inner_text() == "Cancelled"
    assert page.get_by_text("Cancelled while training.").is_visible()


def _log_val_loss(run, steps) -> None:
    points = [{"key": "val_loss", "step": step, "value": 1.0 / (step + 1)} for step in steps]
    services.run_log_metrics(run=run, batch=services.check_metric_batch(points))


def test_the_run_page_reconnects_after_a_dropped_connection_and_misses_nothing(page, live_server):
    run = _queued_run(
        "patchy_wifi",
        experiment="Patchy nets",
        dataset="iris field notes",
        data=CSV,
        name="mlp-on-the-train",
        template="mlp",
        params={"epochs": 20},
    )
    services.run_claim(run_id=run.pk, device="cpu")
    _log_val_loss(run, range(3))
    sockets = []  # (page side, server side) of each connection the page opens

    def through(socket_route) -> None:
        sockets.append((socket_route, socket_route.connect_to_server()))

    page.route_web_socket(re.compile(r".*/ws/runs/\d+/.*"), through)
    log_in(page, live_server.url, "patchy_wifi")
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.wait_for_selector("[data-live-chart='val_loss'][data-points='3']", timeout=15_000)
    page.wait_for_selector("[data-live-indicator][data-state=open]")
    page.evaluate("window.__sameDocument = true")
    seen = streams.stream_head(streams.run_stream(run.pk))

    # The connection drops (a proxy restarts); meanwhile the run logs two more epochs.
    first_page_side, first_server_side = sockets[0]
    first_page_side.close(code=1012, reason="restarting")
    first_server_side.close()
    page.wait_for_selector("[data-live-indicator][data-state=reconnecting]", timeout=5_000)
    _log_val_loss(run, range(3, 5))

    # Back after a second, from where it was: the missed epochs once each, then new ones.
    page.wait_for_selector("[data-live-chart='val_loss'][data-points='5']", timeout=15_000)
    page.wait_for_selector("[data-live-indicator][data-state=open]")
    assert len(sockets) == 2
    assert sockets[1][0].url.endswith(f"/ws/runs/{run.pk}/?after={seen}")
    _log_val_loss(run, [5])
    page.wait_for_selector("[data-live-chart='val_loss'][data-points='6']", timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("[data-live-chart='val_loss']").get_attribute("data-points") == "6"
