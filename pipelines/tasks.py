"""django-q2 entry points: a few lines each, taking ids, calling the runner or services."""

from __future__ import annotations

import logging

from django.conf import settings

from registry import services
from registry.models import Run

logger = logging.getLogger("canvascraft.training")


def train_run(run_id: int) -> str:
    """Trains run `run_id` on this worker (minutes to hours); a no-op if it is not queued."""
    from pipelines.runner import execute_run

    return execute_run(run_id)


def reap_stale_runs() -> dict[str, int]:
    """Scheduled every minute: runs whose worker stopped sending heartbeats (killed, out of
    memory, machine gone) are requeued to resume from their checkpoint, or failed once their
    attempts are used up."""
    from pipelines.services import enqueue_run

    outcomes = {"requeued": 0, "failed": 0, "skipped": 0}
    timeout_s = settings.HEARTBEAT_TIMEOUT_S
    for run in services.stale_running_runs(heartbeat_timeout_s=timeout_s):
        reason = f"the worker stopped answering (no heartbeat for {timeout_s} s)"
        outcome = services.run_requeue_or_fail(
            run=run, reason=reason, heartbeat_timeout_s=timeout_s
        )
        outcomes[outcome] += 1
        if outcome == "requeued":
            enqueue_run(Run.objects.get(pk=run.pk))
        logger.warning("run %s: %s (%s)", run.pk, outcome, reason, extra={"run_id": run.pk})
    # The same minute advances running sweeps: a trial whose end was never recorded (its
    # worker died between ending the run and telling the sweep) is recorded, slots refilled.
    from pipelines.sweeps import advance_running_sweeps

    outcomes["sweeps advanced"] = advance_running_sweeps()
    # And webhook deliveries whose retry time has come.
    from pipelines.webhooks import retry_due_deliveries

    outcomes["webhook retries"] = retry_due_deliveries()
    return outcomes


def deliver_webhook(delivery_id: int) -> str:
    """One attempt of webhook delivery `delivery_id` (one HTTP POST, at most
    WEBHOOK_TIMEOUT_S); a failure schedules the next attempt."""
    from pipelines.webhooks import deliver

    return deliver(delivery_id)


def advance_sweep(sweep_id: int) -> str:
    """Records any trial of sweep `sweep_id` whose run ended unrecorded and launches trials
    into its free slots (a few queries and one proposal per launched trial); returns the
    sweep's status. Trial runs advance their sweep themselves when they end: this is for
    operators and schedules."""
    from pipelines.sweeps import fill_slots

    return fill_slots(sweep_id).status


def purge_stream_events() -> int:
    """Scheduled daily: live events older than LIVE_EVENT_RETENTION_DAYS are deleted (runs and
    their metrics stay; a client resuming from before then gets a fresh snapshot)."""
    from django.utils import timezone

    from registry import streams

    cutoff = timezone.now() - timezone.timedelta(days=settings.LIVE_EVENT_RETENTION_DAYS)
    return streams.purge_events(older_than=cutoff)
