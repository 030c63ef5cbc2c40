"""What a sweep optimises, read from runs: objective metrics, their values, their per-epoch form.

A trial's objective value comes from its finished run: the final summary (`test_accuracy`, …)
when the metric is there, else the metric's best value over the epochs (max for maximize, min
for minimize). While a run trains, the primary objective is followed through its per-epoch
form (`val_accuracy` for `test_accuracy`), which the pruners compare between trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from registry.models import MetricPoint, MetricSummary, Run

# The metrics a sweep may optimise, per task: the test summary and the per-epoch metrics.
OBJECTIVE_METRICS = {
    "classification": (
        "test_accuracy",
        "test_macro_f1",
        "test_loss",
        "val_accuracy",
        "val_loss",
        "train_accuracy",
        "train_loss",
    ),
    "regression": ("test_rmse", "test_mae", "test_r2", "val_rmse", "val_loss", "train_loss"),
}
# The per-epoch metric that stands for a test metric while training (no per-epoch F1 or R²:
# accuracy and RMSE move with them).
PER_EPOCH_FORM = {
    "test_accuracy": "val_accuracy",
    "test_macro_f1": "val_accuracy",
    "test_loss": "val_loss",
    "test_rmse": "val_rmse",
    "test_mae": "val_rmse",
    "test_r2": "val_rmse",
}
NATURAL_DIRECTION = {
    "val_accuracy": "maximize",
    "train_accuracy": "maximize",
    "val_loss": "minimize",
    "train_loss": "minimize",
    "val_rmse": "minimize",
}


def intermediate_metric(objective: dict[str, str]) -> tuple[str, str]:
    """(per-epoch metric, its direction) that follows `objective` while a trial trains."""
    metric = objective["metric"]
    per_epoch = PER_EPOCH_FORM.get(metric, metric)
    if per_epoch == metric:
        return metric, objective["direction"]
    return per_epoch, NATURAL_DIRECTION[per_epoch]


def objective_values(run: Run, objectives: Sequence[dict[str, str]]) -> list[float] | None:
    """One value per objective from a finished run; None when one is missing or not finite.
    One query at most (only when a metric is not in the run's summary)."""
    summary = run.summary or {}
    missing = [item["metric"] for item in objectives if item["metric"] not in summary]
    ranges = {}
    if missing:
        ranges = {
            key: (low, high)
            for key, low, high in MetricSummary.objects.filter(
                run_id=run.pk, key__in=missing
            ).values_list("key", "min_value", "max_value")
        }
    values = []
    for item in objectives:
        metric = item["metric"]
        if metric in summary:
            value = summary[metric]
        elif metric in ranges:
            low, high = ranges[metric]
            value = high if item["direction"] == "maximize" else low
        else:
            return None
        if not isinstance(value, int | float) or not math.isfinite(value):
            return None
        values.append(float(value))
    return values


def intermediate_history(run: Run, metric: str) -> dict[int, float]:
    """{epochs done: value} of a run's per-epoch `metric` (the steps a trial reports)."""
    return {
        int(step) + 1: float(value)
        for step, value in MetricPoint.objects.filter(run_id=run.pk, key=metric)
        .order_by("step")
        .values_list("step", "value")
        if math.isfinite(value)
    }
