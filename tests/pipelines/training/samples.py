"""Tiny synthetic datasets per (modality, task), easy enough to learn in a couple of epochs.

Each class (or target value) is written into the features in a way a model of that modality can
see: a column shift for tables, a bright region for images, an energetic mel band for audio.
"""

from __future__ import annotations

import numpy as np

from pipelines.training.callbacks import TrainingCallbacks
from pipelines.training.data import TrainingData, split_indices

N_CLASSES = 3
SAMPLE_SHAPES = {"tabular": (4,), "image": (8, 8, 1), "audio": (6, 10)}
LABEL_NAMES = ["circle", "square", "triangle"]


def features_and_targets(
    modality: str, task: str, n_samples: int = 60, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): x float32 of the modality's layout, y class codes or float targets."""
    generator = np.random.default_rng(seed)
    shape = SAMPLE_SHAPES[modality]
    features = generator.normal(0.0, 0.3, (n_samples, *shape)).astype(np.float32)
    codes = np.arange(n_samples) % N_CLASSES
    strength = (
        codes.astype(np.float32) if task == "classification" else generator.uniform(0, 2, n_samples)
    )
    for index, (code, amount) in enumerate(zip(codes, strength, strict=True)):
        if modality == "tabular":
            features[index, code if task == "classification" else 0] += 3.0 * (1 + amount)
        elif modality == "image":
            row = 2 * code if task == "classification" else 0
            features[index, row : row + 3, :, :] += 3.0 * (1 + amount)
        else:
            band = 2 * code if task == "classification" else 0
            features[index, band : band + 2, :] += 3.0 * (1 + amount)
    if task == "classification":
        return features, codes.astype(np.int64)
    return features, (10.0 * strength + 5.0).astype(np.float32)


def tiny_data(modality: str, task: str, *, n_samples: int = 60, seed: int = 0) -> TrainingData:
    features, targets = features_and_targets(modality, task, n_samples, seed)
    train, validation, test = split_indices(
        targets, task=task, validation_fraction=0.2, test_fraction=0.2, seed=seed
    )
    return TrainingData(
        x_train=features[train],
        y_train=targets[train],
        x_val=features[validation],
        y_val=targets[validation],
        x_test=features[test],
        y_test=targets[test],
        task=task,
        label_names=LABEL_NAMES if task == "classification" else [],
        feature_names=[f"f{i}" for i in range(4)] if modality == "tabular" else [],
    )


class Recorder:
    """TrainingCallbacks that remember everything, for assertions."""

    def __init__(self, stop_at_poll: int | None = None, reason: str = "cancelled") -> None:
        self.epochs: list[tuple[int, dict[str, float]]] = []
        self.checkpoints: list[bytes] = []
        self.lines: list[str] = []
        self.polls = 0
        self.stop_at_poll = stop_at_poll
        self.reason = reason

    def should_stop(self) -> str | None:
        self.polls += 1
        if self.stop_at_poll is not None and self.polls >= self.stop_at_poll:
            return self.reason
        return None

    @property
    def callbacks(self) -> TrainingCallbacks:
        return TrainingCallbacks(
            on_epoch_end=lambda epoch, metrics: self.epochs.append((epoch, metrics)),
            should_stop=self.should_stop,
            save_checkpoint=self.checkpoints.append,
            log=self.lines.append,
        )
