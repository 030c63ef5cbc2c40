"""`/api/v1/models/`: publish a trained run, move and roll back aliases, predict — with the
visibility rules (private: the owner alone; public: everyone reads, the owner changes) and the
refusals a script relies on."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from pipelines.brushes import BrushChain
from pipelines.runner import execute_run
from pipelines.training.model import TrainedModel
from registry import artifact_store
from registry.models import AliasMove, ModelVersion, PredictionLog, RegisteredModel, Run
from tests.clients import signed_in
from tests.gallery import test_api_training
from tests.gallery.test_api_training import config_for

table = test_api_training.table  # the wine-notes fixture, shared

ROWS = [{"alcohol": 12.3, "hue": 0.9}, {"alcohol": 13.5, "hue": 1.3}, {"alcohol": 12.0, "hue": 0.5}]


def trained(client, experiment, table, **changes) -> int:
    config = config_for(table, brushes=[{"name": "standard_scaler"}], **changes)
    run_id = client.post(
        "/api/v1/runs/", {"experiment": experiment.pk, "config": config}, format="json"
    ).json()["id"]
    assert execute_run(run_id) == "succeeded", Run.objects.get(pk=run_id).error_text
    return run_id


def run_files(run_id: int) -> dict[str, bytes]:
    return {
        artifact.path: artifact_store.read_checked(artifact.sha256, max_bytes=10**8)
        for artifact in Run.objects.get(pk=run_id).artifacts.all()
    }


def in_process_probabilities(run_id: int, rows: list[dict]) -> np.ndarray:
    """The run's own model and fitted brushes on the rows, as its evaluation ran them."""
    files = run_files(run_id)
    model = TrainedModel.from_files(
        {
            name.removeprefix("model/"): data
            for name, data in files.items()
            if name.startswith("model/") and name != "model/brushes.zip"
        }
    )
    chain = BrushChain.from_bytes(files["model/brushes.zip"]).deterministic_part
    features = chain.transform(pd.DataFrame(rows), training=False).to_numpy(dtype=np.float32)
    return model.predict_proba(features), model.label_names


@pytest.mark.django_db(transaction=True)
def test_publish_promote_predict_and_roll_back(owner_client, experiment, table, settings):
    settings.PREDICTION_COUNT_FLUSH_S = 0  # every try counted at once (a second apart by default)
    first = trained(owner_client, experiment, table)
    second = trained(owner_client, experiment, table, params={"n_estimators": 5})

    created = owner_client.post("/api/v1/models/wine-notes/versions/", {"run": first})
    again = owner_client.post(
        "/api/v1/models/wine-notes/versions/", {"run": second, "description": "fewer trees"}
    )

    assert created.status_code == 201, created.content
    assert (created.json()["version"], again.json()["version"]) == (1, 2)
    version = created.json()
    assert version["signature"] == {
        "modality": "tabular",
        "columns": [{"name": "alcohol", "type": "float"}, {"name": "hue", "type": "float"}],
    }
    assert version["label_names"] == ["a", "b", "c"]
    assert version["lineage"]["run"] == first and version["lineage"]["template"] == "random_forest"
    assert [brush["name"] for brush in version["lineage"]["brushes"]] == ["standard_scaler"]
    assert {file["path"] for file in version["files"]} >= {"model/model.skops", "metrics.json"}

    moves = [
        owner_client.post(
            "/api/v1/models/wine-notes/aliases/",
            {"alias": "production", "version": number, "reason": reason},
        )
        for number, reason in ((2, "first light"), (1, "back to more trees"))
    ]
    assert [move.status_code for move in moves] == [200, 200]

    answer = owner_client.post(
        "/api/v1/models/wine-notes/predict/?alias=production", {"inputs": ROWS}, format="json"
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["model"], body["version"], body["alias"]) == ("wine-notes", 1, "production")
    expected, labels = in_process_probabilities(first, ROWS)
    for prediction, row in zip(body["predictions"], expected, strict=True):
        assert list(prediction["probabilities"]) == labels
        assert np.allclose(list(prediction["probabilities"].values()), row, atol=1e-4)
        assert prediction["label"] == labels[int(np.argmax(row))]

    rollback = owner_client.post("/api/v1/models/wine-notes/aliases/production/rollback/", {})
    assert rollback.status_code == 200 and rollback.json()["is_rollback"]
    assert owner_client.get("/api/v1/models/wine-notes/").json()["aliases"] == {"production": 2}
    history = owner_client.get("/api/v1/models/wine-notes/aliases/").json()["history"]
    assert [(m["from_version"], m["to_version"], m["is_rollback"]) for m in history] == [
        (1, 2, True),
        (2, 1, False),
        (None, 2, False),
    ]
    assert history[1]["reason"] == "back to more trees" and history[1]["moved_by"] == "olivia_owner"
    assert (
        owner_client.post(
            "/api/v1/models/wine-notes/predict/?version=2", {"inputs": ROWS[:1]}, format="json"
        ).json()["version"]
        == 2
    )
    assert PredictionLog.objects.count() == 2
    assert RegisteredModel.objects.get(name="wine-notes").n_predictions == 4


@pytest.fixture
def published(owner, owner_client, experiment, table):
    run_id = trained(owner_client, experiment, table)
    owner_client.post("/api/v1/models/wine-notes/versions/", {"run": run_id})
    owner_client.post("/api/v1/models/wine-notes/aliases/", {"alias": "production", "version": 1})
    return RegisteredModel.objects.get(name="wine-notes")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("inputs", "field", "message"),
    [
        ([{"alcohol": 12.0}], "inputs[0].hue", "missing column 'hue'"),
        ([{"alcohol": "twelve", "hue": 1.0}], "inputs[0].alcohol", "not a number"),
        ([{"alcohol": 12.0, "hue": 1.0, "colour": 3}], "inputs[0].colour", "unknown column"),
        ([[12.0, 1.0]], "inputs[0]", "an object"),
        ([], "inputs", ""),
    ],
    ids=["missing-column", "wrong-type", "unknown-column", "wrong-shape", "empty"],
)
def test_bad_inputs_get_a_400_naming_the_field(
    published, owner_client, assert_error, inputs, field, message
):
    response = owner_client.post(
        "/api/v1/models/wine-notes/predict/", {"inputs": inputs}, format="json"
    )

    body = assert_error(response, 400, "invalid", field=field)
    assert message in " ".join(body["errors"][field])
    assert not PredictionLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_nan_an_oversized_body_and_an_oversized_file_are_refused_clearly(
    published, owner_client, assert_error, settings
):
    nan = owner_client.generic(
        "POST",
        "/api/v1/models/wine-notes/predict/",
        '{"inputs": [{"alcohol": NaN, "hue": 1.0}]}',
        content_type="application/json",
    )
    assert nan.status_code == 400
    assert "NaN at character 24 is not a JSON number" in nan.json()["detail"]

    settings.PREDICT_MAX_BODY_BYTES = 1024
    big = owner_client.post(
        "/api/v1/models/wine-notes/predict/",
        {"inputs": [{"alcohol": 12.0, "hue": 1.0, "note": "x" * 2000}]},
        format="json",
    )
    body = assert_error(big, 400, "invalid", field="inputs")
    assert "at most 0 MB" not in body["detail"] and "request body" in body["detail"]


@pytest.mark.django_db(transaction=True)
def test_visibility_private_is_the_owners_public_is_read_by_everyone(
    published, owner_client, stranger_client, anonymous_client, assert_error
):
    for client in (stranger_client, anonymous_client):
        assert_error(client.get("/api/v1/models/wine-notes/"), 404, "not_found")
        assert_error(
            client.post("/api/v1/models/wine-notes/predict/", {"inputs": ROWS}, format="json"),
            404,
            "not_found",
        )
    assert stranger_client.get("/api/v1/models/").json()["results"] == []

    owner_client.patch("/api/v1/models/wine-notes/", {"visibility": "public"}, format="json")

    assert anonymous_client.get("/api/v1/models/wine-notes/").status_code == 200
    answer = stranger_client.post(
        "/api/v1/models/wine-notes/predict/", {"inputs": ROWS}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["version"] == 1
    assert_error(
        stranger_client.post("/api/v1/models/wine-notes/aliases/", {"alias": "x", "version": 1}),
        403,
        "permission_denied",
    )
    assert_error(
        stranger_client.patch("/api/v1/models/wine-notes/", {"description": "mine now"}),
        403,
        "permission_denied",
    )
    assert AliasMove.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_stranger_cannot_publish_someone_elses_run_and_names_are_checked(
    published, owner_client, stranger_client, assert_error
):
    run_id = ModelVersion.objects.get().run_id

    assert_error(
        stranger_client.post("/api/v1/models/their-copy/versions/", {"run": run_id}),
        404,
        "not_found",
        field=None,
    )
    assert_error(
        owner_client.post(
            "/api/v1/models/wine-notes/aliases/", {"alias": "production", "version": 9}
        ),
        404,
        "not_found",
    )
    assert (
        owner_client.post("/api/v1/models/Bad_Name/versions/", {"run": run_id}).status_code == 404
    )
    assert ModelVersion.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_moving_an_alias_loads_its_version_before_the_first_request(
    published, owner_client, monkeypatch
):
    from gallery import hosting, receivers

    monkeypatch.setattr(receivers, "_serving", True)  # as in the ASGI server's process
    hosting.HOSTS.clear()
    version = ModelVersion.objects.get()

    owner_client.post("/api/v1/models/wine-notes/aliases/", {"alias": "staging", "version": 1})

    deadline = time.monotonic() + 20
    while version.pk not in hosting.host_for().cached_versions():
        assert time.monotonic() < deadline, "the moved alias's version was never loaded"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_the_3d_view_data_projects_the_dataset_for_those_who_may_see_it(published, owner, stranger):
    owner_pages, stranger_pages = signed_in(owner), signed_in(stranger)

    data = owner_pages.get("/models/wine-notes/embedding.json?space=features").json()
    forest = owner_pages.get("/models/wine-notes/embedding.json?space=penultimate")

    assert data["n"] == data["n_samples"] == 60 and len(data["points"]) == 60
    assert all(len(point) == 3 and max(map(abs, point)) <= 1 for point in data["points"])
    assert set(data["truth"]) == {"a", "b", "c"} and set(data["predictions"]) <= {"a", "b", "c"}
    assert forest.status_code == 400 and "penultimate" in forest.json()["detail"]
    assert stranger_pages.get("/models/wine-notes/embedding.json").status_code == 404
    assert stranger_pages.get("/models/wine-notes/embedding/").status_code == 404
    assert owner_pages.get("/models/wine-notes/embedding/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_process_that_serves_no_requests_does_not_warm(published, owner_client, monkeypatch):
    """Commands and workers move aliases too; a load there would be wasted (and a daemon thread
    inside torch at a short process's exit aborts it). Importing the ASGI application is what
    marks a process as serving, which other tests do: the flag is set here as a command has
    it."""
    from gallery import hosting, receivers

    monkeypatch.setattr(receivers, "_serving", False)
    for thread in threading.enumerate():  # a warm started by the fixture's move, if any
        if thread.name == "warm-model":
            thread.join(timeout=30)
    hosting.HOSTS.clear()

    owner_client.post("/api/v1/models/wine-notes/aliases/", {"alias": "staging", "version": 1})

    time.sleep(0.5)
    assert hosting.host_for().cached_versions() == []


@pytest.mark.django_db
def test_tries_are_counted_in_batches_and_logging_is_bounded_per_second(owner, settings):
    from gallery.predictions import LogBudget, TryCounter
    from tests.registry.test_services_published import publish, trained_run

    model = publish(owner, trained_run(owner)).model
    settings.PREDICTION_COUNT_FLUSH_S = 60
    settings.PREDICTION_LOG_MAX_PER_S = 2
    tries, budget = TryCounter(), LogBudget()

    due = tries.add(model.pk, 3)  # the first add is due to be written (nothing written yet)
    kept = tries.add(model.pk, 4)  # within the minute: kept
    TryCounter.write(due)
    model.refresh_from_db()

    assert (due, kept) == ({model.pk: 3}, None)
    assert model.n_predictions == 3 and tries.pending == {model.pk: 4}
    assert [budget.take() for _ in range(3)] == [True, True, False]
