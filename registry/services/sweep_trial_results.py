"""What happens to a sweep's trial after its allocation: its run attached, its intermediate
values recorded, its end (complete, pruned or failed), each announced on the sweep's stream.

These lock the trial row, never the sweep's: `trial_allocate` holds that one while it proposes,
and a trial's progress must not wait for a proposal. A trial's end is plain SQL
(`registry.services.sweep_sql` says why).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import orjson
from django.db import connection, transaction
from django.utils import timezone

from registry.errors import InvalidInput
from registry.models import Run, Sweep, SweepTrial, TrialState
from registry.services import live
from registry.services.sweep_sql import (
    SWEEPS_TABLE,
    TRIALS_TABLE,
    from_row,
    json_column,
    json_param,
    run_together,
)

ENDED_TRIAL_STATES = frozenset({TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED})

# What trial writes read of the sweep (its status message and the objectives' count): the
# rest of the row (base config, space) is large JSON that a trial write never needs.
SWEEP_FIELDS_FOR_TRIALS = ("status", "error_text", "n_trials", "objectives")

# A trial's end: one conditional UPDATE (only a running trial ends) that returns what the
# announcement says of the trial and of its sweep. The sweep's status is read there because it
# may have changed since the caller read it; its row is not locked: `trial_allocate` holds that
# lock while it proposes, and a trial's end must not wait for a proposal.
_FINISH_SQL = (
    f'UPDATE {TRIALS_TABLE} SET state = %s, "values" = %s, pruned_at_step = %s, ended_at = %s'
    "{intermediate} WHERE id = %s AND state = %s RETURNING sweep_id, number, run_id, params, "
    "intermediate, warm_start, "
    + ", ".join(
        f"(SELECT {column} FROM {SWEEPS_TABLE} WHERE {SWEEPS_TABLE}.id = {TRIALS_TABLE}.sweep_id)"
        for column in ("status", "error_text", "n_trials")
    )
)


def _locked_trial(trial_id: int) -> SweepTrial:
    """The trial row, locked (not its sweep's: `trial_allocate` holds that one while it
    proposes, and a trial's end must not wait for a proposal)."""
    return (
        SweepTrial.objects.select_for_update(of=("self",))
        .select_related("sweep")
        .defer(*(f"sweep__{field.name}" for field in _heavy_sweep_fields()))
        .get(pk=trial_id)
    )


def _heavy_sweep_fields():
    keep = {"id", *SWEEP_FIELDS_FOR_TRIALS}
    return [field for field in Sweep._meta.concrete_fields if field.name not in keep]


@transaction.atomic
def trial_attach_run(*, trial: SweepTrial, run: Run) -> SweepTrial:
    """Links the run that trains a trial; announces the trial's start."""
    trial.run = run
    trial.save(update_fields=["run"])
    live.announce_trial_and_status(trial)
    return trial


def trial_report_intermediate(*, trial: SweepTrial, step: int, value: float) -> SweepTrial:
    """Records the primary objective's value at `step` for a running trial."""
    return trial_report_intermediates(trial_id=trial.pk, points={step: value})


@transaction.atomic
def trial_report_intermediates(*, trial_id: int, points: Mapping[int, float]) -> SweepTrial:
    """Records several steps' values at once (locks the trial row), one `trial` message each.

    A step reported again (a run resumed from an earlier checkpoint) keeps its newest value.
    An ended trial takes no more values: they are dropped silently, because the training loop
    that sends them may not have heard yet that its trial was pruned or its sweep stopped.
    """
    trial = _locked_trial(trial_id)
    if trial.state != TrialState.RUNNING or not points:
        return trial
    for step, value in points.items():
        if not isinstance(step, int) or step < 0:
            raise InvalidInput("a step is an integer >= 0", field="step")
        if not math.isfinite(value):
            raise InvalidInput("an intermediate value must be finite", field="value")
    trial.intermediate = {
        **trial.intermediate,
        **{str(step): float(value) for step, value in points.items()},
    }
    trial.save(update_fields=["intermediate"])
    for step, value in sorted(points.items()):
        live.announce_trial(trial, step=step, value=float(value))
    return trial


@transaction.atomic
def trial_finish(
    *,
    trial: SweepTrial,
    state: str,
    values: Sequence[float] | None = None,
    pruned_at_step: int | None = None,
    intermediate: Mapping[int, float] | None = None,
) -> SweepTrial:
    """Ends a running trial as complete (with one value per objective), pruned (at a step) or
    failed (locks the trial row). A trial that already ended is returned unchanged: the pruning
    hook, the `run_finished` receiver and the reconciliation in `fill_slots` may all try to end
    the same trial, and the first one wins.

    `intermediate` ({step: value}) is stored with it, for warm-start trials told from a run's
    history.
    """
    if state not in ENDED_TRIAL_STATES:
        raise InvalidInput("a trial ends complete, pruned or failed", field="state")
    objectives = _objectives_of(trial)
    problem = _values_problem(state, values, len(objectives))
    if problem is not None:
        stored = _locked_trial(trial.pk)
        if stored.state != TrialState.RUNNING:
            return stored
        raise InvalidInput(problem, field="values")
    stored_values = [float(value) for value in values] if values is not None else None
    pruned_at_step = pruned_at_step if state == TrialState.PRUNED else None
    ended_at = timezone.now()
    parameters = [
        state,
        json_param(stored_values) if stored_values is not None else None,
        pruned_at_step,
        connection.ops.adapt_datetimefield_value(ended_at),
    ]
    if intermediate:
        steps = {str(step): float(value) for step, value in intermediate.items()}
        parameters.append(json_param(steps))
    finish = _FINISH_SQL.format(intermediate=", intermediate = %s" if intermediate else "")
    # The sweep's counts and best trial are read after the change, in the same round trip.
    with connection.cursor() as cursor:
        ended_rows, status_rows = run_together(
            cursor,
            [
                (finish, [*parameters, trial.pk, TrialState.RUNNING]),
                live.sweep_status_statement(trial.sweep_id, objectives),
            ],
        )
    if not ended_rows:  # it ended already (or never existed: the ORM says so)
        return _locked_trial(trial.pk)
    [(sweep_id, number, run_id, params, steps_text, warm_start, status, error_text, n_trials)] = (
        ended_rows
    )
    ended = from_row(
        SweepTrial,
        id=trial.pk,
        sweep_id=sweep_id,
        number=number,
        run_id=run_id,
        params=orjson.loads(params),
        state=state,
        values=stored_values,
        intermediate=json_column(steps_text) or {},
        pruned_at_step=pruned_at_step,
        warm_start=bool(warm_start),
        ended_at=ended_at,
    )
    ended.sweep = from_row(
        Sweep,
        id=sweep_id,
        status=status,
        error_text=error_text,
        n_trials=n_trials,
        objectives=objectives,
    )
    live.announce_trial_and_status(
        ended, status=live.sweep_status_from_rows(ended.sweep, status_rows)
    )
    return ended


def _objectives_of(trial: SweepTrial) -> list[dict[str, str]]:
    """The trial's sweep's objectives: the caller's copy of the sweep when it holds one (they
    are fixed when the sweep is created), else one query."""
    if SweepTrial.sweep.is_cached(trial):
        return trial.sweep.objectives
    return Sweep.objects.values_list("objectives", flat=True).get(pk=trial.sweep_id)


def _values_problem(state: str, values: Sequence[float] | None, n_objectives: int) -> str | None:
    """Why `values` cannot end a trial as `state`, or None when they can."""
    if state != TrialState.COMPLETE:
        return None
    if values is None or len(values) != n_objectives:
        return f"a complete trial has {n_objectives} values"
    if not all(math.isfinite(value) for value in values):
        return "trial values must be finite"
    return None
