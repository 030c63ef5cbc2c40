"""confusion_matrix_png: a valid PNG whose size follows the class count, and refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipelines.training.confusion_image import confusion_matrix_png


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize("n_classes", [2, 10, 40])
def test_the_heat_map_is_a_png_of_sensible_size(n_classes):
    matrix = np.random.default_rng(0).integers(0, 5, (n_classes, n_classes))
    matrix += np.eye(n_classes, dtype=np.int64) * 50

    png = confusion_matrix_png(matrix, [f"class {index}" for index in range(n_classes)])
    image = decode(png)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert image.format == "PNG" and image.mode == "RGB"
    assert 300 <= image.width <= 1600 and 250 <= image.height <= 1600


def test_cells_are_darker_where_a_row_has_more_of_its_samples():
    image = decode(confusion_matrix_png(np.array([[9, 1], [0, 10]]), ["cat", "dog"]))
    pixels = np.asarray(image.convert("L"), dtype=np.int64)

    darkest_rows = np.sort(pixels.min(axis=1))
    assert darkest_rows[0] < 80  # the diagonal cells are dark blue
    assert (pixels > 250).mean() > 0.3  # and the background stays white


def test_a_long_label_is_shortened_and_a_wrong_matrix_refused():
    long_label = "an extraordinarily long label for one class"

    wide = decode(confusion_matrix_png(np.eye(2, dtype=np.int64), [long_label, "short"]))
    assert wide.width < 700
    with pytest.raises(ValueError, match="one label per row"):
        confusion_matrix_png(np.eye(3, dtype=np.int64), ["a", "b"])
    with pytest.raises(ValueError, match="square"):
        confusion_matrix_png(np.ones((2, 3), dtype=np.int64), ["a", "b"])
