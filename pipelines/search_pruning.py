"""Whether a running trial of a sweep should stop: Optuna's median and successive-halving
pruners, asked over our own stored trials. Plain Python: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from pipelines.search_space import SearchSpaceError
from pipelines.search_trials import (
    TrialRecord,
    bare_trial,
    check_directions,
    intermediate_values,
    make_study,
    primary_value,
)

PRUNER_STARTUP_TRIALS = 5
PRUNER_HISTORY_LIMIT = 300
MEDIAN_WARMUP_STEPS = 2
# A trial is not judged by the median in the first quarter of its epochs: under a cosine or
# warm-up schedule a small learning rate looks worse early than it ends.
MEDIAN_WARMUP_FRACTION = 0.25
HALVING_MIN_RESOURCE = 1
HALVING_REDUCTION_FACTOR = 3


def median_warmup(total_steps: int | None) -> int:
    """Steps the median pruner lets a trial run before judging it (see `should_prune`)."""
    if not total_steps:
        return MEDIAN_WARMUP_STEPS
    return max(MEDIAN_WARMUP_STEPS, math.ceil(total_steps * MEDIAN_WARMUP_FRACTION))


def should_prune(
    pruner: str,
    trials: Sequence[TrialRecord],
    current: TrialRecord,
    *,
    direction: str,
    step: int,
    total_steps: int | None = None,
) -> bool:
    """Whether `current` should stop after reporting `step` (its primary objective so far).

    "median": `optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=w)`: stop when
    the trial's best value so far is worse than the median of complete trials at this step,
    never before step w = max(2, a quarter of `total_steps`, the trial's epochs, when known).
    "halving": `SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)`: rungs at steps
    1, 3, 9, 27...; a trial reaching a rung goes on only when it is in the top third of the
    trials that reached it. Neither prunes before 5 trials have completed. "none": never.
    The pruner sees an in-memory study of the other trials and `current` as RUNNING with its
    values up to `step`. The training loop asks after every epoch, so the study holds the
    most recent PRUNER_HISTORY_LIMIT (300) other trials only: a check costs ~5 ms at most
    instead of ~15 ms per 1,000 trials; the median (or a rung's top third) of 300 recent
    trials is as good a bar as that of all of them.
    """
    if pruner not in ("none", "median", "halving"):
        raise SearchSpaceError("pruner", f"unknown pruner {pruner!r}; use none, median, halving")
    check_directions([direction])
    steps = {s: v for s, v in intermediate_values(current).items() if s <= step}
    if pruner == "none" or step not in steps:
        return False
    others = sorted(
        (record for record in trials if record.number != current.number),
        key=lambda record: record.number,
    )[-PRUNER_HISTORY_LIMIT:]
    if sum(primary_value(record) is not None for record in others) < PRUNER_STARTUP_TRIALS:
        return False
    study = make_study([direction], optuna.samplers.RandomSampler(seed=0))
    if pruner == "median":
        optuna_pruner: optuna.pruners.BasePruner = optuna.pruners.MedianPruner(
            n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=median_warmup(total_steps)
        )
        study.add_trials(_median_history(others, step))
        study.add_trial(bare_trial(TrialState.RUNNING, intermediate=steps))
    else:
        optuna_pruner = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=HALVING_MIN_RESOURCE, reduction_factor=HALVING_REDUCTION_FACTOR
        )
        study.add_trials(_halving_history(others))
        # The rungs it passed at earlier steps, as the pruner would have recorded them then.
        passed = _rungs({s: v for s, v in steps.items() if s < step})
        study.add_trial(bare_trial(TrialState.RUNNING, intermediate=steps, system_attrs=passed))
    return bool(optuna_pruner.prune(study, study.get_trials(deepcopy=False)[-1]))


def _median_history(others: Sequence[TrialRecord], step: int) -> list[FrozenTrial]:
    """Complete trials with their value at `step`: all that MedianPruner reads of them (it
    counts them for `n_startup_trials`, and takes the median of their values at the step)."""
    history = []
    for record in others:
        value = primary_value(record)
        if value is not None:
            at_step = {s: v for s, v in intermediate_values(record).items() if s == step}
            history.append(bare_trial(TrialState.COMPLETE, value=value, intermediate=at_step))
    return history


def _halving_history(others: Sequence[TrialRecord]) -> list[FrozenTrial]:
    """Every other trial with the rung values SuccessiveHalvingPruner would have stored on it.

    The pruner records a trial's value at each rung it reaches in the trial's system attributes
    (`completed_rung_<k>`) and compares newcomers with them. Our rows keep the intermediate
    values instead, from which those attributes follow: the value at the first step at or past
    each rung, for every rung the trial got to.
    """
    history = []
    for record in others:
        rungs = _rungs(intermediate_values(record))
        if rungs:
            # The pruner reads only these attributes; the state just has to be a finished
            # or running one, and a finished trial needs no values.
            state = TrialState.RUNNING if record.state == "running" else TrialState.FAIL
            history.append(bare_trial(state, system_attrs=rungs))
    return history


def _rungs(intermediate: dict[int, float]) -> dict[str, float]:
    rungs: dict[str, float] = {}
    rung = 0
    for step in sorted(intermediate):
        while step >= HALVING_MIN_RESOURCE * HALVING_REDUCTION_FACTOR**rung:
            rungs[f"completed_rung_{rung}"] = intermediate[step]
            rung += 1
    return rungs
