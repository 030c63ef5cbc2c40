"""Writes for published models: versions made from runs, aliases and their moves, approvals.

A version's number is handed out under the model row's lock, and so is every alias move, so
two moves of `production` at the same moment are recorded one after the other, each with the
version it really moved from. Signals (`registry.signals`) go out when the transaction commits.
What a version serves (its signature, classes, lineage) is worked out by the caller
(`pipelines.publishing`), which knows the brushes and templates; this module stores it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from registry import artifact_store, signals
from registry.errors import Conflict, InvalidInput, NotFound
from registry.models import (
    AliasMove,
    Artifact,
    ModelAlias,
    ModelVersion,
    ModelVersionFile,
    PredictionLog,
    PromotionRequest,
    PromotionStatus,
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


@transaction.atomic
def model_alias_move(
    *,
    user: AbstractBaseUser,
    model: RegisteredModel,
    alias: str,
    version: ModelVersion,
    reason: str = "",
    is_rollback: bool = False,
) -> AliasMove | PromotionRequest:
    """Points `alias` at `version` and records the move (locks the model row).

    Moving `production` of a model that asks for approval, by anyone but staff, stores a pending
    `PromotionRequest` instead and moves nothing; an operator decides it in the admin.
    Pointing an alias where it already points is a conflict (nothing to record).
    """
    alias = check_alias_name(alias)
    reason = _check_reason(reason)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if version.model_id != model.pk:
        raise InvalidInput(
            f"version {version.pk} is not a version of {model.name}", field="version"
        )
    needs_approval = alias == PRODUCTION and model.production_needs_approval
    if needs_approval and not getattr(user, "is_staff", False):
        return PromotionRequest.objects.create(
            model=model, alias=alias, version=version, requested_by=user, reason=reason
        )
    return _move(
        model=model, alias=alias, version=version, user=user, reason=reason, is_rollback=is_rollback
    )


def _move(
    *,
    model: RegisteredModel,
    alias: str,
    version: ModelVersion,
    user: AbstractBaseUser | None,
    reason: str,
    is_rollback: bool,
) -> AliasMove:
    current = ModelAlias.objects.filter(model=model, name=alias).first()
    if current is not None and current.version_id == version.pk:
        raise Conflict(f"{alias} already points at version {version.number}", field="version")
    from_version_id = current.version_id if current else None
    if current is None:
        ModelAlias.objects.create(model=model, name=alias, version=version)
    else:
        current.version = version
        current.save(update_fields=["version", "updated_at"])
    move = AliasMove.objects.create(
        model=model,
        alias=alias,
        from_version_id=from_version_id,
        to_version=version,
        moved_by=user,
        reason=reason,
        is_rollback=is_rollback,
    )
    event = signals.AliasMoved(
        model_id=model.pk,
        alias=alias,
        from_version_id=from_version_id,
        to_version_id=version.pk,
        moved_by_id=user.pk if user else None,
    )
    transaction.on_commit(lambda: signals.send_alias_moved(event))
    return move


@transaction.atomic
def model_alias_rollback(
    *, user: AbstractBaseUser, model: RegisteredModel, alias: str, reason: str = ""
) -> AliasMove | PromotionRequest:
    """Moves `alias` back to the version it pointed at before its last move (locks the model
    row). A rollback is a move like any other, marked as one in the history."""
    alias = check_alias_name(alias)
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    last = AliasMove.objects.filter(model=locked, alias=alias).order_by("-moved_at", "-id").first()
    if last is None or last.from_version_id is None:
        raise Conflict(f"{alias} has no earlier version to roll back to", field="alias")
    previous = ModelVersion.objects.get(pk=last.from_version_id)
    return model_alias_move(
        user=user,
        model=locked,
        alias=alias,
        version=previous,
        reason=reason or f"rollback from version {last.to_version.number}",
        is_rollback=True,
    )


@transaction.atomic
def promotion_decide(
    *, request: PromotionRequest, operator: AbstractBaseUser, approve: bool
) -> PromotionRequest:
    """An operator approves (the alias moves, recorded as moved by the requester) or rejects a
    pending promotion (locks the request row)."""
    request = PromotionRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != PromotionStatus.PENDING:
        raise Conflict(f"this request was already {request.status}")
    if approve:
        model = RegisteredModel.objects.select_for_update().get(pk=request.model_id)
        reason = request.reason or "approved promotion"
        _move(
            model=model,
            alias=request.alias,
            version=request.version,
            user=request.requested_by,
            reason=f"{reason} (approved by {operator.get_username()})",
            is_rollback=False,
        )
    request.status = PromotionStatus.APPROVED if approve else PromotionStatus.REJECTED
    request.decided_by = operator
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    return request


def model_count_predictions(*, model_id: int, count: int) -> None:
    """Adds to a model's "tried" counter (one UPDATE; the gallery sorts by it)."""
    RegisteredModel.objects.filter(pk=model_id).update(n_predictions=F("n_predictions") + count)


MAX_LOGGED_INPUTS = 16
TRIM_EVERY = 100


def _summarise_inputs(inputs: Sequence[Any]) -> dict[str, Any]:
    """What the drift checks read of a request, bounded: table rows as sent (the first 16),
    files by their size only (the bytes are the creator's, and large)."""
    head = list(inputs[:MAX_LOGGED_INPUTS])
    if all(isinstance(item, dict) for item in head):
        return {"kind": "rows", "rows": head}
    return {"kind": "files", "sizes": [len(item) if isinstance(item, str) else 0 for item in head]}


def prediction_log(
    *,
    version: ModelVersion,
    alias: str,
    inputs: Sequence[Any],
    outputs: Sequence[dict[str, Any]],
    latency_ms: float,
    keep: int,
) -> PredictionLog:
    """Logs one request (its first 16 inputs and outputs); now and then drops the version's
    rows past the newest `keep`, so the log stays bounded without a job."""
    log = PredictionLog.objects.create(
        version=version,
        alias=alias[:50],
        n_inputs=len(inputs),
        inputs_summary=_summarise_inputs(inputs),
        outputs=list(outputs[:MAX_LOGGED_INPUTS]),
        latency_ms=float(latency_ms),
    )
    if log.pk % TRIM_EVERY == 0:
        cutoff = (
            PredictionLog.objects.filter(version=version)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[keep : keep + 1]
            .first()
        )
        if cutoff is not None:
            PredictionLog.objects.filter(version=version, id__lte=cutoff).delete()
    return log


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
