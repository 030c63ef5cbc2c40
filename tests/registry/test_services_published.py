"""Publishing and aliases as the registry keeps them: numbered immutable versions of a run's
files, alias moves recorded with who/when/from/to/why, rollback, approvals, signals, the
prediction log's bound. No model is trained here: versions are made from stored files."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services, signals
from registry.errors import Conflict, InvalidInput, NotFound
from registry.models import (
    AliasMove,
    ModelAlias,
    ModelVersion,
    PredictionLog,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
    RunStatus,
)
from registry.services.published import VersionContent
from tests.factories import ExperimentFactory, RunFactory, UserFactory

CONTENT = VersionContent(
    modality="tabular",
    task="classification",
    signature={"modality": "tabular", "columns": [{"name": "hue", "type": "number"}]},
    label_names=["a", "b"],
    metrics={"test_accuracy": 0.9},
    lineage={"run": 0},
)
MODEL_FILES = {
    "model/model.json": b'{"template_name": "random_forest"}',
    "model/model.skops": b"skops bytes",
    "model/brushes.zip": b"brush bytes",
    "metrics.json": b"{}",
    "notes/scratch.txt": b"not part of a version",
}


def trained_run(owner, files=MODEL_FILES, status=RunStatus.SUCCEEDED):
    run = RunFactory(experiment=ExperimentFactory(owner=owner), status=RunStatus.RUNNING)
    for path, data in files.items():
        services.run_log_artifact(run=run, path=path, stream=io.BytesIO(data))
    run.status = status
    run.save(update_fields=["status"])
    return run


def publish(user, run, name="sketch-digits", **changes):
    return services.model_version_create(user=user, name=name, run=run, content=CONTENT, **changes)


@pytest.fixture
def heard(db):
    """The registry signals sent during a test, in order."""
    events = []

    def receiver(sender, event, **kwargs):
        events.append(event)

    signals.model_version_created.connect(receiver)
    signals.alias_moved.connect(receiver)
    yield events
    signals.model_version_created.disconnect(receiver)
    signals.alias_moved.disconnect(receiver)


@pytest.mark.django_db(transaction=True)
def test_publishing_numbers_versions_and_keeps_the_model_files_by_sha256(owner, heard):
    first = publish(owner, trained_run(owner))
    second = publish(owner, trained_run(owner), description="more epochs")

    model = RegisteredModel.objects.get(name="sketch-digits")
    assert (model.owner, model.modality, model.task, model.visibility) == (
        owner,
        "tabular",
        "classification",
        "private",
    )
    assert [first.number, second.number] == [1, 2]
    assert sorted(file.path for file in first.files.all()) == [
        "metrics.json",
        "model/brushes.zip",
        "model/model.json",
        "model/model.skops",
    ]
    artifact = first.run.artifacts.get(path="model/model.skops")
    assert first.files.get(path="model/model.skops").sha256 == artifact.sha256
    assert (first.label_names, first.signature) == (CONTENT.label_names, CONTENT.signature)
    assert [(type(event).__name__, event.number) for event in heard] == [
        ("ModelVersionCreated", 1),
        ("ModelVersionCreated", 2),
    ]


@pytest.mark.django_db
def test_a_run_that_is_not_publishable_is_refused_and_nothing_is_stored(owner, stranger):
    failed = trained_run(owner, status=RunStatus.FAILED)
    no_model = trained_run(owner, files={"metrics.json": b"{}"})

    with pytest.raises(InvalidInput, match="only succeeded runs"):
        publish(owner, failed)
    with pytest.raises(InvalidInput, match="has no saved model"):
        publish(owner, no_model)
    with pytest.raises(NotFound):
        publish(stranger, trained_run(owner))
    with pytest.raises(InvalidInput, match="a model name is") as caught:
        publish(owner, trained_run(owner), name="Sketch Digits!")
    assert caught.value.field == "name"
    assert not RegisteredModel.objects.exists() and not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_a_name_taken_by_someone_else_is_a_conflict(owner, stranger):
    publish(owner, trained_run(owner), name="shared-name")

    with pytest.raises(Conflict, match="'shared-name' is taken"):
        publish(stranger, trained_run(stranger), name="shared-name")
    assert ModelVersion.objects.count() == 1


@pytest.mark.django_db
def test_a_version_of_another_task_is_refused(owner):
    publish(owner, trained_run(owner))
    content = VersionContent(
        modality="tabular",
        task="regression",
        signature=CONTENT.signature,
        label_names=[],
        metrics={},
        lineage={},
    )

    with pytest.raises(InvalidInput, match="is a tabular classification model"):
        services.model_version_create(
            user=owner, name="sketch-digits", run=trained_run(owner), content=content
        )


@pytest.mark.django_db(transaction=True)
def test_moves_are_recorded_and_rollback_returns_to_the_previous_version(owner, heard):
    one = publish(owner, trained_run(owner))
    two = publish(owner, trained_run(owner))
    model = one.model
    heard.clear()

    services.model_alias_move(
        user=owner, model=model, alias="production", version=one, reason="first"
    )
    services.model_alias_move(
        user=owner, model=model, alias="production", version=two, reason="better"
    )
    rollback = services.model_alias_rollback(user=owner, model=model, alias="production")

    assert ModelAlias.objects.get(model=model, name="production").version == one
    history = list(
        AliasMove.objects.filter(model=model)
        .order_by("id")
        .values_list("from_version__number", "to_version__number", "reason", "is_rollback")
    )
    assert history == [
        (None, 1, "first", False),
        (1, 2, "better", False),
        (2, 1, "rollback from version 2", True),
    ]
    assert rollback.moved_by == owner and rollback.is_rollback
    assert [(event.from_version_id, event.to_version_id) for event in heard] == [
        (None, one.pk),
        (one.pk, two.pk),
        (two.pk, one.pk),
    ]


@pytest.mark.django_db
def test_a_move_to_where_the_alias_points_or_of_nothing_is_refused(owner):
    one = publish(owner, trained_run(owner))
    services.model_alias_move(user=owner, model=one.model, alias="staging", version=one)

    with pytest.raises(Conflict, match="already points at version 1"):
        services.model_alias_move(user=owner, model=one.model, alias="staging", version=one)
    with pytest.raises(Conflict, match="no earlier version"):
        services.model_alias_rollback(user=owner, model=one.model, alias="staging")
    with pytest.raises(InvalidInput, match="an alias is"):
        services.model_alias_move(user=owner, model=one.model, alias="Prod!", version=one)
    assert AliasMove.objects.count() == 1


@pytest.mark.django_db
def test_production_can_wait_for_an_operators_approval(owner):
    one = publish(owner, trained_run(owner))
    model = services.model_update(model=one.model, production_needs_approval=True)
    operator = UserFactory(username="oscar_operator", is_staff=True)

    pending = services.model_alias_move(
        user=owner, model=model, alias="production", version=one, reason="launch"
    )
    staging = services.model_alias_move(user=owner, model=model, alias="staging", version=one)

    assert isinstance(pending, PromotionRequest) and pending.status == PromotionStatus.PENDING
    assert isinstance(staging, AliasMove)  # only production waits
    assert not ModelAlias.objects.filter(name="production").exists()

    services.promotion_decide(request=pending, operator=operator, approve=True)

    pending.refresh_from_db()
    assert pending.status == PromotionStatus.APPROVED and pending.decided_by == operator
    assert ModelAlias.objects.get(model=model, name="production").version == one
    move = AliasMove.objects.get(alias="production")
    assert move.moved_by == owner and move.reason == "launch (approved by oscar_operator)"
    with pytest.raises(Conflict, match="already approved"):
        services.promotion_decide(request=pending, operator=operator, approve=False)


@pytest.mark.django_db
def test_the_prediction_log_keeps_the_newest_rows_of_a_version(owner, monkeypatch):
    version = publish(owner, trained_run(owner))
    monkeypatch.setattr(services.prediction_logs, "TRIM_EVERY", 1)

    for index in range(7):
        services.prediction_log(
            version=version,
            alias="production",
            inputs=[{"hue": index}],
            outputs=[{"label": "a"}],
            latency_ms=1.0,
            keep=3,
        )

    kept = list(PredictionLog.objects.order_by("id").values_list("inputs_summary", flat=True))
    assert [summary["rows"][0]["hue"] for summary in kept] == [4, 5, 6]


@pytest.mark.django_db
def test_publishing_takes_a_bounded_number_of_queries(owner):
    publish(owner, trained_run(owner))
    run = trained_run(owner)

    with CaptureQueriesContext(connection) as queries:
        publish(owner, run)

    assert len(queries.captured_queries) <= 12, [q["sql"][:80] for q in queries.captured_queries]
