"""The four demo trainings on a real worker, as `make run` would run them.

    .venv/bin/python bench/demo_training.py

Seeds the demo into a fresh studio (SQLite, ORM broker), starts one `qcluster` process,
queues an MLP and a CNN on the digits, the audio CNN on the synthesised timbres and a random
forest on the wine table through `manage.py train`, waits for them, and prints each run's
status, test accuracy, time and artifacts against the goals.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_ARTIFACTS = {
    "model/model.json",
    "model/brushes.zip",
    "metrics.json",
    "confusion_matrix.png",
    "samples/predictions.json",
}
# (run name, dataset, template, goal on test_accuracy, extra config)
TRAININGS = [
    ("mlp on digits", "Digits", "mlp", 0.95, {}),
    ("cnn on digits", "Digits", "cnn", 0.97, {}),
    ("audio cnn on timbres", "Synth timbres", "audio_cnn", 0.90, {}),
    ("random forest on wine", "Wine", "random_forest", 0.90, {"target": "cultivar"}),
]


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="canvascraft-demo-"))
    env = {**os.environ, "CANVASCRAFT_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(done.stderr[-2000:])
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    manage("seed_demo")
    database = sqlite3.connect(data_dir / "canvascraft.sqlite3", timeout=20)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run_ids = {}
        for name, dataset, template, _goal, extra in TRAININGS:
            version = database.execute(
                "SELECT v.id FROM registry_datasetversion v JOIN registry_dataset d "
                "ON d.id = v.dataset_id WHERE d.name = ? ORDER BY v.number DESC",
                (dataset,),
            ).fetchone()[0]
            request = {
                "experiment": "Demo trainings",
                "name": name,
                "config": {
                    "dataset_version": version,
                    "task": "classification",
                    "template": template,
                    "device": "cpu",
                    **extra,
                },
            }
            config_file = data_dir / f"{template}.json"
            config_file.write_text(json.dumps(request))
            output = manage("train", str(config_file), "--user", "demo")
            run_ids[name] = int(output.split("run ")[1].split()[0])
        started = time.monotonic()
        while time.monotonic() - started < 1800:
            statuses = [
                database.execute(
                    "SELECT status FROM registry_run WHERE id = ?", (run_id,)
                ).fetchone()[0]
                for run_id in run_ids.values()
            ]
            if all(status in ("succeeded", "failed", "cancelled") for status in statuses):
                break
            time.sleep(1)
        print(f"CanvasCraft demo trainings on one qcluster worker — {os.cpu_count()} CPUs")
        all_met = True
        for name, _dataset, _template, goal, _extra in TRAININGS:
            run_id = run_ids[name]
            status, summary, started_at, ended_at = database.execute(
                "SELECT status, summary, started_at, ended_at FROM registry_run WHERE id = ?",
                (run_id,),
            ).fetchone()
            accuracy = json.loads(summary or "{}").get("test_accuracy", float("nan"))
            paths = {
                row[0]
                for row in database.execute(
                    "SELECT path FROM registry_artifact WHERE run_id = ?", (run_id,)
                )
            }
            has_model = bool(paths & {"model/weights.pt", "model/model.skops"})
            complete = paths >= EXPECTED_ARTIFACTS and has_model
            seconds = database.execute(
                "SELECT (julianday(?) - julianday(?)) * 86400", (ended_at, started_at)
            ).fetchone()[0]
            met = status == "succeeded" and accuracy >= goal and complete
            all_met &= met
            print(
                f"  {name:24} {status:10} test_accuracy {accuracy:.4f} (goal >= {goal}) "
                f"{seconds or 0:6.1f} s  artifacts {'complete' if complete else 'MISSING'}  "
                f"{'ok' if met else 'MISS'}"
            )
        print("all goals met" if all_met else "some goals missed")
    finally:
        worker.send_signal(signal.SIGTERM)  # the cluster stops its own workers
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


if __name__ == "__main__":
    main()
