"""Random search: the sweep strategy that samples the space uniformly. Plain Python: no Django."""

from __future__ import annotations

import optuna

from pipelines.search_sampling import sample_params
from pipelines.search_space import check_space
from pipelines.search_strategy import SearchStrategy
from pipelines.search_trials import make_study, trial_seed


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
