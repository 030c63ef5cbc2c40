"""Sweep pages: my sweeps, a sweep's page (facts, best trial, charts, trial table), its chart
data and importances, stop / resume; who sees what, and queries that do not grow with the
number of trials.

Sweeps and trials are written straight to the tables (tests/sweep_rows.py): these pages only
read them, except stop / resume, which go through `pipelines.sweeps`.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from gallery.sweep_views import format_duration, format_param, format_value
from registry.models import RunStatus, Sweep, SweepStatus, SweepTrial, TrialState
from tests.sweep_helpers import base_config, diagonal_table
from tests.sweep_rows import LOSS, SIZE, make_sweep, trial_params, trial_values

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def loss(number: int) -> float:
    return trial_values(trial_params(number), 1)[0]


# --- formatting (static/js/sweep_page.js writes live rows the same way) ---------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.20264, "0.2026"),
        (0.05, "0.05"),
        (392.0, "392"),
        (-1.5, "-1.5"),
        (0, "0"),
        (123456.0, "1.235e+5"),
        (0.0000123, "1.230e-5"),
        (None, "—"),
    ],
)
def test_values_show_at_most_four_decimals(value, text):
    assert format_value(value) == text


def test_params_and_durations_read_short():
    assert [format_param(v) for v in (0.00714689, 128, "gelu", None)] == [
        "0.007147",
        "128",
        "gelu",
        "—",
    ]
    assert [format_duration(timedelta(seconds=s)) for s in (4.25, 90, 3600, 7500)] == [
        "4.2 s",
        "1 min 30 s",
        "1 h",
        "2 h 5 min",
    ]
    assert format_duration(None) == "—"


# --- my sweeps ---------------------------------------------------------------------------------
def test_the_list_shows_my_sweeps_with_status_trials_done_and_best_value(owner_pages, owner):
    mine = make_sweep(owner, n_trials=30, n_running=2, name="brush sizes", budget=100)
    make_sweep(owner, n_trials=0, name="not started", status=SweepStatus.QUEUED)
    other = make_sweep(
        type(owner).objects.create(username="someone_else"), n_trials=3, name="their sweep"
    )

    response = owner_pages.get("/sweeps/")

    assertTemplateUsed(response, "gallery/sweeps/list.html")
    rows = {row["sweep"].name: row for row in response.context["rows"]}
    assert set(rows) == {"brush sizes", "not started"}
    complete = [n for n in range(28) if n % 10 != 7 and n % 23 != 5]
    assert rows["brush sizes"]["done"] == 28
    assert rows["brush sizes"]["percent"] == 28
    assert min(loss(n) for n in complete) == 0.21254
    assert rows["brush sizes"]["best"] == "0.2125"  # at most 4 decimals
    assert rows["not started"]["done"] == 0 and rows["not started"]["best"] == "—"
    assertContains(response, f'href="/sweeps/{mine.pk}/"')
    assertContains(response, "Bayesian search (TPE)")
    assertContains(response, "data-sweep-live", count=2)  # both still queued or running
    assertNotContains(response, other.name)


def test_a_maximized_objective_shows_its_highest_value_as_best(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=12)
    sweep.objectives = [{"metric": "val_loss", "direction": "maximize"}]
    sweep.save()

    response = owner_pages.get("/sweeps/")

    complete = [n for n in range(12) if n % 10 != 7 and n % 23 != 5]
    assert max(loss(n) for n in complete) == 0.60044
    assert response.context["rows"][0]["best"] == "0.6004"


def test_no_sweeps_yet_says_how_to_start_one(owner_pages):
    response = owner_pages.get("/sweeps/")

    assert response.status_code == 200
    assertContains(response, "No sweeps yet")
    assertContains(response, "POST /api/v1/sweeps/")
    assertNotContains(response, "sweep_page.js")  # nothing to follow


def test_the_list_costs_the_same_queries_for_a_few_trials_and_many(
    owner_pages, owner, django_assert_max_num_queries
):
    make_sweep(owner, n_trials=3, name="small")
    with CaptureQueriesContext(connection) as few:
        owner_pages.get("/sweeps/")
    make_sweep(owner, n_trials=400, name="big")

    # session, user, count, sweeps with their counts and best values
    with django_assert_max_num_queries(4) as many:
        owner_pages.get("/sweeps/")

    assert len(many) == len(few)


def test_anonymous_visitors_are_sent_to_log_in(client, owner):
    sweep = make_sweep(owner, n_trials=2)
    for url in (
        "/sweeps/",
        f"/sweeps/{sweep.pk}/",
        f"/sweeps/{sweep.pk}/data.json",
        f"/sweeps/{sweep.pk}/importances.json",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- a sweep's page ----------------------------------------------------------------------------
def test_the_owner_sees_the_sweep_facts_counts_and_charts(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=60, n_running=3, name="brush sizes", budget=200)

    response = owner_pages.get(f"/sweeps/{sweep.pk}/")

    assertTemplateUsed(response, "gallery/sweeps/detail.html")
    counts = response.context["counts"]
    finished = range(57)
    pruned = [n for n in finished if n % 10 == 7]
    failed = [n for n in finished if n % 23 == 5 and n % 10 != 7]
    assert counts == {
        "started": 60,
        "done": 57,
        "running": 3,
        "complete": 57 - len(pruned) - len(failed),
        "pruned": len(pruned),
        "failed": len(failed),
    }
    assert response.context["percent_done"] == round(100 * 57 / 200)
    assert response.context["budget"] == "200 trials"
    for text in ("Bayesian search (TPE)", "Median", "4 at a time", "val_loss", "minimize"):
        assertContains(response, text)
    for chart in ("history", "importances", "parallel"):
        assertContains(response, f'data-sweep-chart="{chart}" data-state="loading"')
    assertNotContains(response, 'data-sweep-chart="pareto"')
    config = response.context["config"]
    assert config["stream"] == f"/ws/sweeps/{sweep.pk}/"
    assert config["data_url"] == f"/sweeps/{sweep.pk}/data.json"
    assert config["params"] == ["act", "lr", "width"]
    assert config["live_rows"] is True
    assertContains(response, 'id="sweep-page-config"')
    # Stop is offered while it runs, resume is not.
    assertContains(response, f'action="/sweeps/{sweep.pk}/stop/"')
    assert response.context["is_active"] and not response.context["can_resume"]


def test_others_get_404_for_every_sweep_address(other_pages, owner):
    sweep = make_sweep(owner, n_trials=3)
    for url in (
        f"/sweeps/{sweep.pk}/",
        f"/sweeps/{sweep.pk}/data.json",
        f"/sweeps/{sweep.pk}/importances.json",
        "/sweeps/999999/",
        "/sweeps/99999999999999999999/",
    ):
        assert other_pages.get(url).status_code == 404, url
    for url in (f"/sweeps/{sweep.pk}/stop/", f"/sweeps/{sweep.pk}/resume/"):
        assert other_pages.post(url).status_code == 404, url

    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.RUNNING  # nothing happened


def test_stop_and_resume_take_only_posts(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=1)

    assert owner_pages.get(f"/sweeps/{sweep.pk}/stop/").status_code == 405
    assert owner_pages.get(f"/sweeps/{sweep.pk}/resume/").status_code == 405


def test_the_best_trial_card_shows_the_lowest_loss_its_params_and_links(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=40)
    complete = [n for n in range(40) if n % 10 != 7 and n % 23 != 5]
    number = min(complete, key=lambda n: (loss(n), n))
    best = SweepTrial.objects.get(sweep=sweep, number=number)

    response = owner_pages.get(f"/sweeps/{sweep.pk}/")

    card = response.context["best"]
    assert card["trial"] == {
        "number": number,
        "run": best.run_id,
        "values": [loss(number)],
        "params": trial_params(number),
    }
    assert (number, loss(number)) == (1, 0.21254)
    assert card["values"][0]["value"] == "0.2125"
    params = trial_params(number)
    assert card["params"] == [
        ("act", params["act"]),
        ("lr", f"{params['lr']:.4g}"),
        ("width", str(params["width"])),
    ]
    assertContains(response, f'href="/runs/{best.run_id}/remix/"')
    assertContains(response, f'href="/runs/{best.run_id}/"')
    assertContains(response, "Register as model version")
    assertContains(response, f'action="/runs/{best.run_id}/publish/"')
    assertContains(response, f'<tr data-trial="{number}" class="is-best">', html=False)


def test_a_tie_goes_to_the_earlier_trial_and_maximize_picks_the_highest(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=5)
    SweepTrial.objects.filter(sweep=sweep, number__in=[1, 3]).update(values=[9.5])
    sweep.objectives = [{"metric": "val_accuracy", "direction": "maximize"}]
    sweep.save()

    response = owner_pages.get(f"/sweeps/{sweep.pk}/")

    assert response.context["best"]["trial"]["number"] == 1
    assert response.context["best"]["values"][0]["value"] == "9.5"  # no trailing zeros


def test_before_any_trial_completes_the_card_says_so(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=2, n_running=2)

    response = owner_pages.get(f"/sweeps/{sweep.pk}/")

    assert response.context["best"]["trial"] is None
    assertContains(response, "No trial has completed yet.")


def test_the_pareto_chart_is_there_only_for_several_objectives(owner_pages, owner):
    single = make_sweep(owner, n_trials=5, name="one")
    double = make_sweep(owner, n_trials=5, name="two", n_objectives=2)

    single_page = owner_pages.get(f"/sweeps/{single.pk}/")
    double_page = owner_pages.get(f"/sweeps/{double.pk}/")

    assertNotContains(single_page, 'data-sweep-chart="pareto"')
    assertContains(double_page, 'data-sweep-chart="pareto"')
    assertContains(double_page, "size_kb")
    assert [o["metric"] for o in double_page.context["objectives"]] == ["val_loss", "size_kb"]


# --- the trial table ---------------------------------------------------------------------------
def test_the_table_shows_50_trials_a_page_newest_first(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=120)

    first = owner_pages.get(f"/sweeps/{sweep.pk}/")
    last = owner_pages.get(f"/sweeps/{sweep.pk}/", {"page": 3})

    assert [row["trial"].number for row in first.context["rows"]] == list(range(119, 69, -1))
    assert [row["trial"].number for row in last.context["rows"]] == list(range(19, -1, -1))
    assert last.context["config"]["live_rows"] is False  # new trials do not belong on page 3
    row = next(row for row in first.context["rows"] if row["trial"].number == 117)
    assert row["params"][0] == trial_params(117)["act"]
    assert row["values"] == ["—"]  # pruned
    assert row["duration"] == "1 min 30 s"
    assertContains(first, "epoch 2")  # where it was pruned
    assertContains(first, "Page 1 of 3")


def test_sorting_by_value_puts_the_best_first_and_trials_without_one_last(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=30)
    complete = sorted(
        (n for n in range(30) if n % 10 != 7 and n % 23 != 5), key=lambda n: (loss(n), n)
    )

    best_first = owner_pages.get(f"/sweeps/{sweep.pk}/", {"order_by": "value"})
    worst_first = owner_pages.get(f"/sweeps/{sweep.pk}/", {"order_by": "-value"})

    numbers = [row["trial"].number for row in best_first.context["rows"]]
    assert numbers[: len(complete)] == complete
    assert numbers[len(complete) :] == [5, 7, 17, 27, 28]  # failed and pruned, by number
    worst = [row["trial"].number for row in worst_first.context["rows"]]
    assert worst[: len(complete)] == sorted(complete, key=lambda n: (-loss(n), n))
    assert best_first.context["config"]["live_rows"] is False


def test_an_unknown_order_falls_back_to_newest_first(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=3)

    response = owner_pages.get(f"/sweeps/{sweep.pk}/", {"order_by": "params;drop"})

    assert response.context["order_by"] == "-number"
    assert [row["trial"].number for row in response.context["rows"]] == [2, 1, 0]


@pytest.mark.parametrize("order_by", ["-number", "value"])
def test_the_page_costs_the_same_queries_with_10_trials_and_500(
    owner_pages, owner, django_assert_max_num_queries, order_by
):
    few = make_sweep(owner, n_trials=10, name="few")
    many = make_sweep(owner, n_trials=500, name="many", n_objectives=2)

    with CaptureQueriesContext(connection) as small:
        owner_pages.get(f"/sweeps/{few.pk}/", {"order_by": order_by})
    # session, user, sweep, counts, table count, table page, best trial
    with django_assert_max_num_queries(7) as large:
        response = owner_pages.get(f"/sweeps/{many.pk}/", {"order_by": order_by})

    assert len(large) == len(small)
    assert len(response.context["rows"]) == 50


# --- chart data --------------------------------------------------------------------------------
def test_the_data_endpoint_returns_every_trial_as_columns(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=4, n_running=1)
    SweepTrial.objects.filter(sweep=sweep, number=2).update(params={"lr": 0.01, "act": "swish"})

    response = owner_pages.get(f"/sweeps/{sweep.pk}/data.json")

    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    runs = list(SweepTrial.objects.filter(sweep=sweep).order_by("number").values_list("run_id"))
    assert data["sweep"] == sweep.pk
    assert data["seq"] == 0  # nothing announced on the sweep's stream yet
    assert data["states"] == ["running", "complete", "pruned", "failed"]
    assert data["numbers"] == [0, 1, 2, 3]
    assert data["state"] == [1, 1, 1, 0]
    assert data["runs"] == [run for (run,) in runs]
    assert data["values"] == [[loss(0), loss(1), loss(2), None]]
    assert data["params"] == [
        # a value outside the space (a warm start, say) joins the categorical axis
        {"name": "act", "type": "categorical", "choices": ["relu", "gelu", "tanh", "swish"]},
        {"name": "lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True},
        {"name": "width", "type": "int", "low": 16, "high": 256, "log": False},
    ]
    assert data["columns"] == {
        "act": [0, 1, 3, 0],
        "lr": [trial_params(0)["lr"], trial_params(1)["lr"], 0.01, trial_params(3)["lr"]],
        "width": [16, 128, None, 96],  # trial 2 has no width
    }
    assert data["objectives"] == [{**LOSS, "arrow": "↓"}]
    assert data["pareto"] is None  # one objective


def test_data_values_of_two_objectives_are_two_columns(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=3, n_objectives=2)

    data = owner_pages.get(f"/sweeps/{sweep.pk}/data.json").json()

    assert data["values"] == [
        [trial_values(trial_params(n), 2)[0] for n in range(3)],
        [trial_values(trial_params(n), 2)[1] for n in range(3)],
    ]
    assert [o["metric"] for o in data["objectives"]] == [LOSS["metric"], SIZE["metric"]]


def test_the_data_endpoint_is_one_query_of_trials_whatever_their_number(
    owner_pages, owner, django_assert_max_num_queries
):
    few = make_sweep(owner, n_trials=10, name="few")
    many = make_sweep(owner, n_trials=500, name="many")

    with CaptureQueriesContext(connection) as small:
        owner_pages.get(f"/sweeps/{few.pk}/data.json")
    # session, user, sweep, stream head, trials
    with django_assert_max_num_queries(5) as large:
        data = owner_pages.get(f"/sweeps/{many.pk}/data.json").json()

    assert len(large) == len(small)
    assert len(data["numbers"]) == 500


def test_the_data_shows_the_stream_sequence_it_was_read_at(owner_pages, owner):
    from registry import streams

    sweep = make_sweep(owner, n_trials=2)
    for _ in range(3):
        streams.append_event(streams.sweep_stream(sweep.pk), "trial", {"sweep": sweep.pk})

    assert owner_pages.get(f"/sweeps/{sweep.pk}/data.json").json()["seq"] == 3


def test_the_pareto_front_comes_from_pipelines_search(owner_pages, owner):
    from pipelines import search

    sweep = make_sweep(owner, n_trials=40, n_objectives=2)
    records = [
        search.TrialRecord(
            number=trial.number,
            params=trial.params,
            state=trial.state,
            values=trial.values,
            intermediate={},
        )
        for trial in SweepTrial.objects.filter(sweep=sweep, state=TrialState.COMPLETE)
    ]
    expected = sorted(search.pareto_front(records, ["minimize", "minimize"]))

    data = owner_pages.get(f"/sweeps/{sweep.pk}/data.json").json()

    assert data["pareto"] == expected and expected
    # every trial off the front is dominated by one on it
    values = {
        n: (data["values"][0][i], data["values"][1][i]) for i, n in enumerate(data["numbers"])
    }
    for number in set(values) - set(expected):
        if values[number][0] is None:
            continue
        assert any(
            values[f][0] <= values[number][0] and values[f][1] <= values[number][1]
            for f in expected
        )


# --- importances -------------------------------------------------------------------------------
def test_importances_are_computed_once_per_number_of_finished_trials(
    owner_pages, owner, django_assert_num_queries
):
    sweep = make_sweep(owner, n_trials=60)

    first = owner_pages.get(f"/sweeps/{sweep.pk}/importances.json").json()
    # session, user, sweep, counts: the trials are not read again
    with django_assert_num_queries(4):
        again = owner_pages.get(f"/sweeps/{sweep.pk}/importances.json").json()

    assert again == first
    assert set(first["importances"]) == {"act", "lr", "width"}
    assert math.isclose(sum(first["importances"].values()), 1.0, rel_tol=1e-6)
    values = list(first["importances"].values())
    assert values == sorted(values, reverse=True)  # most important first
    assert first["n_done"] == 60 and first["reason"] == ""

    SweepTrial.objects.filter(sweep=sweep, number=59).update(state=TrialState.FAILED)
    SweepTrial.objects.create(
        sweep=sweep, number=60, params=trial_params(60), values=[0.1], state=TrialState.COMPLETE
    )
    after = owner_pages.get(f"/sweeps/{sweep.pk}/importances.json").json()
    assert after["n_done"] == 61


def test_importances_need_two_complete_trials(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=1)

    body = owner_pages.get(f"/sweeps/{sweep.pk}/importances.json").json()

    assert body["importances"] == {}
    assert body["reason"] == "Importances need at least 2 complete trials that differ."


# --- stop / resume -----------------------------------------------------------------------------
def test_the_owner_stops_a_running_sweep(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=3, n_running=1, budget=10)

    response = owner_pages.post(f"/sweeps/{sweep.pk}/stop/", follow=True)

    assert response.redirect_chain == [(f"/sweeps/{sweep.pk}/", 302)]
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.STOPPED
    running = SweepTrial.objects.select_related("run").get(sweep=sweep, number=2)
    assert running.run.cancel_requested_at is not None
    assertContains(response, "stopped: no new trials start")
    assert response.context["can_resume"] and not response.context["is_active"]
    assertContains(response, f'action="/sweeps/{sweep.pk}/resume/"')


def test_the_owner_resumes_a_stopped_sweep_and_its_next_trials_queue(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=0, status=SweepStatus.STOPPED, budget=2)
    sweep.base_config = base_config(diagonal_table(owner))
    sweep.space = {"learning_rate": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}}
    sweep.save()

    response = owner_pages.post(f"/sweeps/{sweep.pk}/resume/", follow=True)

    assertContains(response, f"“{sweep.name}” resumed.")
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.RUNNING
    trials = SweepTrial.objects.filter(sweep=sweep).select_related("run").order_by("number")
    assert [(t.number, t.state, t.run.status) for t in trials] == [
        (0, TrialState.RUNNING, RunStatus.QUEUED),
        (1, TrialState.RUNNING, RunStatus.QUEUED),
    ]
    assert response.context["is_active"]


def test_a_refused_resume_says_why_and_changes_nothing(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=3, status=SweepStatus.STOPPED)  # its budget is used

    response = owner_pages.post(f"/sweeps/{sweep.pk}/resume/", follow=True)

    assertContains(response, "has used its budget")
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.STOPPED


def test_stopping_a_finished_sweep_changes_nothing(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=3, status=SweepStatus.SUCCEEDED)

    response = owner_pages.post(f"/sweeps/{sweep.pk}/stop/", follow=True)

    assertContains(response, "there is nothing to stop")
    sweep.refresh_from_db()
    assert sweep.status == SweepStatus.SUCCEEDED


def test_a_sweep_that_no_longer_exists_is_404(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=1)
    sweep_id = sweep.pk
    Sweep.objects.filter(pk=sweep_id).delete()

    assert owner_pages.get(f"/sweeps/{sweep_id}/").status_code == 404


def test_the_nav_marks_sweeps_on_a_sweep_s_own_page(owner_pages, owner):
    sweep = make_sweep(owner, n_trials=3)

    response = owner_pages.get(f"/sweeps/{sweep.pk}/")

    assert b'href="/sweeps/" aria-current="page"' in response.content
