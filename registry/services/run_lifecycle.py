"""The lifecycle of runs the studio trains: claim, heartbeat, cancel, requeue, log, summary.

Workers never trust that they are alone: a run is claimed by a conditional update
(queued -> running), so a task delivered twice trains once; heartbeats let the reaper tell a
live worker from a dead one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from registry.errors import Conflict
from registry.models import Run, RunStatus
from registry.services import live
from registry.services.runs import run_finish

MAX_LOG_CHARS = 200_000


@transaction.atomic
def run_claim(*, run_id: int, device: str) -> Run | None:
    """queued -> running for one worker; None when the run is not (or no longer) queued."""
    now = timezone.now()
    claimed = Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        attempt=F("attempt") + 1,
        heartbeat_at=now,
        started_at=Coalesce("started_at", now),
        device=device,
        progress={"phase": "starting"},
    )
    if claimed != 1:
        return None
    run = Run.objects.get(pk=run_id)
    live.announce_run_status(run)
    return run


def run_heartbeat(*, run_id: int, progress: Mapping[str, Any] | None = None) -> bool:
    """Marks a running run alive (and records its progress). True when a cancel was asked for
    or the run is no longer running (the worker should stop)."""
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if progress is not None:
        fields["progress"] = dict(progress)
    Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(**fields)
    state = Run.objects.filter(pk=run_id).values("status", "cancel_requested_at").first()
    return (
        state is None
        or state["status"] != RunStatus.RUNNING
        or (state["cancel_requested_at"] is not None)
    )


@transaction.atomic
def run_request_cancel(*, run: Run) -> Run:
    """Cancels a queued run at once; asks a running one to stop at its next batch (the worker
    ends it cancelled). Locks the run row."""
    run = Run.objects.select_for_update().get(pk=run.pk)
    if run.status in RunStatus.terminal():
        raise Conflict(f"run {run.pk} is already {run.status}")
    if run.status == RunStatus.QUEUED:
        return run_finish(
            run=run, status=RunStatus.CANCELLED, error_text="Cancelled before it started."
        )
    if run.cancel_requested_at is None:
        run.cancel_requested_at = timezone.now()
        run.save(update_fields=["cancel_requested_at"])
        live.announce_run_status(run)
    return run


def run_append_log(*, run_id: int, lines: Sequence[str]) -> None:
    """Adds lines to the run's log, keeping the newest MAX_LOG_CHARS characters."""
    if not lines:
        return
    with transaction.atomic():
        run = Run.objects.select_for_update().only("id", "log_text").get(pk=run_id)
        text = run.log_text + "".join(f"{line.rstrip()}\n" for line in lines)
        run.log_text = text[-MAX_LOG_CHARS:]
        run.save(update_fields=["log_text"])
        live.announce_log(run_id, lines)


def run_report_progress(*, run_id: int, progress: Mapping[str, Any]) -> None:
    """Records where a running run is (phase, epoch, ETA) and tells its watchers."""
    with transaction.atomic():
        if Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(progress=dict(progress)):
            live.announce_progress(run_id, progress)


def run_set_summary(*, run_id: int, summary: Mapping[str, float]) -> None:
    Run.objects.filter(pk=run_id).update(summary=dict(summary))


def stale_running_runs(*, heartbeat_timeout_s: int) -> list[Run]:
    """Running runs whose worker has not been heard of within the window (died, killed)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=heartbeat_timeout_s)
    return list(
        Run.objects.filter(status=RunStatus.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
        .exclude(config={})
        .order_by("id")
    )


def run_requeue_or_fail(*, run: Run, reason: str, heartbeat_timeout_s: int) -> str:
    """For a run whose worker died: back to queued (resumes from its checkpoint) while attempts
    remain, else failed with the reason. Returns "requeued", "failed" or "skipped" (the run
    came back to life or was handled meanwhile)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=heartbeat_timeout_s)
    with transaction.atomic():
        locked = Run.objects.select_for_update().get(pk=run.pk)
        alive = locked.heartbeat_at is not None and locked.heartbeat_at >= cutoff
        if locked.status != RunStatus.RUNNING or alive:
            return "skipped"
        if locked.cancel_requested_at is not None:
            run_finish(run=locked, status=RunStatus.CANCELLED, error_text=f"Cancelled; {reason}")
            return "failed"
        if locked.attempt >= locked.max_attempts:
            run_finish(
                run=locked,
                status=RunStatus.FAILED,
                error_text=f"{reason}; gave up after {locked.attempt} attempts.",
            )
            return "failed"
        locked.status = RunStatus.QUEUED
        locked.heartbeat_at = None
        locked.save(update_fields=["status", "heartbeat_at"])
        live.announce_run_status(locked)
    run_append_log(
        run_id=run.pk,
        lines=[f"{reason}; requeued (attempt {locked.attempt} of {locked.max_attempts} used)."],
    )
    return "requeued"
