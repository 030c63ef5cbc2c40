"""Announcements of run and sweep changes on the live streams (see `registry.streams`).

Each function is called inside the transaction of the change it announces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from registry import streams
from registry.models import (
    EventStream,
    Experiment,
    Run,
    StreamEvent,
    Sweep,
    SweepTrial,
    TrialState,
)

ERROR_HEAD_CHARS = 500


def run_status_payload(run: Run) -> dict[str, Any]:
    """What a status message says about a run (the run page's badge, phase and buttons)."""
    return {
        "run": run.pk,
        "status": run.status,
        "error": (run.error_text or "").strip()[:ERROR_HEAD_CHARS],
        "attempt": run.attempt,
        "max_attempts": run.max_attempts,
        "cancel_requested": run.cancel_requested_at is not None,
        "device": run.device,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
    }


def personal_status_payload(run: Run, experiment_name: str) -> dict[str, Any]:
    """A run's status as its owner's personal stream (`/ws/events/`) says it: with the names
    a list needs to show it."""
    return {
        **run_status_payload(run),
        "name": run.name,
        "experiment": run.experiment_id,
        "experiment_name": experiment_name,
    }


def announce_run_status(run: Run) -> None:
    """A status change, on the run's stream and on its owner's personal stream."""
    streams.append_event(streams.run_stream(run.pk), "status", run_status_payload(run))
    owner_id, experiment_name = (
        Experiment.objects.filter(pk=run.experiment_id).values_list("owner_id", "name").get()
    )
    personal = personal_status_payload(run, experiment_name)
    streams.append_event(streams.user_stream(owner_id), "status", personal)


def announce_metrics(run_id: int, keys: list[str], steps: list[int], values: list[float]) -> None:
    payload = streams.metric_event_payload(keys, steps, values)
    streams.append_event(streams.run_stream(run_id), "metric", payload)


def announce_log(run_id: int, lines: Sequence[str]) -> None:
    payload = {"lines": [line.rstrip() for line in lines]}
    streams.append_event(streams.run_stream(run_id), "log", payload)


def announce_progress(run_id: int, progress: Mapping[str, Any]) -> None:
    streams.append_event(streams.run_stream(run_id), "progress", dict(progress))


def announce_sample(run_id: int, sample: Mapping[str, Any]) -> None:
    streams.append_event(streams.run_stream(run_id), "sample", dict(sample))


def sweep_status_payload(sweep: Sweep) -> dict[str, Any]:
    """What a sweep's status message says: its state, the trial counts and the best trial so
    far. One small statement whatever the number of trials, written as SQL: every trial's end
    sends one, and the ORM's compiling of it cost more than the database's answering."""
    sql, parameters = sweep_status_statement(sweep.pk, sweep.objectives)
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return sweep_status_from_rows(sweep, cursor.fetchall())


def sweep_status_statement(sweep_id: int, objectives: list[dict]) -> tuple[str, list[Any]]:
    """The statement (SQL, parameters) that reads a sweep's trial counts and best trial, for
    `sweep_status_from_rows`: a caller that sends it together with its own statements saves a
    round trip."""
    direction, best_parameters = _best_parameters(sweep_id, objectives)
    return _STATUS_SQL.format(direction=direction), [sweep_id, *best_parameters]


def sweep_status_from_rows(sweep: Sweep, rows: list[tuple]) -> dict[str, Any]:
    """The status message of `sweep` from the rows of `sweep_status_statement`."""
    counts = dict.fromkeys(TrialState.values, 0)
    best = None
    for kind, count_or_number, run_id, values, params in rows:
        if kind == _BEST:
            best = _best_summary((count_or_number, run_id, values, params))
        else:
            counts[kind] = count_or_number
    return {
        "sweep": sweep.pk,
        "status": sweep.status,
        "error": (sweep.error_text or "").strip()[:ERROR_HEAD_CHARS],
        "n_trials": sweep.n_trials,
        "n_complete": counts[TrialState.COMPLETE],
        "n_running": counts[TrialState.RUNNING],
        "n_pruned": counts[TrialState.PRUNED],
        "n_failed": counts[TrialState.FAILED],
        "best": best,
    }


_TRIALS = SweepTrial._meta.db_table
# The best complete trial: the best primary value first, found by one step down the
# (sweep, state, primary_value) index whatever the number of trials (ordered by that column
# alone, the planner needs no statistics to take the index), then the lowest number among the
# trials that share it. (ORDER BY primary_value, number LIMIT 1 had PostgreSQL sort every
# complete trial of a fresh table: ~9 ms at 10,000.)
_BEST_SQL = (
    f'SELECT number, run_id, "values", params FROM {_TRIALS} '
    "WHERE sweep_id = %s AND state = %s AND primary_value = ("
    f"SELECT primary_value FROM {_TRIALS} WHERE sweep_id = %s AND state = %s "
    "AND primary_value IS NOT NULL ORDER BY primary_value {direction} LIMIT 1) "
    "ORDER BY number LIMIT 1"
)
# The counts by state and the best trial in one statement: rows (state, count, NULL, ...) and
# at most one row ('best', number, run, values, params); "best" is no trial state.
_BEST = "best"
_STATUS_SQL = (
    f"SELECT state, COUNT(*), NULL, NULL, NULL FROM {_TRIALS} WHERE sweep_id = %s GROUP BY state "
    f"UNION ALL SELECT * FROM (SELECT '{_BEST}', {_BEST_SQL.removeprefix('SELECT ')}) AS best"
)


def _best_parameters(sweep_id: int, objectives: list[dict]) -> tuple[str, list[Any]]:
    """The `direction` of _BEST_SQL for the primary objective, and its parameters."""
    maximize = bool(objectives) and objectives[0].get("direction") == "maximize"
    complete = TrialState.COMPLETE
    return ("DESC" if maximize else "ASC"), [sweep_id, complete, sweep_id, complete]


def _json(value: Any) -> Any:
    """A JSON column as read by a raw cursor: text on SQLite, decoded already on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _best_summary(row: tuple | None) -> dict[str, Any] | None:
    if row is None:
        return None
    number, run_id, values, params = row
    return {"number": number, "run": run_id, "values": _json(values), "params": _json(params)}


def best_trial_summary(sweep: Sweep) -> dict[str, Any] | None:
    """{number, run, values, params} of the complete trial with the best primary value (its
    `values[0]`, stored as `primary_value`: one walk of an index, whatever the number of
    trials; the lowest number wins a tie)."""
    direction, parameters = _best_parameters(sweep.pk, sweep.objectives)
    with connection.cursor() as cursor:
        cursor.execute(_BEST_SQL.format(direction=direction), parameters)
        return _best_summary(cursor.fetchone())


def announce_sweep_status(sweep: Sweep) -> None:
    """A sweep's status, counts or best trial changed (on the sweep's stream)."""
    streams.append_event(streams.sweep_stream(sweep.pk), "status", sweep_status_payload(sweep))


def trial_payload(trial: SweepTrial) -> dict[str, Any]:
    return {
        "sweep": trial.sweep_id,
        "number": trial.number,
        "run": trial.run_id,
        "state": trial.state,
        "params": trial.params,
        "values": trial.values,
        "pruned_at_step": trial.pruned_at_step,
    }


def announce_trial_and_status(trial: SweepTrial, status: dict[str, Any] | None = None) -> None:
    """A trial started or ended, and with it the sweep's counts (and perhaps its best trial):
    both events in one append. `status`: the sweep's status message when the caller has read
    it already (`sweep_status_statement`), after the trial's change."""
    if status is None:
        status = sweep_status_payload(trial.sweep)
    _append_events(
        streams.sweep_stream(trial.sweep_id), [("trial", trial_payload(trial)), ("status", status)]
    )


_STREAMS = EventStream._meta.db_table
_EVENTS = StreamEvent._meta.db_table
_PAYLOAD_FIELD = StreamEvent._meta.get_field("payload")


def _append_events(stream: str, events: list[tuple[str, dict[str, Any]]]) -> list[int]:
    """`streams.append_events` in plain SQL: a trial's end appends two events, and on
    PostgreSQL each statement costs a few tenths of a millisecond of server time, so there the
    stream's sequence bump and the events' insert are one statement (a data-modifying CTE); on
    SQLite they are two, without the ORM's compiling. The same guarantees: the bump's row lock
    orders the stream's appends until the transaction commits, and pushes go out on commit. A
    stream without a row yet takes the general path, which creates it."""
    for event_type, _payload in events:
        if event_type not in streams.EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (event_type, _PAYLOAD_FIELD.get_db_prep_save(payload, connection), created_at)
        for event_type, payload in events
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            seqs = _bump_and_insert(cursor, stream, rows)
        else:
            seqs = _bump_then_insert(cursor, stream, rows)
    if not seqs:
        return streams.append_events(stream, events)
    if settings.LIVE_PUSH:
        for seq, (event_type, payload) in zip(seqs, events, strict=True):
            message = streams.event_message(seq, event_type, payload)
            transaction.on_commit(lambda message=message: streams.publish(stream, message))
    return seqs


def _bump_and_insert(cursor, stream: str, rows: list[tuple]) -> list[int]:
    """PostgreSQL: the events' (type, payload, created_at) rows stored after the stream's
    sequence bump, in one statement; [] when the stream has no row."""
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    cursor.execute(
        f"WITH bumped AS (UPDATE {_STREAMS} SET last_seq = last_seq + %s WHERE name = %s "
        f"RETURNING id, last_seq) INSERT INTO {_EVENTS} (stream_id, seq, type, payload, "
        "created_at) SELECT bumped.id, bumped.last_seq - %s + event.place, event.kind, "
        f"event.body, event.created_at FROM bumped CROSS JOIN (VALUES {values}) "
        "AS event (place, kind, body, created_at) RETURNING seq",
        [len(rows), stream, len(rows)]
        + [value for place, row in enumerate(rows, start=1) for value in (place, *row)],
    )
    return sorted(seq for (seq,) in cursor.fetchall())


def _bump_then_insert(cursor, stream: str, rows: list[tuple]) -> list[int]:
    """`_bump_and_insert` as two statements (SQLite has no data-modifying CTE)."""
    cursor.execute(
        f"UPDATE {_STREAMS} SET last_seq = last_seq + %s WHERE name = %s RETURNING id, last_seq",
        [len(rows), stream],
    )
    bumped = cursor.fetchone()
    if bumped is None:
        return []
    stream_id, last_seq = bumped
    seqs = list(range(last_seq - len(rows) + 1, last_seq + 1))
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    cursor.execute(
        f"INSERT INTO {_EVENTS} (stream_id, seq, type, payload, created_at) VALUES {values}",
        [value for seq, row in zip(seqs, rows, strict=True) for value in (stream_id, seq, *row)],
    )
    return seqs


def announce_trial(
    trial: SweepTrial, *, step: int | None = None, value: float | None = None
) -> None:
    """A trial started or ended, or (with `step` and `value`) reported an intermediate value of
    the primary objective."""
    payload = trial_payload(trial)
    if step is not None:
        payload.update(step=step, value=value)
    streams.append_event(streams.sweep_stream(trial.sweep_id), "trial", payload)
