"""A creator opens a sweep of 300 trials: the optimisation history, parallel coordinates,
parameter importances and Pareto front draw (with uPlot, and with the studio's own renderer
where npm did not install it), and a trial that starts and then beats every other one shows up
in the table, the counts, the history and the best-trial card without a reload. The sweep list
follows its sweeps' status.

Served by daphne (tests/e2e/test_training_pages.py's live server): the pages follow the sweep's
websocket stream.
"""

from __future__ import annotations

import pytest

from registry import services
from registry.models import SweepStatus, SweepTrial, TrialState
from registry.services import live
from tests.e2e.conftest import SCREENSHOT_DIR
from tests.e2e.pages import log_in
from tests.e2e.test_training_pages import AsgiLiveServer
from tests.factories import UserFactory
from tests.studio import ROOT
from tests.sweep_rows import add_trials, make_sweep

pytestmark = pytest.mark.django_db(transaction=True)

UPLOT_INSTALLED = (ROOT / "node_modules" / "uplot" / "dist" / "uPlot.iife.min.js").is_file()
# Hides the uPlot that the page loads, as on a machine without npm.
WITHOUT_UPLOT = "Object.defineProperty(window, 'uPlot', {get() {}, set() {}});"
CHARTS = ["history", "importances", "parallel", "pareto"]
N_TRIALS = 300


@pytest.fixture
def live_server(transactional_db) -> AsgiLiveServer:
    return AsgiLiveServer()


def _charts_settled(page) -> dict[str, str]:
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-sweep-chart]')]"
        ".every((figure) => figure.dataset.state !== 'loading')",
        timeout=20_000,
    )
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('[data-sweep-chart]')]"
        ".map((figure) => [figure.dataset.sweepChart, figure.dataset.state]))"
    )


def _figure_screenshot(page, figure, name: str) -> None:
    # Below the sticky top bar, which would otherwise cover the figure's top.
    figure.evaluate("(node) => window.scrollTo(0, node.offsetTop - 90)")
    figure.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"))


def _screenshot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("renderer", ["uplot", "builtin"])
def test_a_sweep_of_300_trials_draws_its_charts_and_follows_new_trials(page, live_server, renderer):
    if renderer == "uplot" and not UPLOT_INSTALLED:
        pytest.skip("uPlot is not installed (make npm)")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    owner = UserFactory(username="sweep_painter")
    sweep = make_sweep(owner, n_trials=N_TRIALS, n_objectives=2, n_running=3, name="brush sizes")
    n_complete = SweepTrial.objects.filter(sweep=sweep, state=TrialState.COMPLETE).count()
    if renderer == "builtin":
        page.add_init_script(WITHOUT_UPLOT)
    log_in(page, live_server.url, "sweep_painter")

    page.goto(f"{live_server.url}/sweeps/{sweep.pk}/")
    states = _charts_settled(page)

    assert states == dict.fromkeys(CHARTS, "ready")
    for chart in CHARTS:
        assert page.locator(f"[data-sweep-chart='{chart}'] canvas").count() >= 1, chart
    history = page.locator("[data-sweep-chart='history']")
    assert history.get_attribute("data-points") == str(n_complete)
    assert bool(history.locator(".uplot").count()) == (renderer == "uplot")
    parallel = page.locator("[data-sweep-chart='parallel'] canvas.sweep-canvas")
    assert parallel.get_attribute("data-lines") == str(n_complete)
    assert int(page.locator("[data-sweep-chart='pareto'] canvas").get_attribute("data-front")) > 0
    assert page.locator("[data-trial-rows] tr").count() == 50
    n_front = int(page.locator("[data-sweep-chart='pareto'] canvas").get_attribute("data-front"))
    assert page.locator("[data-front-rows] tr").count() == min(12, n_front)
    page.wait_for_selector("[data-live-indicator][data-state='open']")
    _screenshot(page, f"60-sweep-page-{renderer}")

    # A new trial starts, reports, and ends better than every other one.
    [trial] = add_trials(sweep, [N_TRIALS], n_running=1)
    live.announce_trial(trial)
    page.wait_for_selector(f"[data-trial-rows] tr[data-trial='{N_TRIALS}']")
    assert page.locator("[data-trial-rows] tr").first.get_attribute("data-trial") == str(N_TRIALS)
    assert page.locator("[data-trial-rows] tr").count() == 50
    assert page.locator("[data-sweep-count='running']").inner_text() == "4"
    services.trial_finish(trial=trial, state=TrialState.COMPLETE, values=[0.05, 40.0])
    page.wait_for_function(
        f"() => document.querySelector('[data-sweep-best]').dataset.bestNumber === '{N_TRIALS}'"
    )
    page.wait_for_function(
        "() => document.querySelector(\"[data-sweep-chart='history']\").dataset.points"
        f" === '{n_complete + 1}'"
    )
    # It dominates every other trial: once the front is read again, it is the whole front.
    page.wait_for_function(
        "() => document.querySelector(\"[data-sweep-chart='pareto'] canvas\").dataset.front === '1'"
    )
    assert page.locator("[data-front-rows] tr").count() == 1
    row = page.locator(f"[data-trial-rows] tr[data-trial='{N_TRIALS}']")
    assert row.locator("[data-trial-state]").inner_text() == "Complete"
    assert row.locator("[data-trial-value='0']").inner_text() == "0.05"
    assert row.locator("[data-trial-value='1']").inner_text() == "40"
    assert page.locator("[data-best-value='0']").inner_text() == "0.05"
    assert page.locator("[data-sweep-count='running']").inner_text() == "3"
    assert page.locator("[data-sweep-count='complete']").inner_text() == str(n_complete + 1)
    remix = page.locator("[data-best-remix]").get_attribute("href")
    assert remix == f"/runs/{trial.run_id}/remix/"
    publish = page.locator("[data-best-publish]").get_attribute("action")
    assert publish == f"/runs/{trial.run_id}/publish/"
    _screenshot(page, f"61-sweep-page-after-a-new-best-{renderer}")
    _figure_screenshot(
        page, page.locator("[data-sweep-chart='parallel']"), f"62-sweep-parallel-{renderer}"
    )


def test_10_000_trials_draw_in_a_blink(page, live_server):
    """One line per trial in the parallel coordinates, 10,000 of them: drawn in well under the
    time a person notices (batched by colour, one path per colour)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    owner = UserFactory(username="sweep_marathoner")
    sweep = make_sweep(owner, n_trials=10_000, name="ten thousand strokes", with_runs=False)
    n_complete = SweepTrial.objects.filter(sweep=sweep, state=TrialState.COMPLETE).count()
    log_in(page, live_server.url, "sweep_marathoner")

    page.goto(f"{live_server.url}/sweeps/{sweep.pk}/")
    states = _charts_settled(page)

    assert states == dict.fromkeys(["history", "importances", "parallel"], "ready")
    figure = page.locator("[data-sweep-chart='parallel']")
    assert figure.locator("canvas").get_attribute("data-lines") == str(n_complete)
    draw_ms = int(figure.get_attribute("data-draw-ms"))
    print(f"parallel coordinates of {n_complete:,} trials drawn in {draw_ms} ms")
    assert draw_ms < 250
    _figure_screenshot(page, figure, "64-sweep-parallel-10000")
    _figure_screenshot(page, page.locator("[data-sweep-chart='history']"), "65-sweep-history-10000")


def test_the_sweep_list_follows_its_sweeps(page, live_server):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    owner = UserFactory(username="sweep_lister")
    running = make_sweep(owner, n_trials=40, n_running=2, name="watercolour widths", budget=80)
    make_sweep(owner, n_trials=25, name="ink lr", status=SweepStatus.SUCCEEDED)
    log_in(page, live_server.url, "sweep_lister")

    page.goto(f"{live_server.url}/sweeps/")
    page.wait_for_selector("[data-live-indicator][data-state='open']")
    _screenshot(page, "63-sweep-list")

    services.sweep_set_status(sweep=running, status=SweepStatus.STOPPED)
    row = page.locator(f"[data-sweep-row='{running.pk}']")
    page.wait_for_function(
        f"() => document.querySelector(\"[data-sweep-row='{running.pk}'] [data-sweep-status]\")"
        ".textContent === 'Stopped'"
    )
    assert "badge-stopped" in row.locator("[data-sweep-status]").get_attribute("class")
