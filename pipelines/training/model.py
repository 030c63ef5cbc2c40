"""TrainedModel: a fitted template that predicts, scores its own loss and saves without pickle."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.training import forests
from pipelines.training.errors import TrainingDataError

# Samples per forward pass at prediction: large enough to amortise overhead, small enough that a
# big test split never needs all activations at once.
PREDICTION_BATCH_SIZE = 1024


class TrainedModel:
    """A trained network or estimator with what it needs to be used and saved.

    Exactly one of `network` (torch, on `device`, in eval mode) or `estimator` (scikit-learn) is
    set. Regression models learn standardised targets; `target_mean` and `target_std` undo that
    in `predict`, so callers always see values in the dataset's units. `history` holds the
    per-epoch metrics and `best_epoch` the epoch whose weights were kept.
    """

    def __init__(
        self,
        *,
        template_name: str,
        params: dict[str, Any],
        task: str,
        label_names: list[str],
        feature_names: list[str],
        input_shape: tuple[int, ...],
        device: str = "cpu",
        network: Any = None,
        estimator: Any = None,
        target_mean: float = 0.0,
        target_std: float = 1.0,
        history: list[dict[str, float]] | None = None,
        best_epoch: int = 0,
    ) -> None:
        if (network is None) == (estimator is None):
            raise ValueError("a TrainedModel holds exactly one of network or estimator")
        self.template_name = template_name
        self.params = params
        self.task = task
        self.label_names = list(label_names)
        self.feature_names = list(feature_names)
        self.input_shape = tuple(input_shape)
        self.device = device
        self.network = network
        self.estimator = estimator
        self.target_mean = float(target_mean)
        self.target_std = float(target_std)
        self.history = list(history or [])
        self.best_epoch = best_epoch

    @property
    def family(self) -> str:
        return "torch" if self.network is not None else "sklearn"

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def _checked(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, dtype=np.float32)
        if features.shape[1:] != self.input_shape:
            raise TrainingDataError(
                f"the model takes samples of shape {self.input_shape}, got "
                f"{tuple(features.shape[1:])}"
            )
        return features

    def _network_outputs(self, features: np.ndarray) -> np.ndarray:
        """Raw network outputs (logits or standardised values), batch by batch, in float32."""
        import torch

        self.network.eval()
        if not features.flags.writeable:  # a read-only pandas view: torch wants its own
            features = features.copy()
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(features), PREDICTION_BATCH_SIZE):
                batch = torch.from_numpy(features[start : start + PREDICTION_BATCH_SIZE])
                outputs.append(self.network(batch.to(self.device)).float().cpu().numpy())
        return np.concatenate(outputs) if outputs else np.zeros((0, 1), dtype=np.float32)

    def _flat(self, features: np.ndarray) -> np.ndarray:
        return features.reshape(len(features), -1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class codes (int64) or values in the target's units (float32), one per sample."""
        features = self._checked(x)
        if self.task == "classification":
            if self.family == "torch":
                return self._network_outputs(features).argmax(axis=1).astype(np.int64)
            return forests.predict(self.estimator, self._flat(features)).astype(np.int64)
        if self.family == "torch":
            standardised = self._network_outputs(features)[:, 0]
        else:
            standardised = forests.predict(self.estimator, self._flat(features))
        return (standardised * self.target_std + self.target_mean).astype(np.float32)

    def predict_proba(self, x: np.ndarray) -> np.ndarray | None:
        """(N, n_classes) probabilities, or None for regression and models without them (SVM)."""
        if self.task != "classification":
            return None
        features = self._checked(x)
        if self.family == "torch":
            logits = self._network_outputs(features)
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        if not hasattr(self.estimator, "predict_proba"):
            return None
        # An estimator only knows the classes it saw; give every label its column. float32
        # estimators (e.g. logistic regression on float32 input) sum to 1 only within float32
        # rounding, so rows are renormalised in float64.
        probabilities = np.zeros((len(features), self.n_classes), dtype=np.float64)
        probabilities[:, self.estimator.classes_] = forests.predict_proba(
            self.estimator, self._flat(features)
        )
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """The model's own loss: cross-entropy (log loss) for classification (multiclass hinge
        for models without probabilities), mean squared error of standardised targets for
        regression, so losses compare across templates and with the training curve."""
        features = self._checked(x)
        targets = np.asarray(y)
        if self.task == "regression":
            errors = (self.predict(features) - targets) / self.target_std
            return float(np.mean(np.square(errors, dtype=np.float64)))
        labels = list(range(self.n_classes))
        if self.family == "torch":
            import torch
            from torch.nn import functional

            logits = torch.from_numpy(self._network_outputs(features))
            codes = torch.from_numpy(targets.astype(np.int64))
            return float(functional.cross_entropy(logits, codes))
        from sklearn.metrics import hinge_loss, log_loss

        probabilities = self.predict_proba(features)
        if probabilities is not None:
            return float(log_loss(targets, probabilities, labels=labels))
        scores = self.estimator.decision_function(self._flat(features))
        return float(hinge_loss(targets, scores, labels=labels if scores.ndim == 2 else None))

    def to_files(self) -> dict[str, bytes]:
        """{"model.json", "weights.pt"} (torch) or {"model.json", "model.skops"} (scikit-learn)."""
        from pipelines.training.persistence import model_to_files

        return model_to_files(self)

    @classmethod
    def from_files(cls, files: dict[str, bytes], *, device: str = "cpu") -> TrainedModel:
        """A model from `to_files` output, loaded without pickle (see `persistence`)."""
        from pipelines.training.persistence import model_from_files

        return model_from_files(files, device=device)

    def __repr__(self) -> str:
        return (
            f"TrainedModel({self.template_name}, {self.task}, input_shape={self.input_shape}, "
            f"device={self.device!r})"
        )
