"""Training pages: the "New training" form, remix, cancel, the run log and what the run page shows
about a run the studio trains.

Runs are queued through the real `start_run`; nothing trains here (the browser tests train one).
With the ORM broker, queueing happens on commit, which a test transaction never reaches: the
captured on-commit callbacks show that exactly one run was handed to the queue.
"""

from __future__ import annotations

import io
import json

import pytest
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from registry import services
from registry.models import Experiment, Run, RunStatus
from tests.clients import signed_in
from tests.dataset_files import IRIS_LIKE_CSV, image_zip
from tests.factories import ExperimentFactory, RunFactory

pytestmark = pytest.mark.django_db

BRUSHES = [
    {"name": "impute", "params": {"strategy": "median"}},
    {"name": "standard_scaler", "params": {}},
]


def create_dataset(owner, modality: str, data: bytes, name: str, **extra):
    _dataset, version = services.dataset_create(
        owner=owner,
        name=name,
        modality=modality,
        upload=io.BytesIO(data),
        original_name=f"{name}.{'csv' if modality == 'tabular' else 'zip'}",
        **extra,
    )
    return version


@pytest.fixture
def table(owner):
    return create_dataset(owner, "tabular", IRIS_LIKE_CSV, "iris")


def form_data(experiment, version, *, params=None, brushes=BRUSHES, **overrides) -> dict:
    """What the page posts: the plain fields plus the editor's JSON in `config`."""
    editor = {"params": {"n_estimators": 25} if params is None else params, "brushes": brushes}
    data = {
        "experiment": str(experiment.pk) if experiment else "new",
        "new_experiment": "",
        "name": "forest-25",
        "dataset_version": str(version.pk),
        "target": "species",
        "task": "classification",
        "template": "random_forest",
        "device": "cpu",
        "seed": "7",
        "validation_fraction": "0.2",
        "test_fraction": "0.25",
        "timeout_s": "",
        "config": json.dumps(editor),
    }
    return {**data, **overrides}


def studio_run(experiment, version, **fields) -> Run:
    config = {
        "dataset_version": version.pk,
        "target": "species",
        "task": "classification",
        "template": "random_forest",
        "brushes": BRUSHES,
        "params": {"n_estimators": 25, "max_depth": None, "min_samples_leaf": 1},
        "device": "cpu",
        "seed": 7,
        "validation_fraction": 0.2,
        "test_fraction": 0.25,
        "timeout_s": 600,
        "max_attempts": 3,
    }
    defaults = {"status": RunStatus.QUEUED, "config": config, "device_class": "cpu"}
    return RunFactory(experiment=experiment, **{**defaults, **fields})


# ---------- the form ----------
def test_the_form_offers_own_and_public_datasets_but_not_others_private_ones(
    owner_pages, owner, stranger, table
):
    public = create_dataset(stranger, "image", image_zip(), "shared moods", visibility="public")
    private = create_dataset(stranger, "tabular", IRIS_LIKE_CSV, "secret flowers")

    response = owner_pages.get("/train/")

    assert response.status_code == 200
    versions = response.context["page_data"]["versions"]
    assert set(versions) == {str(table.pk), str(public.pk)}
    assertContains(response, "iris · v1 · 6 rows")
    assertContains(response, "shared moods · v1 · 6 samples")
    assertNotContains(response, "secret flowers")
    assert str(private.pk) not in versions
    assert versions[str(table.pk)]["columns"][-1] == {"name": "species", "type": "categorical"}
    assert versions[str(public.pk)]["classes"] == ["cats", "dogs"]
    assert [b["name"] for b in versions[str(table.pk)]["default_brushes"]] == [
        "impute",
        "impute",
        "one_hot",
        "standard_scaler",
    ]


def test_the_form_starts_on_the_version_named_in_the_link(owner_pages, table):
    response = owner_pages.get(f"/train/?dataset_version={table.pk}")

    form = response.context["form"]
    assert form["dataset_version"].value() == table.pk
    assert form["target"].value() == "species"
    assert form["template"].value() == "random_forest"
    assert form["experiment"].value() == "new"
    assertContains(response, 'value="random_forest" checked')
    template_names = {t["name"] for t in response.context["page_data"]["templates"]}
    assert {"random_forest", "mlp", "cnn", "audio_cnn"} <= template_names


def test_without_data_the_form_points_to_the_upload(owner_pages):
    response = owner_pages.get("/train/")

    assertContains(response, "No data to train on yet")
    assertContains(response, 'href="/datasets/new/"')
    assertNotContains(response, "data-training-form")


def test_the_form_needs_a_login(client):
    response = client.get("/train/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# ---------- starting ----------
def test_a_valid_post_queues_a_run_with_its_config_and_opens_it(
    owner_pages, owner, experiment, table, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = owner_pages.post("/train/", form_data(experiment, table), follow=True)

    run = Run.objects.get()
    assertRedirects(response, f"/runs/{run.pk}/")
    # One task enqueued on commit (with Redis, the live status pushes join it on commit too).
    enqueued = [c for c in queued if "append_event" not in c.__qualname__]
    assert len(enqueued) == 1
    assert (run.status, run.owner, run.experiment, run.name) == (
        RunStatus.QUEUED,
        owner,
        experiment,
        "forest-25",
    )
    assert run.remix_of is None
    assert run.device_class == "cpu"
    config = run.config
    assert config["dataset_version"] == table.pk
    assert (config["target"], config["task"], config["template"]) == (
        "species",
        "classification",
        "random_forest",
    )
    assert config["params"] == {"n_estimators": 25, "max_depth": None, "min_samples_leaf": 1}
    assert [brush["name"] for brush in config["brushes"]] == ["impute", "standard_scaler"]
    assert config["brushes"][0]["params"]["strategy"] == "median"
    assert (config["seed"], config["validation_fraction"], config["test_fraction"]) == (
        7,
        0.2,
        0.25,
    )
    assert config["timeout_s"] == 600  # the template's own budget
    assertContains(response, "Training “forest-25” queued.")
    assertContains(response, "Waiting for a cpu worker")


def test_a_new_experiment_is_created_with_the_run(owner_pages, owner, table):
    data = form_data(None, table, new_experiment="Flower forests", timeout_s="120")

    response = owner_pages.post("/train/", data)

    run = Run.objects.get()
    assert response.status_code == 302
    assert run.experiment.name == "Flower forests"
    assert run.experiment.owner == owner
    assert run.config["timeout_s"] == 120


def test_without_editor_json_the_defaults_are_used(owner_pages, experiment, table):
    response = owner_pages.post("/train/", form_data(experiment, table, config=""))

    run = Run.objects.get()
    assert response.status_code == 302
    assert run.config["params"]["n_estimators"] == 200
    assert [brush["name"] for brush in run.config["brushes"]] == [
        "impute",
        "impute",
        "one_hot",
        "standard_scaler",
    ]


def assert_refused(response, *messages: str) -> None:
    assert response.status_code == 400
    assertContains(response, "Training not started", status_code=400)
    for message in messages:
        assertContains(response, message, status_code=400)
    assert not Run.objects.exists()


def test_a_template_that_does_not_fit_the_data_is_refused_at_the_field(
    owner_pages, experiment, table
):
    response = owner_pages.post("/train/", form_data(experiment, table, template="cnn"))

    assert_refused(response, "cnn does not train on tabular data")
    assert response.context["form"].errors["template"] == ["cnn does not train on tabular data"]


def test_an_unknown_template_is_refused(owner_pages, experiment, table):
    response = owner_pages.post("/train/", form_data(experiment, table, template="magic"))

    assert_refused(response, "unknown template")
    assert "template" in response.context["form"].errors


def test_a_missing_target_is_refused_next_to_the_target(owner_pages, experiment, table):
    response = owner_pages.post("/train/", form_data(experiment, table, target=""))

    assert_refused(response)
    errors = response.context["form"].errors["target"]
    assert errors == ["pick one of the columns: sepal_length, sepal_width, species"]


def test_a_param_out_of_range_is_refused_next_to_its_input_and_kept(
    owner_pages, table, django_capture_on_commit_callbacks
):
    data = form_data(None, table, new_experiment="never made", params={"n_estimators": 0})

    with django_capture_on_commit_callbacks() as queued:
        response = owner_pages.post("/train/", data)

    assert_refused(response, "n_estimators")
    assert queued == []
    assert not Experiment.objects.exists()  # the new experiment went with the refusal
    page_data = response.context["page_data"]
    message = page_data["errors"]["params"]["n_estimators"]
    assert "0 is less than the minimum of 1" in message
    assert not message.startswith("params.")
    # What the user entered comes back to the editor and the fields.
    assert page_data["editor"] == {"params": {"n_estimators": 0}, "brushes": BRUSHES}
    form = response.context["form"]
    assert (form["name"].value(), form["new_experiment"].value()) == ("forest-25", "never made")


def test_a_bad_brush_is_refused_at_the_brushes(owner_pages, experiment, table):
    brushes = [{"name": "image_resize", "params": {}}]

    response = owner_pages.post("/train/", form_data(experiment, table, brushes=brushes))

    assert_refused(response)
    assert "image" in response.context["page_data"]["errors"]["brushes"]


def test_a_new_experiment_needs_a_name(owner_pages, table):
    response = owner_pages.post("/train/", form_data(None, table))

    assert_refused(response, "Name the new experiment")


def test_a_dataset_of_someone_else_is_refused(owner_pages, experiment, stranger):
    private = create_dataset(stranger, "tabular", IRIS_LIKE_CSV, "secret flowers")
    create_dataset(experiment.owner, "tabular", IRIS_LIKE_CSV, "iris")

    response = owner_pages.post("/train/", form_data(experiment, private))

    assert_refused(response)
    assert "dataset_version" in response.context["form"].errors


def test_regression_is_refused_for_images(owner_pages, owner, experiment):
    images = create_dataset(owner, "image", image_zip(), "pets")
    data = form_data(
        experiment, images, target="", task="regression", template="cnn", params={}, brushes=None
    )

    response = owner_pages.post("/train/", data)

    assert_refused(response, "labelled by class")
    assert "task" in response.context["form"].errors


# ---------- remix ----------
def test_the_remix_form_is_filled_from_the_run(owner_pages, experiment, table):
    original = studio_run(experiment, table, name="forest-25", status=RunStatus.SUCCEEDED)

    response = owner_pages.get(f"/runs/{original.pk}/remix/")

    assert response.status_code == 200
    form = response.context["form"]
    values = {name: form[name].value() for name in ("name", "experiment", "template", "target")}
    assert values == {
        "name": "forest-25 remix",
        "experiment": str(experiment.pk),
        "template": "random_forest",
        "target": "species",
    }
    assert form["seed"].value() == 7
    assert form["test_fraction"].value() == 0.25
    assert response.context["page_data"]["editor"] == {
        "params": original.config["params"],
        "brushes": BRUSHES,
    }
    assertContains(response, "Remix “forest-25”")


def test_a_remix_records_where_it_came_from(owner_pages, experiment, table):
    original = studio_run(experiment, table, status=RunStatus.SUCCEEDED)
    data = form_data(experiment, table, name="forest-50", params={"n_estimators": 50})

    response = owner_pages.post(f"/runs/{original.pk}/remix/", data)

    remix = Run.objects.exclude(pk=original.pk).get()
    assert response.status_code == 302
    assert remix.remix_of == original
    assert remix.config["params"]["n_estimators"] == 50


def test_runs_from_outside_scripts_cannot_be_remixed(owner_pages, run):
    assert owner_pages.get(f"/runs/{run.pk}/remix/").status_code == 404


# ---------- cancel ----------
def test_cancelling_a_queued_run_cancels_it(owner_pages, experiment, table):
    queued = studio_run(experiment, table)

    response = owner_pages.post(f"/runs/{queued.pk}/cancel/", follow=True)

    queued.refresh_from_db()
    assertRedirects(response, f"/runs/{queued.pk}/")
    assert queued.status == RunStatus.CANCELLED
    assertContains(response, "cancelled before it started")


def test_cancelling_a_running_run_asks_the_worker(owner_pages, experiment, table):
    running = studio_run(experiment, table, status=RunStatus.RUNNING, attempt=1)

    response = owner_pages.post(f"/runs/{running.pk}/cancel/", follow=True)

    running.refresh_from_db()
    assert running.status == RunStatus.RUNNING
    assert running.cancel_requested_at is not None
    assertContains(response, "Cancel requested…")
    assertContains(response, "data-live-cancel>Cancel requested")


def test_cancelling_a_finished_run_changes_nothing(owner_pages, experiment, table):
    finished = studio_run(experiment, table, status=RunStatus.SUCCEEDED)

    response = owner_pages.post(f"/runs/{finished.pk}/cancel/", follow=True)

    finished.refresh_from_db()
    assert finished.status == RunStatus.SUCCEEDED
    assertContains(response, "had already finished")


def test_cancel_is_a_post(owner_pages, experiment, table):
    queued = studio_run(experiment, table)

    assert owner_pages.get(f"/runs/{queued.pk}/cancel/").status_code == 405
    queued.refresh_from_db()
    assert queued.status == RunStatus.QUEUED


@pytest.mark.parametrize("other", ["collaborator", "stranger"])
def test_others_get_404_on_remix_cancel_and_log(request, other, experiment, table):
    queued = studio_run(experiment, table)
    pages = signed_in(request.getfixturevalue(other))

    assert pages.get(f"/runs/{queued.pk}/remix/").status_code == 404
    assert pages.post(f"/runs/{queued.pk}/remix/", form_data(None, table)).status_code == 404
    assert pages.post(f"/runs/{queued.pk}/cancel/").status_code == 404
    assert pages.get(f"/runs/{queued.pk}/log/").status_code == 404
    queued.refresh_from_db()
    assert queued.status == RunStatus.QUEUED
    assert Run.objects.count() == 1


# ---------- the run page ----------
def test_a_running_run_shows_progress_attempt_and_its_buttons(owner_pages, experiment, table):
    running = studio_run(
        experiment,
        table,
        status=RunStatus.RUNNING,
        attempt=2,
        progress={"phase": "train", "epoch": 3, "n_epochs": 20},
        log_text="[10:00:00] load dataset…\n[10:00:01] train…\n",
    )

    response = owner_pages.get(f"/runs/{running.pk}/")

    assertContains(response, "Training · epoch 3 of 20")
    assertContains(response, 'style="width: 15%"')
    assertContains(response, "Attempt <span data-live-attempt-number>2</span> of 3")
    assertContains(response, f'href="/runs/{running.pk}/remix/"')
    assertContains(response, f'action="/runs/{running.pk}/cancel/"')
    assertContains(response, "[10:00:01] train…")
    # The page follows the run's websocket stream (run_page.js), no polling of the API.
    assert response.context["live"] == {
        "run": running.pk,
        "status": "running",
        "is_active": True,
        "stream": f"/ws/runs/{running.pk}/",
        "metrics_url": f"/api/v1/runs/{running.pk}/metrics/",
        "device_class": "cpu",
        "progress": {"phase": "train", "epoch": 3, "n_epochs": 20},
    }
    assertContains(response, '<script id="run-page-config" type="application/json">')
    assertContains(response, "js/run_page.js")
    assertContains(response, "js/live.js")
    assertContains(response, "data-live-indicator")
    assertNotContains(response, "data-api-url")
    assertNotContains(response, "js/training.js")


def test_a_running_run_draws_a_live_chart_per_metric_and_no_stale_stats(
    owner_pages, experiment, table
):
    running = studio_run(experiment, table, status=RunStatus.RUNNING)
    points = [
        {"key": key, "step": step, "value": 1.0 / (step + 1)}
        for step in range(3)
        for key in ("train_loss", "val_loss")
    ]
    services.run_log_metrics(run=running, batch=services.check_metric_batch(points))

    response = owner_pages.get(f"/runs/{running.pk}/")

    for key in ("train_loss", "val_loss"):
        assertContains(response, f'data-live-chart="{key}"', count=1)
    # Last values come with the charts, which the stream keeps fresh; stat cards would not be.
    assertNotContains(response, 'class="stat"')
    assertNotContains(response, "data-metric-key")  # no fetch-once charts.js canvases


def test_a_finished_run_loads_its_charts_once_and_opens_no_stream(owner_pages, experiment, table):
    done = studio_run(experiment, table, status=RunStatus.RUNNING)
    points = [{"key": "val_loss", "step": step, "value": 0.5} for step in range(3)]
    services.run_log_metrics(run=done, batch=services.check_metric_batch(points))
    services.run_finish(run=done, status=RunStatus.SUCCEEDED)

    response = owner_pages.get(f"/runs/{done.pk}/")

    assert response.context["live"]["is_active"] is False
    assertContains(response, 'data-live-chart="val_loss"', count=1)
    assertContains(response, 'class="stat"')
    assertNotContains(response, "data-live-indicator")
    assertNotContains(response, "data-run-live")


def test_the_run_page_loads_uplot_only_where_npm_installed_it(
    owner_pages, experiment, table, settings, tmp_path
):
    run = studio_run(experiment, table, status=RunStatus.RUNNING)
    settings.STATICFILES_DIRS = [settings.BASE_DIR / "static"]

    without = owner_pages.get(f"/runs/{run.pk}/")

    (tmp_path / "uplot").mkdir()
    (tmp_path / "uplot" / "uPlot.iife.min.js").write_text("/* uPlot */")
    (tmp_path / "uplot" / "uPlot.min.css").write_text("/* uPlot */")
    settings.STATICFILES_DIRS = [
        settings.BASE_DIR / "static",
        ("vendor/uplot", tmp_path / "uplot"),
    ]
    with_uplot = owner_pages.get(f"/runs/{run.pk}/")

    assert (without.context["uplot"], with_uplot.context["uplot"]) == (False, True)
    assertNotContains(without, "vendor/uplot/")
    assertContains(with_uplot, "vendor/uplot/uPlot.iife.min.js")
    assertContains(with_uplot, "vendor/uplot/uPlot.min.css")
    for response in (without, with_uplot):  # the built-in renderer is the fallback
        assertContains(response, "js/charts.js")


def test_a_succeeded_run_shows_its_summary_recipe_and_confusion_matrix(
    owner_pages, experiment, table
):
    done = studio_run(experiment, table, status=RunStatus.RUNNING)
    artifact = services.run_log_artifact(
        run=done, path="confusion_matrix.png", stream=io.BytesIO(b"\x89PNG\r\n\x1a\n")
    )
    Run.objects.filter(pk=done.pk).update(
        status=RunStatus.SUCCEEDED, summary={"test_accuracy": 0.875, "test_loss": 0.31}
    )

    response = owner_pages.get(f"/runs/{done.pk}/")

    summary = response.context["training"]["summary"]
    assert [(item["key"], item["is_primary"]) for item in summary] == [
        ("test_accuracy", True),
        ("test_loss", False),
    ]
    assertContains(response, "87.5 % of the test samples predicted right")
    assertContains(response, f'src="/api/v1/runs/{done.pk}/artifacts/{artifact.pk}/"')
    assertContains(response, f'href="/datasets/{table.dataset_id}/?version={table.pk}"')
    assertContains(response, "impute")
    assertContains(response, "strategy=median")
    assertNotContains(response, "data-run-live")
    assertNotContains(response, f'action="/runs/{done.pk}/cancel/"')


def test_a_failed_run_shows_its_error_with_the_first_line_bold(owner_pages, experiment, table):
    failed = studio_run(
        experiment,
        table,
        status=RunStatus.FAILED,
        error_text="Too few samples to split: 6 rows\nTraceback (most recent call last):\n  boom",
    )

    response = owner_pages.get(f"/runs/{failed.pk}/")

    assertContains(response, "Training failed")
    assertContains(response, '<p class="failure-head">Too few samples to split: 6 rows</p>')
    assertContains(response, "<summary>Full error</summary>")
    assertContains(response, "Traceback (most recent call last):")


def test_runs_from_outside_scripts_show_no_training_parts(owner_pages, run):
    response = owner_pages.get(f"/runs/{run.pk}/")

    assert response.context["training"] is None
    assertNotContains(response, "/remix/")
    assertNotContains(response, "/cancel/")
    assertNotContains(response, "js/training.js")


def test_the_log_is_served_as_text(owner_pages, experiment, table):
    running = studio_run(experiment, table, status=RunStatus.RUNNING, log_text="line one\n")

    response = owner_pages.get(f"/runs/{running.pk}/log/")

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"line one\n"


def test_the_run_page_costs_a_bounded_number_of_queries(
    owner_pages, experiment, table, django_assert_max_num_queries
):
    done = studio_run(experiment, table, status=RunStatus.SUCCEEDED, summary={"test_accuracy": 1.0})
    # The tracking page's own 6, plus the confusion matrix, the dataset version, whether it
    # is still visible, and the newest sample.
    with django_assert_max_num_queries(10):
        owner_pages.get(f"/runs/{done.pk}/")


def test_the_form_costs_a_fixed_number_of_queries(
    owner_pages, owner, table, django_assert_num_queries
):
    for index in range(6):
        create_dataset(owner, "tabular", IRIS_LIKE_CSV + b"1,2,x\n" * index, f"table {index}")
        ExperimentFactory(owner=owner)
    # Session, user, experiments, every visible version with its dataset.
    with django_assert_num_queries(4):
        response = owner_pages.get("/train/")
    assert len(response.context["page_data"]["versions"]) == 7


# ---------- navigation ----------
def test_pages_link_to_the_form(owner_pages, experiment, table):
    assertContains(owner_pages.get("/"), 'href="/train/"')
    assertContains(owner_pages.get("/experiments/"), 'href="/train/"')
    response = owner_pages.get(f"/datasets/{table.dataset_id}/")
    assertContains(response, f'href="/train/?dataset_version={table.pk}"')
    assertContains(response, "Train on this dataset")


def test_a_public_dataset_of_someone_else_can_be_trained_on(owner_pages, experiment, stranger):
    public = create_dataset(stranger, "tabular", IRIS_LIKE_CSV, "shared iris", visibility="public")

    response = owner_pages.post("/train/", form_data(experiment, public))

    assert response.status_code == 302
    assert Run.objects.get().config["dataset_version"] == public.pk
