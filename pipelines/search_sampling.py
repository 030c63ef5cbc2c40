"""How a trial samples a sweep's search space, and how a stored trial's params are fitted back
to it (define-by-run: parents first, a child only when its condition holds). Plain Python: no
Django. The space itself, its JSON spec and its checks are `pipelines.search_space`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import BaseTrial

from pipelines.search_space import choice_key, depth, whole_steps


def sampling_order(space: dict[str, dict]) -> list[str]:
    """Names with every parent before its children (otherwise in the spec's order)."""
    return sorted(space, key=lambda name: depth(space, name))


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
    if step is not None and not whole_steps(value - dimension["low"], step):
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
