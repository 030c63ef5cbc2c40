"""Images from a request: base64 files decoded exactly as the dataset reader decodes a dataset's
images, with the size, format and pixel limits checked before the pixels are decoded."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipelines.serving import FieldError, InputError, InputSignature, decode_inputs
from registry.ingest.readers import read_images

TIMES = "\N{MULTIPLICATION SIGN}"
ANY_SIZE = InputSignature.image(width=8, height=8, channels=1, resizes=True)
GREY_12_BY_10 = InputSignature.image(width=12, height=10, channels=1, resizes=False)
COLOUR_12_BY_10 = InputSignature.image(width=12, height=10, channels=3, resizes=False)


def encoded(image: Image.Image, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def pictures() -> list[bytes]:
    """One file per colour layout and format a creator might send."""
    generator = np.random.default_rng(1)
    rgb = Image.fromarray(generator.integers(0, 256, (10, 12, 3), dtype=np.uint8))
    grey = Image.fromarray(generator.integers(0, 256, (12, 10), dtype=np.uint8))
    deep = Image.fromarray(generator.integers(0, 65536, (9, 7), dtype=np.uint16))
    return [
        encoded(rgb),
        encoded(grey),
        encoded(rgb.convert("RGBA")),
        encoded(grey.convert("LA")),
        encoded(rgb.convert("P")),
        encoded(deep),
        encoded(grey.convert("1")),
        encoded(rgb, "JPEG"),
        encoded(rgb, "GIF"),
        encoded(rgb, "BMP"),
        encoded(rgb, "WEBP"),
    ]


def as_base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def read_like_training(tmp_path: Path, files: list[bytes]) -> list[np.ndarray]:
    """The images as training reads them: from a dataset archive, through the dataset reader."""
    path = tmp_path / "images.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index, data in enumerate(files):
            archive.writestr(f"picture_{index}", data)
    manifest = [
        {"path": f"picture_{index}", "label": None, "size_bytes": len(data)}
        for index, data in enumerate(files)
    ]
    return read_images(path, manifest)[0]


def problems(signature: InputSignature, inputs: list, **limits) -> list[FieldError]:
    with pytest.raises(InputError) as caught:
        decode_inputs(signature, inputs, **limits)
    return caught.value.errors


def test_images_decode_to_the_arrays_training_read(tmp_path):
    files = pictures()

    decoded = decode_inputs(ANY_SIZE, [as_base64(data) for data in files])
    expected = read_like_training(tmp_path, files)

    assert [image.shape for image in decoded] == [image.shape for image in expected]
    assert [image.shape[2] for image in decoded] == [3, 1, 3, 1, 3, 1, 1, 3, 3, 3, 3]
    for got, want in zip(decoded, expected, strict=True):
        assert got.dtype == np.uint8
        assert np.array_equal(got, want)


def test_a_data_url_prefix_and_line_breaks_are_accepted():
    text = as_base64(pictures()[0])
    wrapped = "\r\n".join(text[start : start + 76] for start in range(0, len(text), 76))

    with_prefix, with_breaks = decode_inputs(ANY_SIZE, ["data:image/png;base64," + text, wrapped])

    assert np.array_equal(with_prefix, with_breaks)
    assert with_prefix.shape == (10, 12, 3)


def test_without_a_resize_brush_the_size_must_match_and_colours_follow_the_model():
    rgb = Image.fromarray(np.random.default_rng(2).integers(0, 256, (10, 12, 3), dtype=np.uint8))

    (grey,) = decode_inputs(GREY_12_BY_10, [as_base64(encoded(rgb))])
    (colour,) = decode_inputs(COLOUR_12_BY_10, [as_base64(encoded(rgb.convert("L")))])

    assert np.array_equal(grey[:, :, 0], np.asarray(rgb.convert("L")))
    assert colour.shape == (10, 12, 3)
    assert problems(GREY_12_BY_10, [as_base64(encoded(rgb.resize((28, 28))))]) == [
        FieldError("inputs[0]", f"image is 28{TIMES}28; this model takes 12{TIMES}10")
    ]


def test_each_bad_file_is_reported_with_what_was_expected():
    png = pictures()[0]
    inputs = [
        5,
        "abc$",
        "data:image/png,abc",
        "",
        as_base64(b"hello, not a picture"),
        as_base64(png[: len(png) // 2]),
        as_base64(png),
    ]

    assert problems(ANY_SIZE, inputs) == [
        FieldError("inputs[0]", "expected the image file as a base64 string, got 5"),
        FieldError("inputs[1]", "not valid base64"),
        FieldError("inputs[2]", "a data URL must be base64: data:<type>;base64,<data>"),
        FieldError("inputs[3]", "an empty image file"),
        FieldError("inputs[4]", "not an image (PNG, JPEG, GIF, BMP or WebP expected)"),
        FieldError("inputs[5]", "broken or truncated PNG image"),
    ]


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read():
    noise = np.random.default_rng(4).integers(0, 256, 1_300_000, dtype=np.uint8).tobytes()

    assert problems(ANY_SIZE, [as_base64(noise), "A" * (3 * 2**20)], max_bytes=2**20) == [
        FieldError("inputs[0]", "image larger than 1 MB is refused"),
        FieldError("inputs[1]", "image larger than 1 MB is refused"),
    ]
    assert problems(ANY_SIZE, ["A" * (21 * 2**20)]) == [
        FieldError("inputs[0]", "image larger than 10 MB is refused")
    ]


def test_an_image_over_the_pixel_limit_is_refused_before_its_pixels_are_decoded():
    huge = as_base64(encoded(Image.new("L", (5000, 4000))))

    assert problems(ANY_SIZE, [huge]) == [
        FieldError("inputs[0]", f"image is 5000{TIMES}4000, over the 16,777,216-pixel limit")
    ]


def test_a_batch_of_large_images_is_refused_past_its_pixel_budget():
    largest = as_base64(encoded(Image.new("L", (4096, 4096))))

    assert problems(ANY_SIZE, [largest] * 5) == [
        FieldError(
            "inputs[4]",
            "the images add up to over 67,108,864 pixels, the limit of one request; "
            "send fewer or smaller images",
        )
    ]
