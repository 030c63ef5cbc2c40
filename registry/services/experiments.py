"""Writes for experiments."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from registry.errors import Conflict, InvalidInput
from registry.models import Experiment

MAX_TAGS = 32


def check_tags(tags: Sequence[str] | None) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise InvalidInput("tags must be a list of strings", field="tags")
    cleaned = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 50:
            raise InvalidInput(
                "each tag must be a non-empty string of at most 50 characters", field="tags"
            )
        if tag.strip() not in cleaned:
            cleaned.append(tag.strip())
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags", field="tags")
    return cleaned


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name must not be blank", field="name")
    if len(name) > 200:
        raise InvalidInput("name must be at most 200 characters", field="name")
    return name.strip()


def _save_with_unique_name(experiment: Experiment) -> None:
    """Saves in a savepoint so a duplicate name becomes a Conflict, not a broken transaction."""
    try:
        with transaction.atomic():
            experiment.save()
    except IntegrityError:
        raise Conflict(
            f"you already have an experiment named {experiment.name!r}", field="name"
        ) from None


@transaction.atomic
def experiment_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    description: str = "",
    tags: Sequence[str] | None = None,
) -> Experiment:
    """Creates an experiment; names are unique per owner (409 otherwise)."""
    experiment = Experiment(
        owner=owner, name=_check_name(name), description=description or "", tags=check_tags(tags)
    )
    _save_with_unique_name(experiment)
    return experiment


@transaction.atomic
def experiment_update(
    *,
    experiment: Experiment,
    name: str | None = None,
    description: str | None = None,
    tags: Sequence[str] | None = None,
) -> Experiment:
    """Renames or re-describes an experiment (locks its row)."""
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if name is not None:
        experiment.name = _check_name(name)
    if description is not None:
        experiment.description = description
    if tags is not None:
        experiment.tags = check_tags(tags)
    _save_with_unique_name(experiment)
    return experiment


@transaction.atomic
def experiment_delete(*, experiment: Experiment) -> None:
    """Deletes an experiment with its runs, metrics and artifact rows (files stay shared)."""
    experiment.delete()
