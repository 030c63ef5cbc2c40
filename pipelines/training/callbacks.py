"""How a training loop talks to whoever runs it: progress out, stop requests in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.training.samples import PredictFunction


def _never_stop() -> str | None:
    return None


def _discard_checkpoint(state: bytes) -> None:
    """Default for callers (tests, notebooks) that do not keep checkpoints."""


def _every_epoch(epoch: int) -> bool:
    return True


def _ignore_epoch(epoch: int, metrics: dict[str, float]) -> None:
    """Default for callers that do not record metrics."""


def _never_prune(epoch: int, metrics: dict[str, float]) -> str | None:
    """Default for runs that are not sweep trials."""
    return None


def _no_samples(epoch: int, is_last: bool) -> bool:
    return False


def _ignore_sample(epoch: int, predict: PredictFunction) -> None:
    """Default for callers that do not show sample outputs."""


@dataclass
class TrainingCallbacks:
    """The hooks a loop calls; the pipeline step turns them into database writes.

    - ``on_epoch_end(epoch, metrics)``: after each epoch (index from 0) with that epoch's
      metrics, under stable names (see `pipelines.training.trainer`).
    - ``should_stop()``: polled before every batch, so it must be cheap (read a flag that another
      thread or a heartbeat refreshes, not the database). A non-None reason ("cancelled",
      "timed out") stops training before the next batch: the loop raises
      ``TrainingStopped(reason)`` and saves nothing more.
    - ``save_checkpoint(state)``: at the end of every epoch, the whole resumable state as bytes
      that ``torch.load(..., weights_only=True)`` reads; pass them to ``train(resume_from=...)``.
    - ``checkpoint_due(epoch)``: asked at the end of every epoch; when False the (costly)
      checkpoint of that epoch is skipped. A runner checkpoints by elapsed time, so that epochs of
      a few milliseconds do not spend more time saving than training.
    - ``sample_due(epoch, is_last)``: asked after each epoch's ``on_epoch_end`` (``is_last``:
      no epoch follows, by the epoch count or early stopping); when True the loop calls
      ``on_sample(epoch, predict)``, where ``predict(indices)`` gives the `Predictions` of that
      epoch's model for those positions of the validation split. ``on_sample`` calls
      ``predict`` before it returns (the next epoch changes the model) and renders and stores the
      sample elsewhere, off the training thread (see `pipelines.training.samples`); ``predict``
      itself is cheap (the torch loop reads the outputs its validation pass computed).
      scikit-learn asks once, at the end.
    - ``should_prune(epoch, metrics)``: asked after each epoch's ``on_epoch_end`` (torch loops
      only: scikit-learn has no epochs) with the same metrics. A sweep trial's hook records the
      epoch's value of its objective and compares it with the other trials'; a non-None reason
      ("Pruned at epoch 3 (median pruner)") stops training there: the loop logs the epoch and
      raises ``TrainingStopped(reason)``. Called once per epoch, it may touch the database
      now and then, but must stay cheap (see `pipelines.sweep_pruning`).
    - ``log(line)``: human-readable progress ("epoch 3/20 ... val_accuracy 0.953 (best)").

    Per epoch, ``on_epoch_end`` comes before ``save_checkpoint``: a worker killed between the two
    reports that epoch again after resuming (rather than never), so store metrics keyed by
    (run, epoch, name).
    """

    on_epoch_end: Callable[[int, dict[str, float]], None] = _ignore_epoch
    should_stop: Callable[[], str | None] = _never_stop
    save_checkpoint: Callable[[bytes], None] = _discard_checkpoint
    checkpoint_due: Callable[[int], bool] = _every_epoch
    sample_due: Callable[[int, bool], bool] = _no_samples
    on_sample: Callable[[int, PredictFunction], None] = _ignore_sample
    should_prune: Callable[[int, dict[str, float]], str | None] = _never_prune
    log: Callable[[str], None] = print
