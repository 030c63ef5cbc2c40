"""A sweep trained by two real qcluster worker processes at once (the ORM broker, one worker
process each): every trial ends, the numbers 0..n-1 are given exactly once although both
workers launch trials as their runs finish, and each trial has its own run.

Like the other integration tests this drives separate processes against their own database (a
SQLite file, or a fresh PostgreSQL database when DATABASE_URL points at PostgreSQL).
"""

from __future__ import annotations

import json

import pytest

from tests.studio import Studio

pytestmark = pytest.mark.slow

N_TRIALS = 8


def _create_sweep(studio: Studio, tmp_path, version: int) -> int:
    request = {
        "experiment": "two workers",
        "name": "digits widths",
        "base_config": {
            "dataset_version": version,
            "task": "classification",
            "template": "mlp",
            "device": "cpu",
            "params": {"epochs": 3, "batch_size": 64},
        },
        "space": {
            "learning_rate": {"type": "float", "low": 1e-3, "high": 3e-2, "log": True},
            "hidden_units": {"type": "int", "low": 16, "high": 64, "step": 16},
        },
        "strategy": "random",
        "objective": {"metric": "test_accuracy", "direction": "maximize"},
        "n_trials": N_TRIALS,
        "parallelism": 4,
        "seed": 11,
    }
    config_file = tmp_path / "sweep.json"
    config_file.write_text(json.dumps(request))
    output = studio.manage("sweep", str(config_file), "--user", "worker-test")
    return int(output.split("sweep ")[1].split()[0])


def _sweep_status(studio: Studio, sweep_id: int) -> str:
    return studio.query("SELECT status FROM registry_sweep WHERE id = ?", (sweep_id,))[0][0]


def test_two_workers_train_one_sweep_and_never_give_a_number_twice(studio, tmp_path):
    version = studio.setup_digits()
    sweep_id = _create_sweep(studio, tmp_path, version)
    assert _sweep_status(studio, sweep_id) == "running"
    studio.env["CANVASCRAFT_WORKERS"] = "1"
    studio.start_worker()
    studio.start_worker()

    studio.wait_for(
        lambda: _sweep_status(studio, sweep_id) not in ("queued", "running"),
        timeout_s=300,
        what="the sweep to end",
    )

    status, next_number, error = studio.query(
        "SELECT status, next_number, error_text FROM registry_sweep WHERE id = ?", (sweep_id,)
    )[0]
    trials = studio.query(
        "SELECT number, state, run_id FROM registry_sweeptrial WHERE sweep_id = ? ORDER BY number",
        (sweep_id,),
    )
    runs = studio.query(
        "SELECT r.id, r.status, r.started_at, r.ended_at FROM registry_run r "
        "JOIN registry_sweeptrial t ON t.run_id = r.id WHERE t.sweep_id = ?",
        (sweep_id,),
    )
    assert (status, error, next_number) == ("succeeded", "", N_TRIALS)
    assert [number for number, _, _ in trials] == list(range(N_TRIALS))
    assert {state for _, state, _ in trials} == {"complete"}
    run_ids = [run_id for _, _, run_id in trials]
    assert None not in run_ids and len(set(run_ids)) == N_TRIALS
    assert len(runs) == N_TRIALS and {run_status for _, run_status, _, _ in runs} == {"succeeded"}
    # Two workers trained at the same time: some two trial runs overlap.
    intervals = sorted((str(started), str(ended)) for _, _, started, ended in runs)
    assert any(
        later[0] < earlier[1]
        for index, earlier in enumerate(intervals)
        for later in intervals[index + 1 :]
    )
    # Nothing is left for a worker to do, and no run stayed queued.
    assert not studio.query(
        "SELECT id FROM registry_run WHERE status IN ('queued', 'running') AND id IN "
        "(SELECT run_id FROM registry_sweeptrial WHERE sweep_id = ?)",
        (sweep_id,),
    )
