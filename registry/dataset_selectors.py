"""Reads of datasets and their versions, scoped to the user asking.

A user sees their own datasets and everyone's public ones; only the owner changes a dataset.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from registry import artifact_store
from registry.errors import NotFound
from registry.models import Dataset, DatasetVersion, Visibility

User = AbstractBaseUser | AnonymousUser


def datasets_visible_to(user: User, *, scope: str = "all") -> QuerySet[Dataset]:
    """`scope`: "mine" (owned), "public" (anyone's public ones) or "all" (both)."""
    public = Q(visibility=Visibility.PUBLIC)
    if not user.is_authenticated:
        condition = public
    elif scope == "mine":
        condition = Q(owner=user)
    elif scope == "public":
        condition = public
    else:
        condition = Q(owner=user) | public
    return (
        Dataset.objects.filter(condition)
        .select_related("owner")
        .annotate(n_versions=Count("versions"))
        .order_by("-updated_at", "-id")
    )


def dataset_for_user(user: User, dataset_id: int | str) -> Dataset:
    try:
        return datasets_visible_to(user).get(pk=int(dataset_id))
    except (Dataset.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(f"dataset {dataset_id} not found") from None


def dataset_owned_by(user: User, dataset_id: int | str) -> Dataset:
    """The dataset if the user owns it; a public dataset of someone else is still a 404 here."""
    dataset = dataset_for_user(user, dataset_id)
    if dataset.owner_id != getattr(user, "pk", None):
        raise NotFound(f"dataset {dataset_id} not found")
    return dataset


def versions_of(dataset: Dataset) -> QuerySet[DatasetVersion]:
    """Versions newest first, without their (possibly long) manifests."""
    return dataset.versions.select_related("created_by").defer("manifest").order_by("-number")


def latest_version(dataset: Dataset) -> DatasetVersion | None:
    return versions_of(dataset).first()


def version_of(dataset: Dataset, version_id: int | str) -> DatasetVersion:
    try:
        return dataset.versions.select_related("dataset", "created_by").get(pk=int(version_id))
    except (DatasetVersion.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(f"version {version_id} not found") from None


def version_file(version: DatasetVersion) -> Path:
    """Where the version's stored file (CSV, Parquet or ZIP) lies in the content store."""
    return artifact_store.blob_path(version.blob_sha256)
