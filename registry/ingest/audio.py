"""Audio datasets: a ZIP of WAV, FLAC or OGG clips, optionally sorted into class folders.

Clips are decoded by libsndfile (soundfile) from memory. The duration is read from the header and
checked before decoding; then every frame is decoded, block by block, so a damaged clip is found
at upload and not halfway through a training run, and a long high-rate clip never sits whole in
memory.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile

from registry.ingest.errors import IngestRejected, UndecodableMember
from registry.ingest.hashing import manifest_sha256
from registry.ingest.layout import class_counts, unlabelled_count
from registry.ingest.limits import IngestLimits
from registry.ingest.media import build_manifest
from registry.ingest.result import IngestResult

# libsndfile calls WAV files with the "extensible" header WAVEX; they are WAV to a creator.
ACCEPTED_FORMATS = frozenset({"WAV", "WAVEX", "FLAC", "OGG"})
_BLOCK_FRAMES = 65_536
_DURATION_DECIMALS = 6


def ingest_audio(path: Path, *, limits: IngestLimits) -> IngestResult:
    """Check every clip of the archive and describe the dataset; its rate is the most common."""
    manifest = build_manifest(path, probe=probe_audio, limits=limits, noun="audio clips")
    schema = describe_audio(manifest)
    return IngestResult(
        sha256=manifest_sha256(manifest),
        size_bytes=path.stat().st_size,
        file_format="zip",
        n_samples=len(manifest),
        schema=schema,
        manifest=manifest,
        sample_rate=schema["sample_rate"],
    )


def probe_audio(data: bytes, member_path: str, limits: IngestLimits) -> dict:
    """sample_rate, duration_s and channels of a fully decoded clip."""
    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise UndecodableMember("not a WAV, FLAC or OGG file") from error
    if info.format not in ACCEPTED_FORMATS:
        raise UndecodableMember(f"{info.format} is not accepted, only WAV, FLAC or OGG")
    if info.samplerate <= 0 or info.frames <= 0:
        raise UndecodableMember("holds no audio")
    declared_duration_s = info.frames / info.samplerate
    if declared_duration_s > limits.max_audio_duration_s:
        raise IngestRejected(
            f'clip "{member_path}" lasts {declared_duration_s:.1f} s, '
            f"over the {limits.max_audio_duration_s:g} s limit"
        )
    n_frames = _decoded_frame_count(data, info.format)
    return {
        "sample_rate": info.samplerate,
        "duration_s": round(n_frames / info.samplerate, _DURATION_DECIMALS),
        "channels": info.channels,
    }


def _decoded_frame_count(data: bytes, audio_format: str) -> int:
    n_frames = 0
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as clip:
            for block in clip.blocks(blocksize=_BLOCK_FRAMES, dtype="float32"):
                n_frames += len(block)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise UndecodableMember(f"broken {audio_format}") from error
    if n_frames == 0:
        raise UndecodableMember("holds no audio")
    return n_frames


def decode_mono(data: bytes) -> tuple[np.ndarray, int]:
    """A clip as mono float32 samples (the mean of its channels) and its sample rate."""
    samples, sample_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples.mean(axis=1, dtype=np.float32), sample_rate


def describe_audio(manifest: list[dict]) -> dict:
    """Classes, rate, durations and channel counts; the rate is the one most clips share (ties go
    to the higher rate), which readers resample every clip to."""
    rates = Counter(entry["sample_rate"] for entry in manifest)
    durations = [entry["duration_s"] for entry in manifest]
    channels = Counter(entry["channels"] for entry in manifest)
    return {
        "kind": "audio",
        "classes": class_counts(manifest),
        "n_unlabelled": unlabelled_count(manifest),
        "sample_rate": max(rates, key=lambda rate: (rates[rate], rate)),
        "duration_s": {
            "min": min(durations),
            "max": max(durations),
            "total": round(sum(durations), _DURATION_DECIMALS),
        },
        "channels": {str(count): channels[count] for count in sorted(channels)},
    }
