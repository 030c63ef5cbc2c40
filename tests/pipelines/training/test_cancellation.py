"""should_stop: polled before every batch; a reason stops training at once, saving nothing more."""

from __future__ import annotations

import pytest

from pipelines.training.errors import TrainingStopped
from pipelines.training.trainer import train
from tests.pipelines.training.samples import Recorder, tiny_data


def test_training_polls_before_every_batch_and_validation():
    data = tiny_data("tabular", "classification")  # 36 training samples: 9 batches of 4
    recorder = Recorder()

    train(
        "mlp",
        {"epochs": 2, "batch_size": 4},
        data,
        device="cpu",
        seed=0,
        callbacks=recorder.callbacks,
    )

    assert len(data.x_train) == 36
    assert recorder.polls == 2 * (9 + 1)


@pytest.mark.parametrize("reason", ["cancelled", "timed out"])
def test_a_stop_in_the_second_epoch_raises_with_its_reason_and_reports_nothing_more(reason):
    recorder = Recorder(stop_at_poll=13, reason=reason)  # poll 13: batch 3 of epoch 2

    with pytest.raises(TrainingStopped) as caught:
        train(
            "mlp",
            {"epochs": 5, "batch_size": 4},
            tiny_data("tabular", "classification"),
            device="cpu",
            seed=0,
            callbacks=recorder.callbacks,
        )

    assert caught.value.reason == reason
    assert recorder.polls == 13
    assert [epoch for epoch, _ in recorder.epochs] == [0]
    assert len(recorder.checkpoints) == 1


def test_a_scikit_learn_fit_does_not_start_when_stopped_before():
    recorder = Recorder(stop_at_poll=1)

    with pytest.raises(TrainingStopped, match="cancelled"):
        train(
            "random_forest",
            {},
            tiny_data("tabular", "classification"),
            device="cpu",
            seed=0,
            callbacks=recorder.callbacks,
        )

    assert recorder.epochs == [] and recorder.checkpoints == [] and recorder.lines == []


def test_a_scikit_learn_fit_stopped_meanwhile_reports_nothing():
    recorder = Recorder(stop_at_poll=2, reason="timed out")  # the poll right after the fit

    with pytest.raises(TrainingStopped, match="timed out"):
        train(
            "gradient_boosting",
            {"max_iter": 5},
            tiny_data("tabular", "regression"),
            device="cpu",
            seed=0,
            callbacks=recorder.callbacks,
        )

    assert recorder.polls == 2
    assert recorder.epochs == [] and recorder.checkpoints == []
