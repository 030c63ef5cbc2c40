"""A private studio in separate processes, for tests (and benchmarks) that need real ones.

`Studio` gets its own data dir and database (a SQLite file, or a fresh PostgreSQL database when
DATABASE_URL points at PostgreSQL), runs `manage.py` commands, starts `qcluster` workers and the
studio's ASGI server (uvicorn, `canvascraft.server`), and kills them all at the end. With
`redis=True` it uses the Redis broker and channel layer at REDIS_URL (or the local default),
under a prefix of its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from canvascraft.server import server_command, server_environment

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# A user with the demo digits as a dataset; prints {"version": id}.
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Studio:
    """A private studio: its own data dir and database, and worker processes we can kill."""

    def __init__(self, data_dir: Path, *, redis: bool = False) -> None:
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
        if redis:
            self.env["REDIS_URL"] = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
            self.env["CANVASCRAFT_REDIS_PREFIX"] = f"cc-test-{uuid.uuid4().hex[:8]}"
        else:
            self.env.pop("REDIS_URL", None)
        self.workers: list[subprocess.Popen] = []
        self.base_url = ""

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

    def serve(self, *, workers: int = 1) -> str:
        """Starts the studio's ASGI server (as `make run` does) on a free port; returns its
        base URL once it answers."""
        port = free_port()
        server = subprocess.Popen(
            server_command("127.0.0.1", port, workers=workers),
            cwd=ROOT,
            env=server_environment(self.env),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers.append(server)
        self.base_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                with urllib.request.urlopen(self.base_url + "/health/", timeout=2):
                    return True
            except OSError:
                return False

        self.wait_for(answers, timeout_s=60, what="the ASGI server")
        return self.base_url

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

    def setup_digits(self) -> int:
        """Creates the `worker-test` user with the demo digits; returns the dataset version."""
        output = self.manage("shell", input_text=SETUP)
        return json.loads(output.strip().splitlines()[-1])["version"]
