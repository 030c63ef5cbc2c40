"""image_normalize: per-channel standardisation with learned or given mean and std."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.brushes.errors import BrushConfigError, BrushInputError
from pipelines.brushes.image.base import ImageBrush
from pipelines.brushes.params import object_schema
from pipelines.brushes.registry import register

# Below this a channel is constant up to rounding; dividing by it would blow noise up.
CONSTANT_STD = 1e-6


def _channel_values(description: str, exclusive_minimum: float | None) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "number"}
    if exclusive_minimum is not None:
        items["exclusiveMinimum"] = exclusive_minimum
    return {
        "type": ["array", "null"],
        "items": items,
        "minItems": 1,
        "maxItems": 4,
        "default": None,
        "description": description,
    }


@register
class ImageNormalizeBrush(ImageBrush):
    """Computes (image - mean) / std per channel.

    With `mean` and `std` left null they are learned from the training images (a channel with no
    variation keeps a std of 1, as in scikit-learn); given, they are used as they are, e.g. the
    ImageNet statistics a pretrained network expects. Statistics are accumulated in float64.
    """

    name = "image_normalize"
    description = "Standardises each colour channel with a mean and std learned in fit or given."
    config_schema = object_schema(
        {
            "mean": _channel_values("Per-channel mean; null learns it in fit.", None),
            "std": _channel_values("Per-channel std; null learns it in fit.", 0),
        }
    )
    fitted_attributes = ("mean_", "std_")

    mean: list[float] | None
    std: list[float] | None

    def _check_params(self) -> None:
        if (self.mean is None) != (self.std is None) or (
            self.mean is not None and len(self.mean) != len(self.std or [])
        ):
            raise BrushConfigError(
                f"{self.name}: invalid param 'std': give mean and std together, one value per "
                "channel, or neither",
                brush_name=self.name,
                param="std",
            )

    def _fit(self, data: np.ndarray, y: Any) -> None:
        if self.mean is not None and self.std is not None:
            if len(self.mean) != data.shape[-1]:
                raise BrushInputError(
                    f"{self.name}: {len(self.mean)} mean/std values given for images with "
                    f"{data.shape[-1]} channel(s)"
                )
            self.mean_ = np.asarray(self.mean, dtype=np.float32)
            self.std_ = np.asarray(self.std, dtype=np.float32)
            return
        std = data.std(axis=(0, 1, 2), dtype=np.float64)
        self.mean_ = data.mean(axis=(0, 1, 2), dtype=np.float64).astype(np.float32)
        self.std_ = np.where(std > CONSTANT_STD, std, 1.0).astype(np.float32)

    def _transform(self, data: np.ndarray) -> np.ndarray:
        self._check_channels(data, len(self.mean_))
        return (data - self.mean_) / self.std_
