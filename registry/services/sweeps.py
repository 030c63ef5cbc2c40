"""Writes for sweeps: create, status changes, trial numbers, trial results.

The sweep row is the lock that orders a sweep's proposals: `trial_allocate` takes it (the
UPDATE that takes the next number), reads the stored trials, asks for the next proposal and
stores it, all in one transaction, so two workers finishing trials at the same moment never
hand out the same number. Every change is announced on the sweep's stream (`sweep:<id>`) in
its own transaction. Validation of what a sweep searches lives in `pipelines.sweeps`; these
functions store rows that were already checked.

A sweep makes two transactions per trial (its allocation, its end), so those two are written
as a few plain SQL statements rather than ORM calls: on PostgreSQL each statement costs a few
tenths of a millisecond of server time, and the ORM's compiling costs about as much again.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import DEFERRED, Model
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

_SWEEPS = Sweep._meta.db_table
_TRIALS = SweepTrial._meta.db_table
_TAKE_NUMBER_SQL = (
    f"UPDATE {_SWEEPS} SET next_number = next_number + 1 WHERE id = %s RETURNING next_number"
)
# The JSON columns cast to text: PostgreSQL's driver then reads them with its compiled text
# loader rather than the jsonb-as-text one Django registers (a proposal reads every trial: 100
# trials' rows came in ~0.2 ms instead of ~0.4 ms here).
_PROPOSAL_ROWS_SQL = (
    'SELECT number, CAST(params AS text), state, CAST("values" AS text), '
    f"CAST(intermediate AS text) FROM {_TRIALS} WHERE sweep_id = %s ORDER BY number"
)
_INSERT_TRIAL_SQL = (
    f'INSERT INTO {_TRIALS} (sweep_id, number, params, state, "values", intermediate, '
    "warm_start, created_at) VALUES (%s, %s, %s, %s, NULL, %s, %s, %s) RETURNING id"
)


def _json_param(value: Any) -> Any:
    """A JSON value as the database driver takes it (what the ORM's JSONField would send)."""
    return connection.ops.adapt_json_value(value, None)


def _json_column(value: str | bytes | None) -> Any:
    """A JSON column read by a raw cursor: text on both databases (Django has PostgreSQL's
    driver hand jsonb over as text), decoded with orjson, several times faster than the
    standard library's decoder the ORM uses; a proposal reads every trial."""
    return orjson.loads(value) if value is not None else None


def _run_together(cursor, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[tuple]]:
    """Runs statements in order, each seeing what the ones before it did, and returns each
    one's rows.

    On PostgreSQL they travel in one round trip: Django's psycopg cursors bind parameters on
    the client, so one `execute` may carry several statements, whose results come back one
    after another (`nextset`). Each still takes its own snapshot when it starts, so a read
    after an UPDATE that waited for a row lock sees what the lock's holder committed.
    Elsewhere (SQLite, in process; server-side binding) one `execute` each.
    """
    if connection.vendor != "postgresql" or connection.features.uses_server_side_binding:
        results = []
        for sql, parameters in statements:
            cursor.execute(sql, parameters)
            results.append(cursor.fetchall())
        return results
    cursor.execute(
        "; ".join(sql for sql, _parameters in statements),
        [parameter for _sql, parameters in statements for parameter in parameters],
    )
    results = [cursor.fetchall()]
    while cursor.nextset():
        results.append(cursor.fetchall())
    return results


def _proposal_rows(rows: list[tuple]) -> list[ProposalRow]:
    """The rows of _PROPOSAL_ROWS_SQL as PROPOSAL_FIELDS rows."""
    return [
        ProposalRow(number, orjson.loads(params), state, _json_column(values), _json_column(steps))
        for number, params, state, values, steps in rows
    ]


@transaction.atomic
def trial_allocate(
    *, sweep: Sweep, propose: Proposal, warm_start: bool = False, reads_trials: bool = True
) -> SweepTrial:
    """Creates the sweep's next trial (locks the sweep row for the whole proposal).

    The number is taken first, by one conditional increment of `next_number` that returns it:
    that UPDATE is the row lock (a second caller waits on it, then reads the incremented
    number), so the trials read after it include every trial allocated before.
    `propose(trials, number)` gets every stored trial of the sweep, in number order, as rows
    with the attributes PROPOSAL_FIELDS, and the number of the new one, and returns its
    params; whatever it raises (a grid with no point left) rolls the number back with the rest
    (this function's transaction, or its savepoint inside the caller's). The new trial is
    `running` and not announced yet: its caller attaches its run (`trial_attach_run`) or ends
    it (`trial_finish`) in the same transaction, and that announces it. A proposal that never
    looks at them (`reads_trials=False`: random search) gets an empty list.
    """
    with connection.cursor() as cursor:
        statements = [(_TAKE_NUMBER_SQL, [sweep.pk])]
        if reads_trials:
            statements.append((_PROPOSAL_ROWS_SQL, [sweep.pk]))
        taken, *trial_rows = _run_together(cursor, statements)
        if not taken:
            raise Sweep.DoesNotExist(f"sweep {sweep.pk} does not exist")
        number = taken[0][0] - 1
        trials = _proposal_rows(trial_rows[0]) if reads_trials else []
        params = dict(propose(trials, number))
        created_at = timezone.now()
        cursor.execute(
            _INSERT_TRIAL_SQL,
            [
                sweep.pk,
                number,
                _json_param(params),
                TrialState.RUNNING,
                _json_param({}),
                warm_start,
                connection.ops.adapt_datetimefield_value(created_at),
            ],
        )
        trial_id = cursor.fetchone()[0]
    trial = _from_row(
        SweepTrial,
        id=trial_id,
        sweep_id=sweep.pk,
        number=number,
        run_id=None,
        params=params,
        state=TrialState.RUNNING,
        values=None,
        primary_value=None,
        intermediate={},
        pruned_at_step=None,
        warm_start=warm_start,
        created_at=created_at,
        ended_at=None,
    )
    trial.sweep = sweep
    return trial


def _from_row(model: type[Model], **fields: Any) -> Any:
    """An instance of `model` with the given field values (by attname), as the ORM builds one
    from a row: the fields not given are deferred (read when first touched)."""
    values = [fields.get(field.attname, DEFERRED) for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, list(fields), values)


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


# A trial's end: one conditional UPDATE (only a running trial ends) that returns what the
# announcement says of the trial and of its sweep. The sweep's status is read there because it
# may have changed since the caller read it; its row is not locked: `trial_allocate` holds that
# lock while it proposes, and a trial's end must not wait for a proposal.
_FINISH_SQL = (
    f'UPDATE {_TRIALS} SET state = %s, "values" = %s, pruned_at_step = %s, ended_at = %s'
    "{intermediate} WHERE id = %s AND state = %s RETURNING sweep_id, number, run_id, params, "
    "intermediate, warm_start, "
    + ", ".join(
        f"(SELECT {column} FROM {_SWEEPS} WHERE {_SWEEPS}.id = {_TRIALS}.sweep_id)"
        for column in ("status", "error_text", "n_trials")
    )
)


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
        _json_param(stored_values) if stored_values is not None else None,
        pruned_at_step,
        connection.ops.adapt_datetimefield_value(ended_at),
    ]
    if intermediate:
        steps = {str(step): float(value) for step, value in intermediate.items()}
        parameters.append(_json_param(steps))
    finish = _FINISH_SQL.format(intermediate=", intermediate = %s" if intermediate else "")
    # The sweep's counts and best trial are read after the change, in the same round trip.
    with connection.cursor() as cursor:
        ended_rows, status_rows = _run_together(
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
    ended = _from_row(
        SweepTrial,
        id=trial.pk,
        sweep_id=sweep_id,
        number=number,
        run_id=run_id,
        params=orjson.loads(params),
        state=state,
        values=stored_values,
        intermediate=_json_column(steps_text) or {},
        pruned_at_step=pruned_at_step,
        warm_start=bool(warm_start),
        ended_at=ended_at,
    )
    ended.sweep = _from_row(
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
