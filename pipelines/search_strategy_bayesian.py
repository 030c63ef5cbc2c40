"""Bayesian search: the sweep strategy that models the trials so far (Optuna's TPE or GP).
Plain Python: no Django. The TPE sampler it reuses per thread is `pipelines.search_tpe`.
"""

from __future__ import annotations

import warnings

import optuna
from optuna.exceptions import ExperimentalWarning

from pipelines.search_sampling import prepared_space, sample_params
from pipelines.search_space import SearchSpaceError, check_space
from pipelines.search_strategy import SearchStrategy
from pipelines.search_tpe import KnownSpaceTPESampler
from pipelines.search_trials import frozen_trials, make_study, model_history, trial_seed

# Rebuilding the study costs ~35 us a trial (Optuna deep-copies each one) and TPE's own work
# grows with the history; this keeps a TPE proposal under 10 ms however long the sweep runs.
MODEL_HISTORY_LIMIT = 128


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
        return KnownSpaceTPESampler.seeded(
            prepared, seed=seed, n_startup_trials=self.n_startup_trials
        )
