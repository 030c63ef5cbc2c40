"""Image ZIPs: formats decided by content, exact manifests and schemas, undecodable files listed,
pixel bombs refused before decoding, and the content hash."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from registry.ingest import IngestLimits, IngestRejected, ingest, manifest_sha256
from tests.registry.ingest.builders import image_bytes, png_header_only, write_zip

RED_PNG = image_bytes("red", size=(8, 6))
BLUE_JPEG = image_bytes("blue", size=(10, 4), fmt="JPEG")
GREEN_WEBP = image_bytes("green", size=(5, 5), fmt="WEBP")
GREY_PNG = image_bytes(128, size=(3, 7), mode="L")


def ingest_images(path: Path, **limits: int):
    return ingest(path, modality="image", original_name="images.zip", limits=IngestLimits(**limits))


def refusal_of(path: Path, **limits: int) -> IngestRejected:
    with pytest.raises(IngestRejected) as refusal:
        ingest_images(path, **limits)
    return refusal.value


def test_formats_in_class_folders(tmp_path):
    members = {
        "digits/0/a.png": RED_PNG,
        "digits/1/b.jpg": BLUE_JPEG,
        "digits/1/c.webp": GREEN_WEBP,
        "digits/0/d.png": GREY_PNG,
        "digits/1/": b"",
        "__MACOSX/digits/0/._a.png": b"resource fork",
        "digits/.DS_Store": b"finder",
    }
    path = write_zip(tmp_path / "digits.zip", members)

    result = ingest_images(path)

    assert (result.file_format, result.n_samples, result.sample_rate) == ("zip", 4, None)
    assert result.size_bytes == path.stat().st_size
    assert result.manifest[0] == {
        "path": "digits/0/a.png",
        "label": "0",
        "sha256": hashlib.sha256(RED_PNG).hexdigest(),
        "size_bytes": len(RED_PNG),
        "width": 8,
        "height": 6,
        "mode": "RGB",
    }
    facts = [
        (entry["path"], entry["label"], entry["width"], entry["mode"]) for entry in result.manifest
    ]
    assert facts == [
        ("digits/0/a.png", "0", 8, "RGB"),
        ("digits/0/d.png", "0", 3, "L"),
        ("digits/1/b.jpg", "1", 10, "RGB"),
        ("digits/1/c.webp", "1", 5, "RGB"),
    ]
    assert result.schema == {
        "kind": "images",
        "classes": [{"name": "0", "count": 2}, {"name": "1", "count": 2}],
        "n_unlabelled": 0,
        "width": {"min": 3, "max": 10},
        "height": {"min": 4, "max": 7},
        "modes": {"L": 1, "RGB": 3},
    }
    assert result.sha256 == manifest_sha256(result.manifest)


def test_unlabelled_archive(tmp_path):
    path = write_zip(tmp_path / "shots.zip", {"a.png": RED_PNG, "b.png": image_bytes(mode="RGBA")})

    result = ingest_images(path)

    assert [entry["label"] for entry in result.manifest] == [None, None]
    assert (result.schema["classes"], result.schema["n_unlabelled"]) == ([], 2)
    assert result.schema["modes"] == {"RGB": 1, "RGBA": 1}


def test_mixed_layout_is_refused_before_decoding(tmp_path):
    path = write_zip(tmp_path / "mixed.zip", {"a.png": b"not even an image", "cats/b.png": RED_PNG})

    assert "the archive mixes files at the top level (a.png)" in str(refusal_of(path))


def test_undecodable_files_are_listed_in_one_message(tmp_path):
    large_png = image_bytes("red", size=(64, 64))
    members = {
        "cats/a.png": large_png[: len(large_png) // 2],
        "cats/b.png": b"hello, I am text",
        "cats/c.gif": image_bytes(fmt="GIF"),
        "dogs/ok.png": RED_PNG,
    }
    path = write_zip(tmp_path / "broken.zip", members)

    refusal = refusal_of(path)

    assert str(refusal) == (
        "3 files could not be decoded: cats/a.png (truncated PNG), "
        "cats/b.png (not a PNG, JPEG or WebP image), cats/c.gif (not a PNG, JPEG or WebP image)"
    )
    assert refusal.problems == [
        "cats/a.png (truncated PNG)",
        "cats/b.png (not a PNG, JPEG or WebP image)",
        "cats/c.gif (not a PNG, JPEG or WebP image)",
    ]
    assert refusal.problem_count == 3


def test_listing_stops_at_the_limit(tmp_path):
    members = {f"{index}.png": b"nope" for index in range(5)} | {"ok.png": RED_PNG}
    path = write_zip(tmp_path / "broken.zip", members)

    refusal = refusal_of(path, max_listed_problems=2)

    assert str(refusal) == (
        "5 files could not be decoded: 0.png (not a PNG, JPEG or WebP image), "
        "1.png (not a PNG, JPEG or WebP image), and 3 more"
    )
    assert (len(refusal.problems), refusal.problem_count) == (2, 5)


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (5000, 5000, 'image "big.png" is 5000x5000 pixels, over the 16,777,216-pixel limit'),
        (20000, 20000, 'image "big.png" is over the 16,777,216-pixel limit'),  # Pillow's own bomb
    ],
)
def test_pixel_bomb_is_refused_from_its_header(tmp_path, width, height, message):
    path = write_zip(tmp_path / "bomb.zip", {"big.png": png_header_only(width, height)})

    started = time.perf_counter()
    refusal = refusal_of(path)

    assert str(refusal) == message
    assert time.perf_counter() - started < 0.5


def test_pixel_limit_is_inclusive(tmp_path):
    path = write_zip(tmp_path / "a.zip", {"a.png": RED_PNG})

    assert ingest_images(path, max_image_pixels=48).n_samples == 1
    assert "8x6 pixels, over the 47-pixel limit" in str(refusal_of(path, max_image_pixels=47))


def test_same_files_rezipped_in_another_order_hash_the_same(tmp_path):
    members = {"cats/a.png": RED_PNG, "cats/b.jpg": BLUE_JPEG, "dogs/c.webp": GREEN_WEBP}
    forward = write_zip(tmp_path / "forward.zip", members)
    backward = write_zip(tmp_path / "backward.zip", dict(reversed(members.items())))

    first, second = ingest_images(forward), ingest_images(backward)

    assert forward.read_bytes() != backward.read_bytes()
    assert first.sha256 == second.sha256
    assert first.manifest == second.manifest


def test_relabelling_changes_the_hash(tmp_path):
    labelled = ingest_images(
        write_zip(tmp_path / "a.zip", {"cats/a.png": RED_PNG, "dogs/b.png": GREY_PNG})
    )
    relabelled = [entry | {"label": "dogs"} for entry in labelled.manifest]
    unlabelled = [entry | {"label": None} for entry in labelled.manifest]

    hashes = {labelled.sha256, manifest_sha256(relabelled), manifest_sha256(unlabelled)}

    assert len(hashes) == 3
    assert manifest_sha256(list(reversed(labelled.manifest))) == labelled.sha256
