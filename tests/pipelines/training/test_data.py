"""TrainingData refuses what cannot be trained on; params take one canonical spelling."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.training.data import TrainingData
from pipelines.training.errors import TemplateConfigError, TrainingDataError
from pipelines.training.templates import check_params
from tests.pipelines.training.samples import LABEL_NAMES

GOOD = {
    "x_train": np.zeros((4, 3)),
    "y_train": np.array([0, 1, 2, 0]),
    "x_val": np.zeros((2, 3)),
    "y_val": np.array([1, 2]),
    "x_test": np.zeros((2, 3)),
    "y_test": np.array([0, 1]),
    "task": "classification",
    "label_names": LABEL_NAMES,
    "feature_names": ["a", "b", "c"],
}

GOOD_SIZES = {"train": 4, "val": 2, "test": 2}


def test_arrays_are_converted_to_the_training_types():
    data = TrainingData(**GOOD)

    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert (data.input_shape, data.modality, data.n_outputs) == ((3,), "tabular", 3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x_val": np.zeros((0, 3)), "y_val": np.array([], dtype=np.int64)}, "val split is empty"),
        ({"y_train": np.array([0, 1])}, "one target per sample"),
        ({"x_test": np.zeros((2, 4))}, "different sample shapes"),
        ({"x_train": np.full((4, 3), np.nan)}, "NaN"),
        ({"y_test": np.array([0, 3])}, "codes outside 0..2"),
        ({"task": "ranking"}, "task must be one of"),
        ({"label_names": ["only"]}, "at least two label names"),
        (
            {f"x_{split}": np.zeros((n, 2, 2, 2, 2)) for split, n in GOOD_SIZES.items()},
            "neither table rows",
        ),
    ],
)
def test_unusable_data_is_refused_with_a_reason(change, message):
    with pytest.raises(TrainingDataError, match=message):
        TrainingData(**{**GOOD, **change})


def test_params_take_one_spelling():
    params = check_params("mlp", {"hidden_units": 64.0, "learning_rate": 1, "epochs": 3.0})

    assert params["hidden_units"] == [64]
    assert params["learning_rate"] == 1.0 and isinstance(params["learning_rate"], float)
    assert params["epochs"] == 3 and isinstance(params["epochs"], int)
    assert check_params("svm", {"gamma": 2})["gamma"] == 2.0


def test_an_early_stopping_metric_of_the_other_task_is_refused():
    with pytest.raises(TemplateConfigError, match="val_rmse needs a regression task") as caught:
        check_params("mlp", {"early_stopping_metric": "val_rmse"}, task="classification")

    assert caught.value.param == "early_stopping_metric"
    assert check_params("mlp", {"early_stopping_metric": "val_rmse"}, task="regression")


def test_a_task_or_modality_the_template_does_not_take_is_refused():
    with pytest.raises(TemplateConfigError, match="does classification, not regression"):
        check_params("logistic_regression", {}, task="regression")
    with pytest.raises(TemplateConfigError, match="takes audio data"):
        check_params("audio_cnn", {}, modality="image")
