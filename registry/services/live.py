"""Announcements of run changes on the live streams (see `registry.streams`).

Each function is called inside the transaction of the change it announces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from registry import streams
from registry.models import Experiment, Run

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
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
    }


def announce_run_status(run: Run) -> None:
    """A status change, on the run's stream and on its owner's personal stream."""
    payload = run_status_payload(run)
    streams.append_event(streams.run_stream(run.pk), "status", payload)
    owner_id, experiment_name = (
        Experiment.objects.filter(pk=run.experiment_id).values_list("owner_id", "name").get()
    )
    personal = {
        **payload,
        "name": run.name,
        "experiment": run.experiment_id,
        "experiment_name": experiment_name,
    }
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
