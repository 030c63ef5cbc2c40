"""BrushChain: order rules, training mode, config and hashes."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from pipelines.brushes import BrushChain, BrushConfigError, BrushNotFittedError, get_brush_class
from tests.pipelines.samples import assert_identical, outputs_equal, sample_input

IMAGE_CHAIN = [
    {"name": "image_resize", "params": {"height": 8, "width": 8}},
    {"name": "image_normalize", "params": {}},
    {"name": "image_augmenter", "params": {"random_state": 3}},
]


def brush(name: str, **params):
    return get_brush_class(name)(**params)


def test_training_only_brushes_must_come_last():
    with pytest.raises(BrushConfigError, match="training-only brushes must come last") as caught:
        BrushChain([brush("image_augmenter"), brush("image_normalize")])

    assert caught.value.brush_name == "image_normalize"
    BrushChain([brush("image_normalize"), brush("image_augmenter")])  # the right order is fine


def test_a_chain_holds_brushes_of_one_modality():
    with pytest.raises(BrushConfigError, match="mixes modalities \\['image', 'tabular'\\]"):
        BrushChain([brush("image_resize"), brush("standard_scaler")])
    with pytest.raises(BrushConfigError, match="chain item 1 is a str, not a brush"):
        BrushChain([brush("image_resize"), "image_normalize"])


def test_training_only_brushes_run_only_in_training():
    images = sample_input("image")
    chain = BrushChain.from_config(IMAGE_CHAIN)
    deterministic = BrushChain.from_config(IMAGE_CHAIN[:2])

    inference = chain.fit_transform(images)
    training = chain.transform(images, training=True)

    assert_identical(inference, deterministic.fit_transform(images))
    assert_identical(chain.transform(images), inference)
    assert training.shape == inference.shape and not outputs_equal(training, inference)


def test_fit_transform_in_training_equals_fit_then_transform_in_training():
    images = sample_input("image")

    in_one_pass = BrushChain.from_config(IMAGE_CHAIN).fit_transform(images, training=True)
    fitted = BrushChain.from_config(IMAGE_CHAIN).fit(images)

    assert_identical(in_one_pass, fitted.transform(images, training=True))


def test_an_unfitted_chain_refuses_to_transform_and_an_empty_one_passes_data_through():
    images = sample_input("image")

    with pytest.raises(BrushNotFittedError, match="image_resize is not fitted yet"):
        BrushChain.from_config(IMAGE_CHAIN).transform(images)
    assert BrushChain().fit(images).transform(images) is images
    assert BrushChain().modality is None and len(BrushChain.from_config(IMAGE_CHAIN)) == 3


def test_config_round_trips_and_fills_the_defaults():
    chain = BrushChain.from_config([{"name": "standard_scaler"}, {"name": "one_hot"}])

    assert chain.config() == [
        {
            "name": "standard_scaler",
            "params": {"columns": None, "with_mean": True, "with_std": True},
        },
        {"name": "one_hot", "params": {"columns": None, "max_categories": None}},
    ]
    assert BrushChain.from_config(json.loads(json.dumps(chain.config()))).config() == chain.config()


def test_equal_chains_hash_equally_whatever_their_spelling():
    implicit = BrushChain.from_config([{"name": "audio_spectrogram"}])
    explicit = BrushChain.from_config(
        [{"name": "audio_spectrogram", "params": {"duration_s": 1, "n_mels": 64.0}}]
    )
    other = BrushChain.from_config([{"name": "audio_spectrogram", "params": {"n_mels": 32}}])

    canonical = json.dumps(implicit.config(), sort_keys=True, separators=(",", ":"))
    assert implicit.config_hash() == hashlib.sha256(canonical.encode()).hexdigest()
    assert explicit.config_hash() == implicit.config_hash()
    assert other.config_hash() != implicit.config_hash()


def test_the_deterministic_hash_ignores_training_only_brushes():
    augmented = BrushChain.from_config(IMAGE_CHAIN)
    differently = BrushChain.from_config([*IMAGE_CHAIN[:2], {"name": "image_augmenter"}])
    plain = BrushChain.from_config(IMAGE_CHAIN[:2])

    assert augmented.deterministic_config_hash() == plain.config_hash()
    assert differently.deterministic_config_hash() == plain.config_hash()
    assert len({augmented.config_hash(), differently.config_hash(), plain.config_hash()}) == 3
    assert [b.name for b in augmented.deterministic_part] == ["image_resize", "image_normalize"]


def test_from_config_names_the_bad_item():
    with pytest.raises(BrushConfigError, match="chain item 1: unknown brush 'sepia'") as unknown:
        BrushChain.from_config([{"name": "image_resize"}, {"name": "sepia"}])
    with pytest.raises(BrushConfigError, match="chain item 0: image_resize: invalid") as bad:
        BrushChain.from_config([{"name": "image_resize", "params": {"height": 0}}])
    with pytest.raises(BrushConfigError, match="a chain config is a list, got dict"):
        BrushChain.from_config({"name": "image_resize"})

    assert unknown.value.brush_name == "sepia"
    assert (bad.value.brush_name, bad.value.param) == ("image_resize", "height")


def test_a_chain_of_every_modality_round_trips_through_bytes():
    chains = {
        "tabular": [{"name": "impute"}, {"name": "min_max_scaler"}, {"name": "one_hot"}],
        "image": IMAGE_CHAIN,
        "audio": [{"name": "audio_mfcc", "params": {"duration_s": 0.5, "n_mfcc": 8}}],
    }
    for modality, config in chains.items():
        data = sample_input(modality)
        chain = BrushChain.from_config(config).fit(data)

        loaded = BrushChain.from_bytes(chain.to_bytes())

        assert_identical(loaded.transform(data), chain.transform(data))
        assert np.isfinite(np.asarray(loaded.transform(data), dtype=np.float64)).all()
