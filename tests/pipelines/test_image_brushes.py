"""Exact values of the image brushes on small synthetic images."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.brushes import BrushConfigError, BrushInputError, get_brush_class

ImageResizeBrush = get_brush_class("image_resize")
ImageNormalizeBrush = get_brush_class("image_normalize")
ImageAugmenterBrush = get_brush_class("image_augmenter")

NO_AUGMENTATION = {
    "horizontal_flip_probability": 0.0,
    "rotation_probability": 0.0,
    "crop_probability": 0.0,
    "color_jitter_probability": 0.0,
    "noise_probability": 0.0,
}


def test_resize_turns_mixed_images_into_one_float_batch():
    images = [
        np.full((20, 30, 3), 255, dtype=np.uint8),
        np.full((5, 7), 0.5, dtype=np.float32),  # greyscale
        np.zeros((9, 9, 4), dtype=np.uint8),  # RGBA: alpha dropped
    ]

    output = ImageResizeBrush(height=8, width=6).fit_transform(images)

    assert output.shape == (3, 8, 6, 3) and output.dtype == np.float32
    np.testing.assert_allclose(output[0], 1.0, atol=1e-6)
    np.testing.assert_allclose(output[1], 0.5, atol=1e-6)
    assert (output[2] == 0.0).all()


def test_resize_to_one_channel_uses_luma():
    red = np.zeros((4, 4, 3), dtype=np.float32)
    red[..., 0] = 1.0

    output = ImageResizeBrush(height=4, width=4, channels=1).fit_transform([red])

    assert output.shape == (1, 4, 4, 1)
    np.testing.assert_allclose(output, 0.299, rtol=1e-6)


def test_resize_pad_keeps_the_aspect_ratio_and_centres_the_image():
    wide = np.ones((10, 20, 3), dtype=np.float32)

    output = ImageResizeBrush(height=16, width=16, mode="pad", pad_value=0.25).fit_transform([wide])

    # Scale 0.8: the 10 x 20 image becomes 8 x 16, with 4 rows of padding above and below.
    np.testing.assert_allclose(output[0, 4:12], 1.0, atol=1e-6)
    assert (output[0, :4] == 0.25).all() and (output[0, 12:] == 0.25).all()


def test_resize_refuses_what_it_cannot_read():
    cases = {
        "float values must be finite and in \\[0, 1\\]": [np.full((4, 4, 3), 2.0)],
        "has dtype int16": [np.zeros((4, 4, 3), dtype=np.int16)],
        "has shape \\(4, 4, 2\\)": [np.zeros((4, 4, 2), dtype=np.uint8)],
        "got ndarray of shape \\(2, 4, 4\\)": np.zeros((2, 4, 4), dtype=np.float32),
        "image 1 is a str": [np.zeros((4, 4)), "cat.png"],
    }
    for message, images in cases.items():
        with pytest.raises(BrushInputError, match=message):
            ImageResizeBrush().fit(images)


def test_normalize_learns_each_channel_mean_and_std():
    generator = np.random.default_rng(0)
    images = generator.random((5, 6, 6, 3), dtype=np.float32) * [0.2, 0.5, 1.0]
    images[..., 2] = 0.7  # a constant channel keeps std 1

    brush = ImageNormalizeBrush().fit(images)
    output = brush.transform(images)

    np.testing.assert_allclose(output[..., :2].mean(axis=(0, 1, 2)), [0, 0], atol=1e-6)
    np.testing.assert_allclose(output[..., :2].std(axis=(0, 1, 2)), [1, 1], rtol=1e-5)
    assert brush.std_[2] == 1.0 and (output[..., 2] == 0.0).all()
    assert output.dtype == np.float32


def test_normalize_uses_given_statistics_and_checks_the_channels():
    images = np.full((1, 2, 2, 3), 0.75, dtype=np.float32)
    brush = ImageNormalizeBrush(mean=[0.5, 0.5, 0.5], std=[0.25, 0.5, 1.0]).fit(images)

    assert brush.transform(images)[0, 0, 0].tolist() == [1.0, 0.5, 0.25]
    with pytest.raises(BrushInputError, match="fitted on 3 channel\\(s\\), got 1"):
        brush.transform(images[..., :1])
    with pytest.raises(BrushInputError, match="3 mean/std values given for images with 1"):
        ImageNormalizeBrush(mean=[0.5] * 3, std=[0.5] * 3).fit(images[..., :1])
    with pytest.raises(BrushConfigError, match="give mean and std together"):
        ImageNormalizeBrush(mean=[0.5])


def test_augmenter_with_every_effect_off_returns_the_images_unchanged():
    images = np.random.default_rng(0).random((3, 5, 4, 3), dtype=np.float32)

    output = ImageAugmenterBrush(**NO_AUGMENTATION).fit_transform(images)

    np.testing.assert_array_equal(output, images)


@pytest.mark.parametrize(
    ("param", "flipped"),
    [
        ("horizontal_flip_probability", lambda images: images[:, :, ::-1]),
        ("vertical_flip_probability", lambda images: images[:, ::-1]),
    ],
)
def test_augmenter_flips_with_probability_one(param, flipped):
    images = np.random.default_rng(0).random((3, 5, 4, 3), dtype=np.float32)

    output = ImageAugmenterBrush(**{**NO_AUGMENTATION, param: 1.0}).fit_transform(images)

    np.testing.assert_array_equal(output, flipped(images))


def test_augmenter_warps_jitters_and_adds_noise_within_the_fitted_range():
    images = np.random.default_rng(0).normal(0.0, 1.0, (8, 16, 12, 3)).astype(np.float32)
    everything = {
        "rotation_probability": 1.0,
        "crop_probability": 1.0,
        "color_jitter_probability": 1.0,
        "noise_probability": 1.0,
    }
    brush = ImageAugmenterBrush(**everything).fit(images)

    first, second = brush.transform(images), brush.transform(images)

    assert first.shape == images.shape and first.dtype == np.float32
    assert first.min() >= images.min() and first.max() <= images.max()
    assert (first != images).any(axis=(1, 2, 3)).all()
    assert not np.array_equal(first, second)  # every epoch draws anew


def test_augmenter_identity_warp_changes_nothing():
    images = np.random.default_rng(0).random((2, 6, 8, 3), dtype=np.float32)
    output = ImageAugmenterBrush(
        **{**NO_AUGMENTATION, "rotation_probability": 1.0, "max_rotation_degrees": 0.0}
    ).fit_transform(images)

    np.testing.assert_allclose(output, images, atol=1e-6)
