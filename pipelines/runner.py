"""One runner owns a run's lifecycle: claim -> heartbeat -> pipeline -> explicit end state.

A deliberate failure (bad data) and a crash (a bug, out of memory inside Python) both end the
run failed with the message or traceback stored on it; a cancel ends it cancelled; a worker
that dies outright leaves the run to the reaper, which requeues it to resume from its
checkpoint.
"""

from __future__ import annotations

import logging

from django.conf import settings

from pipelines.pipeline import PipelineContext, PipelineStatus, TrainingPipeline
from pipelines.run_io import Heartbeat, RunIO
from pipelines.steps import build_steps
from pipelines.sweep_pruning import PRUNED_PREFIX
from pipelines.training.trainer import configure_threads, pick_device
from registry import services
from registry.models import RunStatus

logger = logging.getLogger("canvascraft.training")


def execute_run(run_id: int) -> str:
    """Trains a queued run on this worker; returns its end status (or "not queued" when
    another worker has it or it was cancelled before it started)."""
    device = pick_device(settings.TRAINING_DEVICE)
    run = services.run_claim(run_id=run_id, device=device)
    if run is None:
        return "not queued"
    heartbeat = Heartbeat(run.pk, settings.HEARTBEAT_INTERVAL_S)
    heartbeat.start()
    run_io = RunIO(run, heartbeat=heartbeat, timeout_s=run.config.get("timeout_s") or 3600)
    n_threads = configure_threads(device)
    run_io.log(
        f"attempt {run.attempt} of {run.max_attempts} on {device} ({n_threads} threads); "
        f"template {run.config['template']}"
    )
    context = PipelineContext(run_id=run.pk, config=run.config)
    try:
        TrainingPipeline(build_steps(run_io, device=device), on_step=run_io.enter_step).run(context)
    finally:
        heartbeat.stop()
    return _finish(run, run_io, context)


def _finish(run, run_io: RunIO, context: PipelineContext) -> str:
    if context.status == PipelineStatus.SUCCEEDED:
        status, error = RunStatus.SUCCEEDED, ""
    elif context.status == PipelineStatus.CANCELLED and context.error == "cancelled":
        status, error = RunStatus.CANCELLED, "Cancelled while training."
    elif context.status == PipelineStatus.CANCELLED and context.error.startswith(PRUNED_PREFIX):
        status, error = RunStatus.CANCELLED, context.error  # a sweep pruned this trial
    else:
        status, error = RunStatus.FAILED, context.error
    try:
        run_io.flush_metrics()
    except Exception as flush_error:  # the run's outcome stands; say what could not be stored
        error = error or f"metrics could not be stored: {flush_error}"
        status = status if status != RunStatus.SUCCEEDED else RunStatus.FAILED
    run_io.log(f"finished: {status}" + (f" ({error.splitlines()[0]})" if error else ""))
    run_io.flush_log()
    run_io.clear_checkpoint()  # an ended run never resumes
    services.run_finish(run=run, status=status, error_text=error)
    logger.info("run %s %s", run.pk, status, extra={"run_id": run.pk})
    return status
