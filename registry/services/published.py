"""Writes for published models: the model itself, and versions made from runs.

A version's number is handed out under the model row's lock, and `model_version_created` goes
out when the transaction commits. What a version serves (its signature, classes, lineage) is
worked out by the caller (`pipelines.publishing`), which knows the brushes and templates; this
module stores it. Aliases live in `registry.services.aliases`, the prediction log in
`registry.services.prediction_logs`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from registry import artifact_store, signals
from registry.errors import Conflict, InvalidInput, NotFound
from registry.models import (
    Artifact,
    ModelVersion,
    ModelVersionFile,
    RegisteredModel,
    Run,
    RunStatus,
    Visibility,
)
from registry.services.blobs import remove_unused_blobs
from registry.services.experiments import check_tags

MODEL_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,98}[a-z0-9])?$")
ALIAS_NAME = re.compile(r"^[a-z][a-z0-9-]{0,48}[a-z0-9]$|^[a-z]$")
PRODUCTION = "production"
# The run's files a version keeps: the model, its fitted brushes, and what its card shows.
VERSION_FILE_PREFIXES = ("model/",)
VERSION_CARD_FILES = ("metrics.json", "samples/predictions.json", "confusion_matrix.png")
REQUIRED_FILES = ("model/model.json", "model/brushes.zip")
WEIGHT_FILES = ("model/weights.pt", "model/model.skops")
MAX_REASON_CHARS = 500


def check_model_name(name: Any) -> str:
    """Lower-case letters, digits and inner hyphens, 1 to 100 characters: it goes in URLs."""
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise InvalidInput(
            "a model name is 1 to 100 lower-case letters, digits and hyphens, starting and "
            "ending with a letter or digit (e.g. 'sketch-digits')",
            field="name",
        )
    return name


def check_alias_name(alias: Any) -> str:
    if not isinstance(alias, str) or not ALIAS_NAME.match(alias):
        raise InvalidInput(
            "an alias is 1 to 50 lower-case letters, digits and hyphens, starting with a letter "
            "(e.g. 'production', 'staging', 'summer-show')",
            field="alias",
        )
    return alias


def _check_reason(reason: Any) -> str:
    if reason is None:
        return ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"reason: text of at most {MAX_REASON_CHARS} characters", field="reason")
    return reason.strip()


@dataclass(frozen=True, slots=True)
class VersionContent:
    """What `pipelines.publishing` worked out about a run for its version."""

    modality: str
    task: str
    signature: dict[str, Any]
    label_names: list[str]
    metrics: dict[str, Any]
    lineage: dict[str, Any]


def version_files_of(run: Run) -> list[Artifact]:
    """The run's artifacts a version keeps; InvalidInput when the model files are missing."""
    artifacts = [
        artifact
        for artifact in Artifact.objects.filter(run=run).order_by("path")
        if artifact.path.startswith(VERSION_FILE_PREFIXES) or artifact.path in VERSION_CARD_FILES
    ]
    paths = {artifact.path for artifact in artifacts}
    missing = [path for path in REQUIRED_FILES if path not in paths]
    if missing or not paths.intersection(WEIGHT_FILES):
        raise InvalidInput(
            f"run {run.pk} has no saved model ({', '.join(missing) or 'weights'} missing): "
            "only runs trained by the studio's pipeline can be published",
            field="run",
        )
    return artifacts


def check_publishable(*, user: AbstractBaseUser, run: Run) -> None:
    """A run is published by its owner, once it has succeeded."""
    if run.owner_id != user.pk:
        raise NotFound(f"run {run.pk} not found", field="run")
    if run.status != RunStatus.SUCCEEDED:
        raise InvalidInput(
            f"run {run.pk} is {run.status}; only succeeded runs are published", field="run"
        )


@transaction.atomic
def model_version_create(
    *,
    user: AbstractBaseUser,
    name: str,
    run: Run,
    content: VersionContent,
    description: str = "",
    visibility: str | None = None,
) -> ModelVersion:
    """Publishes `run` as the next version of the model `name`, creating the model on first use
    (private unless `visibility` says otherwise). Locks the model row while numbering.

    A name taken by someone else is a conflict; a run of another modality or task than the
    model's versions so far is refused (a model's callers rely on one signature family).
    """
    check_publishable(user=user, run=run)
    name = check_model_name(name)
    if visibility is not None and visibility not in Visibility.values:
        raise InvalidInput("visibility is private or public", field="visibility")
    files = version_files_of(run)
    model = _model_for_publishing(user, name, content, visibility)
    if (model.modality, model.task) != (content.modality, content.task):
        raise InvalidInput(
            f"model {name!r} is a {model.modality} {model.task} model; run {run.pk} trained "
            f"{content.modality} {content.task}",
            field="run",
        )
    last = model.versions.order_by("-number").values_list("number", flat=True).first()
    version = ModelVersion.objects.create(
        model=model,
        number=(last or 0) + 1,
        run=run,
        created_by=user,
        description=description or "",
        signature=dict(content.signature),
        label_names=list(content.label_names),
        metrics=dict(content.metrics),
        lineage=dict(content.lineage),
    )
    ModelVersionFile.objects.bulk_create(
        [
            ModelVersionFile(
                version=version,
                path=artifact.path,
                sha256=artifact.sha256,
                size_bytes=artifact.size_bytes,
            )
            for artifact in files
        ]
    )
    model.latest_version = version
    model.headline_metric, model.headline_value, model.headline_score = headline(
        content.task, content.metrics
    )
    model.save(
        update_fields=[
            "latest_version",
            "headline_metric",
            "headline_value",
            "headline_score",
            "updated_at",
        ]
    )
    event = signals.ModelVersionCreated(
        model_id=model.pk, version_id=version.pk, number=version.number
    )
    transaction.on_commit(lambda: signals.send_model_version_created(event))
    return version


HEADLINE_METRICS = {
    "classification": ("test_accuracy", 1.0),
    "regression": ("test_rmse", -1.0),
}


def headline(task: str, metrics: dict[str, Any]) -> tuple[str, float | None, float | None]:
    """(metric, value, score) a gallery card shows and sorts by: test accuracy, or test RMSE
    (lower is better, so its score is negated); no value when the run did not report it."""
    name, sign = HEADLINE_METRICS.get(task, ("", 1.0))
    value = metrics.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        return name, None, None
    return name, float(value), sign * float(value)


def _model_for_publishing(
    user: AbstractBaseUser, name: str, content: VersionContent, visibility: str | None
) -> RegisteredModel:
    """The model `name`, locked; created (in a savepoint, so a race becomes a conflict)."""
    model = RegisteredModel.objects.select_for_update().filter(name=name).first()
    if model is None:
        try:
            with transaction.atomic():
                model = RegisteredModel.objects.create(
                    owner=user,
                    name=name,
                    modality=content.modality,
                    task=content.task,
                    visibility=visibility or Visibility.PRIVATE,
                )
        except IntegrityError:
            raise Conflict(f"the model name {name!r} is taken", field="name") from None
        return model
    if model.owner_id != user.pk:
        raise Conflict(f"the model name {name!r} is taken", field="name")
    if visibility is not None and visibility != model.visibility:
        model.visibility = visibility
        model.save(update_fields=["visibility"])
    return model


@transaction.atomic
def model_update(
    *,
    model: RegisteredModel,
    description: str | None = None,
    licence: str | None = None,
    intended_use: str | None = None,
    tags: Sequence[str] | None = None,
    visibility: str | None = None,
    production_needs_approval: bool | None = None,
) -> RegisteredModel:
    """Edits the owner's text and settings of a model (only the fields given)."""
    changes: dict[str, Any] = {}
    for field, value, limit in (
        ("description", description, 20_000),
        ("licence", licence, 100),
        ("intended_use", intended_use, 5_000),
    ):
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidInput(f"{field}: text of at most {limit:,} characters", field=field)
        changes[field] = value.strip()
    if tags is not None:
        changes["tags"] = check_tags(tags)
    if visibility is not None:
        if visibility not in Visibility.values:
            raise InvalidInput("visibility is private or public", field="visibility")
        changes["visibility"] = visibility
    if production_needs_approval is not None:
        if not isinstance(production_needs_approval, bool):
            raise InvalidInput("true or false", field="production_needs_approval")
        changes["production_needs_approval"] = production_needs_approval
    for field, value in changes.items():
        setattr(model, field, value)
    model.save(update_fields=[*changes, "updated_at"])
    return model


MAX_ADDED_FILE_BYTES = 1024 * 1024 * 1024


@transaction.atomic
def model_version_add_files(
    *,
    version: ModelVersion,
    files: dict[str, bytes],
    lineage: dict[str, Any] | None = None,
    remove_paths: Sequence[str] = (),
) -> ModelVersion:
    """Adds files made from a version after its publication (its ONNX export), each stored by
    its sha256 like the files copied from the run, replacing any file of the same path, drops
    `remove_paths`, and merges `lineage` entries into the version's lineage (locks the version
    row, so two exports of one version do not interleave). Returns the version.

    A version's model never changes; what is added is derived from it, and its outcome is
    recorded in the lineage under its own key (`lineage["onnx"]`). Files no row names any more
    leave the store after the commit.
    """
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    stored = {
        path: artifact_store.store_stream(io.BytesIO(data), max_bytes=MAX_ADDED_FILE_BYTES)
        for path, data in files.items()
    }
    replaced = ModelVersionFile.objects.filter(version=version, path__in=[*stored, *remove_paths])
    old_sha256s = set(replaced.values_list("sha256", flat=True))
    replaced.delete()
    ModelVersionFile.objects.bulk_create(
        [
            ModelVersionFile(
                version=version, path=path, sha256=blob.sha256, size_bytes=blob.size_bytes
            )
            for path, blob in stored.items()
        ]
    )
    if lineage:
        version.lineage = {**(version.lineage or {}), **lineage}
        version.save(update_fields=["lineage"])
    unused = old_sha256s - {blob.sha256 for blob in stored.values()}
    if unused:
        transaction.on_commit(lambda: remove_unused_blobs(unused))
    return version
