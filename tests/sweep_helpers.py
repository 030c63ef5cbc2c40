"""What the sweep tests share: a small table any MLP learns in a few epochs, a base config, and
a driver that trains a sweep's queued trial runs in this process (as a worker would)."""

from __future__ import annotations

import io

import numpy as np

from pipelines.runner import execute_run
from registry import services
from registry.models import Run, RunStatus, Sweep

# 300 points of the unit square, labelled by the side of the diagonal they lie on: a good
# learning rate gets ~0.95 validation accuracy within two epochs, 1e-6 stays near chance.
_POINTS = np.random.default_rng(0).uniform(0, 1, (300, 2))
DIAGONAL_CSV = "x1,x2,side\n" + "".join(
    f"{x1:.3f},{x2:.3f},{'above' if x1 + x2 > 1 else 'below'}\n" for x1, x2 in _POINTS
)


def diagonal_table(owner):
    _dataset, version = services.dataset_create(
        owner=owner,
        name="diagonal",
        modality="tabular",
        upload=io.BytesIO(DIAGONAL_CSV.encode()),
        original_name="diagonal.csv",
    )
    return version


def base_config(version, **params) -> dict:
    return {
        "dataset_version": version.pk,
        "target": "side",
        "task": "classification",
        "template": "mlp",
        "device": "cpu",
        "params": {"epochs": 6, "batch_size": 16, "hidden_units": 16, **params},
    }


def train_queued_trials(sweep: Sweep, *, max_rounds: int = 50) -> list[str]:
    """Trains the sweep's queued trial runs one by one (each ending launches the next ones,
    through the `run_finished` receiver) until none is queued; returns the outcomes."""
    outcomes = []
    for _round in range(max_rounds):
        queued = list(
            Run.objects.filter(trial__sweep=sweep, status=RunStatus.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not queued:
            return outcomes
        outcomes.extend(execute_run(run_id) for run_id in queued)
    raise AssertionError(f"sweep {sweep.pk} still has queued trials after {max_rounds} rounds")
