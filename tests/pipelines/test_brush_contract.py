"""The contract of base.PreprocessingBrush, checked on every registered brush.

Parametrised over `list_brushes()`: a brush is covered here as soon as it is registered, with the
sample inputs of its modality (tests/pipelines/samples.py). Exact values live in the per-modality
test modules.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from pipelines.brushes import (
    MODALITIES,
    BrushChain,
    BrushConfigError,
    BrushInputError,
    BrushNotFittedError,
    PreprocessingBrush,
    brush_from_config,
    get_brush_class,
    list_brushes,
)
from pipelines.brushes.params import SCHEMA_DIALECT
from tests.pipelines.samples import (
    assert_identical,
    assert_output_fits_modality,
    invalid_param_values,
    outputs_equal,
    sample_input,
    wrong_inputs,
)

BRUSH_NAMES = [info["name"] for info in list_brushes()]
TRAINING_ONLY_NAMES = [info["name"] for info in list_brushes() if info["training_only"]]
TABULAR_NAMES = [info["name"] for info in list_brushes() if info["modality"] == "tabular"]


@pytest.fixture(params=BRUSH_NAMES)
def brush_class(request: pytest.FixtureRequest) -> type[PreprocessingBrush]:
    return get_brush_class(request.param)


def make(brush_class: type[PreprocessingBrush], **params: Any) -> PreprocessingBrush:
    return brush_class(**params)


def test_class_attributes_follow_the_contract(brush_class):
    schema = brush_class.config_schema

    assert brush_class.modality in MODALITIES
    assert brush_class.description.endswith(".") and brush_class.description.count(". ") == 0
    assert isinstance(brush_class.training_only, bool)
    assert schema["$schema"] == SCHEMA_DIALECT
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    for key, spec in schema["properties"].items():
        assert "default" in spec and spec.get("description"), key
    assert all(name.endswith("_") for name in brush_class.fitted_attributes)


def test_fit_returns_self_and_learns_only_the_declared_attributes(brush_class):
    brush = make(brush_class)
    X = sample_input(brush.modality)
    before = set(vars(brush))

    assert not brush.is_fitted
    assert brush.fit(X) is brush
    learned = set(vars(brush)) - before
    assert learned == {*brush_class.fitted_attributes, "n_samples_seen_"}
    assert brush.n_samples_seen_ == len(X)


def test_fit_transform_gives_the_modality_output_and_equals_fit_then_transform(brush_class):
    X = sample_input(brush_class.modality)

    output = make(brush_class).fit_transform(X)
    assert_output_fits_modality(brush_class.modality, output, X)
    assert_identical(make(brush_class).fit(X).transform(X), output)


def test_transform_leaves_its_input_untouched(brush_class):
    X = sample_input(brush_class.modality)
    untouched = sample_input(brush_class.modality)

    make(brush_class).fit_transform(X)

    if isinstance(X, list):
        assert all(np.array_equal(a, b) for a, b in zip(X, untouched, strict=True))
    else:
        assert_identical(X, untouched)


def test_config_round_trips_through_json(brush_class):
    brush = make(brush_class)
    config = brush.config()

    assert list(config) == list(brush_class.config_schema["properties"])
    decoded = json.loads(json.dumps(config, allow_nan=False))
    assert type(brush)(**decoded).config() == config
    assert brush_from_config({"name": brush.name, "params": decoded}).config() == config


def test_a_saved_fitted_chain_transforms_identically(brush_class, tmp_path):
    X = sample_input(brush_class.modality)
    chain = BrushChain([make(brush_class)]).fit(X)
    chain.save(tmp_path / "chain.zip")

    loaded = BrushChain.load(tmp_path / "chain.zip")

    assert loaded.config() == chain.config()
    assert_identical(loaded.transform(X), chain.transform(X))
    # For training-only brushes this also checks that the random stream resumes where it was.
    assert_identical(loaded.transform(X, training=True), chain.transform(X, training=True))


def test_set_state_restores_what_get_state_returned(brush_class):
    X = sample_input(brush_class.modality)
    brush = make(brush_class).fit(X)
    meta, arrays = brush.get_state()

    restored = make(brush_class).set_state(json.loads(json.dumps(meta)), arrays)

    assert_identical(restored.transform(X), brush.transform(X))


def test_the_same_seed_gives_the_same_output(brush_class):
    X = sample_input(brush_class.modality)
    seed = {"random_state": 7} if "random_state" in brush_class.config_schema["properties"] else {}

    assert_identical(
        make(brush_class, **seed).fit_transform(X), make(brush_class, **seed).fit_transform(X)
    )


@pytest.mark.parametrize("name", TRAINING_ONLY_NAMES)
def test_training_only_brushes_differ_with_another_seed(name):
    brush_class = get_brush_class(name)
    X = sample_input(brush_class.modality)

    first = make(brush_class, random_state=1).fit_transform(X)
    second = make(brush_class, random_state=2).fit_transform(X)

    assert not outputs_equal(first, second)


def test_refitting_forgets_the_first_fit(brush_class):
    first, second = sample_input(brush_class.modality, 1), sample_input(brush_class.modality, 2)

    refitted = make(brush_class).fit(first).fit(second)

    assert_identical(refitted.transform(second), make(brush_class).fit(second).transform(second))


def test_wrong_input_is_refused_by_fit_and_transform(brush_class):
    fitted = make(brush_class).fit(sample_input(brush_class.modality))
    for description, wrong in wrong_inputs(brush_class.modality).items():
        with pytest.raises(BrushInputError, match=brush_class.name):
            make(brush_class).fit(wrong)
        with pytest.raises(BrushInputError, match=brush_class.name):
            fitted.transform(wrong)
        assert fitted.is_fitted, description


def test_a_failed_fit_leaves_the_brush_unfitted(brush_class):
    brush = make(brush_class).fit(sample_input(brush_class.modality))
    wrong = next(iter(wrong_inputs(brush_class.modality).values()))

    with pytest.raises(BrushInputError):
        brush.fit(wrong)

    assert not brush.is_fitted
    assert not any(hasattr(brush, name) for name in brush_class.fitted_attributes)


def test_transform_and_get_state_before_fit_are_refused(brush_class):
    brush = make(brush_class)

    with pytest.raises(BrushNotFittedError, match=f"{brush_class.name} is not fitted yet"):
        brush.transform(sample_input(brush_class.modality))
    with pytest.raises(BrushNotFittedError):
        brush.get_state()


def test_the_schema_refuses_unknown_params(brush_class):
    with pytest.raises(BrushConfigError, match=f"{brush_class.name}: unknown param 'colour_depth'"):
        make(brush_class, colour_depth=8)


def test_the_schema_refuses_wrong_types_and_out_of_range_values(brush_class):
    accepted = []
    for param, spec in brush_class.config_schema["properties"].items():
        for value in invalid_param_values(spec):
            try:
                make(brush_class, **{param: value})
            except BrushConfigError as error:
                assert (error.brush_name, error.param) == (brush_class.name, param)
                assert brush_class.name in str(error) and param in str(error)
            else:
                accepted.append((param, value))

    assert accepted == []


@pytest.mark.parametrize("name", TABULAR_NAMES)
def test_tabular_brushes_refuse_unknown_and_missing_columns(name):
    brush_class = get_brush_class(name)
    X = sample_input("tabular")

    with pytest.raises(BrushInputError, match="unknown column 'shoe_size'"):
        make(brush_class, columns=["shoe_size"]).fit(X)
    fitted = make(brush_class).fit(X)
    with pytest.raises(BrushInputError, match=f"unknown column '{fitted.columns_[0]}'"):
        fitted.transform(X.drop(columns=fitted.columns_[0]))
