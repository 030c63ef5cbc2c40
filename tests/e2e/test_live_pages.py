"""A creator watches a real training live: a qcluster worker trains an MLP on the demo digits
while the run page (served by uvicorn, fed by the run's websocket stream) grows its charts,
moves its progress bar and ETA and appends to its log, without reloading until the run ends;
the experiment page's badge flips to Succeeded by itself.

Separate processes against a private database (tests/studio.py), like `make run`: nothing here
uses the test database of pytest-django.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOT_DIR
from tests.e2e.pages import log_in
from tests.studio import ROOT, Studio

USERNAME, PASSWORD = "worker-test", "worker-test-password-1"
UPLOT_INSTALLED = (ROOT / "node_modules" / "uplot" / "dist" / "uPlot.iife.min.js").is_file()
# Generous: two cores shared with other test runs.
TRAINING_TIMEOUT_MS = 150_000


class LiveStudio:
    def __init__(self, studio: Studio, version: int, base_url: str, config_dir: Path) -> None:
        self.studio, self.version, self.base_url = studio, version, base_url
        self.config_dir = config_dir
        self.worker: subprocess.Popen | None = None

    def queue(self, experiment: str, name: str, epochs: int) -> tuple[int, int]:
        """Queues an MLP run through `manage.py train`; returns (run id, experiment id)."""
        request = {
            "experiment": experiment,
            "name": name,
            "config": {
                "dataset_version": self.version,
                "task": "classification",
                "template": "mlp",
                "device": "cpu",
                "params": {"epochs": epochs, "patience": epochs, "batch_size": 32},
            },
        }
        config_file = self.config_dir / f"{name}.json"
        config_file.write_text(json.dumps(request))
        output = self.studio.manage("train", str(config_file), "--user", USERNAME)
        run_id = int(output.split("run ")[1].split()[0])
        experiment_id = self.studio.query(
            "SELECT experiment_id FROM registry_run WHERE id = ?", (run_id,)
        )[0][0]
        return run_id, experiment_id

    def start_worker(self) -> None:
        if self.worker is None:
            self.worker = self.studio.start_worker()

    def stop_worker(self) -> None:
        """Kills the (idle) worker, so that the next run waits in the queue until we say."""
        if self.worker is not None:
            self.studio.kill(self.worker)
            self.worker = None

    def status(self, run_id: int) -> str:
        return self.studio.run_state(run_id)[0]


@pytest.fixture(scope="module")
def live_studio(tmp_path_factory) -> Iterator[LiveStudio]:
    studio = Studio(tmp_path_factory.mktemp("live-studio"))
    try:
        studio.manage("migrate", "--noinput", "-v0")
        version = studio.setup_digits()
        base_url = studio.serve()
        yield LiveStudio(studio, version, base_url, tmp_path_factory.mktemp("configs"))
    finally:
        studio.close()


# The val_loss chart holds at least `points` points and the progress bar is past `percent`
# (metrics and progress are separate messages: wait for both).
GROWN = """([points, percent]) => {
    const chart = document.querySelector("[data-live-chart='val_loss']");
    const bar = document.querySelector("[data-run-live] [role=progressbar]");
    return Boolean(chart && bar && bar.hasAttribute("aria-valuenow"))
        && Number(chart.dataset.points) >= points
        && Number(bar.getAttribute("aria-valuenow")) > percent;
}"""


def _points(page, key: str) -> int:
    return int(page.get_attribute(f"[data-live-chart='{key}']", "data-points"))


def _percent(page) -> float:
    return float(page.get_attribute("[data-run-live] [role=progressbar]", "aria-valuenow"))


def _screenshot(page, screenshot, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(name)


def test_the_run_page_grows_its_charts_while_a_real_run_trains(page, live_studio, screenshot):
    run_id, _ = live_studio.queue("live pages", "mlp-60-epochs", epochs=60)
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))
    log_in(page, live_studio.base_url, USERNAME, PASSWORD)
    page.goto(f"{live_studio.base_url}/runs/{run_id}/")
    page.evaluate("window.__sameDocument = true")
    loads.clear()
    page.wait_for_selector("[data-live-indicator][data-state=open]", timeout=20_000)
    assert page.locator("[data-live-phase]").inner_text().startswith("Waiting for a cpu worker")

    live_studio.start_worker()
    page.wait_for_function(GROWN, arg=[3, 0], timeout=TRAINING_TIMEOUT_MS)
    first_points, first_percent = _points(page, "val_loss"), _percent(page)
    assert page.locator("[data-live-status]").inner_text() == "Running"
    assert re.fullmatch(
        r"Training · epoch \d+ of 60", page.locator("[data-live-phase]").inner_text()
    )
    assert page.locator("[data-live-device]").inner_text() == "cpu"  # the worker's device
    _screenshot(page, screenshot, "40-live-run-early")

    page.wait_for_function(
        GROWN, arg=[first_points + 8, first_percent], timeout=TRAINING_TIMEOUT_MS
    )
    later_points, later_percent = _points(page, "val_loss"), _percent(page)
    eta = page.locator("[data-live-eta]").inner_text()
    # Every chart of the run grows, drawn by the library npm installed (or the fallback).
    charts = page.locator("[data-live-chart]")
    assert charts.count() >= 3
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.get_attribute("data-state") == "ready"
        assert chart.get_attribute("data-renderer") == ("uplot" if UPLOT_INSTALLED else "builtin")
    log_text = page.locator("[data-live-log]").inner_text()
    _hover_the_chart(page, "val_loss")
    page.locator("[data-live-chart='val_loss']").screenshot(
        path=str(SCREENSHOT_DIR / "41-live-chart-tooltip.png")
    )
    _screenshot(page, screenshot, "41-live-run-later")
    assert page.evaluate("window.__sameDocument") is True and loads == []

    assert later_points >= first_points + 8
    assert later_percent > first_percent
    assert re.fullmatch(r"about (\d+ min )?\d+ s left|about \d+ min left|almost done", eta), eta
    assert re.search(r"epoch \d+", log_text)
    _check_the_experiments_list_shows_it_training(page, live_studio.base_url, run_id)

    # The end: the page reloads once, by itself, and shows the result rendered by the server.
    page.wait_for_selector(".stat-hero", timeout=TRAINING_TIMEOUT_MS)  # only the server renders it
    assert live_studio.status(run_id) == "succeeded"
    _wait_for_the_load_event(page, loads)
    assert loads == [page.url]
    assert page.evaluate("window.__sameDocument") is None
    assert page.locator("[data-live-status]").inner_text() == "Succeeded"
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-live-chart]')]"
        ".every(c => c.dataset.state === 'ready')",
        timeout=15_000,
    )
    assert _points(page, "val_loss") == 60
    _screenshot(page, screenshot, "42-live-run-finished")


def _wait_for_the_load_event(page, loads: list[str]) -> None:
    """The server's markup shows before the reloaded page's "load" event reaches Python; wait
    for that event (up to 10 s) so that the one-reload check does not race it."""
    page.wait_for_load_state("load")
    deadline = time.monotonic() + 10
    while not loads and time.monotonic() < deadline:
        page.wait_for_timeout(50)


def _hover_the_chart(page, key: str) -> None:
    """The tooltip shows the step and the value under the pointer."""
    plot = page.locator(f"[data-live-chart='{key}'] [data-live-chart-plot]")
    box = plot.bounding_box()
    plot.hover(position={"x": box["width"] * 0.7, "y": box["height"] * 0.45})
    if UPLOT_INSTALLED:
        tip = page.locator(f"[data-live-chart='{key}'] [data-live-chart-tip]")
        tip.wait_for(state="visible", timeout=5_000)
        assert re.fullmatch(r"step \d+\s*[-\d.e]+", tip.inner_text().replace("\n", " ").strip())


def _check_the_experiments_list_shows_it_training(page, base_url: str, run_id: int) -> None:
    """Another tab: the experiments list's "Training now" lists the run, badge and all."""
    other = page.context.new_page()
    try:
        other.goto(f"{base_url}/experiments/")
        item = other.locator(f"[data-live-runs] [data-live-run='{run_id}']")
        item.wait_for(state="visible", timeout=15_000)
        assert item.locator(f"[data-run-status='{run_id}']").inner_text() == "Running"
        assert "mlp-60-epochs" in item.inner_text()
        other.screenshot(path=str(SCREENSHOT_DIR / "43-experiments-training-now.png"))
    finally:
        other.close()


def test_the_experiment_page_badge_flips_to_succeeded_without_a_reload(
    page, live_studio, screenshot
):
    live_studio.stop_worker()  # both runs wait in the queue until the page watches them
    run_id, experiment_id = live_studio.queue("badges", "mlp-4-epochs", epochs=4)
    log_in(page, live_studio.base_url, USERNAME, PASSWORD)
    page.goto(f"{live_studio.base_url}/experiments/{experiment_id}/")
    page.evaluate("window.__sameDocument = true")
    badge = page.locator(f"[data-run-status='{run_id}']")
    assert badge.inner_text() == "Queued"
    page.wait_for_selector("[data-live-indicator][data-state=open]", state="attached")
    assert page.locator("[data-live-runs]").is_hidden()  # its one run is in the table

    # A run started elsewhere (a script, another tab) shows up above the table.
    newer_id, _ = live_studio.queue("badges", "mlp-3-epochs", epochs=3)
    newer = page.locator(f"[data-live-runs] [data-live-run='{newer_id}']")
    newer.wait_for(state="visible", timeout=20_000)
    assert newer.locator(f"[data-run-status='{newer_id}']").inner_text() == "Queued"

    live_studio.start_worker()
    for waited in (run_id, newer_id):
        page.wait_for_selector(
            f"[data-run-status='{waited}'].badge-succeeded", timeout=TRAINING_TIMEOUT_MS
        )
    assert badge.inner_text() == "Succeeded"
    assert newer.locator(f"[data-run-status='{newer_id}']").inner_text() == "Succeeded"
    assert page.evaluate("window.__sameDocument") is True
    assert live_studio.status(run_id) == live_studio.status(newer_id) == "succeeded"
    _screenshot(page, screenshot, "44-experiment-badges-succeeded")


@pytest.fixture(scope="module")
def finished_run(live_studio) -> int:
    """A run that ended: its page opens no stream and never reloads by itself."""
    run_id, _ = live_studio.queue("long series", "mlp-1-epoch", epochs=1)
    live_studio.start_worker()
    live_studio.studio.wait_for(
        lambda: live_studio.status(run_id) == "succeeded", timeout_s=150, what="a short run"
    )
    return run_id


# Hides the uPlot that the page loads, as on a machine without npm.
WITHOUT_UPLOT = "Object.defineProperty(window, 'uPlot', {get() {}, set() {}});"


@pytest.mark.parametrize("renderer", ["uplot", "builtin"])
def test_a_chart_of_100_000_points_draws_a_bounded_view(page, live_studio, finished_run, renderer):
    """The newest points stay exact, the rest is reduced to about two per pixel column; with
    uPlot or, where npm did not install it, with the studio's own renderer."""
    if renderer == "uplot" and not UPLOT_INSTALLED:
        pytest.skip("uPlot is not installed (make npm)")
    if renderer == "builtin":
        page.add_init_script(WITHOUT_UPLOT)
    log_in(page, live_studio.base_url, USERNAME, PASSWORD)
    page.goto(f"{live_studio.base_url}/runs/{finished_run}/")
    page.wait_for_function(
        "() => window.CanvasCraftLiveCharts && document.readyState === 'complete'"
    )
    drawn = page.evaluate(STRESS_SCRIPT)
    figure = page.locator("[data-live-chart='stress']")
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=str(SCREENSHOT_DIR / f"45-chart-100k-{renderer}.png"))

    assert drawn["points"] == 100_000
    assert drawn["state"] == "ready"
    assert drawn["renderer"] == renderer
    assert window_budget(drawn["width"]) >= drawn["drawn"] > 500
    assert drawn["meta"] == "0.12572 at step 99,999 · 100,000 points"
    if renderer == "builtin":  # charts.js marks the canvas it drew
        assert figure.locator("canvas.chart").get_attribute("data-state") == "drawn"


# 100,000 points: a 1,000-point snapshot, then batches of 5,000; two frames later, what is drawn.
STRESS_SCRIPT = """async () => {
    const charts = window.CanvasCraftLiveCharts;
    const figure = charts.card("stress");
    document.querySelector("main").appendChild(figure);
    const chart = charts.attach(figure, {key: "stress"});
    const points = [];
    for (let step = 0; step < 100000; step++) {
        points.push([step, Math.sin(step / 500) + step / 1e5]);
    }
    chart.replace(points.slice(0, 1000), 1000);
    for (let start = 1000; start < 100000; start += 5000) {
        chart.append(points.slice(start, start + 5000));
    }
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    await frame();
    await frame();
    return {
        points: Number(figure.dataset.points),
        drawn: Number(figure.dataset.drawnPoints),
        width: figure.querySelector("[data-live-chart-plot]").clientWidth,
        state: figure.dataset.state,
        renderer: figure.dataset.renderer,
        meta: figure.querySelector("[data-live-chart-meta]").textContent,
    };
}"""


def window_budget(width: int) -> int:
    """First point, min and max per pixel column, and the newest 500 points exact."""
    return 1 + 2 * max(50, width) + 500
