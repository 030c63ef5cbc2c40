"""`/api/v1/runs/`: opening runs, logging params, finishing, listing with filters."""

import orjson
import pytest

from registry import services
from registry.models import Run, RunStatus
from registry.services import check_metric_batch, run_log_metrics
from tests.factories import ExperimentFactory, RunFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/runs/"


def log(run, **values: float) -> None:
    points = [{"key": key, "step": 0, "value": value} for key, value in values.items()]
    run_log_metrics(run=run, batch=check_metric_batch(points))


def test_create_answers_201_with_a_running_run(owner_client, owner, experiment):
    response = owner_client.post(
        URL,
        {"experiment": experiment.pk, "name": "try ink", "params": {"lr": 0.001, "brush": "ink"}},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    run = Run.objects.get(pk=body["id"])
    assert (run.owner, run.experiment, run.status) == (owner, experiment, RunStatus.RUNNING)
    assert run.params == {"lr": 0.001, "brush": "ink"}
    assert {k: body[k] for k in ("experiment", "name", "status", "params", "metrics")} == {
        "experiment": experiment.pk,
        "name": "try ink",
        "status": "running",
        "params": {"lr": 0.001, "brush": "ink"},
        "metrics": {},
    }
    assert body["ended_at"] is None


def test_create_with_parent_and_remix(owner_client, experiment, run):
    response = owner_client.post(
        URL,
        {"experiment": experiment.pk, "parent": run.pk, "remix_of": run.pk},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["parent"], body["remix_of"]) == (run.pk, run.pk)
    assert body["name"] == f"run-{body['id']}"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "experiment"),
        ({"experiment": "abc"}, "experiment"),
        ({"params": ["lr", 1]}, "params"),
        ({"params": {"lr": [1, 2]}}, "params"),
        ({"parent": 999_999}, "parent"),
    ],
    ids=["missing-experiment", "experiment-not-an-id", "params-list", "nested-param", "no-parent"],
)
def test_create_refuses_bad_input_and_stores_nothing(
    owner_client, experiment, assert_error, payload, field
):
    if field != "experiment":
        payload = {"experiment": experiment.pk, **payload}

    response = owner_client.post(URL, payload, format="json")

    assert_error(response, 400, "invalid", field=field)
    assert not Run.objects.exists()


def test_create_in_an_unknown_experiment_is_404(owner_client, assert_error):
    assert_error(owner_client.post(URL, {"experiment": 424242}, format="json"), 404, "not_found")
    assert not Run.objects.exists()


def test_params_are_added_and_a_logged_value_cannot_change(owner_client, run, assert_error):
    url = f"{URL}{run.pk}/params/"

    added = owner_client.post(url, {"params": {"brush": "ink", "lr": 0.01}}, format="json")
    changed = owner_client.post(url, {"params": {"lr": 0.5, "extra": 1}}, format="json")

    assert added.status_code == 200
    assert added.json() == {"params": {"lr": 0.01, "brush": "ink"}}
    assert_error(changed, 409, "conflict")
    assert owner_client.get(url).json() == {"params": {"lr": 0.01, "brush": "ink"}}


def test_finish_ends_the_run_and_then_refuses_more_data(owner_client, run, assert_error):
    response = owner_client.post(
        f"{URL}{run.pk}/finish/", {"status": "failed", "error_text": "CUDA OOM"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error_text"]) == ("failed", "CUDA OOM")
    assert body["ended_at"] is not None
    assert body["duration_s"] >= 0
    again = owner_client.post(f"{URL}{run.pk}/finish/", {"status": "succeeded"}, format="json")
    assert_error(again, 409, "conflict")
    late = owner_client.post(
        f"{URL}{run.pk}/metrics/",
        orjson.dumps({"metrics": [{"key": "loss", "value": 1.0}]}),
        content_type="application/json",
    )
    assert_error(late, 409, "conflict")
    assert Run.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_finish_refuses_a_non_final_status(owner_client, run, assert_error):
    response = owner_client.post(f"{URL}{run.pk}/finish/", {"status": "running"}, format="json")

    assert_error(response, 400, "invalid", field="status")
    assert Run.objects.get(pk=run.pk).status == RunStatus.RUNNING


def test_rename_and_delete(owner_client, run):
    assert (
        owner_client.patch(f"{URL}{run.pk}/", {"name": "v2"}, format="json").json()["name"] == "v2"
    )
    assert owner_client.delete(f"{URL}{run.pk}/").status_code == 204
    assert not Run.objects.filter(pk=run.pk).exists()


def test_retrieve_shows_metric_summaries(owner_client, run):
    log(run, loss=0.25, val_acc=0.75)

    body = owner_client.get(f"{URL}{run.pk}/").json()

    assert body["metrics"] == {
        "loss": {"last": 0.25, "step": 0, "min": 0.25, "max": 0.25, "n_points": 1},
        "val_acc": {"last": 0.75, "step": 0, "min": 0.75, "max": 0.75, "n_points": 1},
    }


@pytest.fixture
def scored_runs(experiment):
    runs = {}
    for name, acc, optimizer in [("a", 0.95, "adam"), ("b", 0.85, "sgd"), ("c", 0.92, "sgd")]:
        runs[name] = RunFactory(experiment=experiment, name=name, params={"optimizer": optimizer})
        log(runs[name], val_acc=acc)
    runs["d"] = RunFactory(experiment=experiment, name="d", params={"optimizer": "adam"})
    return runs


def listed_names(client, **query) -> list[str]:
    response = client.get(URL, query)
    assert response.status_code == 200, response.content
    return [run["name"] for run in response.json()["results"]]


def test_list_filters_by_metric_and_param(owner_client, scored_runs):
    assert listed_names(owner_client, filter="val_acc > 0.9", order_by="name") == ["a", "c"]
    assert listed_names(owner_client, filter='val_acc > 0.9 and params.optimizer = "sgd"') == ["c"]


def test_list_orders_by_metric_with_missing_metrics_last(owner_client, scored_runs):
    assert listed_names(owner_client, order_by="-metrics.val_acc") == ["a", "c", "b", "d"]


def test_list_narrows_to_an_experiment_and_a_status(owner_client, owner, scored_runs):
    other = RunFactory(experiment=ExperimentFactory(owner=owner), name="other")

    assert listed_names(owner_client, experiment=other.experiment_id) == ["other"]
    assert listed_names(owner_client, status="succeeded") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"filter": "val_acc >> 0.9"}, "filter"),
        ({"order_by": "password"}, "filter"),
        ({"experiment": "one"}, "experiment"),
        ({"experiment": "\u00b2"}, "experiment"),  # "²".isdigit() is true, int() refuses it
        ({"experiment": "99999999999999999999"}, "experiment"),
        ({"filter": "params.lr > -inf"}, "filter"),
    ],
    ids=["bad-filter", "bad-order", "experiment-word", "superscript-two", "huge-id", "inf"],
)
def test_list_refuses_a_bad_query_with_a_field_error(
    owner_client, scored_runs, assert_error, query, field
):
    assert_error(owner_client.get(URL, query), 400, "invalid", field=field)


def test_list_pages_hold_fifty_runs_by_default(owner_client, experiment):
    RunFactory.create_batch(55, experiment=experiment)

    first = owner_client.get(URL).json()
    second = owner_client.get(URL, {"page": 2}).json()

    assert first["count"] == 55
    assert len(first["results"]) == 50
    assert len(second["results"]) == 5
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


@pytest.mark.parametrize("n_runs", [5, 30])
def test_the_runs_list_costs_the_same_queries_whatever_the_number_of_runs(
    owner_client, experiment, django_assert_num_queries, n_runs
):
    for index in range(n_runs):
        run = RunFactory(experiment=experiment, params={"seed": index})
        log(run, val_acc=index / n_runs, loss=1 - index / n_runs)
    owner_client.get(URL)  # the token's first use records last_used_at; later requests do not

    # token lookup, page count, runs with their experiment, their metric summaries
    with django_assert_num_queries(4):
        response = owner_client.get(URL, {"filter": "val_acc >= 0", "order_by": "-metrics.val_acc"})

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == n_runs
    assert all(set(run["metrics"]) == {"val_acc", "loss"} for run in results)


def test_a_run_s_live_events_can_be_read_after_a_cursor(owner_client, owner, experiment):
    run = services.run_create(owner=owner, experiment=experiment, name="polled")
    for step in range(3):
        services.run_log_metric(run=run, key="loss", value=1.0 / (step + 1), step=step)

    first = owner_client.get(f"/api/v1/runs/{run.pk}/events/?after=0&limit=2").json()
    rest = owner_client.get(
        f"/api/v1/runs/{run.pk}/events/?after={first['events'][-1]['seq']}"
    ).json()

    seqs = [event["seq"] for event in first["events"] + rest["events"]]
    assert seqs == list(range(1, first["head"] + 1)) and not first["reset"]
    assert (first["events"][0]["type"], first["events"][0]["status"]) == ("status", "running")
    assert rest["events"][-1]["points"] == {"loss": [[2, 1 / 3]]}
    ahead = owner_client.get(f"/api/v1/runs/{run.pk}/events/?after=999").json()
    assert ahead == {"head": first["head"], "events": [], "reset": True}


def test_live_events_refuse_a_bad_cursor_and_hide_other_people_s_runs(
    owner_client, stranger_client, owner, experiment, assert_error
):
    run = services.run_create(owner=owner, experiment=experiment, name="private")

    assert_error(
        owner_client.get(f"/api/v1/runs/{run.pk}/events/?after=-1"), 400, "invalid", field="after"
    )
    assert_error(stranger_client.get(f"/api/v1/runs/{run.pk}/events/"), 404, "not_found")
