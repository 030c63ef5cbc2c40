"""A real qcluster trains a run; we SIGKILL it mid-run, or cancel the run, and check that the
studio keeps its promises: the run resumes from its checkpoint (or ends with a reason), every
metric logged before the kill is still there, none twice, and nothing stays "running".

These tests drive separate processes against their own database (a SQLite file, or a fresh
PostgreSQL database when DATABASE_URL points at PostgreSQL), like `make run` does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.studio import Studio

pytestmark = pytest.mark.slow


def _queue_long_run(studio: Studio, tmp_path: Path) -> int:
    version = studio.setup_digits()
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
