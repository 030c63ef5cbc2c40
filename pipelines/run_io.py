"""Everything one training run writes while it trains: metrics, log lines, checkpoints,
artifacts, summary, heartbeats. The steps talk to this, not to the registry directly."""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection

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
        self.progress: dict = {}

    def run(self) -> None:
        try:
            while not self.finished.wait(self.interval_s):
                try:
                    if services.run_heartbeat(run_id=self.run_id, progress=self.progress):
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


class MetricWriter(threading.Thread):
    """Writes per-epoch metrics off the training thread, in order, at most every
    `interval_s` seconds: epochs that finish meanwhile go in one batch, so fast epochs do not
    spend their time (and the GIL) on database writes, and charts still move every second."""

    def __init__(self, run: Run, *, interval_s: float = 1.0) -> None:
        super().__init__(name=f"metric-writer-run-{run.pk}", daemon=True)
        self.run_record = run
        self.interval_s = interval_s
        self.queue: queue.SimpleQueue[list[dict]] = queue.SimpleQueue()
        self.closing = threading.Event()
        self.error: BaseException | None = None

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
        if points:
            self._write(points)

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
        self.checkpoint_writer: CheckpointWriter | None = None
        self.metric_writer: MetricWriter | None = None
        # The first checkpoint comes CHECKPOINT_EVERY_S into training: a run killed before then
        # restarts from scratch, having lost less than that.
        self.last_checkpoint = time.monotonic()

    def enter_step(self, name: str) -> None:
        self.heartbeat.progress = {"phase": name}
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
        self.heartbeat.progress = {"phase": "train", "epoch": epoch + 1, "n_epochs": self.n_epochs}

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
