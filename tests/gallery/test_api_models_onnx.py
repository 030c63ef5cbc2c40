"""Publishing exports a version to ONNX, and `?runtime=onnx` answers with ONNX Runtime exactly
as the in-process model answers; a version without an export is refused clearly."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallery import hosting
from pipelines.runner import execute_run
from registry import artifact_store, services
from registry.models import ModelVersion, ModelVersionFile, PredictionLog, Run
from tests.gallery import test_api_training
from tests.gallery.test_api_models import ROWS, trained
from tests.gallery.test_api_training import config_for

table = test_api_training.table  # the wine-notes fixture, shared

ONNX_FILES = {"model/model.onnx", "model/onnx.json"}
MLP = {"template": "mlp", "params": {"epochs": 3, "hidden_units": [16]}}


def predicted(client, runtime: str | None, rows=ROWS, *, name="wine-notes"):
    query = f"&runtime={runtime}" if runtime else ""
    url = f"/api/v1/models/{name}/predict/?version=1{query}"
    return client.post(url, {"inputs": rows}, format="json")


def flowers_csv(n_rows: int = 90) -> bytes:
    """A table with a category column (`colour`) and a boolean one (`wild`) beside numbers,
    some cells empty: the default brushes impute, one_hot and scale it. The species follows
    the petal length and, less strictly, the colour."""
    generator = np.random.default_rng(5)
    lines = ["petal_length,colour,wild,petals,species"]
    for index in range(n_rows):
        code = index % 3
        colour = ["blue", "red", "white", "yellow"][(code + int(generator.random() < 0.3)) % 4]
        length = f"{2 + 1.5 * code + generator.normal(0, 0.6):.2f}" if index % 11 else ""
        wild = bool(code == 2 or generator.random() < 0.2)
        petals = int(generator.integers(3, 9))
        lines.append(f"{length},{colour if index % 13 else ''},{wild},{petals},{'abc'[code]}")
    return ("\n".join(lines) + "\n").encode()


# Known colours, a colour the model never saw, both booleans.
FLOWER_ROWS = [
    {"petal_length": 2.1, "colour": "blue", "wild": False, "petals": 5},
    {"petal_length": 3.6, "colour": "red", "wild": False, "petals": 4},
    {"petal_length": 5.2, "colour": "white", "wild": True, "petals": 7},
    {"petal_length": 4.0, "colour": "teal", "wild": True, "petals": 6},
    {"petal_length": 3.0, "colour": "", "wild": False, "petals": 3},
]


@pytest.fixture
def flowers(owner):
    _dataset, version = services.dataset_create(
        owner=owner,
        name="flowers",
        modality="tabular",
        upload=io.BytesIO(flowers_csv()),
        original_name="flowers.csv",
    )
    return version


def published_flowers(client, experiment, flowers):
    """Trains an MLP on the flowers table with the default chain (no brushes named: impute,
    impute, one_hot, standard_scaler) and publishes it as `flowers`; the publish response."""
    config = config_for(flowers, target="species", **MLP)
    run_id = client.post(
        "/api/v1/runs/", {"experiment": experiment.pk, "config": config}, format="json"
    ).json()["id"]
    assert execute_run(run_id) == "succeeded", Run.objects.get(pk=run_id).error_text
    return client.post("/api/v1/models/flowers/versions/", {"run": run_id})


def assert_same_probabilities(first: list[dict], second: list[dict]) -> None:
    for python, onnx_answer in zip(first, second, strict=True):
        assert onnx_answer["label"] == python["label"]
        assert list(onnx_answer["probabilities"]) == list(python["probabilities"])
        np.testing.assert_allclose(
            list(onnx_answer["probabilities"].values()),
            list(python["probabilities"].values()),
            atol=1e-4,
        )


@pytest.mark.django_db(transaction=True)
def test_a_published_version_answers_the_same_through_onnx_runtime(owner_client, experiment, table):
    run_id = trained(owner_client, experiment, table, **MLP)

    created = owner_client.post("/api/v1/models/wine-notes/versions/", {"run": run_id})

    assert created.status_code == 201, created.content
    version = ModelVersion.objects.get()
    onnx = version.lineage["onnx"]
    assert (onnx["status"], onnx["reason"], onnx["browser"]) == ("ready", "", True)
    assert onnx["input_kind"] == "table" and onnx["max_abs_diff"] <= 1e-4
    assert {file["path"] for file in created.json()["files"]} >= ONNX_FILES
    stored = {file.path: file for file in ModelVersionFile.objects.filter(version=version)}
    manifest = json.loads(
        artifact_store.read_checked(stored["model/onnx.json"].sha256, max_bytes=10**6)
    )
    assert manifest["columns"] == ["alcohol", "hue"] and manifest["label_names"] == ["a", "b", "c"]
    assert artifact_store.blob_path(stored["model/model.onnx"].sha256).exists()

    in_process = predicted(owner_client, "in-process", ROWS)
    runtime = predicted(owner_client, "onnx", ROWS)
    default = predicted(owner_client, None, ROWS)

    assert (in_process.status_code, runtime.status_code) == (200, 200), runtime.content
    assert (in_process.json()["runtime"], runtime.json()["runtime"]) == ("in-process", "onnx")
    # auto (the default): a network with a checked export is answered by the export.
    assert default.json()["runtime"] == "onnx"
    assert default.json()["predictions"] == runtime.json()["predictions"]
    assert version.pk in hosting.host_for("onnx").cached_versions()
    assert_same_probabilities(in_process.json()["predictions"], runtime.json()["predictions"])
    assert PredictionLog.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_table_with_categories_answers_the_same_through_onnx_runtime(
    owner_client, experiment, flowers, assert_error
):
    created = published_flowers(owner_client, experiment, flowers)

    assert created.status_code == 201, created.content
    version = ModelVersion.objects.get()
    assert [brush["name"] for brush in version.lineage["brushes"]] == [
        "impute", "impute", "one_hot", "standard_scaler",
    ]  # fmt: skip
    onnx = version.lineage["onnx"]
    assert (onnx["status"], onnx["reason"], onnx["browser"]) == ("ready", "", True)
    assert onnx["input_kind"] == "table" and onnx["max_abs_diff"] <= 1e-4
    manifest_file = version.files.get(path="model/onnx.json")
    manifest = json.loads(artifact_store.read_checked(manifest_file.sha256, max_bytes=10**6))
    assert manifest["columns"] == ["petal_length", "colour", "wild", "petals"]
    assert manifest["categories"] == {
        "colour": ["blue", "red", "white", "yellow"],
        "wild": ["False", "True"],
    }

    answers = {
        runtime: predicted(owner_client, runtime, FLOWER_ROWS, name="flowers")
        for runtime in ("in-process", "onnx", None)
    }

    assert {runtime: answer.status_code for runtime, answer in answers.items()} == {
        "in-process": 200, "onnx": 200, None: 200,
    }  # fmt: skip
    assert answers["onnx"].json()["runtime"] == "onnx"
    assert answers[None].json()["runtime"] == "onnx"  # auto: a network with a checked export
    python = answers["in-process"].json()["predictions"]
    assert_same_probabilities(python, answers["onnx"].json()["predictions"])
    assert answers[None].json()["predictions"] == answers["onnx"].json()["predictions"]
    # Bad input gets the same field errors from both runtimes.
    bad = [{**FLOWER_ROWS[0], "colour": 3, "wild": "yes"}, {"petal_length": 1.0}]
    refusals = [
        predicted(owner_client, runtime, bad, name="flowers") for runtime in ("in-process", "onnx")
    ]
    bodies = [assert_error(r, 400, "invalid", field="inputs[0].colour") for r in refusals]
    assert bodies[0]["errors"] == bodies[1]["errors"]
    assert sorted(bodies[1]["errors"]) == [
        "inputs[0].colour", "inputs[0].wild", "inputs[1].colour", "inputs[1].petals",
        "inputs[1].wild",
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_runtimes_are_checked_and_a_version_without_an_export_says_so(
    owner, owner_client, experiment, table, assert_error
):
    run_id = trained(owner_client, experiment, table, template="svm", params={})
    owner_client.post("/api/v1/models/wine-notes/versions/", {"run": run_id})
    version = ModelVersion.objects.get()

    unknown = predicted(owner_client, "tensorrt")
    missing = predicted(owner_client, "onnx")

    body = assert_error(unknown, 400, "invalid", field="runtime")
    assert (
        "unknown runtime 'tensorrt'; use one of auto, in-process, onnx" in body["errors"]["runtime"]
    )
    body = assert_error(missing, 400, "invalid", field="runtime")
    assert (
        "wine-notes version 1 has no ONNX export (SVC gives no probabilities"
        in (body["errors"]["runtime"][0])
    )
    assert version.lineage["onnx"]["status"] == "unavailable"
    assert not ModelVersionFile.objects.filter(path__in=ONNX_FILES).exists()
    assert not PredictionLog.objects.exists()
    assert predicted(owner_client, "in-process").json()["runtime"] == "in-process"
    assert predicted(owner_client, None).json()["runtime"] == "in-process"  # auto, no export


@pytest.mark.django_db(transaction=True)
def test_the_export_command_replaces_an_export_and_fills_in_missing_ones(
    owner, stranger, owner_client, experiment, table
):
    run_id = trained(owner_client, experiment, table)  # a forest: 20 trees
    owner_client.post("/api/v1/models/wine-notes/versions/", {"run": run_id})
    version = ModelVersion.objects.get()
    first = set(version.files.values_list("path", "sha256"))
    version.files.filter(path__in=ONNX_FILES).delete()  # as if published before exports

    out = io.StringIO()
    call_command("export_onnx", "--all", stdout=out)
    assert "wine-notes version 1: ready, table input, browser and server" in out.getvalue()
    assert "1 of 1 versions without an up-to-date export now have one" in out.getvalue()
    out = io.StringIO()
    call_command("export_onnx", "--all", stdout=out)  # nothing left to do
    assert out.getvalue().splitlines() == [
        "0 of 0 versions without an up-to-date export now have one"
    ]
    # An export made before float64 tables (no input_dtype recorded) counts as outdated.
    version.refresh_from_db()
    lineage = version.lineage
    del lineage["onnx"]["input_dtype"]
    ModelVersion.objects.filter(pk=version.pk).update(lineage=lineage)
    out = io.StringIO()
    call_command("export_onnx", "--all", "wine-notes", stdout=out)
    assert "1 of 1 versions without an up-to-date export now have one" in out.getvalue()
    out = io.StringIO()
    call_command("export_onnx", "--all", "--refresh", stdout=out)
    assert "[1/1] wine-notes version 1: ready" in out.getvalue()
    assert "1 of 1 versions now have one" in out.getvalue()
    with pytest.raises(CommandError, match="--refresh goes with --all"):
        call_command("export_onnx", "wine-notes", "1", "--refresh")
    call_command("export_onnx", "wine-notes", "1", "--user", owner.username, stdout=out)

    assert set(version.files.values_list("path", "sha256")) == first
    assert version.files.filter(path__in=ONNX_FILES).count() == 2
    with pytest.raises(CommandError, match="no model 'wine-notes' of sam_stranger"):
        call_command("export_onnx", "wine-notes", "1", "--user", stranger.username)
    answer = predicted(owner_client, "onnx")
    assert answer.status_code == 200 and answer.json()["runtime"] == "onnx"
    # The forest's export is exact (float64 table, float64 thresholds): auto answers with it,
    # and with what Python answers.
    version.refresh_from_db()
    onnx = version.lineage["onnx"]
    assert (onnx["exact"], onnx["input_dtype"]) == (True, "float64")
    default = predicted(owner_client, None)
    python = predicted(owner_client, "in-process").json()["predictions"]
    assert default.json()["runtime"] == "onnx"
    assert [row["label"] for row in default.json()["predictions"]] == [
        row["label"] for row in python
    ]
    assert_same_probabilities(python, default.json()["predictions"])


@pytest.mark.django_db(transaction=True)
def test_auto_keeps_trees_in_python_for_an_export_that_is_not_marked_exact(
    owner_client, experiment, table
):
    run_id = trained(owner_client, experiment, table)  # a forest: 20 trees
    owner_client.post("/api/v1/models/wine-notes/versions/", {"run": run_id})
    version = ModelVersion.objects.get()
    assert version.lineage["onnx"]["exact"] is True
    assert predicted(owner_client, None).json()["runtime"] == "onnx"

    # As an export made before `exact` (a float32 table graph) is recorded: no flag. A new
    # version, since the host caches by version.
    lineage = {**version.lineage, "onnx": dict(version.lineage["onnx"])}
    del lineage["onnx"]["exact"]
    ModelVersion.objects.filter(pk=version.pk).update(lineage=lineage)
    assert not hosting.serves_onnx(ModelVersion.objects.get(pk=version.pk))
    lineage["onnx"]["exact"] = False
    ModelVersion.objects.filter(pk=version.pk).update(lineage=lineage)

    assert not hosting.serves_onnx(ModelVersion.objects.get(pk=version.pk))
    assert predicted(owner_client, None).json()["runtime"] == "in-process"
    assert predicted(owner_client, "onnx").json()["runtime"] == "onnx"
