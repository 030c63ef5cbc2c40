"""Search spaces of sweeps: the JSON spec, its checks, its grid, and how a trial samples it.

A space is a JSON object `{name: dimension}`:

    {"lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": true},
     "width": {"type": "int", "low": 16, "high": 256, "step": 16},
     "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
     "momentum": {"type": "float", "low": 0.5, "high": 0.99,
                  "condition": {"param": "optimizer", "equals": "sgd"}}}

A conditional dimension exists only when a categorical parameter has a given value. Sampling is
define-by-run, as Optuna intends: parents are suggested first and a child only when its condition
holds, so a trial never carries a parameter that means nothing for it.

Everything a user can get wrong is refused here with the field to blame (`space.lr.low`), so a
bad space never becomes a sweep that fails trial after trial. Plain Python: no Django.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import BaseTrial

MAX_DIMENSIONS = 32
MAX_OBJECTIVES = 3
DEFAULT_GRID_POINTS = 5
MAX_GRID_POINTS_PER_AXIS = 1000
# GridSampler materialises the whole product; past this a grid is a typo, not a plan.
MAX_GRID_SIZE = 100_000
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DIRECTIONS = ("maximize", "minimize")

_NUMERIC_KEYS = {"type", "low", "high", "log", "step", "condition"}
_KEYS = {
    "float": _NUMERIC_KEYS,
    "int": _NUMERIC_KEYS,
    "categorical": {"type", "choices", "condition"},
}


class SearchSpaceError(ValueError):
    """A sweep's search settings are invalid: `field` names the culprit, str() says why.

    Raised for the space (`space.lr.low`), the objectives (`objectives[0].direction`), the
    strategy and its options (`strategy_options.sampler`) and the pruner (`pruner`), so the API
    and the pages can turn any of them into a field error with one `except`.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def choice_key(value: Any) -> tuple[str, Any]:
    """A key under which two values are the same choice.

    Python says `True == 1 == 1.0`; a categorical that held both `1` and `true` would let Optuna
    confuse them, so booleans are keyed apart from numbers (and `1` and `1.0` are one number).
    """
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    return (type(value).__name__, value)


# --- checks -------------------------------------------------------------------------------


def check_space(spec: Any) -> dict[str, dict]:
    """Validate a search space and return it normalised (ints get `step`, numbers get `log`).

    The result is accepted by `check_space` again unchanged, so it is what a sweep stores.
    """
    if not isinstance(spec, Mapping) or not spec:
        raise SearchSpaceError("space", "must be a non-empty object of {name: dimension}")
    if len(spec) > MAX_DIMENSIONS:
        raise SearchSpaceError(
            "space", f"has {len(spec)} dimensions; at most {MAX_DIMENSIONS} are allowed"
        )
    space: dict[str, dict] = {}
    for name, dimension in spec.items():
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise SearchSpaceError(
                f"space.{name}",
                "a parameter name starts with a letter or _ and holds only letters, digits and _",
            )
        space[name] = _check_dimension(f"space.{name}", dimension)
    _check_conditions(space)
    return space


def check_objectives(spec: Any) -> list[dict]:
    """Validate 1 to 3 objectives `[{"metric", "direction"}]`; the first is the primary one.

    A single object (the API's `"objective"`) is accepted too and returned as a list of one.
    """
    field = "objectives"
    if isinstance(spec, Mapping):
        spec, field = [spec], "objective"
    if not isinstance(spec, list | tuple) or not 1 <= len(spec) <= MAX_OBJECTIVES:
        raise SearchSpaceError(field, f"give 1 to {MAX_OBJECTIVES} objectives")
    objectives: list[dict] = []
    for index, item in enumerate(spec):
        where = f"{field}[{index}]" if field == "objectives" else field
        if not isinstance(item, Mapping):
            raise SearchSpaceError(where, 'an objective is {"metric": ..., "direction": ...}')
        for key in item:
            if key not in ("metric", "direction"):
                raise SearchSpaceError(f"{where}.{key}", "unknown key")
        metric, direction = item.get("metric"), item.get("direction")
        if not isinstance(metric, str) or not metric.strip():
            raise SearchSpaceError(f"{where}.metric", "must be the name of a metric")
        if direction not in DIRECTIONS:
            raise SearchSpaceError(
                f"{where}.direction", f"must be 'maximize' or 'minimize', not {direction!r}"
            )
        if any(objective["metric"] == metric for objective in objectives):
            raise SearchSpaceError(f"{where}.metric", f"{metric!r} is already an objective")
        objectives.append({"metric": metric, "direction": direction})
    return objectives


def _check_dimension(field: str, dimension: Any) -> dict:
    if not isinstance(dimension, Mapping):
        raise SearchSpaceError(field, 'must be an object such as {"type": "float", ...}')
    kind = dimension.get("type")
    if kind not in _KEYS:
        raise SearchSpaceError(
            f"{field}.type", f"unknown type {kind!r}; use 'float', 'int' or 'categorical'"
        )
    for key in dimension:
        if key not in _KEYS[kind]:
            raise SearchSpaceError(f"{field}.{key}", f"unknown key for a {kind} dimension")
    if kind == "categorical":
        checked = _check_choices(field, dimension.get("choices"))
    else:
        checked = _check_range(field, dimension, integer=kind == "int")
    condition = dimension.get("condition")
    if condition is not None:
        checked["condition"] = _check_condition_shape(f"{field}.condition", condition)
    return checked


def _check_range(field: str, dimension: Mapping, *, integer: bool) -> dict:
    low = _number(f"{field}.low", dimension.get("low"), integer=integer)
    high = _number(f"{field}.high", dimension.get("high"), integer=integer)
    if low >= high:
        raise SearchSpaceError(f"{field}.low", f"low ({low}) must be below high ({high})")
    log = dimension.get("log", False)
    if not isinstance(log, bool):
        raise SearchSpaceError(f"{field}.log", "must be true or false")
    if log and low <= 0:
        raise SearchSpaceError(f"{field}.low", "must be above 0 on a log scale")
    step = dimension.get("step")
    if step is not None:
        step = _number(f"{field}.step", step, integer=integer)
        if step <= 0:
            raise SearchSpaceError(f"{field}.step", "must be above 0")
        if log and step != 1:
            raise SearchSpaceError(f"{field}.step", "a log-scaled dimension takes no step")
        if log and not integer:
            raise SearchSpaceError(f"{field}.step", "a log-scaled float takes no step")
        if not _whole_steps(high - low, step):
            # Optuna would quietly move `high`; the user should know instead.
            raise SearchSpaceError(
                f"{field}.step", f"high - low must be a whole number of steps of {step}"
            )
    checked: dict[str, Any] = {"type": "int" if integer else "float", "low": low, "high": high}
    checked["log"] = log
    if integer:
        checked["step"] = step or 1
    elif step is not None:
        checked["step"] = step
    return checked


def _number(field: str, value: Any, *, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SearchSpaceError(field, "must be a number")
    if not math.isfinite(value):
        raise SearchSpaceError(field, "must be finite")
    if integer:
        if not float(value).is_integer():
            raise SearchSpaceError(field, "must be a whole number")
        return int(value)
    return float(value)


def _whole_steps(span: float, step: float) -> bool:
    count = span / step
    return abs(count - round(count)) <= 1e-9 * max(1.0, abs(count))


def _check_choices(field: str, choices: Any) -> dict:
    if not isinstance(choices, list | tuple) or not choices:
        raise SearchSpaceError(f"{field}.choices", "must be a non-empty list")
    seen: dict[tuple, int] = {}
    for index, choice in enumerate(choices):
        if choice is not None and not isinstance(choice, str | int | float | bool):
            raise SearchSpaceError(
                f"{field}.choices[{index}]", "a choice is a string, number, boolean or null"
            )
        if isinstance(choice, float) and not math.isfinite(choice):
            raise SearchSpaceError(f"{field}.choices[{index}]", "must be finite")
        key = choice_key(choice)
        if key in seen:
            raise SearchSpaceError(
                f"{field}.choices", f"{choice!r} is there twice (choices {seen[key]} and {index})"
            )
        seen[key] = index
    return {"type": "categorical", "choices": list(choices)}


def _check_condition_shape(field: str, condition: Any) -> dict:
    if not isinstance(condition, Mapping) or set(condition) != {"param", "equals"}:
        raise SearchSpaceError(field, 'must be {"param": name, "equals": value}')
    if not isinstance(condition["param"], str):
        raise SearchSpaceError(f"{field}.param", "must be a parameter name")
    return {"param": condition["param"], "equals": condition["equals"]}


def _check_conditions(space: dict[str, dict]) -> None:
    for name, dimension in space.items():
        condition = dimension.get("condition")
        if condition is None:
            continue
        field, parent = f"space.{name}.condition", condition["param"]
        if parent not in space or parent == name:
            raise SearchSpaceError(f"{field}.param", f"no other parameter is called {parent!r}")
        if space[parent]["type"] != "categorical":
            raise SearchSpaceError(
                f"{field}.param", f"{parent!r} is not categorical; a condition needs choices"
            )
        keys = {choice_key(choice) for choice in space[parent]["choices"]}
        if choice_key(condition["equals"]) not in keys:
            raise SearchSpaceError(
                f"{field}.equals", f"{condition['equals']!r} is not one of {parent!r}'s choices"
            )
    for name in space:
        _depth(space, name)


def _depth(space: dict[str, dict], name: str) -> int:
    """How many conditions stand above `name`; a cycle of conditions is refused."""
    chain = [name]
    while (condition := space[chain[-1]].get("condition")) is not None:
        if condition["param"] in chain:
            cycle = " -> ".join([*chain, condition["param"]])
            raise SearchSpaceError(f"space.{name}.condition.param", f"a cycle: {cycle}")
        chain.append(condition["param"])
    return len(chain) - 1


# --- sampling ------------------------------------------------------------------------------


def sampling_order(space: dict[str, dict]) -> list[str]:
    """Names with every parent before its children (otherwise in the spec's order)."""
    return sorted(space, key=lambda name: _depth(space, name))


def is_active(space: dict[str, dict], name: str, params: Mapping[str, Any]) -> bool:
    """Whether `name` exists for a trial whose parents are `params` (sampled so far)."""
    condition = space[name].get("condition")
    if condition is None:
        return True
    parent = condition["param"]
    return parent in params and choice_key(params[parent]) == choice_key(condition["equals"])


def sample_params(trial: BaseTrial, space: dict[str, dict]) -> dict[str, Any]:
    """Suggest the space on an Optuna trial, define-by-run: a child only when its parent says so."""
    params: dict[str, Any] = {}
    for name in sampling_order(space):
        if is_active(space, name, params):
            params[name] = _suggest(trial, name, space[name])
    return params


def _suggest(trial: BaseTrial, name: str, dimension: dict) -> Any:
    kind = dimension["type"]
    if kind == "categorical":
        return trial.suggest_categorical(name, dimension["choices"])
    if kind == "int":
        return trial.suggest_int(
            name, dimension["low"], dimension["high"], step=dimension["step"], log=dimension["log"]
        )
    return trial.suggest_float(
        name,
        dimension["low"],
        dimension["high"],
        log=dimension["log"],
        step=dimension.get("step"),
    )


def distribution(dimension: dict) -> BaseDistribution:
    """The Optuna distribution that `_suggest` draws `dimension` from."""
    kind = dimension["type"]
    if kind == "categorical":
        return CategoricalDistribution(dimension["choices"])
    if kind == "int":
        return IntDistribution(
            dimension["low"], dimension["high"], log=dimension["log"], step=dimension["step"]
        )
    return FloatDistribution(
        dimension["low"], dimension["high"], log=dimension["log"], step=dimension.get("step")
    )


def fitted_params(
    space: dict[str, dict], params: Mapping[str, Any], *, order: list[str] | None = None
) -> dict[str, Any] | None:
    """Stored params restricted to the space, as it would have sampled them; None when they
    do not fit it.

    Params fit when every parameter that is active for them is there and inside its dimension;
    the others (a run's params outside the space, a child whose condition does not hold) are
    dropped. Warm starts from another space or a space edited on resume may not fit; shown to
    a model, such a trial would shrink the search space it models, so it is left out instead.
    `order` is `sampling_order(space)`, for callers fitting many trials to one space.
    """
    fitted: dict[str, Any] = {}
    for name in order if order is not None else sampling_order(space):
        if not is_active(space, name, fitted):
            continue
        if name not in params:
            return None
        value = _fit(space[name], params[name])
        if value is _MISSING:
            return None
        fitted[name] = value
    return fitted


_MISSING = object()


def _fit(dimension: dict, value: Any) -> Any:
    kind = dimension["type"]
    if kind == "categorical":
        for choice in dimension["choices"]:
            if choice_key(choice) == choice_key(value):
                return choice
        return _MISSING
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return _MISSING
    if not dimension["low"] <= value <= dimension["high"]:
        return _MISSING
    step = dimension.get("step")
    if kind == "int":
        if not float(value).is_integer() or (int(value) - dimension["low"]) % step:
            return _MISSING
        return int(value)
    if step is not None and not _whole_steps(value - dimension["low"], step):
        return _MISSING
    return float(value)


class PreparedSpace:
    """A checked space made ready for fitting many trials to it: what every proposal needs of
    it, worked out once (see `prepared_space`).

    `fit(params)` is `fitted_params(space, params)`; `distributions` are the Optuna
    distributions of its dimensions, `order` their sampling order, `conditional` whether any
    dimension has a condition, `key` the space's JSON text.
    """

    def __init__(self, space: dict[str, dict], key: bytes) -> None:
        self.space = space
        self.key = key  # its JSON text: equal spaces, equal keys
        self.order = sampling_order(space)
        self.distributions = {name: distribution(dimension) for name, dimension in space.items()}
        self.conditional = any("condition" in dimension for dimension in space.values())
        # A choice's key -> the choice: `_fit`'s walk over the choices as one lookup (the
        # keys are distinct: `check_space` refuses a choice given twice).
        self._choices = {
            name: {choice_key(choice): choice for choice in dimension["choices"]}
            for name, dimension in space.items()
            if dimension["type"] == "categorical"
        }

    def fit(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """`fitted_params(space, params)`, without re-deriving the space for every trial."""
        if self.conditional:
            return fitted_params(self.space, params, order=self.order)
        fitted: dict[str, Any] = {}
        for name in self.order:
            if name not in params:
                return None
            value = params[name]
            choices = self._choices.get(name)
            if choices is not None:
                try:
                    value = choices.get(choice_key(value), _MISSING)
                except TypeError:  # an unhashable value (a list) is no choice
                    return None
            else:
                value = _fit(self.space[name], value)
            if value is _MISSING:
                return None
            fitted[name] = value
        return fitted


_PREPARED_SPACES: dict[bytes, PreparedSpace] = {}
_PREPARED_SPACES_LIMIT = 64


def prepared_space(space: dict[str, dict]) -> PreparedSpace:
    """The `PreparedSpace` of a checked space, made once per process per space.

    A sweep's space never changes, and every proposal of the sweep fits every past trial to
    it. Keyed by the space's JSON text in its own key order (the sampling order follows it), so
    equal spaces share one entry and a changed space can never get a stale one.
    """
    key = orjson.dumps(space)
    prepared = _PREPARED_SPACES.get(key)
    if prepared is None:
        if len(_PREPARED_SPACES) >= _PREPARED_SPACES_LIMIT:
            _PREPARED_SPACES.clear()
        prepared = _PREPARED_SPACES[key] = PreparedSpace(space, key)
    return prepared


# --- grid ----------------------------------------------------------------------------------


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
