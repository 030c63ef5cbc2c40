"""Grid search: the sweep strategy that tries every point of the grid once. Plain Python: no
Django. The grid itself (points per axis, size) is `pipelines.search_grid`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import optuna
from optuna.trial import TrialState

from pipelines.search_grid import grid_points_option, grid_values
from pipelines.search_sampling import sample_params
from pipelines.search_space import SearchSpaceError, check_space, choice_key
from pipelines.search_strategy import GridExhausted, SearchStrategy
from pipelines.search_trials import bare_trial, make_study, seed32


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


def _grid_key(axes: dict[str, set], params: Mapping[str, Any]) -> tuple | None:
    """The grid point `params` are at (as choice keys), or None when they are off the grid."""
    if any(name not in params for name in axes):
        return None
    key = tuple(choice_key(params[name]) for name in axes)
    on_grid = all(value in axes[name] for name, value in zip(axes, key, strict=True))
    return key if on_grid else None
