"""Readers: a stored version's samples come back exactly as ingest described them."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from registry.ingest import IngestLimits, IngestRejected, ingest
from registry.ingest.readers import (
    read_audio,
    read_images,
    read_member,
    read_table,
    spectrogram_png,
    thumbnail_png,
)
from tests.registry.ingest.builders import clip_bytes, image_bytes, png_header_only, write_zip


def test_read_table_parses_like_ingest(tmp_path):
    path = tmp_path / "stored-blob"
    path.write_bytes("1.5;2;café\n2.5;;thé\n".encode("latin-1"))
    schema = ingest(path, modality="tabular", original_name="m.csv").schema

    frame = read_table(path, schema)

    assert list(frame.columns) == ["column_1", "column_2", "column_3"]
    # NumPy-backed dtypes with NaN for gaps, as scikit-learn expects; the schema keeps "integer".
    assert [str(dtype) for dtype in frame.dtypes] == ["float64", "float64", "str"]
    assert [column["type"] for column in schema["columns"]] == ["float", "integer", "categorical"]
    assert frame["column_3"].tolist() == ["café", "thé"]
    assert frame["column_2"].isna().tolist() == [False, True]
    assert frame["column_2"][0] == 2


def test_read_table_parquet(tmp_path):
    path = tmp_path / "stored-blob"
    pd.DataFrame({"a": [1, 2], "b": ["x", None]}).to_parquet(path)
    schema = ingest(path, modality="tabular", original_name="t.parquet").schema

    frame = read_table(path, schema)

    assert frame["a"].tolist() == [1, 2]
    assert str(frame["a"].dtype) == "int64"
    assert frame["b"].isna().tolist() == [False, True]


def test_read_member_with_the_same_safety(tmp_path):
    png = image_bytes()
    path = write_zip(tmp_path / "a.zip", {"cats/a.png": png})

    assert read_member(path, "cats/a.png") == png
    with pytest.raises(IngestRejected) as escaping:
        read_member(path, "../a.png")
    with pytest.raises(IngestRejected) as missing:
        read_member(path, "cats/b.png")
    with pytest.raises(IngestRejected) as too_large:
        read_member(path, "cats/a.png", IngestLimits(max_member_bytes=10))

    assert str(escaping.value) == 'member "../a.png" escapes the archive'
    assert str(missing.value) == 'member "cats/b.png" is not in the archive'
    assert str(too_large.value) == 'member "cats/a.png" inflates past the 10 bytes limit'


def test_read_images(tmp_path):
    members = {
        "cats/a.png": image_bytes((255, 0, 0), size=(4, 3)),
        "cats/b.png": image_bytes(7, size=(2, 5), mode="L"),
        "dogs/c.png": image_bytes((0, 0, 255, 128), size=(3, 3), mode="RGBA"),
        "dogs/d.png": image_bytes(1, size=(2, 2), mode="P"),
    }
    path = write_zip(tmp_path / "a.zip", members)
    manifest = ingest(path, modality="image", original_name="a.zip").manifest

    arrays, labels = read_images(path, manifest)

    assert labels == ["cats", "cats", "dogs", "dogs"]
    assert [array.shape for array in arrays] == [(3, 4, 3), (5, 2, 1), (3, 3, 3), (2, 2, 3)]
    assert all(array.dtype == np.uint8 for array in arrays)
    assert arrays[0][0, 0].tolist() == [255, 0, 0]
    assert arrays[1][0, 0].tolist() == [7]
    assert arrays[2][0, 0].tolist() == [0, 0, 255]


def test_read_images_bounds_each_member_by_its_recorded_size(tmp_path):
    path = write_zip(tmp_path / "a.zip", {"a.png": image_bytes()})
    manifest = ingest(path, modality="image", original_name="a.zip").manifest
    shrunk = [entry | {"size_bytes": entry["size_bytes"] - 1} for entry in manifest]

    with pytest.raises(IngestRejected) as refusal:
        read_images(path, shrunk)

    size = manifest[0]["size_bytes"] - 1
    assert str(refusal.value) == f'member "a.png" inflates past the {size} bytes limit'


def test_read_audio_mono_resampled_and_fitted(tmp_path):
    members = {
        "a/1.wav": clip_bytes(0.5, 16000, channels=2),
        "b/2.flac": clip_bytes(0.25, 8000, fmt="FLAC"),
    }
    path = write_zip(tmp_path / "a.zip", members)
    result = ingest(path, modality="audio", original_name="a.zip")

    clips, labels = read_audio(path, result.manifest, sample_rate=16000)
    fitted, _ = read_audio(path, result.manifest, sample_rate=16000, duration_s=0.3)

    assert labels == ["a", "b"]
    assert [clip.shape for clip in clips] == [(8000,), (4000,)]
    assert [clip.shape for clip in fitted] == [(4800,), (4800,)]
    assert all(clip.dtype == np.float32 for clip in clips + fitted)
    assert np.abs(clips[0]).max() == pytest.approx(0.5, abs=1e-3)
    assert fitted[1][4000:].tolist() == [0.0] * 800


def test_spectrogram_png():
    tone = clip_bytes(1.0, 8000, frequency_hz=1000.0)

    png = spectrogram_png(tone, width=80, height=32)

    with Image.open(io.BytesIO(png)) as picture:
        assert (picture.format, picture.size, picture.mode) == ("PNG", (80, 32), "RGB")
        pixels = np.asarray(picture)
    # A 1 kHz tone is one bright band across time; the dark top (high pitches) is quiet.
    assert pixels.mean(axis=(1, 2)).max() > 150
    assert pixels[0].mean() < 60


def test_spectrogram_of_silence_is_dark():
    silence = clip_bytes(0.2, 8000, frequency_hz=0.0)

    with Image.open(io.BytesIO(spectrogram_png(silence))) as picture:
        assert picture.size == (160, 64)
        assert np.asarray(picture).max() < 10


def test_thumbnail_png():
    wide = image_bytes("red", size=(300, 150), fmt="JPEG")
    transparent = image_bytes((0, 0, 0, 0), size=(50, 100), mode="RGBA")

    with Image.open(io.BytesIO(thumbnail_png(wide))) as picture:
        assert (picture.format, picture.size, picture.mode) == ("PNG", (96, 48), "RGB")
    with Image.open(io.BytesIO(thumbnail_png(transparent, size=40))) as picture:
        assert (picture.size, picture.mode) == ((20, 40), "RGBA")


def test_previews_of_undecodable_bytes_are_refused():
    with pytest.raises(IngestRejected, match="the clip could not be decoded"):
        spectrogram_png(b"not audio")
    with pytest.raises(IngestRejected, match="the image could not be decoded"):
        thumbnail_png(b"not an image")
    with pytest.raises(IngestRejected, match="5000x5000 pixels, too large to preview"):
        thumbnail_png(png_header_only(5000, 5000))
