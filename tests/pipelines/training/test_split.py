"""split_indices: exact stratified counts, reproducibility, fallbacks and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.training.data import split_indices
from pipelines.training.errors import TrainingDataError

# 60 of class 0, 20 of class 1, 20 of class 2, interleaved.
LABELS = np.array([0, 0, 0, 1, 2] * 20)


def split(labels=LABELS, seed=7, **fractions):
    fractions = {"validation_fraction": 0.2, "test_fraction": 0.2, **fractions}
    return split_indices(labels, task="classification", seed=seed, **fractions)


def test_stratified_split_keeps_class_proportions_in_every_split():
    train, validation, test = split()

    assert [np.bincount(LABELS[part]).tolist() for part in (train, validation, test)] == [
        [36, 12, 12],
        [12, 4, 4],
        [12, 4, 4],
    ]


def test_splits_are_sorted_disjoint_and_cover_every_sample():
    parts = split()

    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(len(LABELS)))
    assert all(part.dtype == np.int64 and np.all(np.diff(part) > 0) for part in parts)


def test_the_same_seed_gives_the_same_split_and_another_seed_another():
    first, again, other = split(seed=7), split(seed=7), split(seed=8)

    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[2], other[2])


def test_a_class_too_small_to_stratify_falls_back_to_a_plain_split():
    labels = np.array([0] * 10 + [1] * 9 + [2])  # class 2 has a single sample

    train, validation, test = split(labels)

    assert (len(train), len(validation), len(test)) == (12, 4, 4)


def test_regression_targets_split_by_size():
    targets = np.linspace(0.0, 1.0, 41)

    parts = split_indices(targets, task="regression", seed=1)

    assert [len(part) for part in parts] == [27, 7, 7]  # test and validation: ceil(0.15 * 41)


@pytest.mark.parametrize(
    ("fractions", "param"),
    [
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"validation_fraction": 0.5, "test_fraction": 0.5}, "validation_fraction"),
    ],
)
def test_fractions_that_leave_a_split_empty_are_refused(fractions, param):
    with pytest.raises(TrainingDataError) as caught:
        split(**fractions)

    assert caught.value.param == param


def test_three_samples_are_the_fewest_that_split():
    assert [len(part) for part in split(np.array([0, 1, 0]))] == [1, 1, 1]
    with pytest.raises(TrainingDataError, match="no training samples"):
        split(np.array([0, 1]))
