"""Plain SQL for a sweep's per-trial writes: the tables, JSON in and out, several statements
in one round trip, and model instances built from returned rows.

A sweep makes two transactions per trial (its allocation, `registry.services.sweep_trial_
allocation`; its end, `registry.services.sweep_trial_results`), so those two are written as a
few plain SQL statements rather than ORM calls: on PostgreSQL each statement costs a few tenths
of a millisecond of server time, and the ORM's compiling costs about as much again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from django.db import connection
from django.db.models import DEFERRED, Model

from registry.models import Sweep, SweepTrial

SWEEPS_TABLE = Sweep._meta.db_table
TRIALS_TABLE = SweepTrial._meta.db_table


def json_param(value: Any) -> Any:
    """A JSON value as the database driver takes it (what the ORM's JSONField would send)."""
    return connection.ops.adapt_json_value(value, None)


def json_column(value: str | bytes | None) -> Any:
    """A JSON column read by a raw cursor: text on both databases (Django has PostgreSQL's
    driver hand jsonb over as text), decoded with orjson, several times faster than the
    standard library's decoder the ORM uses; a proposal reads every trial."""
    return orjson.loads(value) if value is not None else None


def run_together(cursor, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list[tuple]]:
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


def from_row(model: type[Model], **fields: Any) -> Any:
    """An instance of `model` with the given field values (by attname), as the ORM builds one
    from a row: the fields not given are deferred (read when first touched)."""
    values = [fields.get(field.attname, DEFERRED) for field in model._meta.concrete_fields]
    return model.from_db(connection.alias, list(fields), values)
