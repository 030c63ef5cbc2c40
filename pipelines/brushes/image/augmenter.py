"""image_augmenter: random flips, rotations, crops, brightness/contrast and noise for training."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.brushes.image.base import ImageBrush
from pipelines.brushes.params import object_schema, random_state_property
from pipelines.brushes.registry import register


def _fraction(default: float, description: str, maximum: float = 1.0) -> dict[str, Any]:
    return {
        "type": "number",
        "minimum": 0,
        "maximum": maximum,
        "default": default,
        "description": description,
    }


@register
class ImageAugmenterBrush(ImageBrush):
    """Draws a new random variation of every image on each `transform` call (one call per epoch).

    Training only: a chain runs it only with ``transform(..., training=True)``. Each effect is
    applied to an image with its probability. Rotation and crop are one affine warp per image
    (torch ``grid_sample``, edge pixels repeated), so the batch is warped in one vectorised call.
    Brightness, contrast and noise strengths are fractions of the value range seen in fit, and the
    output is clipped to that range: the brush works the same on [0, 1] images and on normalised
    ones. The random stream starts at ``random_state`` in fit and is part of the fitted state, so
    the same seed gives the same epochs, and a saved chain resumes the stream where it was.
    """

    name = "image_augmenter"
    description = (
        "Randomly flips, rotates, crops, jitters and adds noise to images, during training only."
    )
    training_only = True
    config_schema = object_schema(
        {
            "random_state": random_state_property(),
            "horizontal_flip_probability": _fraction(0.5, "Probability of a left-right flip."),
            "vertical_flip_probability": _fraction(0.0, "Probability of an upside-down flip."),
            "rotation_probability": _fraction(0.3, "Probability of a rotation."),
            "max_rotation_degrees": _fraction(10.0, "Largest rotation angle.", maximum=45.0),
            "crop_probability": _fraction(0.3, "Probability of a random crop resized back."),
            "min_crop_scale": {
                **_fraction(0.8, "Smallest crop side, as a fraction."),
                "minimum": 0.3,
            },
            "color_jitter_probability": _fraction(
                0.3, "Probability of brightness/contrast jitter."
            ),
            "brightness_strength": _fraction(0.1, "Largest brightness shift (fraction of range)."),
            "contrast_strength": _fraction(0.1, "Largest relative contrast change."),
            "noise_probability": _fraction(0.2, "Probability of added gaussian noise."),
            "noise_std": _fraction(0.02, "Noise standard deviation (fraction of range).", 0.5),
        }
    )
    fitted_attributes = ("value_min_", "value_max_", "random_generator_state_")

    random_state: int
    horizontal_flip_probability: float
    vertical_flip_probability: float
    rotation_probability: float
    max_rotation_degrees: float
    crop_probability: float
    min_crop_scale: float
    color_jitter_probability: float
    brightness_strength: float
    contrast_strength: float
    noise_probability: float
    noise_std: float

    def _fit(self, data: np.ndarray, y: Any) -> None:
        self.value_min_ = float(data.min())
        self.value_max_ = float(data.max())
        # The generator's state is plain JSON (PCG64: two Python ints), so it saves without pickle.
        self.random_generator_state_ = np.random.default_rng(self.random_state).bit_generator.state

    def _transform(self, data: np.ndarray) -> np.ndarray:
        generator = np.random.default_rng()
        generator.bit_generator.state = self.random_generator_state_
        images = self._flip(data.copy(), generator)
        images = self._warp(images, generator)
        images = self._jitter(images, generator)
        images = self._add_noise(images, generator)
        self.random_generator_state_ = generator.bit_generator.state
        return np.clip(images, self.value_min_, self.value_max_)

    def _chosen(self, generator: np.random.Generator, count: int, probability: float) -> np.ndarray:
        return generator.random(count) < probability

    def _flip(self, images: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        horizontal = self._chosen(generator, len(images), self.horizontal_flip_probability)
        vertical = self._chosen(generator, len(images), self.vertical_flip_probability)
        images[horizontal] = images[horizontal, :, ::-1]
        images[vertical] = images[vertical, ::-1]
        return images

    def _warp(self, images: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        count, height, width = images.shape[:3]
        rotated = self._chosen(generator, count, self.rotation_probability)
        cropped = self._chosen(generator, count, self.crop_probability)
        limit = np.deg2rad(self.max_rotation_degrees)
        angles = np.where(rotated, generator.uniform(-limit, limit, count), 0.0)
        scales = np.where(cropped, generator.uniform(self.min_crop_scale, 1.0, count), 1.0)
        # A crop of side `scale` may sit anywhere inside the image: its centre moves by <= 1-scale.
        shifts = generator.uniform(-1.0, 1.0, (count, 2)) * (1.0 - scales)[:, None]
        chosen = np.flatnonzero(rotated | cropped)
        if chosen.size == 0:
            return images
        import torch  # imported here: only training processes pay for it
        from torch.nn import functional

        cosine, sine = np.cos(angles[chosen]), np.sin(angles[chosen])
        # Rotation in pixel space, expressed in grid_sample's [-1, 1] coordinates (aspect-aware).
        theta = np.empty((chosen.size, 2, 3), dtype=np.float32)
        theta[:, 0, 0] = scales[chosen] * cosine
        theta[:, 0, 1] = -scales[chosen] * sine * height / width
        theta[:, 1, 0] = scales[chosen] * sine * width / height
        theta[:, 1, 1] = scales[chosen] * cosine
        theta[:, :, 2] = shifts[chosen]
        batch = torch.from_numpy(np.ascontiguousarray(images[chosen].transpose(0, 3, 1, 2)))
        grid = functional.affine_grid(
            torch.from_numpy(theta), list(batch.shape), align_corners=False
        )
        warped = functional.grid_sample(
            batch, grid, mode="bilinear", padding_mode="border", align_corners=False
        )
        images[chosen] = warped.numpy().transpose(0, 2, 3, 1)
        return images

    def _jitter(self, images: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        count = len(images)
        chosen = np.flatnonzero(self._chosen(generator, count, self.color_jitter_probability))
        value_range = self.value_max_ - self.value_min_
        shifts = generator.uniform(-1.0, 1.0, count) * self.brightness_strength * value_range
        factors = 1.0 + generator.uniform(-1.0, 1.0, count) * self.contrast_strength
        selected = images[chosen]
        means = selected.mean(axis=(1, 2), keepdims=True)
        factors_chosen = factors[chosen, None, None, None].astype(np.float32)
        shifts_chosen = shifts[chosen, None, None, None].astype(np.float32)
        images[chosen] = (selected - means) * factors_chosen + means + shifts_chosen
        return images

    def _add_noise(self, images: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        chosen = np.flatnonzero(self._chosen(generator, len(images), self.noise_probability))
        scale = np.float32(self.noise_std * (self.value_max_ - self.value_min_))
        noise = generator.standard_normal((chosen.size, *images.shape[1:]), dtype=np.float32)
        images[chosen] += noise * scale
        return images
