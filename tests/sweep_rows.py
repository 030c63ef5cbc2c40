"""Sweeps with many trials written straight to the tables (bulk inserts, no services), for the
sweep pages' tests, the browser test and bench/sweep_page.py.

Trial n of `make_sweep` is deterministic: `lr` log-uniform-ish, `width` in steps of 16, `act`
cycling through three choices; every 10th trial (n % 10 == 7) is pruned at epoch 2, every 23rd
(n % 23 == 5) failed, the last `n_running` still running, the rest complete with a loss that is
smallest near lr = 10^-2.5, width = 128 and act = "gelu" (plus `size_kb`, a second objective,
when asked for two).
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from registry.models import (
    Experiment,
    Run,
    RunStatus,
    Sweep,
    SweepStatus,
    SweepTrial,
    TrialState,
)

SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
    "width": {"type": "int", "low": 16, "high": 256, "step": 16},
    "act": {"type": "categorical", "choices": ["relu", "gelu", "tanh"]},
}
LOSS = {"metric": "val_loss", "direction": "minimize"}
SIZE = {"metric": "size_kb", "direction": "minimize"}


def trial_params(number: int) -> dict:
    fraction = (number * 0.6180339887) % 1.0
    return {
        "lr": round(10 ** (-4 + 3 * fraction), 6),
        "width": 16 * (1 + (number * 7) % 16),
        "act": ("relu", "gelu", "tanh")[number % 3],
    }


def trial_state(number: int, n_trials: int, n_running: int) -> str:
    if number >= n_trials - n_running:
        return TrialState.RUNNING
    if number % 10 == 7:
        return TrialState.PRUNED
    if number % 23 == 5:
        return TrialState.FAILED
    return TrialState.COMPLETE


def trial_values(params: dict, n_objectives: int) -> list[float]:
    loss = (
        0.1 * (math.log10(params["lr"]) + 2.5) ** 2
        + (params["width"] - 128) ** 2 / 1e5
        + (0.0 if params["act"] == "gelu" else 0.05)
        + 0.2
    )
    values = [round(loss, 6)]
    if n_objectives > 1:
        values.append(round(params["width"] * 3.5 + (10 if params["act"] == "tanh" else 0), 3))
    return values


def make_sweep(
    owner,
    *,
    n_trials: int,
    n_objectives: int = 1,
    n_running: int = 0,
    name: str = "lr sweep",
    experiment: Experiment | None = None,
    status: str = SweepStatus.RUNNING,
    budget: int | None = None,
    with_runs: bool = True,
) -> Sweep:
    """A sweep of `owner` with `n_trials` trials (numbers 0..n-1), each with its own run."""
    experiment = experiment or Experiment.objects.create(owner=owner, name=f"{name} experiment")
    objectives = [LOSS, SIZE][:n_objectives]
    sweep = Sweep.objects.create(
        owner=owner,
        experiment=experiment,
        name=name,
        base_config={"template": "mlp", "params": {}},
        space=SPACE,
        strategy="bayesian",
        strategy_options={"sampler": "tpe"},
        objectives=objectives,
        n_trials=budget if budget is not None else n_trials,
        parallelism=4,
        pruner="median",
        seed=7,
        status=status,
        next_number=n_trials,
        started_at=timezone.now() - timedelta(hours=1),
    )
    add_trials(sweep, range(n_trials), n_running=n_running, with_runs=with_runs)
    return sweep


def add_trials(
    sweep: Sweep, numbers, *, n_running: int = 0, with_runs: bool = True
) -> list[SweepTrial]:
    numbers = list(numbers)
    last = max(numbers, default=-1) + 1
    started = timezone.now() - timedelta(hours=1)
    # created_at is set on insert (auto_now_add): every finished trial took 1 min 30 s.
    ended = timezone.now() + timedelta(seconds=90)
    runs: list[Run | None] = [None] * len(numbers)
    if with_runs:
        runs = Run.objects.bulk_create(
            [
                Run(
                    experiment_id=sweep.experiment_id,
                    owner_id=sweep.owner_id,
                    name=f"{sweep.name} #{number}",
                    status=_run_status(trial_state(number, last, n_running)),
                    params=trial_params(number),
                    started_at=started,
                )
                for number in numbers
            ]
        )
    trials = []
    for number, run in zip(numbers, runs, strict=True):
        params = trial_params(number)
        state = trial_state(number, last, n_running)
        trials.append(
            SweepTrial(
                sweep=sweep,
                number=number,
                run=run,
                params=params,
                state=state,
                values=(
                    trial_values(params, len(sweep.objectives))
                    if state == TrialState.COMPLETE
                    else None
                ),
                intermediate={"1": 0.9, "2": 0.8} if state == TrialState.PRUNED else {},
                pruned_at_step=2 if state == TrialState.PRUNED else None,
                ended_at=None if state == TrialState.RUNNING else ended,
            )
        )
    return SweepTrial.objects.bulk_create(trials)


def _run_status(state: str) -> str:
    return {
        TrialState.RUNNING: RunStatus.RUNNING,
        TrialState.COMPLETE: RunStatus.SUCCEEDED,
        TrialState.PRUNED: RunStatus.CANCELLED,
        TrialState.FAILED: RunStatus.FAILED,
    }[state]
