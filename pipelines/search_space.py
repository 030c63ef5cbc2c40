"""Search spaces of sweeps: the JSON spec and its checks (sampling: `search_sampling`; the
grid: `search_grid`).

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
        if not whole_steps(high - low, step):
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


def whole_steps(span: float, step: float) -> bool:
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
        depth(space, name)


def depth(space: dict[str, dict], name: str) -> int:
    """How many conditions stand above `name`; a cycle of conditions is refused."""
    chain = [name]
    while (condition := space[chain[-1]].get("condition")) is not None:
        if condition["param"] in chain:
            cycle = " -> ".join([*chain, condition["param"]])
            raise SearchSpaceError(f"space.{name}.condition.param", f"a cycle: {cycle}")
        chain.append(condition["param"])
    return len(chain) - 1
