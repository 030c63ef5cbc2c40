"""Starting and stopping the studio's own training runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from pipelines.run_config import check_run_config
from registry import services
from registry.models import DeviceClass, Experiment, Run, RunStatus


def queue_of(run: Run) -> str:
    return settings.TASK_QUEUES["gpu" if run.device_class == DeviceClass.GPU else "cpu"]


def enqueue_run(run: Run) -> None:
    """Hands the run to a worker of its device class once the transaction commits (a worker
    must never see a run id whose row it cannot read yet)."""
    from django_q.tasks import async_task

    def send() -> None:
        async_task(
            "pipelines.tasks.train_run",
            run.pk,
            cluster=queue_of(run),
            task_name=f"train run {run.pk}",
        )

    transaction.on_commit(send)


def _displayable(params: Mapping[str, Any]) -> dict[str, Any]:
    """Run params are scalars (tables sort and filter by them); a list such as hidden units
    becomes its JSON text there, while the run's config keeps the real value."""
    return {
        key: value
        if isinstance(value, str | int | float | bool) or value is None
        else json.dumps(value)
        for key, value in params.items()
    }


@transaction.atomic
def start_run(
    *,
    owner,
    experiment: Experiment,
    name: str,
    config: Mapping[str, Any],
    remix_of: Run | None = None,
) -> Run:
    """Validates a training request and queues it as a run (201 in the API, a queued run page)."""
    checked, _version = check_run_config(user=owner, raw=config)
    run = services.run_create(
        owner=owner,
        experiment=experiment,
        name=name,
        params=_displayable(checked.params),
        status=RunStatus.QUEUED,
        remix_of=remix_of,
        config=checked.as_json(),
        device_class=checked.device_class,
        timeout_s=checked.timeout_s,
        max_attempts=checked.max_attempts,
    )
    enqueue_run(run)
    return run


def cancel_run(*, run: Run) -> Run:
    """Cancels now if queued; a running run stops at its next batch (seen by its heartbeat)."""
    return services.run_request_cancel(run=run)
