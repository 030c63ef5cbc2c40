"""Exact values on problems whose answer is known: separable classes, a perfect fit, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.training.data import TrainingData
from pipelines.training.evaluation import confusion_matrix, evaluate, sample_predictions
from pipelines.training.trainer import train
from tests.pipelines.training.samples import LABEL_NAMES, Recorder, tiny_data


def separable_table(n_samples: int = 90) -> TrainingData:
    """Three classes 10 standard deviations apart along their own column."""
    generator = np.random.default_rng(5)
    codes = np.arange(n_samples) % 3
    features = generator.normal(0.0, 0.1, (n_samples, 3)).astype(np.float32)
    features[np.arange(n_samples), codes] += 1.0
    thirds = np.split(np.arange(n_samples), [50, 70])
    return TrainingData(
        *(array for part in thirds for array in (features[part], codes[part])),
        task="classification",
        label_names=LABEL_NAMES,
        feature_names=["a", "b", "c"],
    )


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mlp", {"epochs": 15, "learning_rate": 0.01}),
        ("logistic_regression", {}),
        ("random_forest", {"n_estimators": 10}),
        ("svm", {"kernel": "linear"}),
    ],
)
def test_a_separable_problem_is_classified_perfectly(name, params):
    data = separable_table()

    model = train(name, params, data, device="cpu", seed=0, callbacks=Recorder().callbacks)
    metrics = evaluate(model, data.x_test, data.y_test)

    assert metrics["test_accuracy"] == 1.0
    assert metrics["test_macro_f1"] == 1.0
    assert confusion_matrix(data.y_test, model.predict(data.x_test), 3).tolist() == [
        [6, 0, 0],
        [0, 7, 0],
        [0, 0, 7],
    ]


def test_a_perfect_fit_has_zero_error():
    # A step function: every tree of the forest splits it exactly, so predictions are exact.
    features = np.linspace(-1.0, 1.0, 60, dtype=np.float32)[:, None]
    targets = np.where(features[:, 0] > 0, 110.0, 100.0).astype(np.float32)
    data = TrainingData(
        features,
        targets,
        features,
        targets,
        features,
        targets,
        task="regression",
        label_names=[],
        feature_names=["x"],
    )

    model = train(
        "random_forest",
        {"n_estimators": 5},
        data,
        device="cpu",
        seed=0,
        callbacks=Recorder().callbacks,
    )
    metrics = evaluate(model, features, targets)

    assert metrics["test_rmse"] == pytest.approx(0.0, abs=1e-4)
    assert metrics["test_mae"] == pytest.approx(0.0, abs=1e-4)
    assert metrics["test_r2"] == pytest.approx(1.0, abs=1e-9)


def test_regression_is_reported_in_the_targets_units():
    data = tiny_data("tabular", "regression")
    recorder = Recorder()

    model = train("mlp", {"epochs": 2}, data, device="cpu", seed=0, callbacks=recorder.callbacks)
    predicted = model.predict(data.x_val).astype(np.float64)

    rmse = np.sqrt(np.mean((predicted - data.y_val) ** 2))
    assert recorder.epochs[model.best_epoch][1]["val_rmse"] == pytest.approx(rmse, rel=1e-4)
    assert model.target_mean == pytest.approx(float(np.mean(data.y_train, dtype=np.float64)))


def test_confusion_matrix_counts_rows_as_truth_and_columns_as_predictions():
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 4)

    assert matrix.dtype == np.int64
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]


def test_sample_predictions_name_labels_and_repeat_with_the_seed():
    data = separable_table()
    model = train(
        "logistic_regression", {}, data, device="cpu", seed=0, callbacks=Recorder().callbacks
    )

    samples = sample_predictions(model, data.x_test, data.y_test, n=5, seed=2)

    assert samples == sample_predictions(model, data.x_test, data.y_test, n=5, seed=2)
    assert [sample["index"] for sample in samples] == sorted({s["index"] for s in samples})
    assert len(samples) == 5
    for sample in samples:
        assert sample["true"] == LABEL_NAMES[data.y_test[sample["index"]]]
        assert sample["predicted"] == sample["true"] and sample["correct"] is True
        assert 0.5 < sample["confidence"] <= 1.0
