"""The torch loop's promises beyond the contract: seeding, augmentation, divergence, log lines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pipelines.training.errors import TrainingDivergedError
from pipelines.training.trainer import train
from tests.pipelines.training.samples import Recorder, tiny_data


def weights(model) -> list[torch.Tensor]:
    return list(model.network.state_dict().values())


def test_the_same_seed_gives_the_same_weights_and_another_seed_others():
    data = tiny_data("image", "classification")
    params = {"epochs": 2, "channels": [4]}

    first, again, other = (
        train("cnn", params, data, device="cpu", seed=seed, callbacks=Recorder().callbacks)
        for seed in (5, 5, 6)
    )

    assert all(torch.equal(a, b) for a, b in zip(weights(first), weights(again), strict=True))
    assert not torch.equal(weights(first)[-1], weights(other)[-1])


def test_augmentation_reaches_every_training_batch_and_nothing_else():
    data = tiny_data("image", "classification")  # 36 training samples: batches of 16, 16, 4
    seen: list[tuple[int, ...]] = []

    def augment(batch: np.ndarray) -> np.ndarray:
        seen.append(batch.shape)
        return batch[:, ::-1].copy()

    data.augment = augment
    train(
        "cnn",
        {"epochs": 2, "batch_size": 16, "channels": [4]},
        data,
        device="cpu",
        seed=0,
        callbacks=Recorder().callbacks,
    )

    assert seen == [(16, 8, 8, 1), (16, 8, 8, 1), (4, 8, 8, 1)] * 2


def test_a_loss_that_explodes_fails_the_run_before_reporting_it():
    recorder = Recorder()
    params = {"optimizer": "sgd", "learning_rate": 10.0, "epochs": 5, "lr_schedule": "none"}

    with pytest.raises(TrainingDivergedError, match="learning rate 10 is probably too high"):
        train(
            "mlp",
            params,
            tiny_data("tabular", "regression"),
            device="cpu",
            seed=0,
            callbacks=recorder.callbacks,
        )

    assert all(np.isfinite(list(metrics.values())).all() for _, metrics in recorder.epochs)
    assert len(recorder.checkpoints) == len(recorder.epochs) < 5


def test_each_epoch_logs_one_readable_line_marking_the_best():
    recorder = Recorder()

    train(
        "mlp",
        {"epochs": 2},
        tiny_data("tabular", "classification"),
        device="cpu",
        seed=0,
        callbacks=recorder.callbacks,
    )

    epoch_lines = [line for line in recorder.lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 2
    assert epoch_lines[0].startswith("epoch 1/2 train_loss ")
    assert "val_accuracy" in epoch_lines[0] and epoch_lines[0].endswith("s (best)")
    assert recorder.lines[-1].startswith("keeping epoch ")


@pytest.mark.parametrize("schedule", ["none", "cosine", "step", "plateau"])
def test_every_schedule_reports_the_rate_each_epoch_used(schedule):
    recorder = Recorder()
    params = {"epochs": 3, "learning_rate": 0.01, "lr_schedule": schedule, "optimizer": "sgd"}

    train(
        "mlp",
        params,
        tiny_data("tabular", "classification"),
        device="cpu",
        seed=0,
        callbacks=recorder.callbacks,
    )

    rates = [metrics["learning_rate"] for _, metrics in recorder.epochs]
    expected = {
        "none": [0.01, 0.01, 0.01],
        "cosine": [0.01, 0.0075, 0.0025],
        "step": [0.01, 0.001, 0.0001],
        "plateau": [0.01, 0.01, 0.01],
    }[schedule]
    assert rates == pytest.approx(expected)
