"""The model gallery pages: the grid (visibility, filters, sort, a bounded number of queries),
a model's page and card files, and the owner's forms (publish a run, edit the card, move and
roll back an alias). Versions are made from stored files; no model is trained here."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains, assertNotContains

from registry import services
from registry.models import AliasMove, RegisteredModel, RunStatus
from registry.services.published import VersionContent
from tests.clients import signed_in
from tests.factories import ExperimentFactory, RunFactory
from tests.registry.test_services_published import MODEL_FILES


def publish(owner, name, *, accuracy=0.9, visibility="private", task="classification"):
    run = RunFactory(experiment=ExperimentFactory(owner=owner), status=RunStatus.RUNNING)
    files = {**MODEL_FILES, "confusion_matrix.png": b"\x89PNG picture bytes"}
    for path, data in files.items():
        services.run_log_artifact(run=run, path=path, stream=io.BytesIO(data))
    run.status = RunStatus.SUCCEEDED
    run.save(update_fields=["status"])
    metric = "test_accuracy" if task == "classification" else "test_rmse"
    content = VersionContent(
        modality="tabular",
        task=task,
        signature={"modality": "tabular", "columns": [{"name": "hue", "type": "float"}]},
        label_names=["a", "b"],
        metrics={metric: accuracy},
        lineage={"run": run.pk, "template": "random_forest", "brushes": [], "params": {}},
    )
    return services.model_version_create(
        user=owner, name=name, run=run, content=content, visibility=visibility
    )


@pytest.fixture
def models(owner, stranger):
    publish(owner, "my-private", accuracy=0.7)
    publish(owner, "my-public", accuracy=0.95, visibility="public")
    publish(stranger, "their-public", accuracy=0.8, visibility="public")
    publish(stranger, "their-private", accuracy=0.99)
    return RegisteredModel.objects.all()


def names(response) -> list[str]:
    return [model.name for model in response.context["page"].object_list]


def test_the_grid_shows_public_models_and_my_private_ones(models, owner):
    assert sorted(names(Client().get("/models/"))) == ["my-public", "their-public"]
    assert sorted(names(signed_in(owner).get("/models/"))) == [
        "my-private",
        "my-public",
        "their-public",
    ]


def test_filters_and_sorts(models, owner):
    pages = signed_in(owner)
    assert names(pages.get("/models/?sort=best")) == ["my-public", "their-public", "my-private"]
    assert names(pages.get("/models/?q=their")) == ["their-public"]
    assert names(pages.get("/models/?owner=sam_stranger")) == ["their-public"]
    assert names(pages.get("/models/?task=regression")) == []
    RegisteredModel.objects.filter(name="my-private").update(tags=["sketches"], n_predictions=9)
    assert names(pages.get("/models/?tag=sketch")) == ["my-private"]
    assert names(pages.get("/models/?sort=tried"))[0] == "my-private"
    assertContains(pages.get("/models/?q=nothing-like-this"), "Nothing matches these filters")


def test_the_grid_costs_the_same_queries_for_3_or_30_models(owner):
    for index in range(3):
        publish(owner, f"model-{index}", visibility="public")
    with CaptureQueriesContext(connection) as few:
        Client().get("/models/")
    for index in range(3, 30):
        publish(owner, f"model-{index}", visibility="public")
    with CaptureQueriesContext(connection) as many:
        response = Client().get("/models/")

    assert len(many.captured_queries) == len(few.captured_queries) <= 8
    assert len(names(response)) == 24 and response.context["page"].paginator.num_pages == 2


def test_a_model_page_tells_its_story_and_hides_private_models(models, owner, stranger):
    version = RegisteredModel.objects.get(name="my-private").latest_version
    services.model_alias_move(
        user=owner, model=version.model, alias="production", version=version, reason="launch"
    )

    page = signed_in(owner).get("/models/my-private/")

    assertContains(page, "production v1")
    assertContains(page, "launch")
    assertContains(page, "data-alias-form")
    assertContains(page, "/models/my-private/versions/1/files/confusion_matrix.png")
    assert signed_in(stranger).get("/models/my-private/").status_code == 404
    assert Client().get("/models/my-private/").status_code == 404
    public = signed_in(stranger).get("/models/my-public/")
    assertNotContains(public, "data-alias-form")  # only the owner moves aliases


def test_card_files_are_served_checked_and_only_card_files(models, owner, stranger):
    pages = signed_in(owner)

    picture = pages.get("/models/my-private/versions/1/files/confusion_matrix.png")

    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert picture.content == b"\x89PNG picture bytes"
    assert pages.get("/models/my-private/versions/1/files/model/model.skops").status_code == 404
    assert pages.get("/models/my-private/versions/7/files/metrics.json").status_code == 404
    assert (
        signed_in(stranger)
        .get("/models/my-private/versions/1/files/confusion_matrix.png")
        .status_code
        == 404
    )


def test_the_owner_moves_and_rolls_back_aliases_from_the_page(models, owner, stranger):
    model = RegisteredModel.objects.get(name="my-public")
    publish(owner, "my-public")
    pages = signed_in(owner)

    pages.post("/models/my-public/aliases/", {"alias": "production", "version": 1})
    moved = pages.post(
        "/models/my-public/aliases/",
        {"alias": "production", "version": 2, "reason": "v2"},
        follow=True,
    )
    assertContains(moved, "production moved: version 1 → version 2.")
    rolled = pages.post("/models/my-public/aliases/production/rollback/", follow=True)
    assertContains(rolled, "production rolled back: version 2 → version 1.")
    again = pages.post(
        "/models/my-public/aliases/", {"alias": "production", "version": 1}, follow=True
    )
    assertContains(again, "production already points at version 1")

    assert (
        signed_in(stranger)
        .post("/models/my-public/aliases/", {"alias": "production", "version": 2})
        .status_code
        == 404
    )
    assert list(
        AliasMove.objects.filter(model=model).order_by("id").values_list("to_version__number")
    ) == [(1,), (2,), (1,)]


def test_the_owner_edits_the_card(models, owner):
    signed_in(owner).post(
        "/models/my-public/edit/",
        {
            "description": "Reads wine.",
            "intended_use": "Teaching.",
            "licence": "CC BY 4.0",
            "tags": "tables, demo",
            "visibility": "private",
        },
    )

    model = RegisteredModel.objects.get(name="my-public")
    assert (model.description, model.licence, model.tags, model.visibility) == (
        "Reads wine.",
        "CC BY 4.0",
        ["tables", "demo"],
        "private",
    )
    assert not model.production_needs_approval


def test_publishing_from_a_run_page_needs_a_succeeded_run_of_mine(owner, stranger):
    run = RunFactory(experiment=ExperimentFactory(owner=owner), status=RunStatus.FAILED)

    refused = signed_in(owner).post(f"/runs/{run.pk}/publish/", {"name": "mine"}, follow=True)

    assertContains(refused, "Not published: run")
    assert signed_in(stranger).post(f"/runs/{run.pk}/publish/", {"name": "x"}).status_code == 404
    assert not RegisteredModel.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_sweeps_best_trial_is_registered_from_its_card_and_answers(owner, experiment):
    from pipelines.sweeps import create_sweep
    from tests.sweep_helpers import base_config, diagonal_table, train_queued_trials

    sweep = create_sweep(
        owner=owner,
        experiment=experiment,
        base_config=base_config(diagonal_table(owner)),
        space={"learning_rate": {"type": "float", "low": 1e-3, "high": 0.1, "log": True}},
        strategy="random",
        objectives={"metric": "val_accuracy", "direction": "maximize"},
        n_trials=2,
        parallelism=2,
        start=True,
    )
    assert train_queued_trials(sweep) == ["succeeded", "succeeded"]
    pages = signed_in(owner)
    card = pages.get(f"/sweeps/{sweep.pk}/")
    best_run = card.context["best"]["trial"]["run"]
    assertContains(card, f'action="/runs/{best_run}/publish/"')

    published = pages.post(f"/runs/{best_run}/publish/", {"name": "diagonal-side"}, follow=True)

    assertContains(published, "Published as diagonal-side version 1.")
    version = RegisteredModel.objects.get(name="diagonal-side").latest_version
    assert version.run_id == best_run and version.lineage["params"]["hidden_units"] == [16]
    answer = pages.post(
        "/api/v1/models/diagonal-side/predict/?version=1",
        {"inputs": [{"x1": 0.9, "x2": 0.8}, {"x1": 0.1, "x2": 0.05}]},
        content_type="application/json",
    )
    assert [p["label"] for p in answer.json()["predictions"]] == ["above", "below"]


def test_the_try_it_panel_offers_other_versions_and_models_of_the_same_input(
    models, owner, stranger
):
    publish(owner, "my-public")  # a second version
    publish(stranger, "their-image-model", visibility="public")  # same table input
    for name in ("my-public", "their-public", "their-image-model", "their-private"):
        model = RegisteredModel.objects.get(name=name)
        services.model_alias_move(
            user=model.owner, model=model, alias="production", version=model.latest_version
        )
    RegisteredModel.objects.filter(name="their-image-model").update(modality="image")

    page = signed_in(owner).get("/models/my-public/")

    targets = dict(page.context["compare_targets"])
    assert targets["version 1"] == "/api/v1/models/my-public/predict/?version=1"
    assert targets["their-public (production, v1)"] == (
        "/api/v1/models/their-public/predict/?alias=production"
    )
    assert not any("their-private" in label for label in targets)  # not visible to me
    assert not any("their-image-model" in label for label in targets)  # another input
    assertContains(page, "data-compare-target")
