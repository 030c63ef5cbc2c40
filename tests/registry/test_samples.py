"""run_log_sample: the picture and clip as run artifacts, the `sample` event in the same
transaction, and refusals that leave nothing behind."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from PIL import Image

from registry import artifact_store
from registry.errors import Conflict, InvalidInput
from registry.models import Artifact, RunStatus, StreamEvent
from registry.services import run_finish, run_log_sample
from registry.services.samples import MAX_SAMPLES_PER_RUN

pytestmark = pytest.mark.django_db

ITEMS = [
    {"label": "cat", "predicted": "cat", "correct": True, "confidence": 0.91},
    {"label": "dog", "predicted": "cat", "correct": False, "confidence": 0.55},
]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


def sample_events(run) -> list[StreamEvent]:
    return list(StreamEvent.objects.filter(stream__name=f"run:{run.pk}", type="sample"))


def blobs(settings) -> list[Path]:
    root = Path(settings.ARTIFACT_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_sample_stores_its_picture_and_announces_it_with_the_address(run):
    payload = run_log_sample(
        run=run, epoch=3, kind="image", items=ITEMS, files={"grid.png": png()}, columns=5
    )

    artifact = Artifact.objects.get(run=run)
    assert (artifact.path, artifact.content_type) == ("samples/epoch-003.png", "image/png")
    assert artifact_store.blob_path(artifact.sha256).read_bytes() == png()
    url = f"/api/v1/runs/{run.pk}/artifacts/{artifact.pk}/"
    assert payload == {"epoch": 3, "kind": "image", "items": ITEMS, "columns": 5, "url": url}
    (event,) = sample_events(run)
    assert event.payload == payload


def test_an_audio_sample_links_its_clip_and_a_table_sample_has_no_files(run):
    audio = run_log_sample(
        run=run, epoch=1, kind="audio", items=ITEMS, files={"s.png": png(), "clip.wav": wav()}
    )
    table = run_log_sample(run=run, epoch=2, kind="table", items=ITEMS)

    clip = Artifact.objects.get(run=run, path="samples/epoch-001.wav")
    assert clip.content_type == "audio/wav"
    assert audio["audio_url"] == f"/api/v1/runs/{run.pk}/artifacts/{clip.pk}/"
    assert "url" in audio
    assert table == {"epoch": 2, "kind": "table", "items": ITEMS}
    assert Artifact.objects.filter(run=run).count() == 2
    assert [event.payload["epoch"] for event in sample_events(run)] == [1, 2]


def test_the_owner_downloads_the_picture_at_the_announced_address(run, owner_client):
    payload = run_log_sample(run=run, epoch=1, kind="image", items=[], files={"g.png": png()})

    response = owner_client.get(payload["url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "video"}, "kind", "kind must be one of image, audio, table, got 'video'"),
        ({"epoch": 0}, "epoch", "epoch must be a whole number from 1"),
        ({"items": ITEMS * 9}, "items", "at most 16 items, got 18"),
        ({"items": [{"confidence": float("nan")}]}, "items", "finite number"),
        ({"items": [{"label": ["a"]}]}, "items", "not list"),
        ({"files": {"grid.png": b"GIF89a"}}, "files", "is not a .png file"),
        ({"files": {"grid.gif": png()}}, "files", "only a .png picture and a .wav clip"),
    ],
    ids=["kind", "epoch", "too-many-items", "nan", "nested", "not-png", "suffix"],
)
def test_a_bad_sample_is_refused_clearly_and_stores_nothing(run, settings, changes, field, message):
    arguments = {"epoch": 1, "kind": "image", "items": ITEMS, "files": {"g.png": png()}}

    with pytest.raises(InvalidInput) as refused:
        run_log_sample(run=run, **{**arguments, **changes})

    assert refused.value.field == field
    assert message in refused.value.message
    assert not Artifact.objects.exists() and sample_events(run) == []
    assert blobs(settings) == []


def test_a_finished_run_takes_no_sample(run, settings):
    run_finish(run=run, status=RunStatus.SUCCEEDED)

    with pytest.raises(Conflict):
        run_log_sample(run=run, epoch=1, kind="image", items=ITEMS, files={"g.png": png()})

    assert not Artifact.objects.exists() and sample_events(run) == []
    assert blobs(settings) == []


def test_a_run_takes_at_most_fifty_samples_and_the_refused_one_leaves_no_file(run, settings):
    for epoch in range(1, MAX_SAMPLES_PER_RUN + 1):
        run_log_sample(run=run, epoch=epoch, kind="table", items=ITEMS)

    with pytest.raises(Conflict, match="already has 50 samples"):
        run_log_sample(run=run, epoch=51, kind="image", items=ITEMS, files={"g.png": png()})

    assert len(sample_events(run)) == MAX_SAMPLES_PER_RUN
    assert not Artifact.objects.exists()
    assert blobs(settings) == []
