"""Test-split metrics, the confusion matrix and a handful of example predictions."""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from pipelines.training.model import TrainedModel


class SamplePrediction(TypedDict):
    """One test sample as a model card shows it: labels for classification, values for
    regression; `confidence` is the predicted class's probability (None without one)."""

    index: int
    true: str | float
    predicted: str | float
    confidence: float | None
    correct: bool | None


def evaluate(model: TrainedModel, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Classification: test_accuracy, test_macro_f1, test_loss (the model's own loss, see
    `TrainedModel.loss`). Regression: test_rmse, test_mae, test_r2 in the target's units."""
    from sklearn.metrics import f1_score, mean_absolute_error, r2_score, root_mean_squared_error

    predicted = model.predict(x)
    if model.task == "classification":
        truth = np.asarray(y, dtype=np.int64)
        return {
            "test_accuracy": float(np.mean(predicted == truth)),
            "test_macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
            "test_loss": model.loss(x, truth),
        }
    truth = np.asarray(y, dtype=np.float64)
    predicted = predicted.astype(np.float64)
    return {
        "test_rmse": float(root_mean_squared_error(truth, predicted)),
        "test_mae": float(mean_absolute_error(truth, predicted)),
        "test_r2": float(r2_score(truth, predicted)) if len(truth) > 1 else float("nan"),
    }


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: row = true class, column = predicted class."""
    from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

    return sklearn_confusion_matrix(y_true, y_pred, labels=list(range(n_classes))).astype(np.int64)


def sample_predictions(
    model: TrainedModel, x: np.ndarray, y: np.ndarray, *, n: int = 8, seed: int
) -> list[SamplePrediction]:
    """`n` test samples drawn with `seed` (the same seed shows the same samples), by index."""
    chosen = np.sort(np.random.default_rng(seed).choice(len(x), size=min(n, len(x)), replace=False))
    predicted = model.predict(x[chosen])
    if model.task != "classification":
        return [
            SamplePrediction(
                index=int(index),
                true=float(y[index]),
                predicted=float(value),
                confidence=None,
                correct=None,
            )
            for index, value in zip(chosen, predicted, strict=True)
        ]
    probabilities = model.predict_proba(x[chosen])
    return [
        SamplePrediction(
            index=int(index),
            true=model.label_names[int(y[index])],
            predicted=model.label_names[int(code)],
            confidence=None if probabilities is None else float(probabilities[row, code]),
            correct=bool(code == y[index]),
        )
        for row, (index, code) in enumerate(zip(chosen, predicted, strict=True))
    ]
