"""The arrays a run trains on, and the seeded train/validation/test split.

Layouts are those the brushes produce: tables (N, F), images (N, H, W, C) channels-last, audio
spectrograms (N, n_mels, n_frames). The modality is read from the number of axes, so the trainer
needs nothing but the arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipelines.training.errors import TrainingDataError

MODALITY_OF_SAMPLE_AXES = {1: "tabular", 3: "image", 2: "audio"}
TASKS = ("classification", "regression")
# Below this the training targets are constant: dividing by their std would blow noise up.
CONSTANT_TARGET_STD = 1e-12


def modality_of_shape(sample_shape: tuple[int, ...]) -> str:
    """ "tabular", "image" or "audio" for the shape of one sample (no batch axis)."""
    try:
        return MODALITY_OF_SAMPLE_AXES[len(sample_shape)]
    except KeyError:
        raise TrainingDataError(
            f"samples of shape {tuple(sample_shape)} are neither table rows (F), spectrograms "
            "(n_mels, n_frames) nor images (H, W, C)"
        ) from None


@dataclass
class TrainingData:
    """Features and targets of the three splits, ready for a template.

    `x_*` become float32; `y_*` become int64 class codes 0..K-1 (classification, K =
    len(label_names)) or float32 values (regression). Construction refuses empty splits,
    mismatched lengths or shapes, non-finite values and codes outside the label names, so the
    trainer never discovers bad data halfway through a run.

    `augment`, when set, is applied to every training batch (NumPy in and out, same shape): the
    chain's training-only brushes. It is never applied to validation or test data.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    label_names: list[str]
    feature_names: list[str]
    augment: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise TrainingDataError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        target_type = np.int64 if self.task == "classification" else np.float32
        for split in ("train", "val", "test"):
            features = np.asarray(getattr(self, f"x_{split}"), dtype=np.float32)
            targets = np.asarray(getattr(self, f"y_{split}"))
            self._check_split(split, features, targets)
            setattr(self, f"x_{split}", features)
            setattr(self, f"y_{split}", targets.astype(target_type, copy=False))
        shapes = {self.x_train.shape[1:], self.x_val.shape[1:], self.x_test.shape[1:]}
        if len(shapes) > 1:
            raise TrainingDataError(f"the splits have different sample shapes: {sorted(shapes)}")
        modality_of_shape(self.input_shape)
        if self.task == "classification":
            self._check_codes()

    def _check_split(self, split: str, features: np.ndarray, targets: np.ndarray) -> None:
        if len(features) == 0:
            raise TrainingDataError(f"the {split} split is empty")
        if targets.shape != (len(features),):
            raise TrainingDataError(
                f"y_{split} must be one target per sample: shape ({len(features)},), got "
                f"{targets.shape}"
            )
        if not np.isfinite(features).all():
            raise TrainingDataError(f"x_{split} holds NaN or infinite values; impute them first")
        if self.task == "regression" and not np.isfinite(targets.astype(np.float64)).all():
            raise TrainingDataError(f"y_{split} holds NaN or infinite targets")

    def _check_codes(self) -> None:
        if len(self.label_names) < 2:
            raise TrainingDataError("classification needs at least two label names")
        for split in ("train", "val", "test"):
            codes = getattr(self, f"y_{split}")
            if codes.min() < 0 or codes.max() >= len(self.label_names):
                raise TrainingDataError(
                    f"y_{split} holds codes outside 0..{len(self.label_names) - 1}; every sample "
                    "needs a label"
                )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, without the batch axis."""
        return tuple(int(size) for size in self.x_train.shape[1:])

    @property
    def modality(self) -> str:
        return modality_of_shape(self.input_shape)

    @property
    def n_outputs(self) -> int:
        """Number of network outputs: one per class, or one value for regression."""
        return len(self.label_names) if self.task == "classification" else 1


def target_scaling(data: TrainingData) -> tuple[float, float]:
    """(mean, std) of the training targets for regression, (0, 1) for classification.

    Models learn standardised targets, so learning rates, losses and SVR's epsilon mean the same
    whatever the target's units; predictions are scaled back.
    """
    if data.task != "regression":
        return 0.0, 1.0
    std = float(data.y_train.std(dtype=np.float64))
    return float(data.y_train.mean(dtype=np.float64)), std if std > CONSTANT_TARGET_STD else 1.0


def split_indices(
    labels_or_targets: np.ndarray,
    *,
    task: str,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted int64 (train, validation, test) indices: the same seed gives the same split.

    Sizes: test = ceil(test_fraction * N), validation = ceil(validation_fraction * N), train the
    rest; fractions that would leave any split empty are refused (`TrainingDataError` naming the
    fraction). Classification splits are stratified (class proportions kept in every split)
    when scikit-learn can stratify: every class has at least 2 samples and each split it cuts
    holds at least one sample per class. Otherwise, as with a rare class in a tiny dataset,
    that cut falls back to a plain seeded shuffle rather than failing the run.
    """
    from sklearn.model_selection import train_test_split

    if task not in TASKS:
        raise TrainingDataError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    targets = np.asarray(labels_or_targets)
    n_test, n_validation = _split_sizes(len(targets), validation_fraction, test_fraction)
    everything = np.arange(len(targets))
    rest, test = train_test_split(
        everything,
        test_size=n_test,
        random_state=seed,
        stratify=_stratify_labels(targets, task, n_test),
    )
    train, validation = train_test_split(
        rest,
        test_size=n_validation,
        random_state=seed,
        stratify=_stratify_labels(targets[rest], task, n_validation),
    )
    return tuple(np.sort(part).astype(np.int64) for part in (train, validation, test))


def _split_sizes(
    n_samples: int, validation_fraction: float, test_fraction: float
) -> tuple[int, int]:
    for name, fraction in (
        ("validation_fraction", validation_fraction),
        ("test_fraction", test_fraction),
    ):
        if not 0 < fraction < 1:
            raise TrainingDataError(f"{name} must be between 0 and 1, got {fraction}", param=name)
    n_test = math.ceil(test_fraction * n_samples)
    n_validation = math.ceil(validation_fraction * n_samples)
    if n_samples - n_test - n_validation < 1:
        raise TrainingDataError(
            f"validation_fraction {validation_fraction} and test_fraction {test_fraction} leave "
            f"no training samples out of {n_samples}; lower them or add samples",
            param="validation_fraction",
        )
    return n_test, n_validation


def _stratify_labels(labels: np.ndarray, task: str, n_held_out: int) -> np.ndarray | None:
    """`labels` when scikit-learn can stratify this cut (its own three conditions), else None."""
    if task != "classification":
        return None
    _, counts = np.unique(labels, return_counts=True)
    n_kept = len(labels) - n_held_out
    if counts.min() < 2 or n_held_out < len(counts) or n_kept < len(counts):
        return None
    return labels
