"""Checkpoints: weights-only bytes, exact resume, early stopping that keeps the best epoch."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from pipelines.training.errors import CheckpointError, TrainingStopped
from pipelines.training.trainer import TrainingCallbacks, train
from tests.pipelines.training.samples import Recorder, tiny_data

TIMING_METRICS = {"samples_per_s", "epoch_s"}
CASES = [
    pytest.param(
        "mlp",
        "tabular",
        {"epochs": 4, "batch_size": 8, "lr_schedule": "plateau", "patience": 10},
        id="mlp-adamw-plateau-dropout",
    ),
    pytest.param(
        "cnn",
        "image",
        {"epochs": 4, "batch_size": 8, "channels": [4], "optimizer": "sgd", "lr_schedule": "step"},
        id="cnn-sgd-step-batchnorm",
    ),
]


class StopAfterEpochs(Recorder):
    """Asks to stop once `n_epochs` epochs have ended, like a worker killed between epochs."""

    def __init__(self, n_epochs: int) -> None:
        super().__init__()
        self.n_epochs = n_epochs

    def should_stop(self) -> str | None:
        return "cancelled" if len(self.epochs) >= self.n_epochs else None


def without_timings(history: list[tuple[int, dict[str, float]]]) -> list:
    return [
        (epoch, {key: value for key, value in metrics.items() if key not in TIMING_METRICS})
        for epoch, metrics in history
    ]


def load(checkpoint: bytes) -> dict:
    return torch.load(io.BytesIO(checkpoint), weights_only=True)


@pytest.mark.parametrize(("name", "modality", "params"), CASES)
def test_resuming_after_two_epochs_ends_with_the_same_weights_as_four_straight(
    name, modality, params
):
    data = tiny_data(modality, "classification")
    straight = Recorder()
    interrupted = StopAfterEpochs(2)
    resumed = Recorder()

    expected = train(name, params, data, device="cpu", seed=11, callbacks=straight.callbacks)
    with pytest.raises(TrainingStopped):
        train(name, params, data, device="cpu", seed=11, callbacks=interrupted.callbacks)
    model = train(
        name,
        params,
        data,
        device="cpu",
        seed=11,
        callbacks=resumed.callbacks,
        resume_from=interrupted.checkpoints[-1],
    )

    assert len(interrupted.checkpoints) == 2
    assert [epoch for epoch, _ in resumed.epochs] == [2, 3]
    assert without_timings(interrupted.epochs + resumed.epochs) == without_timings(straight.epochs)
    expected_state, state = expected.network.state_dict(), model.network.state_dict()
    assert list(state) == list(expected_state)
    assert all(torch.equal(state[key], expected_state[key]) for key in state)
    assert resumed.checkpoints[-1] != straight.checkpoints[1]


def test_a_checkpoint_holds_only_weights_only_types_and_the_whole_state():
    recorder = Recorder()
    train(
        "mlp",
        {"epochs": 2},
        tiny_data("tabular", "classification"),
        device="cpu",
        seed=1,
        callbacks=recorder.callbacks,
    )

    state = load(recorder.checkpoints[-1])

    assert state["epoch"] == 1 and state["template_name"] == "mlp"
    assert {"model", "optimizer", "scheduler", "best_state", "early_stopping", "history"} <= set(
        state
    )
    assert set(state["random_states"]) == {"torch", "cuda", "numpy", "python"}
    assert len(state["history"]) == 2


def test_a_checkpoint_of_other_params_is_refused():
    data = tiny_data("tabular", "classification")
    recorder = Recorder()
    train("mlp", {"epochs": 2}, data, device="cpu", seed=1, callbacks=recorder.callbacks)

    with pytest.raises(CheckpointError, match="params"):
        train(
            "mlp",
            {"epochs": 3},
            data,
            device="cpu",
            seed=1,
            callbacks=Recorder().callbacks,
            resume_from=recorder.checkpoints[-1],
        )
    with pytest.raises(CheckpointError, match="seed"):
        train(
            "mlp",
            {"epochs": 2},
            data,
            device="cpu",
            seed=2,
            callbacks=Recorder().callbacks,
            resume_from=recorder.checkpoints[-1],
        )
    with pytest.raises(CheckpointError, match="cannot be read"):
        train(
            "mlp",
            {"epochs": 2},
            data,
            device="cpu",
            seed=1,
            callbacks=Recorder().callbacks,
            resume_from=b"not a checkpoint",
        )


@pytest.mark.parametrize("metric", ["val_loss", "val_accuracy"])
def test_early_stopping_stops_after_patience_and_keeps_the_best_epoch(metric):
    # No epoch can beat the first by a min_delta this large, so epoch 0 stays the best.
    params = {"epochs": 10, "patience": 2, "min_delta": 5.0, "early_stopping_metric": metric}
    recorder = Recorder()

    model = train(
        "mlp",
        params,
        tiny_data("tabular", "classification"),
        device="cpu",
        seed=4,
        callbacks=recorder.callbacks,
    )

    assert [epoch for epoch, _ in recorder.epochs] == [0, 1, 2]
    assert model.best_epoch == 0
    best_weights = load(recorder.checkpoints[0])["model"]
    state = model.network.state_dict()
    assert all(torch.equal(state[key], best_weights[key]) for key in state)
    assert not torch.equal(
        state["head.weight"], load(recorder.checkpoints[-1])["model"]["head.weight"]
    )
    assert any("early stopping after epoch 3" in line for line in recorder.lines)


def test_a_resumed_scikit_learn_run_reuses_its_fit():
    data = tiny_data("tabular", "classification")
    first = Recorder()
    fitted = train(
        "random_forest", {"n_estimators": 5}, data, device="cpu", seed=0, callbacks=first.callbacks
    )
    resumed = Recorder()

    model = train(
        "random_forest",
        {"n_estimators": 5},
        data,
        device="cpu",
        seed=0,
        callbacks=resumed.callbacks,
        resume_from=first.checkpoints[-1],
    )

    np.testing.assert_array_equal(
        model.predict_proba(data.x_test), fitted.predict_proba(data.x_test)
    )
    assert resumed.epochs == [] and resumed.polls == 0


def test_default_callbacks_need_only_a_log():
    model = train(
        "mlp",
        {"epochs": 1},
        tiny_data("tabular", "regression"),
        device="cpu",
        seed=0,
        callbacks=TrainingCallbacks(log=lambda line: None),
    )

    assert len(model.history) == 1
