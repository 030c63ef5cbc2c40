"""The pruning hook a sweep trial's training loop asks after each epoch.

The Train step builds one `TrialPruning` for a run that trains a sweep trial. After each epoch
the hook records the primary objective's per-epoch value (`val_accuracy` for `test_accuracy`)
as the trial's intermediate at step k (k = epochs done), and asks `pipelines.search.
should_prune` whether the trial is worse than the others at that step. A pruned trial ends
`pruned` at once; its run stops like a cancel and ends `cancelled` with "Pruned at epoch k
(median pruner)".

Cheap by design: epochs of a small network take milliseconds, so the hook touches the database
at most once per SYNC_EVERY_S (writing the steps reported since, one `trial` message each, and
reading the other trials' intermediates) and otherwise decides from what it holds. Completed
trials, which the median rule compares with, never change, so a copy at most a second old
decides the same.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from pipelines.sweep_objectives import intermediate_metric
from registry import services
from registry.models import Run, SweepPruner, SweepTrial, TrialState

if TYPE_CHECKING:
    from pipelines.search import TrialRecord

logger = logging.getLogger("canvascraft.sweeps")

PRUNED_PREFIX = "Pruned at epoch"
SYNC_EVERY_S = 1.0


def trial_record(
    number: int, params: dict, state: str, values: list | None, intermediate: dict
) -> TrialRecord:
    """A stored trial as the search strategies see it (JSON keeps steps as strings)."""
    # Imported when used: every run imports this module, only sweep trials need Optuna.
    from pipelines.search import TrialRecord

    return TrialRecord(
        number=number,
        params=params,
        state=state,
        values=values,
        intermediate={int(step): float(value) for step, value in (intermediate or {}).items()},
    )


class TrialPruning:
    """Reports one trial's intermediates and, with a pruner, decides whether to stop it."""

    def __init__(self, trial: SweepTrial, *, n_epochs: int | None) -> None:
        sweep = trial.sweep
        self.trial = trial
        self.pruner = sweep.pruner
        self.metric, self.direction = intermediate_metric(sweep.objectives[0])
        self.n_epochs = n_epochs
        self.own = {int(step): value for step, value in trial.intermediate.items()}
        self.pending: dict[int, float] = {}
        self.others: list[TrialRecord] = []
        self.last_sync: float | None = None

    @classmethod
    def for_run(cls, run: Run) -> TrialPruning | None:
        """The hook of `run` when it trains a running sweep trial, else None (one query)."""
        trial = (
            SweepTrial.objects.filter(run_id=run.pk, state=TrialState.RUNNING)
            .select_related("sweep")
            .first()
        )
        if trial is None:
            return None
        return cls(trial, n_epochs=(run.config.get("params") or {}).get("epochs"))

    def should_prune(self, epoch: int, metrics: dict[str, float]) -> str | None:
        """`TrainingCallbacks.should_prune`: the reason to stop, or None to go on."""
        value = metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            return None
        step = epoch + 1
        self.own[step] = self.pending[step] = float(value)
        if self.last_sync is None or time.monotonic() - self.last_sync >= SYNC_EVERY_S:
            self._sync()
        is_last = self.n_epochs is not None and step >= self.n_epochs
        if self.pruner == SweepPruner.NONE or is_last:
            return None
        from pipelines.search import should_prune

        current = trial_record(self.trial.number, self.trial.params, "running", None, self.own)
        if not should_prune(
            self.pruner,
            self.others,
            current,
            direction=self.direction,
            step=step,
            total_steps=self.n_epochs,
        ):
            return None
        self.flush()
        services.trial_finish(trial=self.trial, state=TrialState.PRUNED, pruned_at_step=step)
        return f"{PRUNED_PREFIX} {step} ({self.pruner} pruner)"

    def _sync(self) -> None:
        self.flush()
        self.last_sync = time.monotonic()
        if self.pruner == SweepPruner.NONE:
            return
        rows = (
            SweepTrial.objects.filter(sweep_id=self.trial.sweep_id)
            .exclude(pk=self.trial.pk)
            .values_list("number", "params", "state", "values", "intermediate")
        )
        self.others = [trial_record(*row) for row in rows]

    def flush(self) -> None:
        """Stores the steps reported since the last write (one transaction)."""
        if self.pending:
            points, self.pending = self.pending, {}
            services.trial_report_intermediates(trial_id=self.trial.pk, points=points)

    def close(self) -> None:
        """At the end of training, whatever its outcome: the last steps are stored. A failure
        here is logged, not raised: the run's own outcome matters more."""
        try:
            self.flush()
        except Exception:
            logger.warning("intermediates of trial %s not stored", self.trial.pk, exc_info=True)
