"""Sweeps end to end in this process: trials become runs, results feed back, stop and resume
continue the numbering, bad trials are pruned, warm starts seed the strategy, and every change
is announced on the sweep's stream.

Trial runs are trained with the runner (`execute_run`) as a worker would; the runner writes from
helper threads with their own connections, so these tests commit (`transaction=True`).
"""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from pipelines.runner import execute_run
from pipelines.services import start_run
from pipelines.sweeps import create_sweep, fill_slots, resume_sweep, start_sweep, stop_sweep
from pipelines.training.callbacks import TrainingCallbacks
from pipelines.training.data import TrainingData
from pipelines.training.errors import TrainingStopped
from pipelines.training.trainer import train
from registry import services, streams
from registry.errors import Conflict, InvalidInput
from registry.models import (
    MetricPoint,
    Run,
    RunStatus,
    StreamEvent,
    Sweep,
    SweepStatus,
    SweepTrial,
    TrialState,
)
from tests.sweep_helpers import base_config, diagonal_table, train_queued_trials

ACCURACY = {"metric": "test_accuracy", "direction": "maximize"}
LEARNING_RATE = {"type": "float", "low": 1e-3, "high": 0.1, "log": True}


@pytest.fixture
def table(owner):
    return diagonal_table(owner)


def new_sweep(owner, experiment, table, **changes) -> Sweep:
    request = {
        "base_config": base_config(table),
        "space": {
            "learning_rate": LEARNING_RATE,
            "hidden_units": {"type": "int", "low": 8, "high": 32},
        },
        "strategy": "random",
        "objectives": ACCURACY,
        "n_trials": 4,
        "parallelism": 2,
        "seed": 7,
        **changes,
    }
    return create_sweep(owner=owner, experiment=experiment, **request)


def trials_of(sweep: Sweep) -> list[SweepTrial]:
    return list(SweepTrial.objects.filter(sweep=sweep).select_related("run").order_by("number"))


def sweep_events(sweep: Sweep, event_type: str) -> list[dict]:
    return list(
        StreamEvent.objects.filter(stream__name=streams.sweep_stream(sweep.pk), type=event_type)
        .order_by("seq")
        .values_list("payload", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_a_small_random_sweep_trains_its_trials_and_ends_with_the_best_one(
    owner, experiment, table
):
    sweep = new_sweep(owner, experiment, table, start=True)

    assert sweep.status == SweepStatus.RUNNING
    assert Run.objects.filter(trial__sweep=sweep, status=RunStatus.QUEUED).count() == 2
    outcomes = train_queued_trials(sweep)

    sweep.refresh_from_db()
    trials = trials_of(sweep)
    assert outcomes == ["succeeded"] * 4
    assert (sweep.status, sweep.error_text, sweep.next_number) == (SweepStatus.SUCCEEDED, "", 4)
    assert [trial.number for trial in trials] == [0, 1, 2, 3]
    assert all(trial.state == TrialState.COMPLETE for trial in trials)
    for trial in trials:
        run = trial.run
        assert run.name == f"{sweep.name} #{trial.number}"
        assert run.experiment_id == experiment.pk
        assert run.config["params"]["learning_rate"] == trial.params["learning_rate"]
        # One width is stored as the template expands it: a one-layer list.
        assert run.config["params"]["hidden_units"] == [trial.params["hidden_units"]]
        assert run.config["params"]["epochs"] == 6  # the base config's
        assert trial.values == [run.summary["test_accuracy"]]
        assert sorted(trial.intermediate, key=int) == ["1", "2", "3", "4", "5", "6"]
    assert len({trial.params["learning_rate"] for trial in trials}) == 4
    best = max(trials, key=lambda trial: (trial.values[0], -trial.number))
    status = sweep_events(sweep, "status")[-1]
    assert status["status"] == "succeeded"
    assert (status["n_complete"], status["n_running"], status["n_failed"]) == (4, 0, 0)
    assert status["best"] == {
        "number": best.number,
        "run": best.run_id,
        "values": best.values,
        "params": best.params,
    }


@pytest.mark.django_db(transaction=True)
def test_each_trial_is_announced_at_start_at_each_epoch_and_at_its_end(owner, experiment, table):
    sweep = new_sweep(owner, experiment, table, n_trials=1, parallelism=1, start=True)
    train_queued_trials(sweep)

    messages = sweep_events(sweep, "trial")
    trial = trials_of(sweep)[0]
    assert messages[0] == {
        "sweep": sweep.pk,
        "number": 0,
        "run": trial.run_id,
        "state": "running",
        "params": trial.params,
        "values": None,
        "pruned_at_step": None,
    }
    steps = [(message["step"], message["value"]) for message in messages if "step" in message]
    assert steps == [(step, trial.intermediate[str(step)]) for step in range(1, 7)]
    assert messages[-1]["state"] == "complete" and messages[-1]["values"] == trial.values
    assert len(messages) == 1 + 6 + 1


@pytest.mark.django_db
def test_a_trial_s_end_is_stored_once_and_announced_with_the_counts_and_best_trial(
    owner, experiment, table
):
    sweep = new_sweep(owner, experiment, table, n_trials=3)
    trials = [
        services.trial_allocate(sweep=sweep, propose=lambda rows, number: {"width": number})
        for _index in range(4)
    ]
    head = streams.stream_head(streams.sweep_stream(sweep.pk))

    ended = [
        services.trial_finish(trial=trials[0], state=TrialState.COMPLETE, values=[0.8]),
        services.trial_finish(trial=trials[1], state=TrialState.COMPLETE, values=[0.9]),
        services.trial_finish(
            trial=trials[2], state=TrialState.PRUNED, pruned_at_step=2, intermediate={1: 0.5}
        ),
    ]
    again = services.trial_finish(trial=trials[0], state=TrialState.FAILED)
    with pytest.raises(InvalidInput, match="finite"):
        services.trial_finish(trial=trials[3], state=TrialState.COMPLETE, values=[float("nan")])
    with pytest.raises(InvalidInput, match="1 values"):
        services.trial_finish(trial=trials[3], state=TrialState.COMPLETE, values=[0.1, 0.2])

    stored = trials_of(sweep)
    assert [(t.number, t.state, t.values, t.pruned_at_step) for t in stored] == [
        (0, TrialState.COMPLETE, [0.8], None),
        (1, TrialState.COMPLETE, [0.9], None),
        (2, TrialState.PRUNED, None, 2),
        (3, TrialState.RUNNING, None, None),  # refused values change nothing
    ]
    assert stored[2].intermediate == {"1": 0.5}
    assert [t.primary_value for t in stored] == [0.8, 0.9, None, None]
    assert [t.ended_at is not None for t in stored] == [True, True, True, False]
    for returned, row in zip(ended, stored[:3], strict=True):
        assert (returned.pk, returned.number, returned.state, returned.values) == (
            row.pk,
            row.number,
            row.state,
            row.values,
        )
        assert (returned.params, returned.ended_at) == (row.params, row.ended_at)
    assert (again.state, again.values) == (TrialState.COMPLETE, [0.8])  # the first end stands

    events = list(
        StreamEvent.objects.filter(stream__name=streams.sweep_stream(sweep.pk), seq__gt=head)
        .order_by("seq")
        .values_list("seq", "type", "payload")
    )
    assert [(seq - head, event_type) for seq, event_type, _payload in events] == [
        (1, "trial"),
        (2, "status"),
        (3, "trial"),
        (4, "status"),
        (5, "trial"),
        (6, "status"),
    ]
    assert events[4][2] == {
        "sweep": sweep.pk,
        "number": 2,
        "run": None,
        "state": "pruned",
        "params": {"width": 2},
        "values": None,
        "pruned_at_step": 2,
    }
    counts = [
        (p["n_complete"], p["n_running"], p["n_pruned"]) for _s, t, p in events if t == "status"
    ]
    assert counts == [(1, 3, 0), (2, 2, 0), (2, 1, 1)]
    # The objective is maximised: trial 1's 0.9 is the best once it is there.
    assert [p["best"]["number"] for _s, t, p in events if t == "status"] == [0, 1, 1]
    assert events[-1][2]["best"] == {
        "number": 1,
        "run": None,
        "values": [0.9],
        "params": {"width": 1},
    }


@pytest.mark.django_db
def test_a_proposal_sees_every_stored_trial_and_a_failed_one_gives_its_number_back(
    owner, experiment, table
):
    from django.db import transaction

    sweep = new_sweep(owner, experiment, table, n_trials=5)
    trials = [
        services.trial_allocate(sweep=sweep, propose=lambda rows, number: {"width": 10 + number})
        for _index in range(3)
    ]
    services.trial_finish(trial=trials[0], state=TrialState.COMPLETE, values=[0.8])
    services.trial_report_intermediate(trial=trials[1], step=1, value=0.5)
    services.trial_finish(trial=trials[1], state=TrialState.PRUNED, pruned_at_step=1)
    seen = []

    def refuse(rows, number):
        seen.append(([tuple(row) for row in rows], number))
        raise LookupError("no point left")

    with pytest.raises(LookupError):
        services.trial_allocate(sweep=sweep, propose=refuse)
    with transaction.atomic():  # inside a caller's transaction, which goes on
        with pytest.raises(LookupError):
            services.trial_allocate(sweep=sweep, propose=refuse)
        nxt = services.trial_allocate(sweep=sweep, propose=lambda rows, number: {"width": number})

    stored = [
        (0, {"width": 10}, "complete", [0.8], {}),
        (1, {"width": 11}, "pruned", None, {"1": 0.5}),
        (2, {"width": 12}, "running", None, {}),
    ]
    assert seen == [(stored, 3), (stored, 3)]
    assert (nxt.number, nxt.params, nxt.state) == (3, {"width": 3}, TrialState.RUNNING)
    assert [trial.number for trial in trials_of(sweep)] == [0, 1, 2, 3]
    sweep.refresh_from_db()
    assert sweep.next_number == 4
    assert (
        services.trial_allocate(
            sweep=sweep, propose=lambda rows, number: {"width": 0}, reads_trials=False
        ).number
        == 4
    )


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
@pytest.mark.django_db
def test_the_announced_best_trial_is_the_one_search_calls_best_ties_to_the_earliest(
    owner, experiment, table, direction
):
    from pipelines.search import TrialRecord, best_trial
    from registry.services.live import best_trial_summary, sweep_status_payload

    objective = {"metric": "test_accuracy", "direction": direction}
    sweep = new_sweep(owner, experiment, table, n_trials=8, objectives=objective)
    outcomes = [[0.5], [0.7], [0.7], [0.2], None, [0.2], [0.7], None]
    for number, values in enumerate(outcomes):
        trial = services.trial_allocate(sweep=sweep, propose=lambda rows, n: {"width": n})
        if values is not None:
            services.trial_finish(trial=trial, state=TrialState.COMPLETE, values=values)
        elif number == 4:
            services.trial_finish(trial=trial, state=TrialState.PRUNED, pruned_at_step=1)

    records = [
        TrialRecord(t.number, t.params, t.state, t.values, t.intermediate) for t in trials_of(sweep)
    ]
    expected = best_trial(records, [direction])
    assert expected is not None
    assert sweep_status_payload(sweep)["best"]["number"] == expected
    assert best_trial_summary(sweep)["number"] == expected
    assert sweep_events(sweep, "status")[-1]["best"]["number"] == expected


@pytest.mark.django_db(transaction=True)
def test_stopping_cancels_the_queued_trials_and_resuming_continues_the_numbering(
    owner, experiment, table
):
    sweep = new_sweep(owner, experiment, table, n_trials=3, parallelism=2, start=True)
    stopped = stop_sweep(sweep=sweep)

    assert stopped.status == SweepStatus.STOPPED
    assert [(trial.number, trial.state, trial.run.status) for trial in trials_of(sweep)] == [
        (0, TrialState.FAILED, RunStatus.CANCELLED),
        (1, TrialState.FAILED, RunStatus.CANCELLED),
    ]
    assert train_queued_trials(sweep) == []  # nothing launched while stopped
    with pytest.raises(Conflict):
        stop_sweep(sweep=sweep)

    resumed = resume_sweep(sweep=sweep)
    assert resumed.status == SweepStatus.RUNNING
    train_queued_trials(sweep)

    sweep.refresh_from_db()
    trials = trials_of(sweep)
    assert sweep.status == SweepStatus.SUCCEEDED
    assert [trial.number for trial in trials] == [0, 1, 2, 3, 4]
    # The two cancelled by the stop do not count toward n_trials: three more were trained.
    assert [trial.state for trial in trials[2:]] == [TrialState.COMPLETE] * 3
    assert len({trial.run_id for trial in trials}) == 5


@pytest.mark.django_db(transaction=True)
def test_a_sweep_starts_once_and_resumes_only_when_stopped(owner, experiment, table):
    sweep = new_sweep(owner, experiment, table)
    assert sweep.status == SweepStatus.QUEUED and not Run.objects.exists()

    with pytest.raises(Conflict):
        resume_sweep(sweep=sweep)
    start_sweep(sweep=sweep)
    with pytest.raises(Conflict):
        start_sweep(sweep=sweep)
    with pytest.raises(Conflict):
        resume_sweep(sweep=sweep)
    assert Run.objects.count() == 2


def _train_good_runs(owner, experiment, table, count: int) -> list[int]:
    runs = []
    for _index in range(count):
        run = start_run(
            owner=owner,
            experiment=experiment,
            name="good",
            config=base_config(table, learning_rate=0.05, epochs=10),
        )
        assert execute_run(run.pk) == "succeeded"
        runs.append(run.pk)
    return runs


@pytest.mark.django_db(transaction=True)
def test_warm_start_runs_become_the_first_trials_without_training_again(owner, experiment, table):
    warm = _train_good_runs(owner, experiment, table, 2)
    sweep = new_sweep(
        owner,
        experiment,
        table,
        base_config=base_config(table, epochs=10),
        warm_start_runs=warm,
        n_trials=1,
        parallelism=1,
        pruner="median",
    )

    trials = trials_of(sweep)
    assert [(trial.number, trial.warm_start, trial.run_id) for trial in trials] == [
        (0, True, None),
        (1, True, None),
    ]
    for trial, run_id in zip(trials, warm, strict=True):
        run = Run.objects.get(pk=run_id)
        assert trial.params == {"learning_rate": 0.05, "hidden_units": 16}
        assert trial.values == [run.summary["test_accuracy"]]
        assert trial.state == TrialState.COMPLETE
        history = MetricPoint.objects.filter(run_id=run_id, key="val_accuracy")
        assert trial.intermediate == {str(point.step + 1): point.value for point in history}
    assert sweep.warm_start_runs == warm

    start_sweep(sweep=sweep)
    train_queued_trials(sweep)
    trials = trials_of(sweep)
    assert [trial.number for trial in trials] == [0, 1, 2]
    assert trials[2].run is not None and not trials[2].warm_start
    assert Run.objects.count() == 3  # the warm-start runs were not trained again


@pytest.mark.django_db(transaction=True)
def test_the_median_pruner_stops_a_hopeless_trial_before_its_last_epoch(owner, experiment, table):
    # Five good runs are the pruner's history (it waits for five complete trials); the sweep
    # then picks between that learning rate and one too small to learn anything in 10 epochs.
    warm = _train_good_runs(owner, experiment, table, 5)
    sweep = create_sweep(
        owner=owner,
        experiment=experiment,
        base_config=base_config(table, epochs=10),
        space={"learning_rate": {"type": "categorical", "choices": [0.05, 1e-6]}},
        strategy="random",
        objectives=ACCURACY,
        n_trials=6,
        parallelism=1,
        pruner="median",
        seed=1,
        warm_start_runs=warm,
        start=True,
    )
    train_queued_trials(sweep)

    sweep.refresh_from_db()
    trained = [trial for trial in trials_of(sweep) if not trial.warm_start]
    hopeless = [trial for trial in trained if trial.params["learning_rate"] == 1e-6]
    good = [trial for trial in trained if trial.params["learning_rate"] == 0.05]
    assert sweep.status == SweepStatus.SUCCEEDED
    assert len(trained) == 6 and hopeless and good
    for trial in hopeless:
        step = trial.pruned_at_step
        assert trial.state == TrialState.PRUNED and trial.values is None
        assert 2 <= step < 10  # the pruner waits 2 warm-up epochs
        assert trial.run.status == RunStatus.CANCELLED
        assert trial.run.error_text == f"Pruned at epoch {step} (median pruner)"
        assert sorted(map(int, trial.intermediate)) == list(range(1, step + 1))
        epochs = MetricPoint.objects.filter(run_id=trial.run_id, key="val_accuracy").count()
        assert epochs == step
    assert all(trial.state == TrialState.COMPLETE for trial in good)
    status = sweep_events(sweep, "status")[-1]
    assert status["n_pruned"] == len(hopeless)


@pytest.mark.django_db(transaction=True)
def test_a_grid_sweep_ends_when_every_point_was_tried(owner, experiment, table):
    sweep = new_sweep(
        owner,
        experiment,
        table,
        strategy="grid",
        space={"hidden_units": {"type": "categorical", "choices": [8, 16, 32]}},
        n_trials=None,
        parallelism=2,
        start=True,
    )
    assert sweep.n_trials == 3

    train_queued_trials(sweep)
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.SUCCEEDED
    assert sorted(trial.params["hidden_units"] for trial in trials_of(sweep)) == [8, 16, 32]


@pytest.mark.django_db(transaction=True)
def test_a_trial_whose_end_was_not_recorded_is_reconciled_by_the_next_pass(
    owner, experiment, table
):
    sweep = new_sweep(owner, experiment, table, n_trials=1, parallelism=1, start=True)
    run = Run.objects.get(trial__sweep=sweep)
    # The run ends without telling the sweep (as if its worker died right after).
    Run.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error_text="killed")

    fill_slots(sweep.pk)

    sweep.refresh_from_db()
    assert trials_of(sweep)[0].state == TrialState.FAILED
    assert sweep.status == SweepStatus.FAILED
    assert sweep.error_text == "every trial failed; trial 0: killed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"space": {"learning_rate": {"type": "float", "low": 0.1, "high": 0.01}}},
            "space.learning_rate.low",
        ),
        (
            {"space": {"learning_rate": {"type": "float", "low": 0.01, "high": 20}}},
            "space.learning_rate",
        ),
        ({"space": {"epochs": {"type": "float", "low": 2, "high": 8}}}, "space.epochs.type"),
        ({"space": {"width": {"type": "int", "low": 2, "high": 8}}}, "space.width"),
        ({"objectives": {"metric": "test_rmse", "direction": "minimize"}}, "objective.metric"),
        ({"objectives": [ACCURACY, {"metric": "f1"}]}, "objectives[1].direction"),
        ({"n_trials": None}, "n_trials"),
        ({"parallelism": 0}, "parallelism"),
        ({"strategy": "annealing"}, "strategy"),
        (
            {"strategy": "bayesian", "strategy_options": {"sampler": "cmaes"}},
            "strategy_options.sampler",
        ),
        (
            {
                "pruner": "median",
                "objectives": [ACCURACY, {"metric": "test_loss", "direction": "minimize"}],
            },
            "pruner",
        ),
        ({"warm_start_runs": [123456]}, "warm_start_runs"),
    ],
)
def test_a_bad_request_is_refused_at_its_field_and_stores_nothing(
    owner, experiment, table, changes, field
):
    with pytest.raises(InvalidInput) as refused:
        new_sweep(owner, experiment, table, **changes)

    assert refused.value.field == field, refused.value.message
    assert refused.value.message.startswith(field)
    assert not Sweep.objects.exists() and not Run.objects.exists()


@pytest.mark.django_db
def test_the_base_config_is_checked_as_a_run_s_would_be(owner, experiment, table):
    config = {**base_config(table), "template": "random_forest", "params": {}}
    with pytest.raises(InvalidInput) as unknown_template:
        new_sweep(owner, experiment, table, base_config={**config, "template": "transformer"})
    with pytest.raises(InvalidInput) as no_epochs:
        new_sweep(
            owner,
            experiment,
            table,
            base_config=config,
            space={"n_estimators": {"type": "int", "low": 5, "high": 20}},
            pruner="median",
        )

    assert unknown_template.value.field == "base_config.template"
    assert no_epochs.value.field == "pruner"
    assert "nothing to prune" in no_epochs.value.message


def test_a_torch_loop_stops_when_the_prune_hook_says_so():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    data = TrainingData(
        x_train=x[:40],
        y_train=y[:40],
        x_val=x[40:50],
        y_val=y[40:50],
        x_test=x[50:],
        y_test=y[50:],
        task="classification",
        label_names=["no", "yes"],
        feature_names=["a", "b", "c"],
    )
    reported, asked = [], []

    def should_prune(epoch: int, metrics: dict) -> str | None:
        asked.append((epoch, "val_accuracy" in metrics))
        return "Pruned at epoch 2 (median pruner)" if epoch == 1 else None

    callbacks = TrainingCallbacks(
        on_epoch_end=lambda epoch, metrics: reported.append(epoch),
        should_prune=should_prune,
        log=lambda line: None,
    )
    with pytest.raises(TrainingStopped) as stopped:
        train("mlp", {"epochs": 5}, data, device="cpu", seed=0, callbacks=callbacks)

    assert stopped.value.reason == "Pruned at epoch 2 (median pruner)"
    assert reported == [0, 1] and asked == [(0, True), (1, True)]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_command_creates_a_sweep_and_follows_it_to_the_end(
    owner, experiment, table, tmp_path, capsys
):
    import json

    warm = _train_good_runs(owner, experiment, table, 1)
    request = {
        "experiment": experiment.pk,
        "name": "one point",
        "base_config": base_config(table, epochs=10),
        "space": {"learning_rate": {"type": "categorical", "choices": [0.05]}},
        "strategy": "grid",
        "objective": ACCURACY,
        "warm_start_runs": warm,
    }
    config_file = tmp_path / "sweep.json"
    config_file.write_text(json.dumps(request))

    call_command("sweep", str(config_file), "--user", owner.username, "--wait")

    output = capsys.readouterr().out
    sweep = Sweep.objects.get()
    assert f"sweep {sweep.pk} succeeded (one point)" in output
    assert "0/1 trials" in output  # the only grid point was a warm start: nothing trained
    assert f"best: trial 0 (run None): test_accuracy = {sweep.trials.get().values[0]:.4f}" in output
    config_file.write_text(
        json.dumps({**request, "space": {"epochs": {"type": "float", "low": 1, "high": 2}}})
    )
    with pytest.raises(CommandError, match=r"space\.epochs\.type"):
        call_command("sweep", str(config_file), "--user", owner.username)
    assert Sweep.objects.count() == 1
    config_file.write_text(json.dumps({**request, "experiment": True}))
    with pytest.raises(CommandError, match=r"experiment must be an experiment id or a name"):
        call_command("sweep", str(config_file), "--user", owner.username)
    assert Sweep.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_launches_at_once_never_share_a_trial_number(owner, experiment, table):
    """Allocation happens under the sweep row's lock: concurrent callers get 0, 1, 2, ..."""
    import threading

    from django.db import connection

    sweep = new_sweep(owner, experiment, table, n_trials=8, parallelism=8)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def allocate() -> None:
        try:
            for _index in range(4):
                trial = services.trial_allocate(
                    sweep=sweep, propose=lambda trials, number: {"learning_rate": 0.01}
                )
                numbers.append(trial.number)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(numbers) == list(range(8))
    sweep.refresh_from_db()
    assert sweep.next_number == 8


@pytest.mark.django_db(transaction=True)
def test_operators_stop_and_resume_sweeps_in_the_admin(owner, experiment, table, client):
    from tests.factories import UserFactory

    operator = UserFactory(username="otto_operator", is_staff=True, is_superuser=True)
    client.force_login(operator)
    sweep = new_sweep(owner, experiment, table, start=True)

    assert client.get("/admin/registry/sweep/").status_code == 200
    page = client.get(f"/admin/registry/sweep/{sweep.pk}/change/")
    assert page.status_code == 200 and b"trial" in page.content.lower()
    assert client.get("/admin/registry/sweeptrial/").status_code == 200

    changelist = "/admin/registry/sweep/"
    client.post(changelist, {"action": "stop_sweeps", "_selected_action": [sweep.pk]})
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.STOPPED
    assert {trial.run.status for trial in trials_of(sweep)} == {RunStatus.CANCELLED}

    client.post(changelist, {"action": "resume_sweeps", "_selected_action": [sweep.pk]})
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.RUNNING
    assert [trial.number for trial in trials_of(sweep)] == [0, 1, 2, 3]
