"""Writes for a published model's aliases: moves (recorded with who, when, from, to and why),
rollbacks, and the operator's decision on a production move that waits for approval.

Every move locks the model row, so two moves of one alias at the same moment are recorded one
after the other, each with the version it really moved from; `alias_moved` goes out on commit.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from registry import signals
from registry.errors import Conflict, InvalidInput
from registry.models import (
    AliasMove,
    ModelAlias,
    ModelVersion,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
)
from registry.services.published import PRODUCTION, _check_reason, check_alias_name


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
