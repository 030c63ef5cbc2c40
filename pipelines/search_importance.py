"""How much each parameter of a sweep mattered: Optuna's PED-ANOVA importances, over our own
stored trials. Plain Python: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import optuna

from pipelines.search_space import check_space
from pipelines.search_trials import TrialRecord, frozen_trials, make_study, primary_value


def param_importances(
    space: Mapping[str, Any],
    trials: Sequence[TrialRecord],
    *,
    direction: str,
    max_trials: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """How much each parameter matters for the primary objective, normalised to sum to 1,
    most important first; {} with fewer than 2 complete trials.

    `optuna.importance.PedAnovaImportanceEvaluator` (Optuna's default): it compares the
    parameter distributions of the top 10% of trials with all of them, needs no model fit
    (a 2,000-trial sweep takes a fraction of a second), and handles conditional parameters.
    Sweeps longer than `max_trials` are subsampled, seeded by `seed`.
    """
    space = check_space(space)
    primary = [
        TrialRecord(record.number, record.params, "complete", [value])
        for record in sorted(trials, key=lambda record: record.number)
        if (value := primary_value(record)) is not None
    ]
    if len(primary) > max_trials:
        chosen = np.random.default_rng(seed).choice(len(primary), size=max_trials, replace=False)
        primary = [primary[index] for index in sorted(chosen)]
    frozen = frozen_trials(space, primary, n_objectives=1)
    if len(frozen) < 2:
        return {}
    study = make_study([direction], optuna.samplers.RandomSampler(seed=seed))
    study.add_trials(frozen)
    importances = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.PedAnovaImportanceEvaluator()
    )
    ranked = sorted(importances.items(), key=lambda item: (-item[1], item[0]))
    return {name: float(value) for name, value in ranked}
