"""The grid of a sweep's search space: its points per axis and its size. Plain Python: no
Django. The space itself, its JSON spec and its checks are `pipelines.search_space`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pipelines.search_space import (
    DEFAULT_GRID_POINTS,
    MAX_GRID_POINTS_PER_AXIS,
    MAX_GRID_SIZE,
    SearchSpaceError,
    check_space,
)


def grid_points_option(options: Mapping[str, Any] | None) -> int:
    """`options["grid_points"]`: points per float axis without a step (and per long int axis)."""
    points = (options or {}).get("grid_points", DEFAULT_GRID_POINTS)
    if isinstance(points, bool) or not isinstance(points, int):
        raise SearchSpaceError("strategy_options.grid_points", "must be a whole number")
    if not 2 <= points <= MAX_GRID_POINTS_PER_AXIS:
        raise SearchSpaceError(
            "strategy_options.grid_points", f"must be between 2 and {MAX_GRID_POINTS_PER_AXIS}"
        )
    return points


def grid_values(space: dict[str, dict], options: Mapping[str, Any] | None = None) -> dict:
    """The grid as `{name: [values]}`: every choice; every int when there are at most
    `grid_points` of them, else `grid_points` evenly spaced ones; floats on their `step`, else
    `grid_points` evenly spaced (geometrically when `log`).

    Conditional dimensions are refused: a product grid would give a child values on trials
    where it does not exist, so the same configuration would be trained several times.
    """
    points = grid_points_option(options)
    for name, dimension in space.items():
        if "condition" in dimension:
            raise SearchSpaceError(
                f"space.{name}.condition",
                "grid search cannot walk a conditional parameter; use random or bayesian search",
            )
    upper_bound = math.prod(_axis_length(dimension, points) for dimension in space.values())
    if upper_bound > MAX_GRID_SIZE:
        raise SearchSpaceError(
            "space", f"the grid has {upper_bound:,} points; at most {MAX_GRID_SIZE:,} are allowed"
        )
    return {name: _axis(dimension, points) for name, dimension in space.items()}


def grid_size(space: Any, options: Mapping[str, Any] | None = None) -> int:
    """How many points the grid of `space` has (SearchSpaceError when it cannot be walked)."""
    values = grid_values(check_space(space), options)
    return math.prod(len(axis) for axis in values.values())


def _axis_length(dimension: dict, points: int) -> int:
    if dimension["type"] == "categorical":
        return len(dimension["choices"])
    step = dimension.get("step")
    if dimension["type"] == "int":
        return min((dimension["high"] - dimension["low"]) // step + 1, points)
    if step is None:
        return points
    return round((dimension["high"] - dimension["low"]) / step) + 1


def _axis(dimension: dict, points: int) -> list:
    kind, low, high = dimension["type"], dimension.get("low"), dimension.get("high")
    if kind == "categorical":
        return list(dimension["choices"])
    step = dimension.get("step")
    if kind == "int":
        count = (high - low) // step + 1
        if count <= points:
            return list(range(low, high + 1, step))
        if dimension["log"]:
            return sorted({round(value) for value in np.geomspace(low, high, points)})
        indices = np.unique(np.linspace(0, count - 1, points).round().astype(int))
        return [low + int(index) * step for index in indices]
    if step is not None:
        count = round((high - low) / step) + 1
        values = [low + index * step for index in range(count)]
    elif dimension["log"]:
        values = list(np.geomspace(low, high, points))
    else:
        values = list(np.linspace(low, high, points))
    # 12 significant digits: 0.30000000000000004 becomes 0.3 in the run config and the page.
    inner = [min(max(float(f"{value:.12g}"), low), high) for value in values[1:-1]]
    return [low, *inner, high]
