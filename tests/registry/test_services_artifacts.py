import hashlib
import io
from pathlib import Path

import pytest

from registry import artifact_store
from registry.errors import Conflict, InvalidInput, LimitExceeded
from registry.models import Artifact, Run, RunStatus
from registry.services import check_artifact_path, run_finish, run_log_artifact
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def blobs(settings) -> list[Path]:
    root = Path(settings.ARTIFACT_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize(
    "path", ["model.pt", "samples/epoch-3/stroke 01.png", "a.b/c_d-e", "ünïcode/名前.txt"]
)
def test_check_artifact_path_accepts_relative_posix_paths(path):
    assert check_artifact_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "   ",
        "../x",
        "a/../../x",
        "a/..",
        "/etc/passwd",
        "C:\\x",
        "c:x",
        "a\\b",
        "./x",
        "a//b",
        "a/",
        "a/./b",
        "tab\there",
        "x" * 501,
        None,
        7,
    ],
)
def test_check_artifact_path_refuses_unsafe_paths(path):
    with pytest.raises(InvalidInput) as caught:
        check_artifact_path(path)

    assert caught.value.field == "path"


def test_run_log_artifact_stores_bytes_under_their_hash(run, settings):
    content = b"checkpoint bytes"

    artifact = run_log_artifact(run=run, path="ckpt/weights", stream=io.BytesIO(content))

    sha256 = hashlib.sha256(content).hexdigest()
    assert (artifact.sha256, artifact.size_bytes, artifact.path) == (
        sha256,
        len(content),
        "ckpt/weights",
    )
    assert artifact.content_type == "application/octet-stream"
    assert blobs(settings) == [Path(settings.ARTIFACT_DIR) / sha256[:2] / sha256[2:4] / sha256]
    with artifact_store.open_blob(sha256) as blob:
        assert blob.read() == content


def test_content_type_is_guessed_from_the_path_when_not_given(run):
    artifact = run_log_artifact(run=run, path="card.json", stream=io.BytesIO(b"{}"))

    assert artifact.content_type == "application/json"


def test_an_unsafe_path_writes_no_bytes(run, settings):
    with pytest.raises(InvalidInput):
        run_log_artifact(run=run, path="../escape", stream=io.BytesIO(b"x"))

    assert blobs(settings) == []
    assert not Artifact.objects.exists()


def test_a_stream_over_the_limit_leaves_no_file(run, settings):
    with pytest.raises(LimitExceeded):
        run_log_artifact(run=run, path="big.bin", stream=io.BytesIO(b"x" * 1025), max_bytes=1024)

    assert blobs(settings) == []
    assert not Artifact.objects.exists()


def test_a_run_finished_meanwhile_keeps_no_bytes_of_the_refused_upload(run, settings):
    """The caller's copy says running; the row says succeeded (a finish raced the upload)."""
    run_finish(run=Run.objects.get(pk=run.pk), status=RunStatus.SUCCEEDED)
    assert run.status == RunStatus.RUNNING

    with pytest.raises(Conflict):
        run_log_artifact(run=run, path="late.bin", stream=io.BytesIO(b"late bytes"))

    assert blobs(settings) == []
    assert not Artifact.objects.exists()


def test_a_refused_upload_keeps_bytes_another_artifact_shares(run, experiment, settings):
    other = RunFactory(experiment=experiment)
    shared = run_log_artifact(run=other, path="shared.bin", stream=io.BytesIO(b"shared"))
    run_finish(run=Run.objects.get(pk=run.pk), status=RunStatus.SUCCEEDED)

    with pytest.raises(Conflict):
        run_log_artifact(run=run, path="copy.bin", stream=io.BytesIO(b"shared"))

    assert [p.name for p in blobs(settings)] == [shared.sha256]
    assert list(Artifact.objects.values_list("path", flat=True)) == ["shared.bin"]


def test_same_bytes_twice_are_one_file(run, experiment, settings):
    other = RunFactory(experiment=experiment)

    first = run_log_artifact(run=run, path="a.bin", stream=io.BytesIO(b"same"))
    second = run_log_artifact(run=other, path="b.bin", stream=io.BytesIO(b"same"))

    assert first.sha256 == second.sha256
    assert len(blobs(settings)) == 1
    assert Artifact.objects.count() == 2
