"""`/api/v1/experiments/`: the caller's experiments."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import Experiment
from tests.factories import ExperimentFactory, RunFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/experiments/"


def test_create_answers_201_with_the_new_experiment(owner_client, owner):
    response = owner_client.post(
        URL,
        {"name": "ink studies", "description": "brush A vs B", "tags": ["ink", "b&w"]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    experiment = Experiment.objects.get(pk=body["id"])
    assert experiment.owner == owner
    assert {k: body[k] for k in ("name", "description", "tags", "owner", "n_runs")} == {
        "name": "ink studies",
        "description": "brush A vs B",
        "tags": ["ink", "b&w"],
        "owner": "olivia_owner",
        "n_runs": 0,
    }


def test_create_refuses_a_duplicate_name_with_409_and_stores_nothing(
    owner_client, experiment, assert_error
):
    response = owner_client.post(URL, {"name": "sketch brushes"}, format="json")

    assert_error(response, 409, "conflict")
    assert Experiment.objects.filter(name="sketch brushes").count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "tags": "ink"}, "tags"),
        ({"name": "ok", "tags": [1, 2]}, "tags"),
    ],
    ids=["missing-name", "blank-name", "long-name", "tags-string", "tags-numbers"],
)
def test_create_refuses_bad_input_with_a_field_error(owner_client, assert_error, payload, field):
    response = owner_client.post(URL, payload, format="json")

    assert_error(response, 400, "invalid", field=field)
    assert not Experiment.objects.exists()


def test_list_shows_own_experiments_newest_first_with_run_counts(owner_client, owner, stranger):
    now = timezone.now()
    older = ExperimentFactory(owner=owner, name="older")
    newer = ExperimentFactory(owner=owner, name="newer")
    Experiment.objects.filter(pk=older.pk).update(created_at=now - timedelta(days=1))
    RunFactory(experiment=older)
    RunFactory(experiment=older)
    ExperimentFactory(owner=stranger, name="not yours")

    body = owner_client.get(URL).json()

    assert body["count"] == 2
    assert [(e["id"], e["name"], e["n_runs"]) for e in body["results"]] == [
        (newer.pk, "newer", 0),
        (older.pk, "older", 2),
    ]


def test_list_searches_by_part_of_the_name(owner_client, owner):
    ExperimentFactory(owner=owner, name="Watercolour wash")
    ExperimentFactory(owner=owner, name="ink lines")

    body = owner_client.get(URL, {"search": "colour"}).json()

    assert [e["name"] for e in body["results"]] == ["Watercolour wash"]


def test_retrieve_rename_and_delete(owner_client, experiment):
    RunFactory(experiment=experiment)
    url = f"{URL}{experiment.pk}/"

    assert owner_client.get(url).json()["n_runs"] == 1
    renamed = owner_client.patch(url, {"name": "renamed", "tags": ["x"]}, format="json")
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["tags"], renamed.json()["n_runs"]) == (
        "renamed",
        ["x"],
        1,
    )
    assert Experiment.objects.get(pk=experiment.pk).name == "renamed"

    assert owner_client.delete(url).status_code == 204
    assert not Experiment.objects.filter(pk=experiment.pk).exists()


def test_rename_to_a_taken_name_is_a_conflict(owner_client, owner, experiment, assert_error):
    ExperimentFactory(owner=owner, name="taken")

    response = owner_client.patch(f"{URL}{experiment.pk}/", {"name": "taken"}, format="json")

    assert_error(response, 409, "conflict")
    assert Experiment.objects.get(pk=experiment.pk).name == "sketch brushes"


def test_a_non_numeric_id_is_404(owner_client, assert_error):
    assert_error(owner_client.get(f"{URL}abc/"), 404, "not_found")
