"""Validation of a sweep request, before anything is stored.

Everything a trial would trip over later is refused here with the field to blame: the base
config is checked as a run's would be (`check_run_config`), the space by `pipelines.search`,
and then every corner of the space (each range's ends, each choice) merged into the base params
is checked against the template's schema, so no proposal can become a run that fails to start.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines import search
from pipelines.run_config import check_run_config
from pipelines.search_sampling import fitted_params
from pipelines.sweep_objectives import (
    OBJECTIVE_METRICS,
    intermediate_history,
    intermediate_metric,
    objective_values,
)
from pipelines.training.templates import TemplateConfigError, check_params, get_template
from registry.errors import InvalidInput
from registry.models import Run, RunStatus, SweepPruner, SweepStrategy

MAX_NAME_CHARS = 180  # trial runs are named "<sweep name> #<number>" (200 characters at most)
MAX_TRIALS = 10_000
MAX_TIME_BUDGET_S = 30 * 86400
MAX_PARALLELISM = 64
MAX_WARM_START_RUNS = 100
# Corners checked one by one; a space with more combinations of ends and choices has each
# param's ends checked with the other params at their first corner.
MAX_CORNERS = 512


@dataclass(frozen=True)
class WarmStart:
    """A finished run told to the strategy as a trial: its params restricted to the space,
    its objective values and its per-epoch history of the primary objective."""

    run_id: int
    params: dict[str, Any]
    values: list[float]
    intermediate: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepRequest:
    """A checked sweep request, ready to store."""

    name: str
    base_config: dict[str, Any]
    space: dict[str, dict]
    strategy: str
    strategy_options: dict[str, Any]
    objectives: list[dict[str, str]]
    n_trials: int | None
    time_budget_s: int | None
    parallelism: int
    pruner: str
    seed: int
    warm_starts: list[WarmStart]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded_int(value: Any, field_name: str, low: int, high: int, *, optional: bool = False):
    if value is None and optional:
        return None
    if not _is_int(value) or not low <= value <= high:
        raise InvalidInput(f"{field_name}: an integer from {low} to {high}", field=field_name)
    return value


def _search_error(error: search.SearchSpaceError) -> InvalidInput:
    """A `pipelines.search` refusal as a field error ("space.lr.low", "objective.metric")."""
    return InvalidInput(f"{error.field}: {error}", field=error.field)


def _check_base_config(owner, raw: Any):
    try:
        return check_run_config(user=owner, raw=raw)
    except InvalidInput as error:
        if error.field in (None, "config"):
            raise InvalidInput("base_config: a run config object", field="base_config") from None
        name = error.field.replace("config", "base_config", 1)
        raise InvalidInput(f"base_config.{error.message}", field=name) from None


def _check_objectives(raw: Any, task: str) -> list[dict[str, str]]:
    """`raw` is one objective (errors at "objective.metric") or a list of them (errors at
    "objectives[0].metric", as `pipelines.search` names them)."""
    try:
        objectives = search.check_objectives(raw)
    except search.SearchSpaceError as error:
        raise _search_error(error) from None
    allowed = OBJECTIVE_METRICS[task]
    for index, objective in enumerate(objectives):
        where = "objective" if isinstance(raw, Mapping) else f"objectives[{index}]"
        if objective["metric"] not in allowed:
            raise InvalidInput(
                f"{where}.metric: {objective['metric']!r} is not a {task} metric; pick one of "
                f"{', '.join(allowed)}",
                field=f"{where}.metric",
            )
    return [dict(objective) for objective in objectives]


def _space_values(spec: dict) -> list:
    if spec["type"] == "categorical":
        return list(spec["choices"])
    return [spec["low"], spec["high"]]


def _corners(space: dict[str, dict]) -> list[dict[str, Any]]:
    """Each combination of range ends and choices (conditional params only where their
    condition holds), or, for a space with more than MAX_CORNERS, each param's values one at a
    time."""
    names = list(space)
    axes = [_space_values(space[name]) for name in names]
    n_combinations = 1
    for axis in axes:
        n_combinations *= len(axis)
    if n_combinations <= MAX_CORNERS:
        combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*axes)]
    else:
        first = {name: axis[0] for name, axis in zip(names, axes, strict=True)}
        combos = [
            {**first, name: value}
            for name, axis in zip(names, axes, strict=True)
            for value in axis[1:]
        ] or [first]
    return [_active_params(space, combo) for combo in combos]


def _active_params(space: dict[str, dict], combo: dict[str, Any]) -> dict[str, Any]:
    active = {}
    for name, value in combo.items():
        condition = space[name].get("condition")
        if condition is None or combo.get(condition.get("param")) == condition.get("equals"):
            active[name] = value
    return active


def _check_space_types(space: dict[str, dict], template) -> None:
    """A float range over an integer param would propose 12.7 epochs: refuse it here."""
    properties = template.param_schema.get("properties", {})
    for name, spec in space.items():
        declared = properties.get(name, {}).get("type")
        types = [declared] if isinstance(declared, str) else list(declared or [])
        if spec["type"] == "float" and types and "number" not in types:
            raise InvalidInput(
                f"space.{name}.type: {template.name}'s {name} takes integers; use int",
                field=f"space.{name}.type",
            )


def _check_corners(space: dict[str, dict], config, modality: str) -> None:
    template = get_template(config.template)
    _check_space_types(space, template)
    for corner in _corners(space):
        params = {**config.params, **corner}
        try:
            check_params(template.name, params, task=config.task, modality=modality)
        except TemplateConfigError as error:
            param = error.param or "params"
            name = f"space.{param}" if param in corner else f"base_config.params.{param}"
            shown = ", ".join(f"{key}={value!r}" for key, value in corner.items())
            raise InvalidInput(f"{name}: {error} (at {shown})", field=name) from None


def _check_space(raw: Any, config, modality: str) -> dict[str, dict]:
    try:
        space = search.check_space(raw)
    except search.SearchSpaceError as error:
        raise _search_error(error) from None
    _check_corners(space, config, modality)
    return space


def _unwrapped(dimension: dict, value: Any) -> Any:
    """A run stores params as its template completed them: one width given as a number is
    stored as a list of one (`hidden_units: 16` -> `[16]`). For a numeric dimension, such a
    list stands for its element."""
    if dimension["type"] != "categorical" and isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _warm_start(run: Run, space, objectives, config, *, with_history: bool) -> WarmStart:
    label = f"warm_start_runs: run {run.pk}"
    if run.status != RunStatus.SUCCEEDED:
        raise InvalidInput(f"{label} is {run.status}; only succeeded runs seed a sweep")
    if (run.config or {}).get("template") != config.template:
        raise InvalidInput(f"{label} did not train {config.template}")
    run_params = {
        name: _unwrapped(space[name], value) if name in space else value
        for name, value in run.config.get("params", {}).items()
    }
    params = fitted_params(space, run_params)
    if params is None:
        shown = ", ".join(f"{name}={run_params.get(name)!r}" for name in space)
        raise InvalidInput(f"{label} trained {shown}: not a point of the space")
    values = objective_values(run, objectives)
    if values is None:
        metrics = ", ".join(item["metric"] for item in objectives)
        raise InvalidInput(f"{label} has no finite value of {metrics}")
    history = {}
    if with_history:
        history = intermediate_history(run, intermediate_metric(objectives[0])[0])
    return WarmStart(run.pk, params, values, history)


def _check_warm_starts(owner, raw: Any, space, objectives, config, pruner) -> list[WarmStart]:
    if raw is None:
        return []
    if (
        not isinstance(raw, list)
        or not all(_is_int(item) and 0 < item < 2**63 for item in raw)
        or len(raw) > MAX_WARM_START_RUNS
    ):
        raise InvalidInput(
            f"warm_start_runs: a list of at most {MAX_WARM_START_RUNS} run ids",
            field="warm_start_runs",
        )
    if len(set(raw)) != len(raw):
        raise InvalidInput("warm_start_runs: each run once", field="warm_start_runs")
    runs = {run.pk: run for run in Run.objects.filter(pk__in=raw, experiment__owner=owner)}
    warm_starts = []
    for run_id in raw:
        if run_id not in runs:
            raise InvalidInput(f"warm_start_runs: run {run_id} not found", field="warm_start_runs")
        try:
            warm_starts.append(
                _warm_start(runs[run_id], space, objectives, config, with_history=pruner != "none")
            )
        except InvalidInput as error:
            raise InvalidInput(error.message, field="warm_start_runs") from None
    return warm_starts


def _check_budget(strategy, space, options, n_trials, time_budget_s) -> int | None:
    n_trials = _bounded_int(n_trials, "n_trials", 1, MAX_TRIALS, optional=True)
    _bounded_int(time_budget_s, "time_budget_s", 10, MAX_TIME_BUDGET_S, optional=True)
    if strategy == SweepStrategy.GRID:
        try:
            size = search.grid_size(space, options)
        except search.SearchSpaceError as error:
            raise _search_error(error) from None
        return size if n_trials is None else min(n_trials, size)
    if n_trials is None and time_budget_s is None:
        raise InvalidInput(
            "n_trials: give n_trials, time_budget_s or both (the sweep must end)",
            field="n_trials",
        )
    return n_trials


def _check_choices(strategy: Any, pruner: Any) -> None:
    if strategy not in SweepStrategy.values:
        raise InvalidInput(f"strategy: one of {', '.join(SweepStrategy.values)}", field="strategy")
    if pruner not in SweepPruner.values:
        raise InvalidInput(f"pruner: one of {', '.join(SweepPruner.values)}", field="pruner")


def _check_pruner(pruner: str, objectives, template) -> None:
    if pruner == SweepPruner.NONE:
        return
    if len(objectives) > 1:
        raise InvalidInput("pruner: pruning follows a single objective", field="pruner")
    if template.family != "torch":
        raise InvalidInput(
            f"pruner: {template.name} trains in one step, so there is nothing to prune; use none",
            field="pruner",
        )


def _check_strategy_options(strategy: str, options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInput("strategy_options: an object", field="strategy_options")
    try:
        search.strategy_for(strategy, dict(options))
    except search.SearchSpaceError as error:
        raise _search_error(error) from None
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"strategy_options: {error}", field="strategy_options") from None
    return dict(options)


def _check_name(name: Any, template_name: str, strategy: str) -> str:
    if name is None or (isinstance(name, str) and not name.strip()):
        return f"{template_name} {strategy} sweep"
    if not isinstance(name, str) or len(name.strip()) > MAX_NAME_CHARS:
        raise InvalidInput(f"name: at most {MAX_NAME_CHARS} characters", field="name")
    return name.strip()


def check_sweep_request(
    *,
    owner,
    name: Any,
    base_config: Any,
    space: Any,
    strategy: Any,
    strategy_options: Any,
    objectives: Any,
    n_trials: Any,
    time_budget_s: Any,
    parallelism: Any,
    pruner: Any,
    seed: Any,
    warm_start_runs: Any,
) -> SweepRequest:
    """The request checked field by field (raises `InvalidInput` naming the field); reads
    the dataset version and the warm-start runs, writes nothing.

    `objectives` is one `{"metric", "direction"}` (errors then say "objective.metric") or a
    list of them (the first is primary).
    """
    _check_choices(strategy, pruner)
    parallelism = _bounded_int(parallelism, "parallelism", 1, MAX_PARALLELISM)
    seed = _bounded_int(seed, "seed", 0, 2**31 - 1)
    config, version = _check_base_config(owner, base_config)
    template = get_template(config.template)
    checked_objectives = _check_objectives(objectives, config.task)
    checked_space = _check_space(space, config, version.dataset.modality)
    options = _check_strategy_options(strategy, strategy_options)
    _check_pruner(pruner, checked_objectives, template)
    budget = _check_budget(strategy, checked_space, options, n_trials, time_budget_s)
    warm_starts = _check_warm_starts(
        owner, warm_start_runs, checked_space, checked_objectives, config, pruner
    )
    return SweepRequest(
        name=_check_name(name, template.name, strategy),
        base_config=config.as_json(),
        space=checked_space,
        strategy=strategy,
        strategy_options=options,
        objectives=checked_objectives,
        n_trials=budget,
        time_budget_s=time_budget_s,
        parallelism=parallelism,
        pruner=pruner,
        seed=seed,
        warm_starts=warm_starts,
    )


def trial_config(base_config: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The run config of a trial: the base config with the trial's params over its params."""
    return {**base_config, "params": {**base_config.get("params", {}), **params}}


def directions_of(objectives: Sequence[Mapping[str, str]]) -> list[str]:
    return [objective["direction"] for objective in objectives]
