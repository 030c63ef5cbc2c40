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
Python: no Django. This module is the API the sweeps use, and finds a strategy by name
(`strategy_for`); the rest lives beside it:

- `pipelines.search_strategy`: the contract every strategy keeps (`SearchStrategy`);
- `pipelines.search_strategy_random`, `..._grid`, `..._bayesian`: the strategies, and
  `pipelines.search_tpe` the TPE sampler Bayesian search reuses per thread;
- `pipelines.search_pruning`: `should_prune`; `pipelines.search_importance`: importances;
- `pipelines.search_space`: the space's spec and checks; `pipelines.search_sampling`: its
  define-by-run sampling; `pipelines.search_grid`: its grid;
- `pipelines.search_trials`: rows as Optuna trials, the best trial and the Pareto front.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.search_grid import grid_size
from pipelines.search_importance import param_importances
from pipelines.search_pruning import should_prune
from pipelines.search_space import SearchSpaceError, check_objectives, check_space
from pipelines.search_strategy import GridExhausted, SearchStrategy
from pipelines.search_strategy_bayesian import BayesianSearch
from pipelines.search_strategy_grid import GridSearch
from pipelines.search_strategy_random import RandomSearch
from pipelines.search_trials import TrialRecord, best_trial, pareto_front

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
