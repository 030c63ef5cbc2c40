"""Everything one training run writes while it trains: metrics, log lines, checkpoints,
artifacts, summary, heartbeats. The steps talk to this, not to the registry directly."""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection

from pipelines.training.samples import (
    MAX_SAMPLES_PER_RUN,
    PredictFunction,
    Predictions,
    SampleMaker,
)
from registry import services
from registry.models import Run

logger = logging.getLogger("canvascraft.training")


class Heartbeat(threading.Thread):
    """Tells the registry every few seconds that the run is alive, and learns whether it was
    cancelled meanwhile. A daemon thread: it dies with the worker, which is the point."""

    def __init__(self, run_id: int, interval_s: float) -> None:
        super().__init__(name=f"heartbeat-run-{run_id}", daemon=True)
        self.run_id = run_id
        self.interval_s = interval_s
        self.stop_requested = threading.Event()
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            while not self.finished.wait(self.interval_s):
                try:
                    if services.run_heartbeat(run_id=self.run_id):
                        self.stop_requested.set()
                except Exception:  # a busy database must not kill the run; try again later
                    logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self.finished.set()
        self.join(timeout=10)


class CheckpointWriter(threading.Thread):
    """Writes checkpoints off the training thread: the loop hands over the bytes and goes on
    with the next epoch while the file is written and fsynced. Only the newest pending
    checkpoint is kept: if the disk is slower than the epochs, older ones are skipped."""

    def __init__(self, path: Path) -> None:
        super().__init__(name=f"checkpoint-writer-{path.stem}", daemon=True)
        self.path = path
        self.pending: bytes | None = None
        self.condition = threading.Condition()
        self.closing = False
        self.error: BaseException | None = None

    def submit(self, state: bytes) -> None:
        with self.condition:
            self.pending = state
            self.condition.notify()

    def run(self) -> None:
        while True:
            with self.condition:
                while self.pending is None and not self.closing:
                    self.condition.wait()
                if self.pending is None:
                    return
                state, self.pending = self.pending, None
            try:
                _write_atomically(self.path, state)
            except BaseException as error:  # reported by close(); training goes on meanwhile
                self.error = error

    def close(self) -> None:
        """Waits until the newest checkpoint is on disk."""
        with self.condition:
            self.closing = True
            self.condition.notify()
        self.join()
        if self.error is not None:
            raise self.error


def _write_atomically(path: Path, data: bytes) -> None:
    """A crash mid-write leaves the previous file: write a temp file, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def sample_every_s() -> int:
    """Seconds between two samples of a run (0: every epoch)."""
    return settings.SAMPLE_EVERY_S


@dataclass
class PendingSample:
    """A sample the training thread has predicted and the writer thread renders and stores."""

    maker: SampleMaker
    epoch: int
    predictions: Predictions


class MetricWriter(threading.Thread):
    """Writes per-epoch metrics and the newest progress off the training thread, in order, at
    most every `interval_s` seconds: epochs that finish meanwhile go in one batch, so fast
    epochs do not spend their time (and the GIL) on database writes, and charts still move
    every second. Each write is also what live clients receive (`registry.streams`)."""

    def __init__(self, run: Run, *, interval_s: float = 1.0) -> None:
        super().__init__(name=f"metric-writer-run-{run.pk}", daemon=True)
        self.run_record = run
        self.interval_s = interval_s
        self.queue: queue.SimpleQueue[list[dict]] = queue.SimpleQueue()
        self.closing = threading.Event()
        self.error: BaseException | None = None
        self.progress: dict | None = None  # set by the training thread, written here
        self.samples: queue.SimpleQueue[PendingSample] = queue.SimpleQueue()

    def run(self) -> None:
        # Sleeping (rather than blocking on the queue) matters: a thread woken by every put
        # would take the GIL from the training loop once per epoch.
        try:
            while not self.closing.wait(self.interval_s):
                self._drain()
            self._drain()
        finally:
            connection.close()

    def _drain(self) -> None:
        points: list[dict] = []
        while True:
            try:
                points.extend(self.queue.get_nowait())
            except queue.Empty:
                break
        progress, self.progress = self.progress, None
        if points:
            self._write(points)
        if progress is not None:
            try:
                services.run_report_progress(run_id=self.run_record.pk, progress=progress)
            except Exception:  # progress is advisory: a busy database must not fail the run
                logger.warning("progress of run %s not recorded", self.run_record.pk, exc_info=True)
        self._write_samples()

    def _write_samples(self) -> None:
        """Renders (PNG encoding included) and stores the pending samples, here rather than on
        the training thread. Samples are advisory like progress: a failure is logged only."""
        while True:
            try:
                pending = self.samples.get_nowait()
            except queue.Empty:
                return
            try:
                sample = pending.maker.render(pending.epoch, pending.predictions)
                services.run_log_sample(
                    run=self.run_record,
                    epoch=sample.epoch,
                    kind=sample.kind,
                    items=sample.items,
                    files=sample.files,
                    columns=sample.columns,
                )
            except Exception:
                logger.warning(
                    "sample of run %s at epoch %s not recorded",
                    self.run_record.pk,
                    pending.epoch + 1,
                    exc_info=True,
                )

    def _write(self, points: list[dict]) -> None:
        try:
            services.run_log_metrics(run=self.run_record, batch=services.check_metric_batch(points))
        except BaseException as error:  # reported by close()
            self.error = error

    def close(self) -> None:
        """Waits until every queued point is stored."""
        self.closing.set()
        self.join()
        if self.error is not None:
            raise self.error


class RunIO:
    def __init__(self, run: Run, *, heartbeat: Heartbeat, timeout_s: int) -> None:
        self.run = run
        self.heartbeat = heartbeat
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self.pending_lines: list[str] = []
        self.last_flush = time.monotonic()
        self.checkpoint_path = Path(settings.CHECKPOINT_DIR) / f"run-{run.pk}.pt"
        self.n_epochs = run.config.get("params", {}).get("epochs")
        self.epoch_seconds: list[float] = []
        self.checkpoint_writer: CheckpointWriter | None = None
        self.metric_writer: MetricWriter | None = None
        # The first checkpoint comes CHECKPOINT_EVERY_S into training: a run killed before then
        # restarts from scratch, having lost less than that.
        self.last_checkpoint = time.monotonic()
        self.sample_every_s = sample_every_s()
        self.n_samples = 0
        self.last_sample: float | None = None

    def enter_step(self, name: str) -> None:
        try:
            services.run_report_progress(run_id=self.run.pk, progress={"phase": name})
        except Exception:  # advisory, as in MetricWriter
            logger.warning("progress of run %s not recorded", self.run.pk, exc_info=True)
        self.log(f"{name}…")

    # --- stopping -------------------------------------------------------------------------
    def stop_reason(self) -> str | None:
        """Polled every batch: a cancel request (seen by the heartbeat) or the run's timeout."""
        if self.heartbeat.stop_requested.is_set():
            return "cancelled"
        if time.monotonic() > self.deadline:
            return f"timed out after {self.timeout_s} s"
        return None

    # --- log and metrics ------------------------------------------------------------------
    def log(self, line: str) -> None:
        self.pending_lines.append(f"[{time.strftime('%H:%M:%S')}] {line}")
        if time.monotonic() - self.last_flush > 2 or len(self.pending_lines) > 50:
            self.flush_log()

    def flush_log(self) -> None:
        if self.pending_lines:
            services.run_append_log(run_id=self.run.pk, lines=self.pending_lines)
            self.pending_lines = []
        self.last_flush = time.monotonic()

    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        points = [
            {"key": key, "step": epoch, "value": float(value)} for key, value in metrics.items()
        ]
        if self.metric_writer is None:
            self.metric_writer = MetricWriter(self.run)
            self.metric_writer.start()
        self.metric_writer.queue.put(points)
        self.metric_writer.progress = self._training_progress(epoch, metrics.get("epoch_s"))

    def _training_progress(self, epoch: int, epoch_s: float | None) -> dict:
        """Epoch, percent and an ETA from the mean epoch time so far (early stopping may end
        the run sooner than the ETA says)."""
        done = epoch + 1
        progress: dict = {"phase": "train", "epoch": done, "n_epochs": self.n_epochs}
        if epoch_s is not None:
            self.epoch_seconds.append(float(epoch_s))
        if self.n_epochs and self.epoch_seconds:
            recent = self.epoch_seconds[-10:]
            remaining = max(self.n_epochs - done, 0)
            progress["percent"] = round(100 * done / self.n_epochs, 1)
            progress["eta_s"] = round(remaining * sum(recent) / len(recent), 1)
        return progress

    # --- samples --------------------------------------------------------------------------
    def sample_due(self, epoch: int, is_last: bool) -> bool:
        """The first epoch, then at most one per `sample_every_s`, and always the last epoch;
        MAX_SAMPLES_PER_RUN in all (the last keeps a place). The registry holds the same bound
        over a run's attempts."""
        if self.n_samples >= MAX_SAMPLES_PER_RUN:
            return False
        if is_last:
            return True
        if self.n_samples >= MAX_SAMPLES_PER_RUN - 1:
            return False
        return (
            self.last_sample is None or time.monotonic() - self.last_sample >= self.sample_every_s
        )

    def log_sample(self, maker: SampleMaker, epoch: int, predict: PredictFunction) -> None:
        """Takes this epoch's predictions for the maker's examples (a few rows, on the training
        thread) and hands them to the writer thread, which renders and stores the sample."""
        predictions = predict(maker.indices)
        if self.metric_writer is None:
            self.metric_writer = MetricWriter(self.run)
            self.metric_writer.start()
        self.metric_writer.samples.put(PendingSample(maker, epoch, predictions))
        self.n_samples += 1
        self.last_sample = time.monotonic()

    def flush_metrics(self) -> None:
        if self.metric_writer is not None:
            self.metric_writer.close()
            self.metric_writer = None

    def log_summary(self, summary: dict[str, float]) -> None:
        self.flush_metrics()
        services.run_set_summary(run_id=self.run.pk, summary=summary)
        points = [{"key": key, "step": 0, "value": float(value)} for key, value in summary.items()]
        services.run_log_metrics(run=self.run, batch=services.check_metric_batch(points))
        self.log("test: " + ", ".join(f"{key} {value:.4f}" for key, value in summary.items()))

    # --- files ----------------------------------------------------------------------------
    def save_artifact(self, path: str, stream: BinaryIO) -> None:
        services.run_log_artifact(run=self.run, path=path, stream=stream, max_bytes=2**40)

    def checkpoint_due(self, epoch: int) -> bool:
        """At most one checkpoint per CHECKPOINT_EVERY_S seconds (0: every epoch)."""
        return time.monotonic() - self.last_checkpoint >= settings.CHECKPOINT_EVERY_S

    def save_checkpoint(self, state: bytes) -> None:
        """Hands the epoch's checkpoint to the writer thread (started on first use)."""
        if self.checkpoint_writer is None:
            self.checkpoint_writer = CheckpointWriter(self.checkpoint_path)
            self.checkpoint_writer.start()
        self.checkpoint_writer.submit(state)
        self.last_checkpoint = time.monotonic()

    def flush_checkpoints(self) -> None:
        if self.checkpoint_writer is not None:
            self.checkpoint_writer.close()
            self.checkpoint_writer = None

    def load_checkpoint(self) -> bytes | None:
        return self.checkpoint_path.read_bytes() if self.checkpoint_path.exists() else None

    def clear_checkpoint(self) -> None:
        self.flush_checkpoints()
        self.checkpoint_path.unlink(missing_ok=True)
