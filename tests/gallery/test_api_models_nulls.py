"""`null` in a prediction request: accepted for a column the version's brushes fill in, with
the same answer from every runtime, and said so in the version's `missing_allowed`; refused
with the reason for the other columns, with nothing logged or counted."""

from __future__ import annotations

import pytest

from gallery import predictions
from pipelines.serving.gaps import NULL_REFUSED
from registry.models import ModelVersion, PredictionLog, RegisteredModel
from tests.gallery import test_api_models_onnx, test_api_training
from tests.gallery.test_api_models import trained
from tests.gallery.test_api_models_onnx import (
    FLOWER_ROWS,
    MLP,
    assert_same_probabilities,
    predicted,
    published_flowers,
)

table = test_api_training.table  # the wine-notes fixture, shared
flowers = test_api_models_onnx.flowers  # a table with gaps, categories and booleans

FLOWER_COLUMNS = ["petal_length", "colour", "wild", "petals"]
# A row with each column left empty in turn, and one with all of them.
GAP_ROWS = [{**FLOWER_ROWS[index], name: None} for index, name in enumerate(FLOWER_COLUMNS)] + [
    dict.fromkeys(FLOWER_COLUMNS)
]


@pytest.mark.django_db(transaction=True)
def test_a_null_where_the_brushes_impute_gets_the_same_answer_from_every_runtime(
    owner_client, experiment, flowers, assert_error, django_assert_num_queries
):
    created = published_flowers(owner_client, experiment, flowers)  # the default chain
    assert created.status_code == 201, created.content

    detail = owner_client.get("/api/v1/models/flowers/versions/1/").json()
    listed = owner_client.get("/api/v1/models/flowers/versions/").json()["results"]
    answers = {
        runtime: predicted(owner_client, runtime, GAP_ROWS, name="flowers")
        for runtime in ("in-process", "onnx", None)
    }

    assert created.json()["missing_allowed"] == FLOWER_COLUMNS
    assert detail["missing_allowed"] == listed[0]["missing_allowed"] == FLOWER_COLUMNS
    # Recorded at publish: listing versions reads no brushes file, not even once a process.
    version = ModelVersion.objects.get(model__name="flowers")
    assert version.lineage["onnx"]["missing_allowed"] == FLOWER_COLUMNS
    predictions._missing_allowed.clear()
    with django_assert_num_queries(0):
        assert predictions.missing_allowed(version) == FLOWER_COLUMNS
    # A version exported before that is read from its brushes, with the same answer.
    del version.lineage["onnx"]["missing_allowed"]
    assert predictions.missing_allowed(version) == FLOWER_COLUMNS
    assert [column["name"] for column in detail["signature"]["columns"]] == FLOWER_COLUMNS
    assert {runtime: answer.status_code for runtime, answer in answers.items()} == {
        "in-process": 200, "onnx": 200, None: 200,
    }  # fmt: skip
    assert answers[None].json()["runtime"] == "onnx"  # auto: a network with a checked export
    python = answers["in-process"].json()["predictions"]
    assert_same_probabilities(python, answers["onnx"].json()["predictions"])
    assert answers[None].json()["predictions"] == answers["onnx"].json()["predictions"]
    assert PredictionLog.objects.count() == 3
    # A missing key is still a mistake, not a gap.
    missing = predicted(owner_client, "in-process", [{"petal_length": 2.0}], name="flowers")
    body = assert_error(missing, 400, "invalid", field="inputs[0].colour")
    assert body["errors"]["inputs[0].colour"] == ["missing column 'colour'"]


@pytest.mark.django_db(transaction=True)
def test_a_null_where_the_brushes_do_not_impute_is_refused_with_the_reason(
    owner_client, experiment, table, assert_error
):
    run_id = trained(owner_client, experiment, table, **MLP)  # standard_scaler alone
    created = owner_client.post("/api/v1/models/wine-notes/versions/", {"run": run_id})
    assert created.status_code == 201, created.content
    rows = [{"alcohol": None, "hue": 0.9}]

    refusals = [predicted(owner_client, runtime, rows) for runtime in ("in-process", "onnx", None)]

    assert created.json()["missing_allowed"] == []
    for refusal in refusals:
        body = assert_error(refusal, 400, "invalid", field="inputs[0].alcohol")
        assert body["errors"] == {"inputs[0].alcohol": [NULL_REFUSED]}
    assert ModelVersion.objects.get().lineage["onnx"]["status"] == "ready"
    assert not PredictionLog.objects.exists()
    assert RegisteredModel.objects.get().n_predictions == 0
