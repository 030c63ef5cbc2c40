"""Search strategies of sweeps: Optuna's samplers and pruners, asked over our own stored trials.

Optuna's RDB storage costs 23-36 ms a trial here, so a sweep keeps its trials in its own rows
and nothing in memory between proposals. To propose trial `number`, a strategy builds a
throwaway in-memory study from those rows (`study.add_trials` of `FrozenTrial`s: complete ones
with their values, pruned ones with their last intermediate value, running ones as RUNNING so
TPE's constant liar and the GP sampler see them), seeds a fresh sampler from `(seed, number)`,
asks it once and samples the space define-by-run. The same rows, seed and number give the same
params, whichever worker asks, in whatever order the rows come, however often it restarts.
Pruning decisions are made the same way.

The samplers and pruners are Optuna's own; we only translate rows to trials and back. Plain
Python: no Django. This module is the API the sweeps use; the space's spec and checks are
`pipelines.search_space`, its define-by-run sampling `pipelines.search_sampling`, its grid
`pipelines.search_grid`, and rows as Optuna trials, the best trial and the Pareto front are
`pipelines.search_trials`.
"""

from __future__ import annotations

import math
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.trial import FrozenTrial, TrialState

from pipelines.search_grid import grid_points_option, grid_size, grid_values
from pipelines.search_sampling import PreparedSpace, prepared_space, sample_params
from pipelines.search_space import (
    SearchSpaceError,
    check_objectives,
    check_space,
    choice_key,
)
from pipelines.search_trials import (
    TrialRecord,
    bare_trial,
    best_trial,
    check_directions,
    frozen_trials,
    intermediate_values,
    make_study,
    model_history,
    pareto_front,
    primary_value,
    seed32,
    trial_seed,
)

__all__ = [
    "BayesianSearch",
    "GridExhausted",
    "GridSearch",
    "RandomSearch",
    "SearchSpaceError",
    "SearchStrategy",
    "TrialRecord",
    "best_trial",
    "check_objectives",
    "check_space",
    "grid_size",
    "param_importances",
    "pareto_front",
    "should_prune",
    "strategy_for",
]

# Rebuilding the study costs ~35 us a trial (Optuna deep-copies each one) and TPE's own work
# grows with the history; this keeps a TPE proposal under 10 ms however long the sweep runs.
MODEL_HISTORY_LIMIT = 128
PRUNER_STARTUP_TRIALS = 5
PRUNER_HISTORY_LIMIT = 300
MEDIAN_WARMUP_STEPS = 2
# A trial is not judged by the median in the first quarter of its epochs: under a cosine or
# warm-up schedule a small learning rate looks worse early than it ends.
MEDIAN_WARMUP_FRACTION = 0.25
HALVING_MIN_RESOURCE = 1
HALVING_REDUCTION_FACTOR = 3


class GridExhausted(Exception):
    """Every point of the grid is taken: tried, or being tried by a running trial."""


# --- strategies ----------------------------------------------------------------------------


class SearchStrategy(ABC):
    """Proposes the params of one trial from the trials stored so far.

    Contract: `propose` is a pure function of (space, trials, directions, seed, number): it keeps
    no state between calls, so any worker can propose any trial, and the same arguments give the
    same params. `trials` are every stored trial of the sweep in any order, running ones
    included; `number` is the trial being proposed. Implementations wrap an Optuna sampler.
    """

    name: ClassVar[str]
    # Whether proposals look at the stored trials at all: a sweep skips reading them when not.
    reads_trials: ClassVar[bool] = True

    @abstractmethod
    def propose(
        self,
        space: Mapping[str, Any],
        trials: Sequence[TrialRecord],
        *,
        directions: Sequence[str],
        seed: int,
        number: int,
    ) -> dict[str, Any]:
        """The params of trial `number` (GridExhausted when a grid has no point left)."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SearchStrategy:
        """Build from a sweep's `strategy_options`; unknown keys are refused."""
        if options:
            key = next(iter(options))
            raise SearchSpaceError(f"strategy_options.{key}", f"unknown option for {cls.name}")
        return cls()


class RandomSearch(SearchStrategy):
    """Uniform sampling (`optuna.samplers.RandomSampler`), seeded from (seed, number).

    The history is not added to the study: the random sampler never looks at it, so a proposal
    costs the same at trial 10 and at trial 10,000.
    """

    name = "random"
    reads_trials = False

    def propose(self, space, trials, *, directions, seed, number):
        space = check_space(space)
        sampler = optuna.samplers.RandomSampler(seed=trial_seed(seed, number))
        return sample_params(make_study(directions, sampler).ask(), space)


class GridSearch(SearchStrategy):
    """Every point of the grid once (`optuna.samplers.GridSampler`), in a seeded shuffled order.

    GridSampler shuffles the grid with its seed and gives trial number k the k-th point. So the
    sampler is seeded with the sweep's seed alone (the order must not change between proposals)
    and the in-memory study is given the sweep's numbering: placeholders fill numbers below
    `number`, and trial `number` gets point `number`. A point is taken when any stored trial
    holds it, running trials included. When the sampler's pick is taken (warm starts, an edited
    space, more trials than points), we ask again and leave each refused trial RUNNING, which
    makes the sampler move on to a point it has not handed out: GridSampler, not us, still
    picks every point. GridExhausted when no point is left.
    """

    name = "grid"

    def __init__(self, grid_points: int | None = None) -> None:
        options = {} if grid_points is None else {"grid_points": grid_points}
        self.grid_points = grid_points_option(options)

    @classmethod
    def from_options(cls, options):
        for key in options:
            if key != "grid_points":
                raise SearchSpaceError(f"strategy_options.{key}", "unknown option for grid")
        return cls(grid_points=grid_points_option(options))

    def propose(self, space, trials, *, directions, seed, number):
        space = check_space(space)
        grid = grid_values(space, {"grid_points": self.grid_points})
        size = math.prod(len(axis) for axis in grid.values())
        axes = {name: {choice_key(point) for point in axis} for name, axis in grid.items()}
        taken = {key for record in trials if (key := _grid_key(axes, record.params)) is not None}
        if len(taken) >= size:
            raise GridExhausted(f"all {size} points of the grid are taken")
        sampler = optuna.samplers.GridSampler(grid, seed=seed32(seed))
        study = make_study(directions, sampler)
        study.add_trials([bare_trial(TrialState.FAIL)] * min(number, size))
        for _attempt in range(size + 1):
            params = sample_params(study.ask(), space)
            if _grid_key(axes, params) not in taken:
                return params
        raise RuntimeError("GridSampler kept proposing taken points")  # cannot happen


class BayesianSearch(SearchStrategy):
    """Model-based search: Optuna's TPE (default) or its Gaussian-process sampler.

    TPE runs with `multivariate=True` (joint model of the parameters), `constant_liar=True`
    (running trials count as bad, so parallel workers spread out) and `group=True` when the
    space is conditional (a model per branch instead of falling back to independent sampling).
    It handles several objectives too. `"gp"` is `optuna.samplers.GPSampler` (uses torch, which
    is installed; it accounts for running trials too): often stronger on small continuous
    spaces, but ~100 ms of CPU a proposal instead of a few. `"cmaes"` is refused: it needs the
    `cmaes` package, and it keeps its optimiser in Optuna's trial attributes, which our rows
    do not carry.

    History cap: past MODEL_HISTORY_LIMIT (128) trials, the model is shown the 25 best (TPE's
    "good" group is the best 10%, at most 25, so it still holds the best trials of the whole
    sweep), every running trial, and the most recent others up to the limit (TPE's default
    weights favour recent trials anyway). A proposal costs ~11 ms of CPU at 1,000 trials and
    ~26 ms at 10,000 instead of ~57 ms and ~0.7 s with the whole history (docs/benchmarks.md).
    """

    name = "bayesian"
    SAMPLERS = ("tpe", "gp")

    def __init__(self, sampler: str = "tpe", n_startup_trials: int = 10) -> None:
        if sampler == "cmaes":
            raise SearchSpaceError(
                "strategy_options.sampler",
                "CMA-ES is not available: it needs the 'cmaes' package, and it keeps its state "
                "in Optuna's storage, which sweeps do not use; use 'tpe' or 'gp'",
            )
        if sampler not in self.SAMPLERS:
            raise SearchSpaceError(
                "strategy_options.sampler", f"unknown sampler {sampler!r}; use 'tpe' or 'gp'"
            )
        if isinstance(n_startup_trials, bool) or not isinstance(n_startup_trials, int):
            raise SearchSpaceError("strategy_options.n_startup_trials", "must be a whole number")
        if not 1 <= n_startup_trials <= 1000:
            raise SearchSpaceError("strategy_options.n_startup_trials", "must be 1 to 1000")
        self.sampler = sampler
        self.n_startup_trials = n_startup_trials

    @classmethod
    def from_options(cls, options):
        for key in options:
            if key not in ("sampler", "n_startup_trials"):
                raise SearchSpaceError(f"strategy_options.{key}", "unknown option for bayesian")
        return cls(**options)

    def propose(self, space, trials, *, directions, seed, number):
        space = check_space(space)
        history = model_history(trials, directions, limit=MODEL_HISTORY_LIMIT)
        study = make_study(directions, self._make_sampler(space, trial_seed(seed, number)))
        study.add_trials(frozen_trials(space, history, n_objectives=len(directions)))
        return sample_params(study.ask(), space)

    def _make_sampler(self, space: dict, seed: int) -> optuna.samplers.BaseSampler:
        if self.sampler == "gp":
            return optuna.samplers.GPSampler(
                seed=seed, n_startup_trials=self.n_startup_trials, warn_independent_sampling=False
            )
        prepared = prepared_space(space)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)  # `group` is experimental
            options = {
                "seed": seed,
                "n_startup_trials": self.n_startup_trials,
                "multivariate": True,
                "constant_liar": True,
            }
            if prepared.conditional:
                return optuna.samplers.TPESampler(**options, group=True)
        return _KnownSpaceTPESampler.seeded(
            prepared, seed=seed, n_startup_trials=self.n_startup_trials
        )


class _KnownSpaceTPESampler(optuna.samplers.TPESampler):
    """Optuna's TPE, told its joint search space instead of working it out.

    TPE models jointly the parameters that every finished trial of the study has with the same
    distribution: it works that intersection out by comparing the distributions of every trial
    (~4 us a trial). A study that lives across trials keeps it; ours lives for one proposal. In
    a space without conditions every trial the model is shown has each of the space's
    parameters with its distribution (`frozen_trials` leaves out those that do not fit), so the
    intersection is the space itself: returned here as Optuna returns it, sorted by name and
    without single-valued parameters. (Before any trial has finished Optuna's answer would be
    empty; it makes no difference: until `n_startup_trials` have finished, TPE samples every
    parameter at random whatever the joint space.)
    """

    def __init__(self, *, known_space: Mapping[str, BaseDistribution], **options: Any) -> None:
        super().__init__(**options)
        self._known_space = {
            name: distribution
            for name, distribution in sorted(known_space.items())
            if not distribution.single()
        }

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return dict(self._known_space)

    @classmethod
    def seeded(
        cls, prepared: PreparedSpace, *, seed: int, n_startup_trials: int
    ) -> _KnownSpaceTPESampler:
        """This thread's sampler for the space and options, in the state of one just made
        with `seed`.

        Making a TPE sampler makes two NumPy RandomStates, ~0.15 ms each (a new MT19937
        hashes its whole state into being), while reseeding one takes microseconds; a
        proposal makes one sampler. Nothing else of the sampler outlives a study: it works
        out no search space (see the class) and keeps no other state between trials. Per
        thread, because a sampler serves one study at a time.
        """
        samplers = _THREAD_SAMPLERS.__dict__.setdefault("samplers", {})
        key = (prepared.key, n_startup_trials)
        sampler = samplers.get(key)
        if sampler is None:
            if len(samplers) >= _THREAD_SAMPLERS_LIMIT:
                samplers.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                sampler = samplers[key] = cls(
                    known_space=prepared.distributions,
                    seed=seed,
                    n_startup_trials=n_startup_trials,
                    multivariate=True,
                    constant_liar=True,
                )
        sampler.reseed(seed)
        return sampler

    def reseed(self, seed: int) -> None:
        """Optuna's `reseed_rng`, with a given seed instead of fresh entropy: both random
        states as `TPESampler(seed=seed)` leaves them."""
        self._rng.rng.seed(seed)
        self._random_sampler._rng.rng.seed(seed)


_THREAD_SAMPLERS = threading.local()
_THREAD_SAMPLERS_LIMIT = 16


STRATEGIES: dict[str, type[SearchStrategy]] = {
    strategy.name: strategy for strategy in (RandomSearch, GridSearch, BayesianSearch)
}


def strategy_for(name: str, options: Mapping[str, Any] | None = None) -> SearchStrategy:
    """The strategy called `name`, configured by `options` (SearchSpaceError when invalid)."""
    if name not in STRATEGIES:
        raise SearchSpaceError("strategy", f"unknown strategy {name!r}; use {sorted(STRATEGIES)}")
    if options is not None and not isinstance(options, Mapping):
        raise SearchSpaceError("strategy_options", "must be an object")
    return STRATEGIES[name].from_options(dict(options or {}))


def _grid_key(axes: dict[str, set], params: Mapping[str, Any]) -> tuple | None:
    """The grid point `params` are at (as choice keys), or None when they are off the grid."""
    if any(name not in params for name in axes):
        return None
    key = tuple(choice_key(params[name]) for name in axes)
    on_grid = all(value in axes[name] for name, value in zip(axes, key, strict=True))
    return key if on_grid else None


# --- pruning -------------------------------------------------------------------------------


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
