"""Creators' pages: who sees what, what the forms store, and bounded queries.

Assertions lean on the context the views pass and on text any template shows (names, keys,
messages), so template restyling does not break them.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from pytest_django.asserts import assertContains, assertNotContains, assertTemplateUsed

from registry.models import ApiToken, Experiment, RunStatus
from registry.services import check_metric_batch, run_finish, run_log_artifact, run_log_metrics
from tests.clients import signed_in
from tests.factories import PASSWORD, ExperimentFactory, RunFactory

TEMPLATES_DIR = Path(django_settings.BASE_DIR) / "templates"
PAGES = [
    "gallery/home.html",
    "gallery/experiment_list.html",
    "gallery/experiment_detail.html",
    "gallery/run_detail.html",
    "gallery/run_compare.html",
    "gallery/coming_soon.html",
    "errors/404.html",
    "registration/profile.html",
]
MISSING = [name for name in PAGES if not (TEMPLATES_DIR / name).is_file()]

pytestmark = pytest.mark.django_db
needs_templates = pytest.mark.skipif(bool(MISSING), reason=f"templates not written yet: {MISSING}")


def log(run, **values: float) -> None:
    points = [{"key": key, "step": 0, "value": value} for key, value in values.items()]
    run_log_metrics(run=run, batch=check_metric_batch(points))


@pytest.fixture
def scored(experiment):
    runs = {}
    for name, acc, brush in [
        ("ink-1", 0.95, "ink"),
        ("oil-1", 0.80, "oil"),
        ("ink-2", 0.91, "ink"),
    ]:
        runs[name] = RunFactory(experiment=experiment, name=name, params={"brush": brush})
        log(runs[name], val_acc=acc)
    return runs


# anonymous ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/experiments/",
        "/experiments/{experiment}/",
        "/runs/{run}/",
        "/runs/compare/?ids={run},{run}",
        "/accounts/profile/",
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client, run, url):
    path = url.format(experiment=run.experiment_id, run=run.pk)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_cannot_create_an_experiment(client, owner):
    response = client.post("/experiments/", {"name": "drive-by"})

    assert response.status_code == 302
    assert not Experiment.objects.exists()


@needs_templates
def test_the_home_page_answers_anonymous_visitors(client):
    response = client.get("/")

    assert response.status_code == 200
    assertTemplateUsed(response, "gallery/home.html")
    assert (response.context["recent_runs"], response.context["experiments"]) == ([], [])


# owner ----------------------------------------------------------------------------------------


@needs_templates
def test_home_shows_the_owners_recent_work(owner_pages, run, stranger):
    RunFactory(experiment=ExperimentFactory(owner=stranger), name="not mine")

    response = owner_pages.get("/")

    assert response.context["recent_runs"] == [run]
    assert response.context["experiments"] == [run.experiment]
    assertContains(response, "baseline")
    assertNotContains(response, "not mine")


@needs_templates
def test_the_experiment_list_shows_only_own_experiments(owner_pages, experiment, stranger):
    ExperimentFactory(owner=stranger, name="someone else's palette")

    response = owner_pages.get("/experiments/")

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [experiment]
    assertContains(response, "sketch brushes")
    assertNotContains(response, "someone else&#x27;s palette")


@needs_templates
def test_creating_an_experiment_from_the_page_opens_it(owner_pages, owner):
    response = owner_pages.post(
        "/experiments/", {"name": "charcoal", "description": "smudges", "tags": "a, b,"}
    )

    experiment = Experiment.objects.get(owner=owner, name="charcoal")
    assert (experiment.description, experiment.tags) == ("smudges", ["a", "b"])
    assert response.status_code == 302
    assert response["Location"] == f"/experiments/{experiment.pk}/"


@needs_templates
def test_a_duplicate_name_shows_a_form_error_and_stores_nothing(owner_pages, experiment):
    response = owner_pages.post("/experiments/", {"name": "sketch brushes"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "you already have an experiment named 'sketch brushes'"
    ]
    assert Experiment.objects.filter(name="sketch brushes").count() == 1


@needs_templates
def test_the_experiment_page_lists_runs_with_params_and_metrics(owner_pages, scored):
    experiment = scored["ink-1"].experiment

    response = owner_pages.get(f"/experiments/{experiment.pk}/", {"order_by": "-metrics.val_acc"})

    assert response.status_code == 200
    assert [row["run"].name for row in response.context["rows"]] == ["ink-1", "ink-2", "oil-1"]
    assert response.context["param_keys"] == ["brush"]
    assert response.context["metric_keys"] == ["val_acc"]
    assert [row["params"] for row in response.context["rows"]] == [["ink"], ["ink"], ["oil"]]
    for name in ("ink-1", "ink-2", "oil-1", "val_acc", "0.9500"):
        assertContains(response, name)


@needs_templates
@pytest.mark.parametrize("page", ["/", "/experiments/", "/experiments/{experiment}/"])
def test_pages_with_run_badges_follow_the_users_event_stream(owner_pages, run, page):
    response = owner_pages.get(page.format(experiment=run.experiment_id))

    assertContains(response, "data-live-events")
    assertContains(response, "js/live.js")
    if page != "/experiments/":  # the list shows experiments; its live list fills from events
        assertContains(
            response,
            f'<span class="badge badge-{run.status}" data-run-status="{run.pk}">'
            f"{run.get_status_display()}</span>",
            html=True,
        )


@needs_templates
def test_the_experiment_page_filters_runs(owner_pages, scored):
    experiment = scored["ink-1"].experiment

    response = owner_pages.get(
        f"/experiments/{experiment.pk}/", {"filter": "val_acc > 0.9", "order_by": "name"}
    )

    assert [row["run"].name for row in response.context["rows"]] == ["ink-1", "ink-2"]
    assert response.context["filter_error"] == ""
    assertNotContains(response, "oil-1")


@needs_templates
def test_a_bad_filter_shows_its_error_and_all_runs(owner_pages, scored):
    experiment = scored["ink-1"].experiment

    response = owner_pages.get(f"/experiments/{experiment.pk}/", {"filter": "val_acc >> 1"})

    assert response.status_code == 200
    assert response.context["filter_error"].startswith("cannot read 'val_acc >> 1'")
    assert len(response.context["rows"]) == 3
    assertContains(response, "cannot read")


@needs_templates
def test_the_run_page_shows_its_record(owner_pages, run):
    log(run, loss=0.125)
    run_log_artifact(run=run, path="samples/stroke.png", stream=io.BytesIO(b"png"))
    run_finish(run=run, status=RunStatus.FAILED, error_text="brush snapped at epoch 3")

    response = owner_pages.get(f"/runs/{run.pk}/")

    assert response.status_code == 200
    assert response.context["run"] == run
    assert response.context["metric_keys"] == ["loss"]
    assert response.context["params"] == [("lr", 0.01)]
    for text in (
        "baseline",
        "sketch brushes",
        "loss",
        "samples/stroke.png",
        "brush snapped at epoch 3",
    ):
        assertContains(response, text)


@needs_templates
def test_compare_shows_the_runs_side_by_side_and_marks_differing_params(owner_pages, scored):
    ids = f"{scored['oil-1'].pk},{scored['ink-1'].pk}"

    response = owner_pages.get("/runs/compare/", {"ids": ids})

    assert response.status_code == 200
    assert [run.name for run in response.context["runs"]] == ["oil-1", "ink-1"]
    assert response.context["params_rows"] == [
        {"key": "brush", "values": ["oil", "ink"], "differs": True}
    ]
    assert response.context["metric_keys"] == ["val_acc"]


@pytest.mark.parametrize("ids", ["{run}", "{run},\u00b2", "{run},abc"])
def test_compare_with_fewer_than_two_runs_goes_back(owner_pages, run, ids):
    response = owner_pages.get("/runs/compare/", {"ids": ids.format(run=run.pk)})

    assert response.status_code == 302


@needs_templates
def test_compare_with_an_id_past_64_bits_is_404(owner_pages, run):
    response = owner_pages.get("/runs/compare/", {"ids": f"{run.pk},99999999999999999999"})

    assert response.status_code == 404


@needs_templates
@pytest.mark.parametrize("area", ["sweeps", "drift"])
def test_areas_still_being_built_have_an_honest_page(owner_pages, area):
    assert owner_pages.get(f"/{area}/").status_code == 200


@needs_templates
@pytest.mark.parametrize("n_runs", [5, 30])
def test_the_experiment_page_costs_the_same_queries_whatever_the_number_of_runs(
    owner_pages, experiment, django_assert_num_queries, n_runs
):
    for index in range(n_runs):
        run = RunFactory(experiment=experiment, params={"seed": index, "brush": "ink"})
        log(run, val_acc=index / n_runs, loss=0.5)
    run_finish(run=run, status=RunStatus.SUCCEEDED)

    # session, user, experiment, run count, runs with experiment, their summaries
    with django_assert_num_queries(6):
        response = owner_pages.get(
            f"/experiments/{experiment.pk}/", {"order_by": "-metrics.val_acc"}
        )

    assert len(response.context["rows"]) == n_runs


# collaborator and stranger --------------------------------------------------------------------


@needs_templates
def test_others_get_404_on_the_owners_pages(other_pages, run):
    other_run = RunFactory(experiment=ExperimentFactory(owner=run.owner))

    for url in (
        f"/experiments/{run.experiment_id}/",
        f"/runs/{run.pk}/",
        f"/runs/compare/?ids={run.pk},{other_run.pk}",
    ):
        response = other_pages.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"].startswith("text/html")
        assertNotContains(response, "baseline", status_code=404)


@needs_templates
def test_others_see_none_of_the_owners_work_on_their_own_pages(other_pages, run):
    assert list(other_pages.get("/experiments/").context["page"].object_list) == []
    assert other_pages.get("/").context["recent_runs"] == []


# accounts -------------------------------------------------------------------------------------


def test_signing_up_creates_the_user_and_signs_them_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "newpainter", "email": "", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    user = get_user_model().objects.get(username="newpainter")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signing_in_with_the_password(client, owner):
    response = client.post("/accounts/login/", {"username": "olivia_owner", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


@needs_templates
def test_the_profile_creates_a_token_and_shows_the_key_once(owner_pages, owner):
    response = owner_pages.post("/accounts/profile/", {"name": "render farm"})

    assert response.status_code == 200
    key = response.context["new_key"]
    token = ApiToken.objects.get(user=owner, name="render farm")
    assert token.prefix == key[:10]
    assertContains(response, key)
    assertNotContains(owner_pages.get("/accounts/profile/"), key)


@needs_templates
def test_a_token_is_revoked_from_the_profile_only_by_its_owner(owner_pages, owner, stranger):
    token = ApiToken.objects.create(user=owner, name="old", prefix="cc_x", key_digest="d" * 64)

    refused = signed_in(stranger).post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert refused.status_code == 404
    assert token.revoked_at is None

    accepted = owner_pages.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert accepted.status_code == 302
    assert token.revoked_at is not None
