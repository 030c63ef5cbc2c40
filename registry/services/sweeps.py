"""Writes for sweeps: create, status changes, trial numbers, trial results.

The sweep row is the lock that orders a sweep's proposals: `trial_allocate` takes it (select for
update), reads the stored trials, asks for the next proposal and stores it with `next_number`
incremented, all in one transaction, so two workers finishing trials at the same moment never
hand out the same number. Every change is announced on the sweep's stream (`sweep:<id>`) in
its own transaction. Validation of what a sweep searches lives in `pipelines.sweeps`; these
functions store rows that were already checked.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from registry.errors import Conflict, InvalidInput
from registry.models import Experiment, Run, Sweep, SweepStatus, SweepTrial, TrialState
from registry.services import live

ENDED_TRIAL_STATES = frozenset({TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED})
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

# What a proposal reads of each stored trial: rows with these attributes, not model instances
# (a sweep of thousands of trials is read whole for every proposal).
PROPOSAL_FIELDS = ("number", "params", "state", "values", "intermediate")
Proposal = Callable[[list[Any], int], dict[str, Any]]


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


ProposalRow = namedtuple("ProposalRow", PROPOSAL_FIELDS)


def _proposal_rows(sweep_id: int) -> list[ProposalRow]:
    """Every trial of the sweep as PROPOSAL_FIELDS rows, by number. The JSON columns are read
    as text and decoded with orjson: Django's JSONField decodes each cell with the standard
    library, several times slower, and a proposal reads every trial."""
    rows = (
        SweepTrial.objects.filter(sweep_id=sweep_id)
        .order_by("number")
        .values_list(
            "number",
            Cast("params", TextField()),
            "state",
            Cast("values", TextField()),
            Cast("intermediate", TextField()),
        )
    )
    return [
        ProposalRow(
            number,
            orjson.loads(params),
            state,
            orjson.loads(values) if values is not None else None,
            orjson.loads(intermediate) if intermediate else {},
        )
        for number, params, state, values, intermediate in rows
    ]


@transaction.atomic
def trial_allocate(
    *, sweep: Sweep, propose: Proposal, warm_start: bool = False, reads_trials: bool = True
) -> SweepTrial:
    """Creates the sweep's next trial (locks the sweep row for the whole proposal).

    `propose(trials, number)` gets every stored trial of the sweep, in number order, as rows
    with the attributes PROPOSAL_FIELDS, and the number of the new one, and returns its
    params; whatever it raises (a grid with no point left) leaves nothing written. The new
    trial is `running` and not announced yet: its caller attaches its run (`trial_attach_run`)
    or ends it (`trial_finish`) in the same transaction, and that announces it. A proposal
    that never looks at them (`reads_trials=False`: random search) gets an empty list.
    """
    sweep = Sweep.objects.select_for_update().get(pk=sweep.pk)
    trials = _proposal_rows(sweep.pk) if reads_trials else []
    number = sweep.next_number
    params = propose(trials, number)
    trial = SweepTrial.objects.create(
        sweep=sweep, number=number, params=dict(params), warm_start=warm_start
    )
    sweep.next_number = number + 1
    sweep.save(update_fields=["next_number"])
    return trial


# What trial writes read of the sweep (its status message and the objectives' count): the
# rest of the row (base config, space) is large JSON that a trial write never needs.
SWEEP_FIELDS_FOR_TRIALS = ("status", "error_text", "n_trials", "objectives")


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
    trial = _locked_trial(trial.pk)
    if trial.state != TrialState.RUNNING:
        return trial
    if state == TrialState.COMPLETE:
        n_objectives = len(trial.sweep.objectives)
        if values is None or len(values) != n_objectives:
            raise InvalidInput(f"a complete trial has {n_objectives} values", field="values")
        if not all(math.isfinite(value) for value in values):
            raise InvalidInput("trial values must be finite", field="values")
    trial.state = state
    trial.values = [float(value) for value in values] if values is not None else None
    trial.pruned_at_step = pruned_at_step if state == TrialState.PRUNED else None
    trial.ended_at = timezone.now()
    fields = ["state", "values", "pruned_at_step", "ended_at"]
    if intermediate:
        trial.intermediate = {str(step): float(value) for step, value in intermediate.items()}
        fields.append("intermediate")
    trial.save(update_fields=fields)
    live.announce_trial_and_status(trial)
    return trial
