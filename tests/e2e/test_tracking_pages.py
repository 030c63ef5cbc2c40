"""A creator logs in, browses experiments, opens a run with its charts and compares runs."""

from __future__ import annotations

import pytest
from django.conf import settings

from gallery.demo import seed_demo
from registry.models import Experiment, Run, RunStatus
from tests.e2e.pages import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_creator_browses_experiments_and_a_run(page, live_server, screenshot, settings, tmp_path):
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    seed_demo()
    log_in(page, live_server.url, *settings.DEMO_CREATOR)
    screenshot("01-home")

    page.click("nav >> text=Experiments")
    page.wait_for_url(f"{live_server.url}/experiments/")
    for experiment in Experiment.objects.all():
        assert page.get_by_text(experiment.name).first.is_visible()
    screenshot("02-experiments")

    experiment = Experiment.objects.get(name="Digit doodles")
    page.goto(f"{live_server.url}/experiments/{experiment.pk}/?filter=val_acc+>+0.9")
    expected = Run.objects.filter(
        experiment=experiment, summaries__key="val_acc", summaries__last_value__gt=0.9
    ).count()
    assert 0 < expected < experiment.runs.count()
    assert page.locator("tbody tr").count() == expected
    screenshot("03-experiment-filtered")

    run = Run.objects.filter(experiment=experiment, status=RunStatus.SUCCEEDED).first()
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    assert page.get_by_text(run.name).first.is_visible()
    assert page.get_by_text("model_card.md").first.is_visible()
    # Charts are drawn once their series arrive from the API (a finished run opens no stream).
    assert page.locator("[data-live-chart]").count() == len(run.summaries.all())
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-live-chart]')]"
        ".every(c => c.dataset.state === 'ready' && Number(c.dataset.points) > 0)",
        timeout=15_000,
    )
    screenshot("04-run")


def test_creator_compares_two_runs(page, live_server, screenshot, settings, tmp_path):
    settings.ARTIFACT_DIR = tmp_path / "artifacts"
    settings.SEED_DEMO_MODELS = False
    seed_demo()
    log_in(page, live_server.url, *settings.DEMO_CREATOR)
    first, second = Run.objects.filter(experiment__name="Digit doodles").order_by("id")[:2]
    page.goto(f"{live_server.url}/runs/compare/?ids={first.pk},{second.pk}")
    assert page.get_by_text(first.name).first.is_visible()
    assert page.get_by_text(second.name).first.is_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-metric-key]')]"
        ".every(c => c.dataset.state === 'drawn')",
        timeout=15_000,
    )
    screenshot("05-compare")


def test_creator_creates_an_api_token_shown_once(page, live_server, screenshot):
    seed_demo()
    log_in(page, live_server.url, *settings.DEMO_CREATOR)
    page.goto(f"{live_server.url}/accounts/profile/")
    page.fill("input[name=name]", "notebook")
    page.click("form:has(input[name=name]) button[type=submit]")
    key = page.locator("code", has_text="cc_").first.inner_text().strip()
    assert key.startswith("cc_")
    screenshot("06-profile-token")
    page.reload()
    assert page.locator("code", has_text=key).count() == 0
