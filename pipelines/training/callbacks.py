"""How a training loop talks to whoever runs it: progress out, stop requests in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _never_stop() -> str | None:
    return None


def _discard_checkpoint(state: bytes) -> None:
    """Default for callers (tests, notebooks) that do not keep checkpoints."""


def _every_epoch(epoch: int) -> bool:
    return True


def _ignore_epoch(epoch: int, metrics: dict[str, float]) -> None:
    """Default for callers that do not record metrics."""


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
    - ``log(line)``: human-readable progress ("epoch 3/20 ... val_accuracy 0.953 (best)").

    Per epoch, ``on_epoch_end`` comes before ``save_checkpoint``: a worker killed between the two
    reports that epoch again after resuming (rather than never), so store metrics keyed by
    (run, epoch, name).
    """

    on_epoch_end: Callable[[int, dict[str, float]], None] = _ignore_epoch
    should_stop: Callable[[], str | None] = _never_stop
    save_checkpoint: Callable[[bytes], None] = _discard_checkpoint
    checkpoint_due: Callable[[int], bool] = _every_epoch
    log: Callable[[str], None] = print
