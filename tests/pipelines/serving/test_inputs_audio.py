"""Clips from a request: base64 files decoded and resampled exactly as the dataset reader does it,
with formats and lengths checked before samples are decoded."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pipelines.serving import FieldError, InputError, InputSignature, decode_inputs
from registry.ingest.readers import read_audio

AT_16_KHZ = InputSignature.audio(sample_rate=16000, duration_s=0.5)
UNKNOWN_LENGTH = InputSignature.audio(sample_rate=1000, duration_s=None)


def clip(
    seconds: float,
    sample_rate: int,
    *,
    channels: int = 1,
    audio_format: str = "WAV",
    subtype: str | None = None,
) -> bytes:
    """A seeded noisy tone, written by libsndfile in the format asked for."""
    generator = np.random.default_rng(sample_rate + channels)
    times = np.arange(round(seconds * sample_rate)) / sample_rate
    wave = 0.5 * np.sin(2 * np.pi * 220 * times) + generator.normal(0, 0.05, times.size)
    samples = np.repeat(wave[:, None], channels, axis=1) * np.linspace(1, 0.5, channels)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format=audio_format, subtype=subtype)
    return buffer.getvalue()


def as_base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def read_like_training(tmp_path: Path, files: list[bytes], sample_rate: int) -> list[np.ndarray]:
    """The clips as training reads them: from a dataset archive, through the dataset reader."""
    path = tmp_path / "clips.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index, data in enumerate(files):
            archive.writestr(f"clip_{index}", data)
    manifest = [
        {"path": f"clip_{index}", "label": None, "size_bytes": len(data)}
        for index, data in enumerate(files)
    ]
    return read_audio(path, manifest, sample_rate=sample_rate)[0]


def problems(signature: InputSignature, inputs: list) -> list[FieldError]:
    with pytest.raises(InputError) as caught:
        decode_inputs(signature, inputs)
    return caught.value.errors


def test_clips_decode_and_resample_to_the_waveforms_training_read(tmp_path):
    files = [
        clip(0.5, 8000, channels=2),
        clip(0.25, 16000, subtype="FLOAT"),
        clip(0.4, 22050, audio_format="FLAC"),
        clip(0.3, 44100, channels=2, audio_format="OGG", subtype="VORBIS"),
        clip(0.5, 16000, audio_format="WAVEX"),
    ]

    decoded = decode_inputs(AT_16_KHZ, [as_base64(data) for data in files])
    expected = read_like_training(tmp_path, files, 16000)

    assert [wave.size for wave in decoded] == [8000, 4000, 6400, 4800, 8000]
    for got, want in zip(decoded, expected, strict=True):
        assert got.dtype == np.float32
        assert np.array_equal(got, want)


def test_a_clip_much_longer_than_the_models_is_refused():
    assert problems(AT_16_KHZ, [as_base64(clip(2.5, 8000)), as_base64(clip(2.0, 8000))]) == [
        FieldError("inputs[0]", "clip longer than 2 s is refused for this model")
    ]
    assert problems(UNKNOWN_LENGTH, [as_base64(clip(60.5, 1000))]) == [
        FieldError("inputs[0]", "clip longer than 60 s is refused for this model")
    ]


def test_a_batch_of_long_clips_is_refused_past_its_duration_budget():
    minute = as_base64(clip(59.0, 1000))

    assert problems(UNKNOWN_LENGTH, [minute] * 11) == [
        FieldError(
            "inputs[10]",
            "the clips add up to over 600 s, the limit of one request; send fewer or shorter clips",
        )
    ]


def test_each_bad_clip_is_reported_with_what_was_expected():
    broken_samples = io.BytesIO()
    soundfile.write(
        broken_samples, np.array([0.1, np.nan, 0.2]), 16000, format="WAV", subtype="FLOAT"
    )
    empty = io.BytesIO()
    soundfile.write(empty, np.zeros(0), 16000, format="WAV")
    inputs = [
        [1, 2],
        as_base64(b"RIFF, but nothing after"),
        as_base64(clip(0.1, 16000, audio_format="AIFF")),
        as_base64(broken_samples.getvalue()),
        as_base64(empty.getvalue()),
    ]

    assert problems(AT_16_KHZ, inputs) == [
        FieldError("inputs[0]", "expected the audio file as a base64 string, got a list"),
        FieldError("inputs[1]", "not an audio file, or a broken one (WAV, FLAC or OGG expected)"),
        FieldError("inputs[2]", "AIFF audio is not accepted (WAV, FLAC or OGG expected)"),
        FieldError("inputs[3]", "the clip holds NaN or infinite samples"),
        FieldError("inputs[4]", "the clip holds no audio"),
    ]
