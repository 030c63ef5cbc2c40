"""pipelines.search: spaces, strategies over stored trials, pruning and results (no database)."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable

import numpy as np
import optuna
import pytest

from pipelines.search import (
    BayesianSearch,
    GridExhausted,
    GridSearch,
    RandomSearch,
    SearchSpaceError,
    SearchStrategy,
    TrialRecord,
    best_trial,
    check_objectives,
    check_space,
    grid_size,
    param_importances,
    pareto_front,
    should_prune,
    strategy_for,
)
from pipelines.search_grid import grid_values
from pipelines.search_sampling import fitted_params, prepared_space, sample_params
from pipelines.search_trials import (
    MODEL_HISTORY_BEST,
    bare_trial,
    frozen_trials,
    make_study,
    model_history,
    trial_seed,
)

SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
    "width": {"type": "int", "low": 16, "high": 256, "step": 16},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
    "momentum": {
        "type": "float",
        "low": 0.5,
        "high": 0.99,
        "condition": {"param": "optimizer", "equals": "sgd"},
    },
}
CUBE = {name: {"type": "float", "low": -5.0, "high": 5.0} for name in ("x", "y", "z")}


def shifted_quadratic(params: dict) -> float:
    return (params["x"] - 1.3) ** 2 + (params["y"] + 0.7) ** 2 + (params["z"] - 2.1) ** 2


def space_loss(params: dict) -> float:
    momentum = params.get("momentum", 0.7)
    return (math.log10(params["lr"]) + 2) ** 2 + params["width"] / 256 + (momentum - 0.9) ** 2


def sweep(
    strategy: SearchStrategy,
    space: dict,
    objective: Callable[[dict], float],
    *,
    seed: int,
    n_trials: int,
    parallelism: int = 1,
) -> list[TrialRecord]:
    """Runs a sweep as the workers would: each trial is proposed with every trial so far, the
    last `parallelism - 1` of them still running."""
    trials: list[TrialRecord] = []
    for number in range(n_trials):
        params = strategy.propose(space, trials, directions=["minimize"], seed=seed, number=number)
        trials.append(TrialRecord(number, params, "running", None, {}))
        for record in trials:
            if record.state == "running" and record.number <= number - parallelism + 1:
                record.state, record.values = "complete", [objective(record.params)]
    return trials


def complete(number: int, params: dict, *values: float, intermediate=None) -> TrialRecord:
    return TrialRecord(number, params, "complete", list(values), intermediate or {})


# --- the space -----------------------------------------------------------------------------


def test_a_valid_space_comes_back_normalised_and_checks_again_unchanged():
    space = check_space(SPACE)

    assert space == {
        "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
        "width": {"type": "int", "low": 16, "high": 256, "log": False, "step": 16},
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
        "momentum": {
            "type": "float",
            "low": 0.5,
            "high": 0.99,
            "log": False,
            "condition": {"param": "optimizer", "equals": "sgd"},
        },
    }
    assert check_space(space) == space


def dimension(**changes):
    return {"lr": {"type": "float", "low": 0.001, "high": 0.1, **changes}}


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ([], "space", "non-empty object"),
        ({}, "space", "non-empty object"),
        ({"lr": {"type": "normal"}}, "space.lr.type", "unknown type 'normal'"),
        ({"lr": 0.1}, "space.lr", "must be an object"),
        (dimension(low=0.1, high=0.001), "space.lr.low", "must be below high"),
        (dimension(low=0.1, high=0.1), "space.lr.low", "must be below high"),
        (dimension(low=0.0, log=True), "space.lr.low", "above 0 on a log scale"),
        (dimension(low=-1.0, log=True), "space.lr.low", "above 0 on a log scale"),
        (dimension(low="0.001"), "space.lr.low", "must be a number"),
        (dimension(high=True), "space.lr.high", "must be a number"),
        (dimension(high=float("inf")), "space.lr.high", "must be finite"),
        (dimension(log="yes"), "space.lr.log", "true or false"),
        (dimension(step=0.0), "space.lr.step", "must be above 0"),
        (dimension(step=0.03), "space.lr.step", "whole number of steps"),
        (dimension(step=0.011, log=True), "space.lr.step", "takes no step"),
        (dimension(lo=0.001), "space.lr.lo", "unknown key"),
        ({"n": {"type": "int", "low": 1.5, "high": 4}}, "space.n.low", "whole number"),
        ({"n": {"type": "int", "low": 1, "high": 10, "step": 4}}, "space.n.step", "whole number"),
        ({"n": {"type": "int", "low": 1, "high": 9, "step": 2, "log": True}}, "space.n.step", ""),
        ({"act": {"type": "categorical", "choices": []}}, "space.act.choices", "non-empty"),
        ({"act": {"type": "categorical"}}, "space.act.choices", "non-empty"),
        (
            {"act": {"type": "categorical", "choices": ["relu", "gelu", "relu"]}},
            "space.act.choices",
            "'relu' is there twice (choices 0 and 2)",
        ),
        (
            {"k": {"type": "categorical", "choices": [1, 1.0]}},
            "space.k.choices",
            "there twice",
        ),
        (
            {"k": {"type": "categorical", "choices": [1, [2]]}},
            "space.k.choices[1]",
            "string, number, boolean or null",
        ),
        ({"9lives": {"type": "int", "low": 1, "high": 9}}, "space.9lives", "starts with a letter"),
        ({"lr-rate": {"type": "int", "low": 1, "high": 9}}, "space.lr-rate", "only letters"),
    ],
)
def test_a_bad_space_is_refused_with_the_field_to_blame(spec, field, message):
    with pytest.raises(SearchSpaceError) as caught:
        check_space(spec)

    assert caught.value.field == field
    assert message in str(caught.value)


def with_condition(condition, parent_type="categorical"):
    parent = (
        {"type": "categorical", "choices": ["adam", "sgd"]}
        if parent_type == "categorical"
        else {"type": "int", "low": 1, "high": 3}
    )
    return {
        "optimizer": parent,
        "momentum": {"type": "float", "low": 0.5, "high": 0.99, "condition": condition},
    }


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            with_condition({"param": "optimiser", "equals": "sgd"}),
            "space.momentum.condition.param",
            "no other parameter is called 'optimiser'",
        ),
        (
            with_condition({"param": "optimizer", "equals": 2}, parent_type="int"),
            "space.momentum.condition.param",
            "'optimizer' is not categorical",
        ),
        (
            with_condition({"param": "optimizer", "equals": "rmsprop"}),
            "space.momentum.condition.equals",
            "'rmsprop' is not one of 'optimizer''s choices",
        ),
        (
            with_condition({"param": "momentum", "equals": 0.9}),
            "space.momentum.condition.param",
            "no other parameter",
        ),
        (
            with_condition({"param": "optimizer"}),
            "space.momentum.condition",
            '{"param": name, "equals": value}',
        ),
        (
            {
                "a": {
                    "type": "categorical",
                    "choices": [1, 2],
                    "condition": {"param": "b", "equals": 1},
                },
                "b": {
                    "type": "categorical",
                    "choices": [1, 2],
                    "condition": {"param": "a", "equals": 1},
                },
            },
            "space.a.condition.param",
            "a cycle: a -> b -> a",
        ),
    ],
)
def test_a_bad_condition_is_refused_with_the_field_to_blame(spec, field, message):
    with pytest.raises(SearchSpaceError) as caught:
        check_space(spec)

    assert caught.value.field == field
    assert message in str(caught.value)


def test_a_space_of_32_dimensions_is_accepted_and_33_refused():
    space = {f"p{index}": {"type": "int", "low": 0, "high": 1} for index in range(32)}
    assert len(check_space(space)) == 32

    space["p32"] = {"type": "int", "low": 0, "high": 1}
    with pytest.raises(SearchSpaceError) as caught:
        check_space(space)
    assert (caught.value.field, str(caught.value)) == (
        "space",
        "has 33 dimensions; at most 32 are allowed",
    )


def test_true_and_1_are_different_choices_and_a_condition_tells_them_apart():
    space = check_space(
        {
            "flag": {"type": "categorical", "choices": [1, True]},
            "extra": {
                "type": "int",
                "low": 0,
                "high": 3,
                "condition": {"param": "flag", "equals": True},
            },
        }
    )

    assert fitted_params(space, {"flag": True, "extra": 2}) == {"flag": True, "extra": 2}
    assert fitted_params(space, {"flag": 1}) == {"flag": 1}
    # `extra` does not exist when flag is 1: it is dropped, as are params outside the space.
    assert fitted_params(space, {"flag": 1, "extra": 2, "epochs": 5}) == {"flag": 1}
    assert fitted_params(space, {"flag": True}) is None  # `extra` is missing
    assert fitted_params(space, {"flag": True, "extra": 4}) is None  # out of range


def test_objectives_are_checked_with_the_field_to_blame():
    assert check_objectives(
        [
            {"metric": "val_accuracy", "direction": "maximize"},
            {"metric": "duration_s", "direction": "minimize"},
        ]
    ) == [
        {"metric": "val_accuracy", "direction": "maximize"},
        {"metric": "duration_s", "direction": "minimize"},
    ]
    assert check_objectives({"metric": "loss", "direction": "minimize"}) == [
        {"metric": "loss", "direction": "minimize"}
    ]
    cases = [
        ([], "objectives", "give 1 to 3 objectives"),
        ([{"metric": f"m{i}", "direction": "maximize"} for i in range(4)], "objectives", "1 to 3"),
        (
            [{"metric": "a", "direction": "maximize"}, {"metric": "b", "direction": "up"}],
            "objectives[1].direction",
            "must be 'maximize' or 'minimize', not 'up'",
        ),
        ([{"metric": "", "direction": "maximize"}], "objectives[0].metric", "name of a metric"),
        (
            [{"metric": "a", "direction": "maximize"}, {"metric": "a", "direction": "minimize"}],
            "objectives[1].metric",
            "'a' is already an objective",
        ),
        ({"metric": "a", "direction": "max"}, "objective.direction", "not 'max'"),
        ([{"metric": "a", "direction": "maximize", "w": 2}], "objectives[0].w", "unknown key"),
    ]
    for spec, field, message in cases:
        with pytest.raises(SearchSpaceError) as caught:
            check_objectives(spec)
        assert caught.value.field == field
        assert message in str(caught.value)


@pytest.mark.parametrize(
    ("name", "options", "field", "message"),
    [
        ("annealing", None, "strategy", "unknown strategy 'annealing'"),
        ("bayesian", {"sampler": "cmaes"}, "strategy_options.sampler", "needs the 'cmaes'"),
        ("bayesian", {"sampler": "smac"}, "strategy_options.sampler", "unknown sampler 'smac'"),
        ("bayesian", {"n_startup_trials": 0}, "strategy_options.n_startup_trials", "1 to 1000"),
        ("bayesian", {"gamma": 0.2}, "strategy_options.gamma", "unknown option"),
        ("random", {"sampler": "tpe"}, "strategy_options.sampler", "unknown option"),
        ("grid", {"grid_points": 1}, "strategy_options.grid_points", "between 2 and 1000"),
        ("grid", {"grid_points": 2.5}, "strategy_options.grid_points", "whole number"),
        ("grid", [], "strategy_options", "must be an object"),
    ],
)
def test_a_bad_strategy_is_refused_with_the_field_to_blame(name, options, field, message):
    with pytest.raises(SearchSpaceError) as caught:
        strategy_for(name, options)

    assert caught.value.field == field
    assert message in str(caught.value)


def test_strategies_are_found_by_name_with_their_options():
    assert isinstance(strategy_for("random"), RandomSearch)
    assert strategy_for("grid", {"grid_points": 7}).grid_points == 7
    assert strategy_for("bayesian").sampler == "tpe"
    assert strategy_for("bayesian", {"sampler": "gp"}).sampler == "gp"


# --- every strategy (the contract) ---------------------------------------------------------

STRATEGIES = {
    "random": lambda: RandomSearch(),
    "grid": lambda: GridSearch(grid_points=4),
    "tpe": lambda: BayesianSearch(),
}
GRID_FRIENDLY = {name: dim for name, dim in SPACE.items() if name != "momentum"}


@pytest.mark.parametrize("name", STRATEGIES)
def test_the_same_history_seed_and_number_give_the_same_params(name):
    space = GRID_FRIENDLY if name == "grid" else SPACE
    history = sweep(STRATEGIES[name](), space, space_loss, seed=5, n_trials=15, parallelism=3)

    proposals = [
        STRATEGIES[name]().propose(space, history, directions=["minimize"], seed=5, number=15)
        for _ in range(2)
    ]
    shuffled = list(reversed(history))  # rows may come in any order
    again = STRATEGIES[name]().propose(space, shuffled, directions=["minimize"], seed=5, number=15)

    assert proposals[0] == proposals[1] == again
    assert fitted_params(check_space(space), proposals[0]) == proposals[0]


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_whole_sweep_runs_the_same_twice_and_differently_with_another_seed(name):
    space = GRID_FRIENDLY if name == "grid" else SPACE

    def run(seed):
        trials = sweep(STRATEGIES[name](), space, space_loss, seed=seed, n_trials=30, parallelism=2)
        return [record.params for record in trials]

    first = run(seed=11)
    assert run(seed=11) == first
    assert run(seed=12) != first


def test_the_gaussian_process_sampler_is_reproducible_too():
    history = sweep(RandomSearch(), CUBE, shifted_quadratic, seed=1, n_trials=12)
    gp = BayesianSearch(sampler="gp")

    first = gp.propose(CUBE, history, directions=["minimize"], seed=1, number=12)
    assert gp.propose(CUBE, history, directions=["minimize"], seed=1, number=12) == first
    assert set(first) == {"x", "y", "z"}


def test_bayesian_search_beats_random_search_on_a_shifted_quadratic():
    """Median, over 10 seeds, of the best value found in 40 trials (minimum 0 at (1.3,-0.7,2.1))."""

    def median_best(strategy):
        best = [
            min(
                record.values[0]
                for record in sweep(strategy, CUBE, shifted_quadratic, seed=s, n_trials=40)
            )
            for s in range(10)
        ]
        return float(np.median(best))

    tpe, random = median_best(BayesianSearch()), median_best(RandomSearch())

    assert tpe < random / 2, (tpe, random)


def test_conditional_params_appear_exactly_when_their_condition_holds():
    space = {
        "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
        "schedule": {
            "type": "categorical",
            "choices": ["cosine", "step"],
            "condition": {"param": "optimizer", "equals": "sgd"},
        },
        "step_size": {
            "type": "int",
            "low": 1,
            "high": 10,
            "condition": {"param": "schedule", "equals": "step"},
        },
        "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
    }
    expected_keys = {
        ("adam", None): {"optimizer", "lr"},
        ("sgd", "cosine"): {"optimizer", "schedule", "lr"},
        ("sgd", "step"): {"optimizer", "schedule", "step_size", "lr"},
    }

    def loss(params):
        return params["lr"] + params.get("step_size", 0) / 10

    for strategy in (RandomSearch(), BayesianSearch(n_startup_trials=5)):
        trials = sweep(strategy, space, loss, seed=3, n_trials=40, parallelism=2)
        branches = set()
        for record in trials:
            branch = (record.params["optimizer"], record.params.get("schedule"))
            assert set(record.params) == expected_keys[branch], record.params
            branches.add(branch)
        assert branches == set(expected_keys)


# --- grid ----------------------------------------------------------------------------------

GRID_SPACE = {
    "a": {"type": "int", "low": 1, "high": 3},
    "b": {"type": "categorical", "choices": ["x", None, True]},
    "lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True},
    "w": {"type": "int", "low": 0, "high": 100, "step": 10},
}
GRID_AXES = {
    "a": [1, 2, 3],
    "b": ["x", None, True],
    "lr": [0.001, 0.01, 0.1],
    "w": [0, 50, 100],
}
ALL_POINTS = {tuple(point) for point in itertools.product(*GRID_AXES.values())}


def point(params: dict) -> tuple:
    return tuple(params[name] for name in GRID_AXES)


def test_the_grid_has_the_choices_the_ints_and_evenly_spaced_floats():
    assert grid_values(check_space(GRID_SPACE), {"grid_points": 3}) == GRID_AXES
    assert grid_size(GRID_SPACE, {"grid_points": 3}) == 81
    axes = grid_values(
        check_space(
            {
                "d": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
                "u": {"type": "float", "low": 0.0, "high": 1.0},
                "n": {"type": "int", "low": 1, "high": 1000, "log": True},
                "k": {"type": "int", "low": 2, "high": 6, "step": 2},
            }
        ),
        {"grid_points": 4},
    )
    assert axes == {
        "d": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
        "u": [0.0, 0.333333333333, 0.666666666667, 1.0],  # 12 significant digits
        "n": [1, 10, 100, 1000],
        "k": [2, 4, 6],
    }


def test_grid_search_takes_every_point_once_then_is_exhausted():
    grid = GridSearch(grid_points=3)
    trials = []
    states = itertools.cycle(["running", "complete", "failed", "pruned"])
    for number in range(81):
        params = grid.propose(GRID_SPACE, trials, directions=["minimize"], seed=2, number=number)
        state = next(states)
        trials.append(TrialRecord(number, params, state, [0.5] if state == "complete" else None))

    assert {point(record.params) for record in trials} == ALL_POINTS
    assert len(trials) == len(ALL_POINTS)
    with pytest.raises(GridExhausted, match="all 81 points of the grid are taken"):
        grid.propose(GRID_SPACE, trials, directions=["minimize"], seed=2, number=81)


def test_grid_search_skips_points_that_warm_starts_already_hold():
    warm = [
        {"a": 1, "b": "x", "lr": 0.001, "w": 0},
        {"a": 3, "b": None, "lr": 0.1, "w": 50},
        {"a": 2, "b": True, "lr": 0.01, "w": 100},
        {"a": 2, "b": True, "lr": 0.05, "w": 100},  # off the grid: takes no point
    ]
    trials = [complete(number, params, 0.3) for number, params in enumerate(warm)]
    grid = GridSearch(grid_points=3)
    for number in range(len(warm), len(warm) + 78):
        params = grid.propose(GRID_SPACE, trials, directions=["minimize"], seed=9, number=number)
        trials.append(TrialRecord(number, params, "running", None))

    proposed = [point(record.params) for record in trials[len(warm) :]]
    assert len(set(proposed)) == 78
    assert set(proposed) == ALL_POINTS - {point(params) for params in warm[:3]}
    with pytest.raises(GridExhausted):
        grid.propose(GRID_SPACE, trials, directions=["minimize"], seed=9, number=82)


def test_a_grid_refuses_conditional_params_and_oversized_grids():
    with pytest.raises(SearchSpaceError) as caught:
        grid_size(SPACE)
    assert caught.value.field == "space.momentum.condition"

    huge = {f"p{index}": {"type": "float", "low": 0.0, "high": 1.0} for index in range(8)}
    with pytest.raises(SearchSpaceError) as caught:
        grid_size(huge)  # 5 ** 8 = 390,625 points
    assert (caught.value.field, str(caught.value)) == (
        "space",
        "the grid has 390,625 points; at most 100,000 are allowed",
    )


# --- pruning -------------------------------------------------------------------------------


def accuracy_history(count: int) -> list[TrialRecord]:
    """`count` complete trials whose validation accuracy climbs from ~0.5 to ~0.8."""
    return [
        complete(
            number,
            {"lr": 0.01},
            0.8 + 0.01 * number,
            intermediate={step: 0.4 + 0.1 * step + 0.01 * number for step in range(1, 5)},
        )
        for number in range(count)
    ]


def running(number: int, intermediate: dict) -> TrialRecord:
    return TrialRecord(number, {"lr": 0.01}, "running", None, intermediate)


def test_the_median_pruner_stops_a_clearly_bad_trial_after_the_warmup_and_keeps_a_good_one():
    history = accuracy_history(6)
    bad = running(6, {1: 0.10, 2: 0.12, 3: 0.15})
    good = running(7, {1: 0.55, 2: 0.66, 3: 0.77})

    def ask(trial, step, trials=history, pruner="median"):
        return should_prune(pruner, trials, trial, direction="maximize", step=step)

    assert ask(bad, 1) is False  # warm-up: steps below 2 are never pruned
    assert ask(bad, 2) is True
    assert [ask(good, step) for step in (1, 2, 3)] == [False, False, False]
    assert ask(bad, 2, trials=history[:4]) is False  # fewer than 5 trials have completed
    assert ask(bad, 2, pruner="none") is False
    # A running trial of the history is one of the "others" but not a completed one.
    assert ask(bad, 2, trials=[*history[:4], running(9, {1: 0.9, 2: 0.9})]) is False


def test_the_median_pruner_waits_a_quarter_of_the_trials_epochs():
    history = [
        complete(n, {"lr": 0.01}, 0.9, intermediate={step: 0.5 for step in range(1, 41)})
        for n in range(6)
    ]
    bad = running(6, {step: 0.1 for step in range(1, 11)})

    def ask(step, total_steps):
        return should_prune(
            "median", history, bad, direction="maximize", step=step, total_steps=total_steps
        )

    assert [ask(step, 40) for step in (2, 9, 10)] == [False, False, True]
    assert [ask(step, 4) for step in (1, 2)] == [False, True]  # never before step 2


def test_the_median_pruner_follows_the_direction():
    losses = [
        complete(n, {"lr": 0.01}, 0.2, intermediate={1: 1.0, 2: 0.8, 3: 0.6}) for n in range(5)
    ]
    high_loss = running(5, {1: 3.0, 2: 2.9})

    assert should_prune("median", losses, high_loss, direction="minimize", step=2) is True
    assert should_prune("median", losses, high_loss, direction="maximize", step=2) is False


def test_successive_halving_judges_a_trial_at_its_rungs_only():
    """Rungs at steps 1, 3, 9 (min resource 1, reduction factor 3): at a rung a trial goes on
    only in the top third of the trials that reached it."""
    history = accuracy_history(6)  # at step 1: 0.50 .. 0.55; at step 3: 0.70 .. 0.75
    late_bloomer = running(6, {1: 0.60, 2: 0.05, 3: 0.06})

    assert should_prune("halving", history, running(7, {1: 0.3}), direction="maximize", step=1)
    assert not should_prune("halving", history, late_bloomer, direction="maximize", step=1)
    # Step 2 is no rung: however bad its value, the trial is not judged there.
    assert not should_prune("halving", history, late_bloomer, direction="maximize", step=2)
    assert should_prune("halving", history, late_bloomer, direction="maximize", step=3)
    leader = running(8, {1: 0.60, 2: 0.70, 3: 0.90})
    assert not should_prune("halving", history, leader, direction="maximize", step=3)


def test_an_unknown_pruner_is_refused():
    with pytest.raises(SearchSpaceError) as caught:
        should_prune("hyperband", [], running(0, {1: 0.5}), direction="maximize", step=1)
    assert caught.value.field == "pruner"


# --- results -------------------------------------------------------------------------------


def test_the_best_trial_is_the_best_complete_one_and_the_earliest_on_ties():
    trials = [
        complete(0, {}, 0.7),
        complete(1, {}, 0.9),
        complete(2, {}, 0.9),
        TrialRecord(3, {}, "running", None),
        TrialRecord(4, {}, "pruned", None, {1: 0.99}),
        TrialRecord(5, {}, "failed", None),
        complete(6, {}, float("nan")),
        complete(7, {}, 0.2),
    ]

    assert best_trial(trials, ["maximize"]) == 1
    assert best_trial(trials, ["minimize"]) == 7
    assert best_trial(trials[3:6], ["minimize"]) is None


def test_the_pareto_front_is_the_non_dominated_set():
    # Objectives: minimise the first, maximise the second.
    values = {0: (1, 1), 1: (2, 3), 2: (3, 2), 3: (0.5, 0.5), 4: (2, 3), 5: (4, 4)}
    trials = [complete(number, {}, *pair) for number, pair in values.items()]
    trials += [TrialRecord(6, {}, "running", None), complete(7, {}, float("nan"), 9.0)]

    assert pareto_front(trials, ["minimize", "maximize"]) == [0, 1, 3, 4, 5]
    single = [complete(number, {}, pair[0]) for number, pair in values.items()]
    single.append(complete(6, {}, 0.5))
    assert pareto_front(single, ["minimize"]) == [3, 6]  # every trial tied for the best


def test_the_pareto_front_matches_a_brute_force_one_on_a_cloud_of_points():
    rng = np.random.default_rng(4)
    points = rng.normal(size=(300, 3)).round(1)  # rounded: ties and duplicates happen
    trials = [complete(number, {}, *row) for number, row in enumerate(points.tolist())]

    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b, strict=True)) and any(
            x < y for x, y in zip(a, b, strict=True)
        )

    expected = [
        number
        for number, row in enumerate(points)
        if not any(dominates(other, row) for other in points)
    ]
    assert pareto_front(trials, ["minimize"] * 3) == expected
    assert 3 < len(expected) < 300


def test_multi_objective_bayesian_search_proposes_with_pruned_trials_in_the_history():
    history = sweep(RandomSearch(), CUBE, shifted_quadratic, seed=0, n_trials=20)
    for record in history:
        record.values = [record.values[0], abs(record.params["x"])]
    history.append(TrialRecord(20, {"x": 0.0, "y": 0.0, "z": 0.0}, "pruned", None, {1: 3.0}))

    params = BayesianSearch().propose(
        CUBE, history, directions=["minimize", "minimize"], seed=0, number=21
    )

    assert set(params) == {"x", "y", "z"}


def test_importances_rank_the_parameter_that_drives_the_objective_above_noise():
    space = {
        "x": {"type": "float", "low": 0.0, "high": 1.0},
        "noise": {"type": "float", "low": 0.0, "high": 1.0},
        "act": {"type": "categorical", "choices": ["relu", "gelu"]},
    }
    trials = sweep(
        RandomSearch(),
        space,
        lambda params: 10 * (params["x"] - 0.3) ** 2 + 0.1 * (params["act"] == "gelu"),
        seed=0,
        n_trials=200,
    )

    importances = param_importances(space, trials, direction="minimize")

    assert set(importances) == {"x", "noise", "act"}
    assert importances["x"] > 3 * importances["noise"]
    assert sum(importances.values()) == pytest.approx(1.0)
    assert list(importances) == sorted(importances, key=importances.get, reverse=True)
    assert param_importances(space, trials[:1], direction="minimize") == {}


def test_importances_of_2000_trials_take_under_a_second():
    rng = np.random.default_rng(0)
    trials = [
        complete(n, {"x": float(x), "noise": float(z)}, float((x - 0.3) ** 2))
        for n, (x, z) in enumerate(rng.random((2500, 2)))
    ]
    space = {name: {"type": "float", "low": 0.0, "high": 1.0} for name in ("x", "noise")}

    started = time.process_time()  # CPU time: other processes' load does not count
    importances = param_importances(space, trials, direction="minimize", max_trials=2000)
    cpu_s = time.process_time() - started

    assert importances["x"] > importances["noise"]
    assert cpu_s < 1.0, cpu_s  # ~0.1 s here


# --- the history a model sees --------------------------------------------------------------


def test_a_long_sweep_shows_the_model_its_running_best_and_latest_trials():
    trials = [complete(n, {}, float((n * 37) % 1000)) for n in range(1000)]
    trials += [TrialRecord(n, {}, "failed", None) for n in range(1000, 1010)]
    trials += [TrialRecord(n, {}, "running", None) for n in range(1010, 1013)]

    shown = model_history(trials, ["minimize"], limit=128)

    numbers = [record.number for record in shown]
    best = sorted(range(1000), key=lambda n: (n * 37) % 1000)[:MODEL_HISTORY_BEST]
    latest = [n for n in range(999, -1, -1) if n not in best][: 128 - 3 - MODEL_HISTORY_BEST]
    assert numbers == sorted([*best, *latest, 1010, 1011, 1012])
    assert len(shown) == 128
    assert model_history(trials[:100], ["minimize"], limit=128) == trials[:100]


# --- the work a proposal does once ---------------------------------------------------------


def test_a_prepared_space_fits_trials_as_fitted_params_does():
    plain = check_space(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
            "drop": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
            "width": {"type": "int", "low": 16, "high": 256, "step": 16},
            "flag": {"type": "categorical", "choices": [1, True, "auto", None]},
        }
    )
    base = {"lr": 0.01, "drop": 0.2, "width": 32, "flag": "auto"}
    variants = [
        base,
        {**base, "extra": 3},
        {key: value for key, value in base.items() if key != "width"},
        {**base, "lr": 0.5},
        {**base, "drop": 0.25},
        {**base, "width": 40},
        {**base, "width": 32.0},
        {**base, "width": True},
        {**base, "lr": "0.01"},
        {**base, "lr": float("nan")},
        {**base, "flag": 1.0},
        {**base, "flag": True},
        {**base, "flag": None},
        {**base, "flag": "AUTO"},
        {**base, "flag": [1]},
    ]
    for space in (plain, check_space(SPACE)):
        prepared = prepared_space(space)
        for params in variants + [
            {**params, "optimizer": "sgd", "momentum": 0.9} for params in variants
        ]:
            assert prepared.fit(params) == fitted_params(space, params), params
    assert prepared_space(dict(plain)) is prepared_space(plain)


def test_tpe_over_a_space_without_conditions_proposes_what_optuna_s_own_tpe_would():
    """The joint space TPE is told (the space itself) is the one it would work out."""
    space = check_space(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
            "width": {"type": "int", "low": 16, "high": 256, "step": 16},
            "act": {"type": "categorical", "choices": ["relu", "gelu", "tanh"]},
            "fixed": {"type": "categorical", "choices": ["only"]},
        }
    )
    trials = sweep(
        BayesianSearch(),
        space,
        lambda p: space_loss({**p, "momentum": 0.9}),
        seed=5,
        n_trials=40,
        parallelism=3,
    )
    trials[7].state, trials[7].values, trials[7].intermediate = "pruned", None, {1: 3.0}
    trials[11].state, trials[11].values = "failed", None
    trials.append(complete(40, {"lr": 5.0, "width": 16, "act": "relu"}, 0.0))  # off the space

    def optuna_tpe(history: list[TrialRecord], number: int) -> dict:
        sampler = optuna.samplers.TPESampler(
            seed=trial_seed(5, number), multivariate=True, constant_liar=True
        )
        study = make_study(["minimize"], sampler)
        study.add_trials(frozen_trials(space, history, n_objectives=1))
        return sample_params(study.ask(), space)

    for size in (0, 3, 12, 41):
        history = trials[:size]
        ours = BayesianSearch().propose(
            space, history, directions=["minimize"], seed=5, number=size
        )
        assert ours == optuna_tpe(history, size), size


def test_the_trials_a_study_adopts_unchecked_pass_optuna_s_own_check():
    """OwnedTrial skips `Study.add_trial`'s check because frozen_trials and bare_trial build
    valid trials: Optuna's check, run here, agrees."""
    space = check_space(SPACE)
    trials = sweep(BayesianSearch(), space, space_loss, seed=3, n_trials=30, parallelism=3)
    trials[4].state, trials[4].values, trials[4].intermediate = "pruned", None, {1: 2.0, 2: 1.5}
    trials[6].state, trials[6].values = "failed", None
    trials[8].values = [float("nan")]
    trials.append(complete(30, {"lr": 0.01, "width": 64, "optimizer": "adam"}, 0.5, 7.0))
    built = [
        *frozen_trials(space, trials, n_objectives=1),
        *frozen_trials(space, trials, n_objectives=2),
        bare_trial(optuna.trial.TrialState.COMPLETE, value=0.3, intermediate={1: 0.4}),
        bare_trial(optuna.trial.TrialState.RUNNING, intermediate={1: 0.4}),
        bare_trial(optuna.trial.TrialState.FAIL, system_attrs={"completed_rung_0": 0.1}),
    ]
    assert {trial.state for trial in built} == {
        optuna.trial.TrialState.COMPLETE,
        optuna.trial.TrialState.PRUNED,
        optuna.trial.TrialState.RUNNING,
        optuna.trial.TrialState.FAIL,
    }
    for trial in built:
        optuna.trial.FrozenTrial._validate(trial)
