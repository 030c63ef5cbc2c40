"""A sweep's next trial: its number, its proposal and its row, under the sweep row's lock.

The sweep row is the lock that orders a sweep's proposals: `trial_allocate` takes it (the
UPDATE that takes the next number), reads the stored trials, asks for the next proposal and
stores it, all in one transaction, so two workers finishing trials at the same moment never
hand out the same number. Written as plain SQL (`registry.services.sweep_sql` says why).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from registry.models import Sweep, SweepTrial, TrialState
from registry.services.sweep_sql import (
    SWEEPS_TABLE,
    TRIALS_TABLE,
    from_row,
    json_column,
    json_param,
    run_together,
)

# What a proposal reads of each stored trial: rows with these attributes, not model instances
# (a sweep of thousands of trials is read whole for every proposal).
PROPOSAL_FIELDS = ("number", "params", "state", "values", "intermediate")
Proposal = Callable[[list[Any], int], dict[str, Any]]
ProposalRow = namedtuple("ProposalRow", PROPOSAL_FIELDS)

_TAKE_NUMBER_SQL = (
    f"UPDATE {SWEEPS_TABLE} SET next_number = next_number + 1 WHERE id = %s RETURNING next_number"
)
# The JSON columns cast to text: PostgreSQL's driver then reads them with its compiled text
# loader rather than the jsonb-as-text one Django registers (a proposal reads every trial: 100
# trials' rows came in ~0.2 ms instead of ~0.4 ms here).
_PROPOSAL_ROWS_SQL = (
    'SELECT number, CAST(params AS text), state, CAST("values" AS text), '
    f"CAST(intermediate AS text) FROM {TRIALS_TABLE} WHERE sweep_id = %s ORDER BY number"
)
_INSERT_TRIAL_SQL = (
    f'INSERT INTO {TRIALS_TABLE} (sweep_id, number, params, state, "values", intermediate, '
    "warm_start, created_at) VALUES (%s, %s, %s, %s, NULL, %s, %s, %s) RETURNING id"
)


def _proposal_rows(rows: list[tuple]) -> list[ProposalRow]:
    """The rows of _PROPOSAL_ROWS_SQL as PROPOSAL_FIELDS rows."""
    return [
        ProposalRow(number, orjson.loads(params), state, json_column(values), json_column(steps))
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
        taken, *trial_rows = run_together(cursor, statements)
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
                json_param(params),
                TrialState.RUNNING,
                json_param({}),
                warm_start,
                connection.ops.adapt_datetimefield_value(created_at),
            ],
        )
        trial_id = cursor.fetchone()[0]
    trial = from_row(
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
