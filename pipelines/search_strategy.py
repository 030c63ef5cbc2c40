"""What a search strategy of a sweep promises: the abstract base every strategy implements.

The strategies themselves are `pipelines.search_strategy_random`, `..._grid` and
`..._bayesian`; `pipelines.search.strategy_for` finds one by name. Plain Python: no Django.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pipelines.search_space import SearchSpaceError
from pipelines.search_trials import TrialRecord


class GridExhausted(Exception):
    """Every point of the grid is taken: tried, or being tried by a running trial."""


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
