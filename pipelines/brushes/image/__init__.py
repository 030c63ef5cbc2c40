"""Image brushes: float32 (N, H, W, C) batches in [0, 1]; image_resize builds them."""

from pipelines.brushes.image.augmenter import ImageAugmenterBrush
from pipelines.brushes.image.normalize import ImageNormalizeBrush
from pipelines.brushes.image.resize import ImageResizeBrush

__all__ = ["ImageAugmenterBrush", "ImageNormalizeBrush", "ImageResizeBrush"]
