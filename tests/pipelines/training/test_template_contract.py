"""The contract of templates.base.ModelTemplate, checked on every registered template.

Parametrised over `list_templates()`: a template is covered as soon as it is registered, on a
tiny task of every (modality, task) it declares (tests/pipelines/training/samples.py). Exact
values live in test_exact_values.py.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from pipelines.training.errors import TemplateConfigError
from pipelines.training.params import SCHEMA_DIALECT
from pipelines.training.templates import MODALITIES, TASKS, check_params, list_templates
from pipelines.training.trainer import TrainedModel, evaluate, train
from tests.pipelines.training.samples import Recorder, tiny_data

TEMPLATES = list_templates()
TEMPLATE_NAMES = [info["name"] for info in TEMPLATES]
# Keep the suite fast: the fewest epochs, trees and rounds that still learn the tiny tasks.
FAST_PARAMS: dict[str, dict[str, Any]] = {
    "mlp": {"epochs": 3},
    "cnn": {"epochs": 2, "channels": [4, 8]},
    "audio_cnn": {"epochs": 2, "channels": [4, 8]},
    "random_forest": {"n_estimators": 10},
    "gradient_boosting": {"max_iter": 10},
}
TRAINING_CASES = [
    pytest.param(info["name"], modality, task, id=f"{info['name']}-{modality}-{task}")
    for info in TEMPLATES
    for modality in info["modalities"]
    for task in info["tasks"]
]
EPOCH_METRICS = {
    ("torch", "classification"): {"train_accuracy", "val_accuracy", "learning_rate"},
    ("torch", "regression"): {"val_rmse", "learning_rate"},
    ("sklearn", "classification"): {"train_accuracy", "val_accuracy"},
    ("sklearn", "regression"): {"val_rmse"},
}
COMMON_METRICS = {"train_loss", "val_loss", "samples_per_s", "epoch_s"}


def info_of(name: str) -> dict[str, Any]:
    return next(info for info in TEMPLATES if info["name"] == name)


def invalid_values(spec: dict[str, Any]) -> list[Any]:
    """Values the property's schema must refuse: wrong type, out of range, not an option."""
    values: list[Any] = [{"not": "a valid value"}]
    for key, offset in (("minimum", -1), ("maximum", 1), ("exclusiveMinimum", 0)):
        if key in spec:
            values.append(spec[key] + offset)
    if "exclusiveMaximum" in spec:
        values.append(spec["exclusiveMaximum"])
    if "enum" in spec:
        values.append("not-an-option")
    if "minItems" in spec:
        values.append([])
    return values


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_listed_attributes_follow_the_contract(name):
    info = info_of(name)
    schema = info["param_schema"]

    assert info["family"] in {"torch", "sklearn"}
    assert info["modalities"] and set(info["modalities"]) <= MODALITIES
    assert info["tasks"] and set(info["tasks"]) <= TASKS
    assert info["description"].endswith(".") and ". " not in info["description"]
    assert isinstance(info["default_timeout_s"], int) and info["default_timeout_s"] > 0
    assert schema["$schema"] == SCHEMA_DIALECT
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False
    for key, spec in schema["properties"].items():
        assert "default" in spec and spec.get("description"), key
    assert json.loads(json.dumps(info, allow_nan=False)) == info


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_defaults_pass_check_params_and_come_back_unchanged(name):
    properties = info_of(name)["param_schema"]["properties"]

    defaults = check_params(name, {})

    assert list(defaults) == list(properties)
    assert defaults == {key: spec["default"] for key, spec in properties.items()}
    assert check_params(name, json.loads(json.dumps(defaults))) == defaults


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_an_unknown_param_is_refused_by_name(name):
    with pytest.raises(TemplateConfigError, match="unknown param 'colour'") as caught:
        check_params(name, {"colour": "teal"})

    assert caught.value.param == "colour"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_invalid_value_is_refused_naming_the_param_and_what_is_allowed(name):
    for key, spec in info_of(name)["param_schema"]["properties"].items():
        for value in invalid_values(spec):
            with pytest.raises(TemplateConfigError) as caught:
                check_params(name, {key: value})
            assert caught.value.param == key, (key, value)
            assert f"'{key}'" in str(caught.value) and "allowed:" in str(caught.value)


def test_an_unknown_template_is_refused_listing_the_known_ones():
    with pytest.raises(TemplateConfigError) as caught:
        check_params("transformer", {})

    assert caught.value.param == "template"
    assert all(name in str(caught.value) for name in TEMPLATE_NAMES)


def test_data_a_template_does_not_take_is_refused_before_training():
    with pytest.raises(TemplateConfigError, match="takes image data") as caught:
        train(
            "cnn",
            {},
            tiny_data("tabular", "classification"),
            device="cpu",
            seed=0,
            callbacks=Recorder().callbacks,
        )

    assert caught.value.param == "template"


@pytest.mark.parametrize(("name", "modality", "task"), TRAINING_CASES)
def test_trains_predicts_saves_and_loads(name, modality, task):
    data = tiny_data(modality, task)
    recorder = Recorder()

    model = train(
        name, FAST_PARAMS.get(name, {}), data, device="cpu", seed=3, callbacks=recorder.callbacks
    )
    predicted = model.predict(data.x_test)
    probabilities = model.predict_proba(data.x_test)
    loaded = TrainedModel.from_files(model.to_files())

    assert predicted.shape == (len(data.x_test),)
    if task == "classification":
        assert predicted.dtype == np.int64 and set(predicted) <= {0, 1, 2}
        if probabilities is not None:
            assert probabilities.shape == (len(data.x_test), 3)
            np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    else:
        assert predicted.dtype == np.float32 and probabilities is None
    np.testing.assert_array_equal(loaded.predict(data.x_test), predicted)
    assert set(evaluate(model, data.x_test, data.y_test)) == (
        {"test_accuracy", "test_macro_f1", "test_loss"}
        if task == "classification"
        else {"test_rmse", "test_mae", "test_r2"}
    )
    family = info_of(name)["family"]
    assert [epoch for epoch, _ in recorder.epochs] == list(range(len(recorder.epochs)))
    for _, metrics in recorder.epochs:
        assert set(metrics) == COMMON_METRICS | EPOCH_METRICS[family, task]
        assert all(np.isfinite(value) for value in metrics.values())
    assert len(recorder.checkpoints) == len(recorder.epochs) >= 1
