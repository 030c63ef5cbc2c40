"""Writes for sweeps: create, status changes, trial numbers, trial results.

Every change is announced on the sweep's stream (`sweep:<id>`) in its own transaction.
Validation of what a sweep searches lives in `pipelines.sweeps`; these functions store rows
that were already checked. The sweep's own lifecycle (create, status changes) is here; its
trials' writes live beside it and are re-exported from here:

- `registry.services.sweep_trial_allocation`: `trial_allocate`, the next trial's number and
  proposal under the sweep row's lock;
- `registry.services.sweep_trial_results`: a trial's run, intermediate values and end;
- `registry.services.sweep_sql`: the plain SQL those two per-trial transactions share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from registry.errors import Conflict
from registry.models import Experiment, Sweep, SweepStatus
from registry.services import live
from registry.services.sweep_trial_allocation import trial_allocate
from registry.services.sweep_trial_results import (
    trial_attach_run,
    trial_finish,
    trial_report_intermediate,
    trial_report_intermediates,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "sweep_create",
    "sweep_set_status",
    "trial_allocate",
    "trial_attach_run",
    "trial_finish",
    "trial_report_intermediate",
    "trial_report_intermediates",
]

# Which status may follow which: queued -> running (start), running -> stopped / succeeded /
# failed, stopped or failed -> running (resume: a sweep whose trials could not start gets
# another go once the cause is fixed); queued -> stopped / failed too (stopped before it
# ran, or its warm start could not be stored).
ALLOWED_TRANSITIONS = {
    SweepStatus.QUEUED: {SweepStatus.RUNNING, SweepStatus.STOPPED, SweepStatus.FAILED},
    SweepStatus.RUNNING: {SweepStatus.STOPPED, SweepStatus.SUCCEEDED, SweepStatus.FAILED},
    SweepStatus.STOPPED: {SweepStatus.RUNNING},
    SweepStatus.SUCCEEDED: set(),
    SweepStatus.FAILED: {SweepStatus.RUNNING},
}


@transaction.atomic
def sweep_create(
    *,
    owner: AbstractBaseUser,
    experiment: Experiment,
    name: str,
    base_config: Mapping[str, Any],
    space: Mapping[str, Any],
    strategy: str,
    strategy_options: Mapping[str, Any],
    objectives: Sequence[Mapping[str, str]],
    n_trials: int | None,
    time_budget_s: int | None,
    parallelism: int,
    pruner: str,
    seed: int,
    warm_start_runs: Sequence[int] = (),
) -> Sweep:
    """Stores a checked sweep, queued (nothing is trained until it is started)."""
    sweep = Sweep.objects.create(
        owner=owner,
        experiment=experiment,
        name=name,
        base_config=dict(base_config),
        space=dict(space),
        strategy=strategy,
        strategy_options=dict(strategy_options),
        objectives=[dict(objective) for objective in objectives],
        n_trials=n_trials,
        time_budget_s=time_budget_s,
        parallelism=parallelism,
        pruner=pruner,
        seed=seed,
        warm_start_runs=list(warm_start_runs),
    )
    live.announce_sweep_status(sweep)
    return sweep


@transaction.atomic
def sweep_set_status(*, sweep: Sweep, status: str, error_text: str = "") -> Sweep:
    """Moves a sweep to `status` (locks the sweep row); a transition not in
    ALLOWED_TRANSITIONS is a conflict.

    The first start stamps `started_at`; a resume moves it forward by the time the sweep stood
    stopped, so `started_at + time_budget_s` stays the deadline of its running time. An end
    stamps `ended_at`; a resume clears it and the error.
    """
    sweep = Sweep.objects.select_for_update().get(pk=sweep.pk)
    if status not in ALLOWED_TRANSITIONS[SweepStatus(sweep.status)]:
        raise Conflict(f"sweep {sweep.pk} is {sweep.status}; it cannot become {status}")
    now = timezone.now()
    if status == SweepStatus.RUNNING:
        if sweep.started_at is None:
            sweep.started_at = now
        elif sweep.ended_at is not None:
            sweep.started_at += now - sweep.ended_at
        sweep.ended_at = None
        sweep.error_text = ""
    else:
        sweep.ended_at = now
        sweep.error_text = error_text
    sweep.status = status
    sweep.save(update_fields=["status", "started_at", "ended_at", "error_text"])
    live.announce_sweep_status(sweep)
    return sweep
