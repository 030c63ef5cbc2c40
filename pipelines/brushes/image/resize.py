"""image_resize: images of any size and colour layout into one (N, height, width, C) batch."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from pipelines.brushes.errors import BrushInputError
from pipelines.brushes.image.base import ImageBrush
from pipelines.brushes.params import object_schema
from pipelines.brushes.registry import register

# ITU-R 601-2 luma, the weights Pillow uses for "RGB" -> "L".
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _side(description: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": 4096,
        "default": 64,
        "description": description,
    }


@register
class ImageResizeBrush(ImageBrush):
    """The entry brush of image chains: uint8 or float images, any size, 1/3/4 channels or grey.

    uint8 values are divided by 255; float values must already be in [0, 1]. Greyscale becomes RGB
    by repeating the channel, RGB becomes greyscale by ITU-R 601-2 luma, an alpha channel is
    dropped. `stretch` resizes to height x width; `pad` keeps the aspect ratio and centres the
    image on a `pad_value` canvas. Pillow resizes each channel in float ("F" mode, bilinear with
    antialiasing), so no precision is lost to 8-bit rounding.
    """

    name = "image_resize"
    description = "Resizes images of any size to one height, width and channel count, in [0, 1]."
    config_schema = object_schema(
        {
            "height": _side("Output height in pixels."),
            "width": _side("Output width in pixels."),
            "channels": {"enum": [1, 3], "default": 3, "description": "1 (grey) or 3 (RGB)."},
            "mode": {
                "enum": ["stretch", "pad"],
                "default": "stretch",
                "description": "stretch to the size, or pad to it keeping the aspect ratio.",
            },
            "pad_value": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.0,
                "description": "Value of the padding in pad mode.",
            },
        }
    )

    height: int
    width: int
    channels: int
    mode: str
    pad_value: float

    def _check_input(self, X: Any) -> list[np.ndarray]:
        if (isinstance(X, np.ndarray) and X.ndim == 4) or isinstance(X, list | tuple):
            images = list(X)
        else:
            shape = getattr(X, "shape", None)
            raise BrushInputError(
                f"{self.name} expects a list of images or an (N, H, W, C) array, got "
                f"{type(X).__name__}" + (f" of shape {shape}" if shape is not None else "")
            )
        if not images:
            raise BrushInputError(f"{self.name} got no images")
        return [self._as_unit_float(index, image) for index, image in enumerate(images)]

    def _as_unit_float(self, index: int, image: Any) -> np.ndarray:
        """One image as a float32 H x W x `channels` array in [0, 1]."""
        where = f"{self.name}: image {index}"
        if not isinstance(image, np.ndarray):
            raise BrushInputError(f"{where} is a {type(image).__name__}, not a NumPy array")
        if image.ndim == 2:
            image = image[:, :, None]
        if image.ndim != 3 or image.shape[-1] not in (1, 3, 4) or 0 in image.shape:
            raise BrushInputError(
                f"{where} has shape {image.shape}; expected H x W x 1/3/4 or H x W"
            )
        if image.dtype == np.uint8:
            image = image.astype(np.float32) / 255.0
        elif np.issubdtype(image.dtype, np.floating):
            if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
                raise BrushInputError(f"{where}: float values must be finite and in [0, 1]")
            image = image.astype(np.float32)
        else:
            raise BrushInputError(f"{where} has dtype {image.dtype}; expected uint8 or float")
        return self._convert_channels(image[:, :, :3])

    def _convert_channels(self, image: np.ndarray) -> np.ndarray:
        if image.shape[-1] == self.channels:
            return image
        if self.channels == 3:
            return np.repeat(image, 3, axis=-1)
        return (image @ LUMA_WEIGHTS)[:, :, None]

    def _fit(self, data: list[np.ndarray], y: Any) -> None:
        """Nothing to learn: the output size is configured."""

    def _transform(self, data: list[np.ndarray]) -> np.ndarray:
        batch = np.full(
            (len(data), self.height, self.width, self.channels), self.pad_value, np.float32
        )
        for index, image in enumerate(data):
            if self.mode == "stretch":
                batch[index] = self._resized(image, self.height, self.width)
                continue
            scale = min(self.height / image.shape[0], self.width / image.shape[1])
            height = min(self.height, max(1, round(image.shape[0] * scale)))
            width = min(self.width, max(1, round(image.shape[1] * scale)))
            top, left = (self.height - height) // 2, (self.width - width) // 2
            batch[index, top : top + height, left : left + width] = self._resized(
                image, height, width
            )
        return batch

    @staticmethod
    def _resized(image: np.ndarray, height: int, width: int) -> np.ndarray:
        if image.shape[:2] == (height, width):
            return image
        channels = [
            np.asarray(
                Image.fromarray(np.ascontiguousarray(image[:, :, channel])).resize(
                    (width, height), Image.Resampling.BILINEAR
                ),
                dtype=np.float32,
            )
            for channel in range(image.shape[-1])
        ]
        return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)
