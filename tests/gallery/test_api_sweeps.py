"""The sweeps API: create (and start) with refusals at the field, read with trials, best trial
and Pareto front, start / stop / resume, importances, and who may see what."""

from __future__ import annotations

import pytest

from pipelines.sweeps import create_sweep
from registry import services
from registry.models import Run, RunStatus, Sweep, SweepTrial
from tests.sweep_helpers import base_config, diagonal_table, train_queued_trials

ACCURACY = {"metric": "test_accuracy", "direction": "maximize"}
NON_OWNERS = ["collaborator_client", "stranger_client"]


@pytest.fixture
def table(owner):
    return diagonal_table(owner)


def body_for(experiment, table, **changes) -> dict:
    return {
        "experiment": experiment.pk,
        "name": "learning rates",
        "base_config": base_config(table),
        "space": {
            "learning_rate": {"type": "float", "low": 1e-3, "high": 0.1, "log": True},
            "dropout": {"type": "float", "low": 0.0, "high": 0.5},
        },
        "strategy": "bayesian",
        "objective": ACCURACY,
        "n_trials": 3,
        "parallelism": 2,
        "seed": 5,
        **changes,
    }


@pytest.fixture
def sweep(owner, experiment, table):
    body = body_for(experiment, table)
    body.pop("experiment")
    return create_sweep(
        owner=owner,
        experiment=experiment,
        objectives=body.pop("objective"),
        **body,
    )


@pytest.mark.django_db(transaction=True)
def test_creating_a_sweep_starts_it_and_queues_the_first_trials(owner_client, experiment, table):
    response = owner_client.post("/api/v1/sweeps/", body_for(experiment, table), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "running" and body["name"] == "learning rates"
    assert body["objectives"] == [ACCURACY]
    assert body["space"]["learning_rate"]["log"] is True
    assert body["base_config"]["params"]["epochs"] == 6
    assert (body["n_started"], body["n_done"], body["next_number"]) == (2, 0, 2)
    assert [trial["number"] for trial in body["trials"]] == [0, 1]
    assert all(trial["state"] == "running" and trial["run"] for trial in body["trials"])
    assert body["best_trial"] is None and body["pareto"] == []
    runs = Run.objects.filter(pk__in=[trial["run"] for trial in body["trials"]])
    assert {run.status for run in runs} == {RunStatus.QUEUED}


@pytest.mark.django_db(transaction=True)
def test_a_finished_sweep_reads_back_with_its_best_trial(owner_client, sweep):
    owner_client.post(f"/api/v1/sweeps/{sweep.pk}/start/")
    train_queued_trials(sweep)

    body = owner_client.get(f"/api/v1/sweeps/{sweep.pk}/").json()

    assert body["status"] == "succeeded" and body["error"] == ""
    assert (body["n_started"], body["n_done"], body["n_complete"]) == (3, 3, 3)
    trials = body["trials"]
    assert [trial["state"] for trial in trials] == ["complete"] * 3
    assert all(trial["value"] == trial["values"][0] for trial in trials)
    best = max(trials, key=lambda trial: (trial["value"], -trial["number"]))
    assert body["best_trial"] == best
    assert best["number"] in body["pareto"]
    assert all(
        trial["value"] == best["value"] for trial in trials if trial["number"] in body["pareto"]
    )
    importances = owner_client.get(f"/api/v1/sweeps/{sweep.pk}/importances/").json()
    assert importances["n_trials"] == 3
    assert set(importances["importances"]) == {"learning_rate", "dropout"}
    assert sum(importances["importances"].values()) == pytest.approx(1.0)


@pytest.mark.django_db(transaction=True)
def test_stop_and_resume_through_the_api(owner_client, sweep, assert_error):
    started = owner_client.post(f"/api/v1/sweeps/{sweep.pk}/start/")
    assert started.status_code == 200 and started.json()["status"] == "running"
    assert_error(owner_client.post(f"/api/v1/sweeps/{sweep.pk}/start/"), 409, "conflict")

    stopped = owner_client.post(f"/api/v1/sweeps/{sweep.pk}/stop/").json()
    assert stopped["status"] == "stopped"
    assert [trial["state"] for trial in stopped["trials"]] == ["failed", "failed"]
    assert_error(owner_client.post(f"/api/v1/sweeps/{sweep.pk}/stop/"), 409, "conflict")

    resumed = owner_client.post(f"/api/v1/sweeps/{sweep.pk}/resume/").json()
    assert resumed["status"] == "running"
    assert [trial["number"] for trial in resumed["trials"]] == [0, 1, 2, 3]


@pytest.mark.django_db
def test_start_false_creates_a_queued_sweep_without_runs(owner_client, experiment, table):
    response = owner_client.post(
        "/api/v1/sweeps/", body_for(experiment, table, start=False), format="json"
    )

    assert response.status_code == 201
    assert response.json()["status"] == "queued" and response.json()["trials"] == []
    assert not Run.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base_config": {"template": "mlp"}}, "base_config.dataset_version"),
        ({"base_config": "mlp"}, "base_config"),
        (
            {"space": {"learning_rate": {"type": "float", "low": 0.5, "high": 0.1}}},
            "space.learning_rate.low",
        ),
        ({"space": {"dropout": {"type": "float", "low": 0.0, "high": 1.5}}}, "space.dropout"),
        (
            {"space": {"batch_size": {"type": "float", "low": 8, "high": 64}}},
            "space.batch_size.type",
        ),
        ({"objective": {"metric": "val_rmse", "direction": "minimize"}}, "objective.metric"),
        ({"objective": {"metric": "test_accuracy", "direction": "up"}}, "objective.direction"),
        ({"n_trials": "many"}, "n_trials"),
        ({"n_trials": 0}, "n_trials"),
        ({"n_trials": None}, "n_trials"),
        ({"time_budget_s": 1}, "time_budget_s"),
        ({"parallelism": 100}, "parallelism"),
        ({"strategy": "evolution"}, "strategy"),
        ({"strategy_options": {"sampler": "annealing"}}, "strategy_options.sampler"),
        ({"pruner": "patience"}, "pruner"),
        ({"seed": -1}, "seed"),
        ({"warm_start_runs": [987654]}, "warm_start_runs"),
    ],
)
def test_a_bad_sweep_is_refused_at_its_field_and_nothing_is_stored(
    owner_client, experiment, table, assert_error, changes, field
):
    response = owner_client.post(
        "/api/v1/sweeps/", body_for(experiment, table, **changes), format="json"
    )

    assert_error(response, 400, "invalid", field=field)
    assert not Sweep.objects.exists() and not SweepTrial.objects.exists()
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_objective_or_objectives_but_not_both(owner_client, experiment, table, assert_error):
    both = body_for(experiment, table, objectives=[ACCURACY])
    neither = body_for(experiment, table)
    neither.pop("objective")

    assert_error(
        owner_client.post("/api/v1/sweeps/", both, format="json"), 400, "invalid", field="objective"
    )
    assert_error(
        owner_client.post("/api/v1/sweeps/", neither, format="json"),
        400,
        "invalid",
        field="objective",
    )
    assert not Sweep.objects.exists()


@pytest.mark.django_db
def test_several_objectives_are_stored_in_order_and_refuse_a_pruner(
    owner_client, experiment, table, assert_error
):
    objectives = [ACCURACY, {"metric": "test_loss", "direction": "minimize"}]
    body = body_for(experiment, table, objectives=objectives, start=False)
    body.pop("objective")

    refused = owner_client.post("/api/v1/sweeps/", {**body, "pruner": "median"}, format="json")
    assert_error(refused, 400, "invalid", field="pruner")
    assert not Sweep.objects.exists()
    created = owner_client.post("/api/v1/sweeps/", body, format="json")
    assert created.status_code == 201 and created.json()["objectives"] == objectives


@pytest.mark.django_db
def test_a_warm_start_run_of_someone_else_is_refused(
    owner_client, stranger, experiment, table, assert_error
):
    other_experiment = services.experiment_create(owner=stranger, name="theirs")
    theirs = services.run_create(owner=stranger, experiment=other_experiment, name="theirs")

    response = owner_client.post(
        "/api/v1/sweeps/", body_for(experiment, table, warm_start_runs=[theirs.pk]), format="json"
    )

    body = assert_error(response, 400, "invalid", field="warm_start_runs")
    assert f"run {theirs.pk} not found" in body["detail"]
    assert not Sweep.objects.exists()


# permissions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_clients_see_and_change_nothing(anonymous_client, sweep, assert_error):
    assert_error(anonymous_client.get("/api/v1/sweeps/"), 401, "not_authenticated")
    assert_error(anonymous_client.get(f"/api/v1/sweeps/{sweep.pk}/"), 401, "not_authenticated")
    assert_error(
        anonymous_client.post(f"/api/v1/sweeps/{sweep.pk}/start/"), 401, "not_authenticated"
    )
    sweep.refresh_from_db()
    assert sweep.status == "queued"


@pytest.mark.django_db
@pytest.mark.parametrize("other", NON_OWNERS)
def test_someone_else_s_sweep_is_a_404_for_every_action(
    request, owner_client, sweep, assert_error, other
):
    client = request.getfixturevalue(other)

    assert client.get("/api/v1/sweeps/").json()["results"] == []
    assert_error(client.get(f"/api/v1/sweeps/{sweep.pk}/"), 404, "not_found")
    for action in ("start", "stop", "resume"):
        assert_error(client.post(f"/api/v1/sweeps/{sweep.pk}/{action}/"), 404, "not_found")
    assert_error(client.get(f"/api/v1/sweeps/{sweep.pk}/importances/"), 404, "not_found")
    sweep.refresh_from_db()
    assert sweep.status == "queued" and not Run.objects.exists()
    assert [item["id"] for item in owner_client.get("/api/v1/sweeps/").json()["results"]] == [
        sweep.pk
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("other", NON_OWNERS)
def test_nobody_sweeps_in_someone_else_s_experiment(
    request, experiment, table, assert_error, other
):
    client = request.getfixturevalue(other)

    response = client.post("/api/v1/sweeps/", body_for(experiment, table), format="json")

    assert_error(response, 404, "not_found")
    assert not Sweep.objects.exists()


@pytest.mark.django_db
def test_unknown_ids_are_404s(owner_client, assert_error):
    assert_error(owner_client.get("/api/v1/sweeps/999999/"), 404, "not_found")
    assert_error(owner_client.get("/api/v1/sweeps/²/"), 404, "not_found")


@pytest.mark.django_db
def test_the_list_is_mine_filtered_and_paginated(
    owner_client, owner, experiment, sweep, table, assert_error
):
    other = services.experiment_create(owner=owner, name="another")
    body = body_for(other, table, start=False)
    owner_client.post("/api/v1/sweeps/", body, format="json")

    everything = owner_client.get("/api/v1/sweeps/").json()
    only_first = owner_client.get(f"/api/v1/sweeps/?experiment={experiment.pk}").json()
    running = owner_client.get("/api/v1/sweeps/?status=running").json()

    assert everything["count"] == 2
    assert [item["id"] for item in only_first["results"]] == [sweep.pk]
    assert running["results"] == []
    assert_error(
        owner_client.get("/api/v1/sweeps/?status=sleeping"), 400, "invalid", field="status"
    )


@pytest.mark.django_db
def test_the_schema_documents_the_sweep_endpoints(client):
    import yaml

    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]

    for path in (
        "/api/v1/sweeps/",
        "/api/v1/sweeps/{id}/",
        "/api/v1/sweeps/{id}/start/",
        "/api/v1/sweeps/{id}/stop/",
        "/api/v1/sweeps/{id}/resume/",
        "/api/v1/sweeps/{id}/importances/",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/sweeps/"]) >= {"get", "post"}


@pytest.mark.django_db
def test_reading_a_sweep_costs_the_same_queries_whatever_its_size(
    owner_client, owner, experiment, table
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(url).status_code == 200
        return len(captured)

    def sweep_of(n_trials: int, **options):
        return create_sweep(
            owner=owner,
            experiment=experiment,
            base_config=base_config(table),
            space={"dropout": {"type": "float", "low": 0.0, "high": 0.5}},
            strategy="random",
            objectives=ACCURACY,
            n_trials=n_trials,
            **options,
        )

    small = sweep_of(2, parallelism=2, start=True)
    big = sweep_of(6, parallelism=6, start=True)

    assert SweepTrial.objects.filter(sweep=big).count() == 6
    queries(f"/api/v1/sweeps/{small.pk}/")  # the token's first use is recorded once
    assert queries(f"/api/v1/sweeps/{small.pk}/") == queries(f"/api/v1/sweeps/{big.pk}/")
    one_page = queries("/api/v1/sweeps/")
    sweep_of(1)
    assert queries("/api/v1/sweeps/") == one_page
