"""A real qcluster trains a run; we SIGKILL it mid-run, or cancel the run, and check that the
studio keeps its promises: the run resumes from its checkpoint (or ends with a reason), every
metric logged before the kill is still there, none twice, and nothing stays "running".

These tests drive separate processes against their own database (a SQLite file, or a fresh
PostgreSQL database when DATABASE_URL points at PostgreSQL), like `make run` does.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SETUP = """
import io, json
from django.contrib.auth import get_user_model
from gallery.demo_datasets import digits_zip
from registry import services
user = get_user_model().objects.create_user("worker-test", password="worker-test-password-1")
_, version = services.dataset_create(owner=user, name="digits", modality="image",
                                     upload=io.BytesIO(digits_zip()), original_name="d.zip")
print(json.dumps({"version": version.pk}))
"""

pytestmark = pytest.mark.slow


class Studio:
    """A private studio: its own data dir and database, and worker processes we can kill."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "CANVASCRAFT_DATA_DIR": str(data_dir),
            "CANVASCRAFT_HEARTBEAT_S": "1",
            "CANVASCRAFT_HEARTBEAT_TIMEOUT_S": "4",
            "CANVASCRAFT_CHECKPOINT_EVERY_S": "0",  # every epoch: the kill lands mid-run
            "CANVASCRAFT_TORCH_THREADS": "1",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "canvascraft.settings",
        }
        self.postgres_admin_url = None
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith("postgres"):
            import psycopg

            self.database_name = f"canvascraft_worker_{uuid.uuid4().hex[:8]}"
            self.postgres_admin_url = database_url
            with psycopg.connect(database_url, autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {self.database_name}")
            self.env["DATABASE_URL"] = database_url.rsplit("/", 1)[0] + "/" + self.database_name
        else:
            self.env.pop("DATABASE_URL", None)
        self.workers: list[subprocess.Popen] = []

    def manage(self, *args: str, input_text: str | None = None) -> str:
        completed = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout

    def start_worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(
            [PYTHON, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if "DATABASE_URL" in self.env:
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"]) as connection:
                cursor = connection.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.data_dir / "canvascraft.sqlite3", timeout=20) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def run_state(self, run_id: int) -> tuple[str, int, str]:
        return self.query(
            "SELECT status, attempt, log_text FROM registry_run WHERE id = ?", (run_id,)
        )[0]

    def points(self, run_id: int) -> list[tuple[str, int]]:
        return self.query(
            "SELECT key, step FROM registry_metricpoint WHERE run_id = ? ORDER BY key, step",
            (run_id,),
        )

    def wait_for(self, predicate, *, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.3)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        if self.postgres_admin_url:
            import psycopg

            with psycopg.connect(self.postgres_admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {self.database_name} WITH (FORCE)")


@pytest.fixture
def studio(tmp_path) -> Iterator[Studio]:
    running = Studio(tmp_path / "studio")
    try:
        running.manage("migrate", "--noinput", "-v0")
        yield running
    finally:
        running.close()


def _queue_long_run(studio: Studio, tmp_path: Path) -> int:
    version = json.loads(studio.manage("shell", input_text=SETUP).strip().splitlines()[-1])[
        "version"
    ]
    config = {
        "experiment": "worker lifecycle",
        "name": "long mlp",
        "config": {
            "dataset_version": version,
            "task": "classification",
            "template": "mlp",
            "device": "cpu",
            "params": {"epochs": 60, "patience": 60, "batch_size": 32},
        },
    }
    config_file = tmp_path / "run.json"
    config_file.write_text(json.dumps(config))
    output = studio.manage("train", str(config_file), "--user", "worker-test")
    return int(output.split("run ")[1].split()[0])


def _epochs_logged(studio: Studio, run_id: int) -> int:
    return len(
        studio.query(
            "SELECT step FROM registry_metricpoint WHERE run_id = ? AND key = 'val_loss'", (run_id,)
        )
    )


def test_a_killed_worker_s_run_resumes_from_its_checkpoint_and_loses_no_metric(studio, tmp_path):
    run_id = _queue_long_run(studio, tmp_path)
    worker = studio.start_worker()
    studio.wait_for(lambda: _epochs_logged(studio, run_id) >= 3, timeout_s=120, what="3 epochs")

    studio.kill(worker)
    before_kill = studio.points(run_id)
    assert studio.run_state(run_id)[0] == "running"  # the dead worker could not say otherwise

    time.sleep(5)  # past the heartbeat window
    assert "1 requeued" in studio.manage("reap_runs")
    studio.start_worker()
    studio.wait_for(
        lambda: studio.run_state(run_id)[0] not in ("queued", "running"),
        timeout_s=180,
        what="the run to end",
    )

    status, attempt, log_text = studio.run_state(run_id)
    after = studio.points(run_id)
    assert (status, attempt) == ("succeeded", 2)
    assert "resuming from the last checkpoint" in log_text
    assert set(before_kill) <= set(after)
    assert len(after) == len(set(after))  # no (key, step) twice
    assert studio.query(
        "SELECT value FROM registry_metricpoint WHERE run_id = ? AND key = 'test_accuracy'",
        (run_id,),
    )
    assert not (studio.data_dir / "checkpoints" / f"run-{run_id}.pt").exists()


def test_a_run_out_of_attempts_ends_failed_with_the_reason(studio, tmp_path):
    run_id = _queue_long_run(studio, tmp_path)
    studio.query("UPDATE registry_run SET max_attempts = 1 WHERE id = ?", (run_id,))
    worker = studio.start_worker()
    studio.wait_for(lambda: _epochs_logged(studio, run_id) >= 2, timeout_s=120, what="2 epochs")
    studio.kill(worker)
    before_kill = studio.points(run_id)

    time.sleep(5)
    assert "1 failed" in studio.manage("reap_runs")

    status, attempt, _ = studio.run_state(run_id)
    error = studio.query("SELECT error_text FROM registry_run WHERE id = ?", (run_id,))[0][0]
    assert (status, attempt) == ("failed", 1)
    assert "no heartbeat" in error and "gave up after 1 attempts" in error
    assert studio.points(run_id) == before_kill


def test_cancelling_a_running_run_stops_it_at_the_next_batch(studio, tmp_path):
    run_id = _queue_long_run(studio, tmp_path)
    studio.start_worker()
    studio.wait_for(lambda: _epochs_logged(studio, run_id) >= 2, timeout_s=120, what="2 epochs")

    studio.manage(
        "shell",
        input_text=(
            "from pipelines.services import cancel_run; from registry.models import Run; "
            f"cancel_run(run=Run.objects.get(pk={run_id}))"
        ),
    )
    studio.wait_for(lambda: studio.run_state(run_id)[0] != "running", timeout_s=30, what="the stop")

    status, _, _ = studio.run_state(run_id)
    points = studio.points(run_id)
    assert status == "cancelled"
    assert _epochs_logged(studio, run_id) < 60
    assert len(points) == len(set(points))
