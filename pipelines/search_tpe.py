"""Optuna's TPE sampler, told the search space it would otherwise work out, and kept per thread.

Bayesian search (`pipelines.search_strategy_bayesian`) makes one sampler a proposal; this is
what keeps that cheap. It leans on Optuna internals: `infer_relative_search_space`
(overridden) and the sampler's two random states (`_rng`, `_random_sampler._rng`, reseeded); a
test pins that its proposals stay those of Optuna's own TPE. Plain Python: no Django.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning

from pipelines.search_sampling import PreparedSpace


class KnownSpaceTPESampler(optuna.samplers.TPESampler):
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
    ) -> KnownSpaceTPESampler:
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
