"""Artifacts: upload, list, download; content-addressed storage; bounded, checked uploads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Artifact, RunStatus
from registry.services import run_finish
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def artifacts_url(run) -> str:
    return f"/api/v1/runs/{run.pk}/artifacts/"


def upload(
    client,
    run,
    content: bytes,
    *,
    filename: str = "weights.bin",
    path: str | None = None,
    content_type: str = "application/octet-stream",
):
    data = {"file": SimpleUploadedFile(filename, content, content_type=content_type)}
    if path is not None:
        data["path"] = path
    return client.post(artifacts_url(run), data, format="multipart")


def stored_blobs(settings) -> list[Path]:
    root = Path(settings.ARTIFACT_DIR)
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


def download(client, url: str) -> tuple[int, bytes, object]:
    response = client.get(url)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    response.close()
    return response.status_code, content, response


def test_upload_answers_201_with_size_and_sha256(owner_client, run, settings):
    content = b"\x89PNG fake brush stroke " * 1000

    response = upload(
        owner_client,
        run,
        content,
        filename="stroke.png",
        path="samples/stroke.png",
        content_type="image/png",
    )

    assert response.status_code == 201
    body = response.json()
    sha256 = hashlib.sha256(content).hexdigest()
    assert {k: body[k] for k in ("path", "size_bytes", "sha256", "content_type")} == {
        "path": "samples/stroke.png",
        "size_bytes": len(content),
        "sha256": sha256,
        "content_type": "image/png",
    }
    assert body["download_url"] == f"/api/v1/runs/{run.pk}/artifacts/{body['id']}/"
    blob = Path(settings.ARTIFACT_DIR) / sha256[:2] / sha256[2:4] / sha256
    assert blob.read_bytes() == content


def test_the_path_defaults_to_the_file_name(owner_client, run):
    response = upload(owner_client, run, b"{}", filename="config.json")

    assert response.json()["path"] == "config.json"


def test_list_and_download_give_back_the_same_bytes(owner_client, run):
    model_bytes = bytes(range(256)) * 4096  # 1 MiB, every byte value
    upload(owner_client, run, model_bytes, path="model/weights.bin")
    upload(owner_client, run, b"epoch,loss\n0,1.0\n", filename="log.csv", path="logs/train.csv")

    listing = owner_client.get(artifacts_url(run)).json()
    assert [(a["path"], a["size_bytes"]) for a in listing] == [
        ("logs/train.csv", 17),
        ("model/weights.bin", MIB),
    ]

    status, content, response = download(owner_client, listing[1]["download_url"])
    assert status == 200
    assert content == model_bytes
    assert response["X-Content-SHA256"] == hashlib.sha256(model_bytes).hexdigest()
    assert 'filename="weights.bin"' in response["Content-Disposition"]


def test_identical_bytes_in_two_runs_are_stored_once(owner_client, run, experiment, settings):
    other = RunFactory(experiment=experiment)
    content = b"same checkpoint" * 500

    first = upload(owner_client, run, content, path="ckpt.pt").json()
    second = upload(owner_client, other, content, path="best.pt").json()

    assert first["sha256"] == second["sha256"]
    assert first["id"] != second["id"]
    assert len(stored_blobs(settings)) == 1
    status, downloaded, _ = download(owner_client, second["download_url"])
    assert (status, downloaded) == (200, content)


def test_logging_a_path_again_replaces_the_artifact(owner_client, run):
    upload(owner_client, run, b"v1", path="notes.txt")
    upload(owner_client, run, b"version two", path="notes.txt")

    artifact = Artifact.objects.get(run=run)
    assert (artifact.path, artifact.size_bytes) == ("notes.txt", 11)


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../../x", "/abs", "C:\\x", "c:/windows/x", "a\\b", "./x", "a//b", "a/\x00b", " "],
    ids=[
        "dotdot",
        "nested-dotdot",
        "absolute",
        "drive-backslash",
        "drive",
        "backslash",
        "dot",
        "empty-part",
        "control",
        "blank",
    ],
)
def test_an_unsafe_path_is_refused_with_400_and_nothing_stored(
    owner_client, run, settings, assert_error, path
):
    response = upload(owner_client, run, b"payload", path=path)

    assert_error(response, 400, "invalid", field="path")
    assert not Artifact.objects.exists()
    assert stored_blobs(settings) == []


def test_a_missing_file_is_a_field_error(owner_client, run, assert_error):
    response = owner_client.post(artifacts_url(run), {"path": "x.bin"}, format="multipart")

    assert_error(response, 400, "invalid", field="file")
    assert not Artifact.objects.exists()


def test_an_upload_over_the_limit_is_refused_with_413_and_nothing_stored(
    owner_client, run, settings, assert_error
):
    settings.MAX_ARTIFACT_BYTES = MIB

    response = upload(owner_client, run, b"\x01" * (2 * MIB))

    assert_error(response, 413, "too_large")
    assert not Artifact.objects.exists()
    assert stored_blobs(settings) == []


def test_a_file_just_over_the_limit_is_refused_while_streaming_and_nothing_stored(
    owner_client, run, settings, assert_error
):
    """The body is within the Content-Length slack, so the streaming size check must catch it."""
    settings.MAX_ARTIFACT_BYTES = MIB

    response = upload(owner_client, run, b"\x02" * (MIB + 1))

    assert_error(response, 413, "too_large")
    assert not Artifact.objects.exists()
    assert stored_blobs(settings) == []


def test_a_file_of_exactly_the_limit_is_accepted(owner_client, run, settings):
    settings.MAX_ARTIFACT_BYTES = MIB

    response = upload(owner_client, run, b"\x03" * MIB)

    assert response.status_code == 201
    assert response.json()["size_bytes"] == MIB


def test_a_50_mb_upload_is_refused_with_the_default_limit(
    owner_client, run, settings, assert_error
):
    assert settings.MAX_ARTIFACT_BYTES == 32 * MIB

    response = upload(owner_client, run, b"\0" * 50_000_000)

    body = assert_error(response, 413, "too_large")
    assert "32 MiB" in body["detail"]
    assert not Artifact.objects.exists()
    assert stored_blobs(settings) == []


def test_a_finished_run_takes_no_artifacts(owner_client, run, settings, assert_error):
    run_finish(run=run, status=RunStatus.SUCCEEDED)

    assert_error(upload(owner_client, run, b"late"), 409, "conflict")
    assert not Artifact.objects.exists()
    assert stored_blobs(settings) == []


def test_an_unknown_artifact_is_404(owner_client, run, assert_error):
    assert_error(owner_client.get(f"{artifacts_url(run)}12345/"), 404, "not_found")


def test_an_artifact_of_another_run_is_not_served_under_this_run(owner_client, run, experiment):
    other = RunFactory(experiment=experiment)
    artifact_id = upload(owner_client, other, b"other run").json()["id"]

    assert owner_client.get(f"{artifacts_url(run)}{artifact_id}/").status_code == 404
