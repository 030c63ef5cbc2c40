"""What image brushes share: the (N, H, W, C) float32 batch check."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.brushes.base import PreprocessingBrush
from pipelines.brushes.errors import BrushInputError


def check_image_batch(brush_name: str, images: Any) -> np.ndarray:
    """Returns `images` as float32 (N, H, W, C), or raises BrushInputError saying why not."""
    if not isinstance(images, np.ndarray):
        raise BrushInputError(
            f"{brush_name} expects a float32 NumPy array of shape (N, H, W, C), got "
            f"{type(images).__name__}; image_resize turns a list of images into one"
        )
    if images.ndim != 4 or 0 in images.shape:
        raise BrushInputError(
            f"{brush_name} expects a non-empty (N, H, W, C) array, got shape {images.shape}"
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise BrushInputError(
            f"{brush_name} expects float values in [0, 1], got dtype {images.dtype}; "
            "image_resize converts uint8 images"
        )
    if not np.isfinite(images).all():
        raise BrushInputError(f"{brush_name}: the images hold NaN or infinite values")
    return images.astype(np.float32, copy=False)


class ImageBrush(PreprocessingBrush):
    """A brush over a float32 (N, H, W, C) batch of images."""

    modality = "image"

    def _check_input(self, X: Any) -> np.ndarray:
        return check_image_batch(self.name, X)

    def _check_channels(self, images: np.ndarray, n_channels: int) -> None:
        if images.shape[-1] != n_channels:
            raise BrushInputError(
                f"{self.name} was fitted on {n_channels} channel(s), got {images.shape[-1]}"
            )
