"""Announcements of run and sweep changes on the live streams (see `registry.streams`).

Each function is called inside the transaction of the change it announces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from django.db import connection

from registry import streams
from registry.models import Experiment, Run, Sweep, SweepTrial, TrialState

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
    far. Two small queries whatever the number of trials, written as SQL: every trial's end
    sends one, and the ORM's compiling of them cost more than the database's answering."""
    counts = dict.fromkeys(TrialState.values, 0)
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL, [sweep.pk])
        counts.update(dict(cursor.fetchall()))
    return {
        "sweep": sweep.pk,
        "status": sweep.status,
        "error": (sweep.error_text or "").strip()[:ERROR_HEAD_CHARS],
        "n_trials": sweep.n_trials,
        "n_complete": counts[TrialState.COMPLETE],
        "n_running": counts[TrialState.RUNNING],
        "n_pruned": counts[TrialState.PRUNED],
        "n_failed": counts[TrialState.FAILED],
        "best": best_trial_summary(sweep),
    }


_TRIALS = SweepTrial._meta.db_table
_COUNTS_SQL = f"SELECT state, COUNT(*) FROM {_TRIALS} WHERE sweep_id = %s GROUP BY state"
_BEST_SQL = (
    f'SELECT number, run_id, "values", params FROM {_TRIALS} '
    "WHERE sweep_id = %s AND state = %s AND primary_value IS NOT NULL "
    "ORDER BY primary_value {direction}, number LIMIT 1"
)


def _json(value: Any) -> Any:
    """A JSON column as read by a raw cursor: text on SQLite, decoded already on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def best_trial_summary(sweep: Sweep) -> dict[str, Any] | None:
    """{number, run, values, params} of the complete trial with the best primary value (its
    `values[0]`, stored as `primary_value`: one walk of an index, whatever the number of
    trials; the lowest number wins a tie)."""
    maximize = bool(sweep.objectives) and sweep.objectives[0].get("direction") == "maximize"
    with connection.cursor() as cursor:
        cursor.execute(
            _BEST_SQL.format(direction="DESC" if maximize else "ASC"),
            [sweep.pk, TrialState.COMPLETE],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    number, run_id, values, params = row
    return {"number": number, "run": run_id, "values": _json(values), "params": _json(params)}


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


def announce_trial_and_status(trial: SweepTrial) -> None:
    """A trial started or ended, and with it the sweep's counts (and perhaps its best trial):
    both events in one append."""
    streams.append_events(
        streams.sweep_stream(trial.sweep_id),
        [("trial", trial_payload(trial)), ("status", sweep_status_payload(trial.sweep))],
    )


def announce_trial(
    trial: SweepTrial, *, step: int | None = None, value: float | None = None
) -> None:
    """A trial started or ended, or (with `step` and `value`) reported an intermediate value of
    the primary objective."""
    payload = trial_payload(trial)
    if step is not None:
        payload.update(step=step, value=value)
    streams.append_event(streams.sweep_stream(trial.sweep_id), "trial", payload)
