"""Reads of published models for pages and the API, scoped to what the caller may see:
public models for everyone, private ones for their owner only (anyone else gets a 404, as if
the model did not exist)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from registry.errors import Forbidden, NotFound
from registry.models import (
    AliasMove,
    ModelAlias,
    ModelVersion,
    RegisteredModel,
    Visibility,
)

MAX_VERSION_NUMBER = 2**31 - 1


def models_visible_to(user) -> QuerySet[RegisteredModel]:
    public = Q(visibility=Visibility.PUBLIC)
    if user is not None and user.is_authenticated:
        public |= Q(owner=user)
    return RegisteredModel.objects.filter(public).select_related("owner")


def model_for_user(user, name: str) -> RegisteredModel:
    model = models_visible_to(user).filter(name=name).first()
    if model is None:
        raise NotFound(f"model {name!r} not found", field="name")
    return model


def model_owned_by(user, name: str) -> RegisteredModel:
    """The model when `user` owns it; 404 when they cannot see it, 403 when it is someone
    else's public model."""
    model = model_for_user(user, name)
    if model.owner_id != getattr(user, "pk", None):
        raise Forbidden(f"only the owner of {name!r} can change it")
    return model


def version_of(model: RegisteredModel, number) -> ModelVersion:
    text = str(number)
    version = None
    if text.isascii() and text.isdigit() and int(text) <= MAX_VERSION_NUMBER:
        version = model.versions.filter(number=int(text)).select_related("run").first()
    if version is None:
        raise NotFound(f"{model.name} has no version {number}", field="version")
    return version


def version_for_alias(model: RegisteredModel, alias: str) -> ModelVersion:
    found = ModelAlias.objects.filter(model=model, name=alias).select_related("version").first()
    if found is None:
        raise NotFound(f"{model.name} has no alias {alias!r}", field="alias")
    return found.version


def aliases_of(model: RegisteredModel) -> list[ModelAlias]:
    return list(ModelAlias.objects.filter(model=model).select_related("version").order_by("name"))


def moves_of(model: RegisteredModel, *, limit: int = 200) -> list[AliasMove]:
    return list(
        AliasMove.objects.filter(model=model)
        .select_related("from_version", "to_version", "moved_by")
        .order_by("-moved_at", "-id")[:limit]
    )
