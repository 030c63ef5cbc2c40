"""Writes for runs: open, log params, finish."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from registry.errors import Conflict, InvalidInput
from registry.models import Experiment, Run, RunStatus
from registry.services import live
from registry.signals import RunFinished, send_run_finished

MAX_PARAMS = 500
MAX_PARAM_KEY_LENGTH = 250
MAX_PARAM_VALUE_BYTES = 6000

ParamValue = str | int | float | bool | None


def check_params(params: Any) -> dict[str, ParamValue]:
    """Validates a params mapping: string keys, scalar JSON values, bounded sizes."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidInput("params must be an object of name -> value", field="params")
    if len(params) > MAX_PARAMS:
        raise InvalidInput(f"at most {MAX_PARAMS} params per request", field="params")
    cleaned: dict[str, ParamValue] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_PARAM_KEY_LENGTH:
            raise InvalidInput(
                f"param names must be 1-{MAX_PARAM_KEY_LENGTH} characters", field="params"
            )
        if not isinstance(value, str | int | float | bool) and value is not None:
            raise InvalidInput(
                f"param {key!r} must be a string, number, boolean or null, not "
                f"{type(value).__name__}",
                field="params",
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"param {key!r} must be finite", field="params")
        if len(json.dumps(value)) > MAX_PARAM_VALUE_BYTES:
            raise InvalidInput(
                f"param {key!r} is longer than {MAX_PARAM_VALUE_BYTES} characters", field="params"
            )
        cleaned[key] = value
    return cleaned


def _check_name(name: str) -> str:
    if not isinstance(name, str) or len(name) > 200:
        raise InvalidInput("name must be a string of at most 200 characters", field="name")
    return name.strip()


@transaction.atomic
def run_create(
    *,
    owner: AbstractBaseUser,
    experiment: Experiment,
    name: str = "",
    params: Mapping[str, ParamValue] | None = None,
    status: RunStatus = RunStatus.RUNNING,
    parent: Run | None = None,
    remix_of: Run | None = None,
    device: str = "",
    config: Mapping[str, Any] | None = None,
    device_class: str = "",
    timeout_s: int | None = None,
    max_attempts: int = 3,
) -> Run:
    """Opens a run in an experiment.

    A run opened for an outside script starts `running` (it logs into it right away); runs the
    studio trains itself start `queued` and a worker moves them on.
    """
    if status not in (RunStatus.RUNNING, RunStatus.QUEUED):
        raise InvalidInput("a new run is either queued or running", field="status")
    if parent is not None and parent.experiment_id != experiment.pk:
        raise InvalidInput("a parent run must belong to the same experiment", field="parent")
    cleaned_name = _check_name(name)
    run = Run.objects.create(
        experiment=experiment,
        owner=owner,
        name=cleaned_name,
        status=status,
        params=check_params(params),
        started_at=timezone.now() if status == RunStatus.RUNNING else None,
        parent=parent,
        remix_of=remix_of,
        device=device,
        config=dict(config or {}),
        device_class=device_class,
        timeout_s=timeout_s,
        max_attempts=max_attempts,
    )
    if not cleaned_name:
        run.name = f"run-{run.pk}"
        run.save(update_fields=["name"])
    live.announce_run_status(run)
    return run


def ensure_open(run: Run) -> None:
    if run.status in RunStatus.terminal():
        raise Conflict(f"run {run.pk} is {run.status}; a finished run takes no more data")


@transaction.atomic
def run_log_params(*, run: Run, params: Mapping[str, ParamValue]) -> Run:
    """Adds params to a run (locks the run row).

    A param, once logged, keeps its value: logging it again with the same value is a no-op and a
    different value is a conflict, so a run's record can be trusted to be what it trained with.
    """
    cleaned = check_params(params)
    run = Run.objects.select_for_update().get(pk=run.pk)
    ensure_open(run)
    changed = {
        key: (run.params[key], value)
        for key, value in cleaned.items()
        if key in run.params and run.params[key] != value
    }
    if changed:
        key, (old, new) = next(iter(changed.items()))
        raise Conflict(
            f"param {key!r} is already {old!r} and cannot change to {new!r}", field="params"
        )
    run.params = {**run.params, **cleaned}
    run.save(update_fields=["params"])
    return run


@transaction.atomic
def run_finish(*, run: Run, status: RunStatus, error_text: str = "") -> Run:
    """Ends a run with an explicit final status (locks the run row) and announces it on commit."""
    if status not in RunStatus.terminal():
        raise InvalidInput("status must be one of succeeded, failed, cancelled", field="status")
    run = Run.objects.select_for_update().get(pk=run.pk)
    ensure_open(run)
    now = timezone.now()
    run.status = status
    run.ended_at = now
    if run.started_at is None:
        run.started_at = now
    run.error_text = error_text or ""
    run.save(update_fields=["status", "ended_at", "started_at", "error_text"])
    live.announce_run_status(run)
    event = RunFinished(run_id=run.pk, status=status, experiment_id=run.experiment_id)
    transaction.on_commit(lambda: send_run_finished(event))
    return run


@transaction.atomic
def run_update(*, run: Run, name: str) -> Run:
    run.name = _check_name(name) or run.name
    run.save(update_fields=["name"])
    return run


@transaction.atomic
def run_delete(*, run: Run) -> None:
    """Deletes a run with its metric points, summaries and artifact rows."""
    run.delete()
