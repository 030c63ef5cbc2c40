"""The training API: queue a run with a config, refusals at the field, cancel, templates."""

from __future__ import annotations

import io

import pytest

from pipelines.runner import execute_run
from registry import services
from registry.models import Run, RunStatus

WINE_LIKE_CSV = "alcohol,hue,cultivar\n" + "".join(
    f"{12 + (index % 7) * 0.3:.1f},{0.5 + (index % 3) * 0.4:.1f},{'abc'[index % 3]}\n"
    for index in range(60)
)


@pytest.fixture
def table(owner):
    _dataset, version = services.dataset_create(
        owner=owner,
        name="wine notes",
        modality="tabular",
        upload=io.BytesIO(WINE_LIKE_CSV.encode()),
        original_name="wine.csv",
    )
    return version


def config_for(version, **changes) -> dict:
    return {
        "dataset_version": version.pk,
        "target": "cultivar",
        "task": "classification",
        "template": "random_forest",
        "params": {"n_estimators": 20},
        "device": "cpu",
        **changes,
    }


def test_a_config_queues_a_training_run(owner_client, experiment, table):
    response = owner_client.post(
        "/api/v1/runs/",
        {"experiment": experiment.pk, "name": "forest", "config": config_for(table)},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["device_class"] == "cpu"
    assert body["config"]["template"] == "random_forest"
    assert body["config"]["params"]["n_estimators"] == 20
    assert body["config"]["params"]["min_samples_leaf"] == 1  # defaults filled in
    assert Run.objects.get(pk=body["id"]).status == RunStatus.QUEUED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"template": "transformer"}, "config.template"),
        ({"target": "colour"}, "config.target"),
        ({"params": {"n_estimators": 0}}, "config.params.n_estimators"),
        ({"template": "cnn"}, "config.template"),
        ({"device": "tpu"}, "config.device"),
    ],
    ids=["unknown-template", "missing-target", "param-out-of-range", "wrong-modality", "device"],
)
def test_a_bad_config_is_refused_at_its_field_and_queues_nothing(
    owner_client, experiment, table, assert_error, changes, field
):
    response = owner_client.post(
        "/api/v1/runs/",
        {"experiment": experiment.pk, "config": config_for(table, **changes)},
        format="json",
    )

    assert_error(response, 400, "invalid", field=field)
    assert not Run.objects.exists()


def test_a_stranger_cannot_train_on_a_private_dataset(
    stranger_client, stranger, table, assert_error
):
    experiment = services.experiment_create(owner=stranger, name="mine")
    response = stranger_client.post(
        "/api/v1/runs/", {"experiment": experiment.pk, "config": config_for(table)}, format="json"
    )

    assert_error(response, 400, "invalid", field="config.dataset_version")
    assert not Run.objects.exists()


# The runner writes from helper threads with their own connections: they must see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_trained_run_shows_its_summary_and_artifacts(owner_client, experiment, table):
    run_id = owner_client.post(
        "/api/v1/runs/", {"experiment": experiment.pk, "config": config_for(table)}, format="json"
    ).json()["id"]

    outcome = execute_run(run_id)
    assert outcome == "succeeded", Run.objects.get(pk=run_id).error_text

    body = owner_client.get(f"/api/v1/runs/{run_id}/").json()
    assert body["status"] == "succeeded" and body["error"] == ""
    assert 0.0 <= body["summary"]["test_accuracy"] <= 1.0
    assert body["metrics"]["test_accuracy"]["last"] == body["summary"]["test_accuracy"]
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(body["metrics"])
    paths = {item["path"] for item in owner_client.get(f"/api/v1/runs/{run_id}/artifacts/").json()}
    assert {
        "model/model.skops",
        "model/model.json",
        "model/brushes.zip",
        "metrics.json",
        "confusion_matrix.png",
        "samples/predictions.json",
    } <= paths


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_queued_run_ends_it_and_a_finished_one_is_a_conflict(
    owner_client, experiment, table, assert_error
):
    run_id = owner_client.post(
        "/api/v1/runs/", {"experiment": experiment.pk, "config": config_for(table)}, format="json"
    ).json()["id"]

    response = owner_client.post(f"/api/v1/runs/{run_id}/cancel/")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert execute_run(run_id) == "not queued"  # a late worker finds nothing to do
    assert_error(owner_client.post(f"/api/v1/runs/{run_id}/cancel/"), 409, "conflict")


def test_templates_are_listed_with_their_parameter_schemas(anonymous_client):
    templates = {item["name"]: item for item in anonymous_client.get("/api/v1/templates/").json()}

    assert set(templates) == {
        "mlp",
        "cnn",
        "audio_cnn",
        "logistic_regression",
        "random_forest",
        "gradient_boosting",
        "svm",
    }
    assert templates["cnn"]["modalities"] == ["image"]
    assert templates["mlp"]["param_schema"]["properties"]["epochs"]["default"] == 40
