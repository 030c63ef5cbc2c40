"""Audio ZIPs: WAV, FLAC and OGG synthesised here, exact durations and rates, and refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from registry.ingest import IngestLimits, IngestRejected, ingest, manifest_sha256
from tests.registry.ingest.builders import clip_bytes, ogg_vorbis_works, write_zip

needs_ogg = pytest.mark.skipif(
    not ogg_vorbis_works(), reason="this libsndfile was built without Ogg Vorbis"
)


def ingest_audio(path: Path, **limits: float):
    return ingest(path, modality="audio", original_name="clips.zip", limits=IngestLimits(**limits))


def refusal_of(path: Path, **limits: float) -> IngestRejected:
    with pytest.raises(IngestRejected) as refusal:
        ingest_audio(path, **limits)
    return refusal.value


@needs_ogg
def test_wav_flac_and_ogg_in_class_folders(tmp_path):
    wav = clip_bytes(0.5, 16000)
    members = {
        "sounds/bark/1.wav": wav,
        "sounds/bark/2.flac": clip_bytes(0.25, 16000, channels=2, fmt="FLAC"),
        "sounds/meow/3.ogg": clip_bytes(0.3, 22050, fmt="OGG", subtype="VORBIS"),
        "sounds/meow/4.wav": clip_bytes(1.0, 8000, fmt="WAV", subtype="PCM_16"),
        "__MACOSX/sounds/bark/._1.wav": b"resource fork",
    }
    path = write_zip(tmp_path / "sounds.zip", members)

    result = ingest_audio(path)

    assert (result.file_format, result.n_samples, result.sample_rate) == ("zip", 4, 16000)
    assert result.manifest[0] == {
        "path": "sounds/bark/1.wav",
        "label": "bark",
        "sha256": hashlib.sha256(wav).hexdigest(),
        "size_bytes": len(wav),
        "sample_rate": 16000,
        "duration_s": 0.5,
        "channels": 1,
    }
    facts = [
        (entry["label"], entry["sample_rate"], entry["duration_s"], entry["channels"])
        for entry in result.manifest
    ]
    assert facts == [
        ("bark", 16000, 0.5, 1),
        ("bark", 16000, 0.25, 2),
        ("meow", 22050, 0.3, 1),
        ("meow", 8000, 1.0, 1),
    ]
    assert result.schema == {
        "kind": "audio",
        "classes": [{"name": "bark", "count": 2}, {"name": "meow", "count": 2}],
        "n_unlabelled": 0,
        "sample_rate": 16000,
        "duration_s": {"min": 0.25, "max": 1.0, "total": 2.05},
        "channels": {"1": 3, "2": 1},
    }
    assert result.sha256 == manifest_sha256(result.manifest)


def test_most_common_rate_wins_and_ties_go_higher(tmp_path):
    members = {
        "a.wav": clip_bytes(0.1, 8000),
        "b.wav": clip_bytes(0.1, 8000),
        "c.wav": clip_bytes(0.1, 44100),
    }
    tie = {"a.wav": clip_bytes(0.1, 8000), "b.wav": clip_bytes(0.1, 22050)}

    assert ingest_audio(write_zip(tmp_path / "a.zip", members)).sample_rate == 8000
    assert ingest_audio(write_zip(tmp_path / "b.zip", tie)).sample_rate == 22050


def test_unlabelled_clips(tmp_path):
    result = ingest_audio(
        write_zip(tmp_path / "a.zip", {"a.flac": clip_bytes(0.2, 8000, fmt="FLAC")})
    )

    assert (result.schema["classes"], result.schema["n_unlabelled"]) == ([], 1)
    assert result.manifest[0]["label"] is None


def test_non_audio_files_are_listed(tmp_path):
    members = {
        "bark/a.wav": b"RIFF but not really a wave file at all",
        "bark/b.wav": clip_bytes(0.1, 8000),
        "meow/c.flac": b"",
        "meow/d.mp3": b"\xff\xfb\x90\x00" + bytes(100),
    }

    refusal = refusal_of(write_zip(tmp_path / "a.zip", members))

    assert str(refusal).startswith(
        "3 files could not be decoded: bark/a.wav (not a WAV, FLAC or OGG"
    )
    assert [problem.split(" ")[0] for problem in refusal.problems] == [
        "bark/a.wav",
        "meow/c.flac",
        "meow/d.mp3",
    ]


def test_too_long_clip_is_refused_from_its_header(tmp_path):
    members = {"short.wav": clip_bytes(0.5, 8000), "long.wav": clip_bytes(1.5, 8000)}

    refusal = refusal_of(write_zip(tmp_path / "a.zip", members), max_audio_duration_s=1.0)

    assert str(refusal) == 'clip "long.wav" lasts 1.5 s, over the 1 s limit'


def test_archive_with_no_clips(tmp_path):
    path = write_zip(tmp_path / "a.zip", {"folder/": b"", ".DS_Store": b""})

    assert str(refusal_of(path)) == "the archive holds no audio clips"


def mp3_bytes() -> bytes | None:
    try:
        return clip_bytes(0.2, 8000, fmt="MP3")
    except (RuntimeError, ValueError, TypeError):
        return None


@pytest.mark.skipif(mp3_bytes() is None, reason="this libsndfile was built without MP3")
def test_mp3_is_decodable_but_not_accepted(tmp_path):
    path = write_zip(tmp_path / "a.zip", {"a.mp3": mp3_bytes(), "b.wav": clip_bytes(0.1, 8000)})

    refusal = refusal_of(path)

    assert refusal.problems == ["a.mp3 (MP3 is not accepted, only WAV, FLAC or OGG)"]
