"""What a websocket client gets first: the stored state of its stream, read consistently.

A snapshot is read in one transaction (REPEATABLE READ on PostgreSQL; SQLite's transactions are
serialised) together with the stream's last sequence number S, so it shows exactly the events
up to S: the client then gets every event after S and nothing twice.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from registry import selectors, streams
from registry.downsample import largest_triangle_three_buckets
from registry.models import (
    MetricPoint,
    Run,
    RunStatus,
    StreamEvent,
    Sweep,
    SweepTrial,
    TrialState,
)
from registry.selectors import MAX_SERIES_KEYS
from registry.services.live import (
    personal_status_payload,
    run_status_payload,
    sweep_status_payload,
    trial_payload,
)

# Long series arrive downsampled to this many points (the newest point always kept); charts
# then append what is new, point by point.
SNAPSHOT_MAX_POINTS = 1_000
SNAPSHOT_LOG_LINES = 300
SNAPSHOT_ACTIVE_RUNS = 200
# A sweep's snapshot carries its newest trials; a page with more reads the rest from the data
# endpoint (the status message then says "truncated").
SNAPSHOT_TRIALS = 500
# A resolved metric-range event (a big batch logged at once) is downsampled the same way.
RANGE_MAX_POINTS = 2_000


@contextmanager
def consistent_read():
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def visible_run_id(user, run_id: int) -> int | None:
    """The run id when `user` may watch it (they own its experiment), else None."""
    if not user.is_authenticated or run_id > 2**63 - 1:
        return None
    return (
        Run.objects.filter(pk=run_id, experiment__owner=user).values_list("pk", flat=True).first()
    )


def _snapshot(message: dict[str, Any], seq: int, event_type: str) -> dict[str, Any]:
    return {**message, "seq": seq, "type": event_type, "snapshot": True}


def _metric_snapshot(run: Run) -> dict[str, Any]:
    keys = sorted(summary.key for summary in run.summaries.all())
    points: dict[str, list[list[float]]] = {}
    totals: dict[str, int] = {}
    for start in range(0, len(keys), MAX_SERIES_KEYS):
        chunk = keys[start : start + MAX_SERIES_KEYS]
        for key, series in selectors.run_metric_series(
            run, chunk, max_points=SNAPSHOT_MAX_POINTS
        ).items():
            points[key] = [
                [step, value] for step, value in zip(series.steps, series.values, strict=True)
            ]
            totals[key] = series.n_points_total
    return {"points": points, "n_points_total": totals, "replace": True}


def run_snapshot(run_id: int) -> tuple[int, list[dict[str, Any]]]:
    """(S, messages): the run's status, progress, metrics, log tail and newest sample."""
    stream = streams.run_stream(run_id)
    with consistent_read():
        seq = streams.stream_head(stream)
        run = Run.objects.prefetch_related("summaries").get(pk=run_id)
        messages = [_snapshot(run_status_payload(run), seq, "status")]
        if run.status == RunStatus.RUNNING and run.progress:
            messages.append(_snapshot(dict(run.progress), seq, "progress"))
        messages.append(_snapshot(_metric_snapshot(run), seq, "metric"))
        lines = run.log_text.splitlines()[-SNAPSHOT_LOG_LINES:]
        messages.append(_snapshot({"lines": lines, "replace": True}, seq, "log"))
        sample = (
            StreamEvent.objects.filter(stream__name=stream, type="sample")
            .order_by("-seq")
            .values_list("payload", flat=True)
            .first()
        )
        if sample is not None:
            messages.append(_snapshot(sample, seq, "sample"))
    return seq, messages


def user_snapshot(user_id: int) -> tuple[int, list[dict[str, Any]]]:
    """(S, messages): the status of the user's queued and running runs."""
    stream = streams.user_stream(user_id)
    with consistent_read():
        seq = streams.stream_head(stream)
        runs = (
            Run.objects.filter(
                experiment__owner_id=user_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
            )
            .select_related("experiment")
            .order_by("-pk")[:SNAPSHOT_ACTIVE_RUNS]
        )
        messages = [
            _snapshot(personal_status_payload(run, run.experiment.name), seq, "status")
            for run in runs
        ]
    return seq, messages


def sweep_snapshot(sweep_id: int) -> tuple[int, list[dict[str, Any]]]:
    """(S, messages): the sweep's status (counts, best trial) and one `trial` message per
    trial, oldest first, for its newest SNAPSHOT_TRIALS trials (`"truncated": true` on the
    status message when it has more)."""
    stream = streams.sweep_stream(sweep_id)
    with consistent_read():
        seq = streams.stream_head(stream)
        status = sweep_status_payload(Sweep.objects.get(pk=sweep_id))
        n_trials = sum(status[f"n_{state}"] for state in TrialState.values)
        status["truncated"] = n_trials > SNAPSHOT_TRIALS
        newest = list(
            SweepTrial.objects.filter(sweep_id=sweep_id)
            .only("sweep_id", "number", "run_id", "state", "params", "values", "pruned_at_step")
            .order_by("-number")[:SNAPSHOT_TRIALS]
        )
        messages = [_snapshot(status, seq, "status")]
        messages.extend(_snapshot(trial_payload(trial), seq, "trial") for trial in reversed(newest))
    return seq, messages


def resolve_metric_ranges(run_id: int, message: dict[str, Any]) -> dict[str, Any]:
    """A metric event stored as step ranges, with its points read back (downsampled when
    long); other messages pass through unchanged."""
    ranges = message.get("ranges")
    if message.get("type") != "metric" or not ranges:
        return message
    points: dict[str, list[list[float]]] = {}
    downsampled = False
    for key, (first, last, _count) in ranges.items():
        rows = list(
            MetricPoint.objects.filter(run_id=run_id, key=key, step__gte=first, step__lte=last)
            .order_by("step")
            .values_list("step", "value")
        )
        if len(rows) > RANGE_MAX_POINTS:
            steps, values = [row[0] for row in rows], [row[1] for row in rows]
            kept = largest_triangle_three_buckets(steps, values, RANGE_MAX_POINTS)
            rows = [rows[i] for i in kept]
            downsampled = True
        points[key] = [[step, value] for step, value in rows]
    resolved = {k: v for k, v in message.items() if k != "ranges"}
    resolved["points"] = points
    if downsampled:
        resolved["downsampled"] = True
    return resolved
