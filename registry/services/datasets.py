"""Writes for datasets: create with a first version, add versions, relabel, change, delete.

Every upload is staged to a private temporary file, validated whole by `registry.ingest`, and
only then moved into the content-addressed store and recorded; a refused upload leaves no file
and no row behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError

from registry import artifact_store
from registry.errors import Conflict, InvalidInput
from registry.ingest import IngestLimits, IngestRejected, IngestResult, ingest, manifest_sha256
from registry.models import Dataset, DatasetVersion, FeatureSet, Modality, Visibility
from registry.services.blobs import remove_unused_blobs

MAX_LABEL_LENGTH = 100


def ingest_limits() -> IngestLimits:
    return IngestLimits(
        max_upload_bytes=settings.MAX_DATASET_BYTES,
        max_members=settings.MAX_DATASET_MEMBERS,
        max_uncompressed_bytes=settings.MAX_DATASET_INFLATED_BYTES,
        max_member_bytes=settings.MAX_DATASET_MEMBER_BYTES,
        max_image_pixels=settings.MAX_IMAGE_PIXELS,
        max_audio_duration_s=float(settings.MAX_AUDIO_SECONDS),
    )


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("name must not be blank", field="name")
    if len(name) > 200:
        raise InvalidInput("name must be at most 200 characters", field="name")
    return name.strip()


def _check_choice(value: str, choices: type, field: str) -> str:
    if value not in choices.values:
        raise InvalidInput(f"{field} must be one of {', '.join(choices.values)}", field=field)
    return value


def _validated_upload(
    upload: BinaryIO, *, modality: str, original_name: str
) -> tuple[Path, IngestResult]:
    """Stages and validates an upload; the caller owns (and must remove) the staged file."""
    limits = ingest_limits()
    staged = artifact_store.stage_stream(upload, max_bytes=limits.max_upload_bytes)
    try:
        result = ingest(staged, modality=modality, original_name=original_name, limits=limits)
    except IngestRejected as error:
        staged.unlink(missing_ok=True)
        raise InvalidInput(str(error), field="file") from None
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged, result


def _record_version(
    *,
    dataset: Dataset,
    result: IngestResult,
    staged: Path,
    original_name: str,
    note: str,
    created_by: AbstractBaseUser,
) -> DatasetVersion:
    """Adopts the staged file into the store and writes the version row (caller holds the
    dataset row lock). If the row cannot be written, the blob goes again unless shared."""
    blob = artifact_store.adopt_file(staged)
    try:
        with transaction.atomic():
            latest = dataset.versions.aggregate(latest=Max("number"))["latest"] or 0
            return DatasetVersion.objects.create(
                dataset=dataset,
                number=latest + 1,
                sha256=result.sha256,
                blob_sha256=blob.sha256,
                file_format=result.file_format,
                original_name=original_name[:255],
                size_bytes=result.size_bytes,
                n_samples=result.n_samples,
                schema=result.schema,
                manifest=result.manifest,
                sample_rate=result.sample_rate,
                note=note or "",
                created_by=created_by,
            )
    except BaseException:
        remove_unused_blobs({blob.sha256})
        raise


def dataset_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    modality: str,
    upload: BinaryIO,
    original_name: str = "",
    description: str = "",
    visibility: str = Visibility.PRIVATE,
    note: str = "",
) -> tuple[Dataset, DatasetVersion]:
    """Creates a dataset with its first version from an upload (validated before anything is
    kept). Names are unique per owner."""
    name = _check_name(name)
    modality = _check_choice(modality, Modality, "modality")
    visibility = _check_choice(visibility, Visibility, "visibility")
    if Dataset.objects.filter(owner=owner, name=name).exists():
        raise Conflict(f"you already have a dataset named {name!r}", field="name")
    staged, result = _validated_upload(upload, modality=modality, original_name=original_name)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    dataset = Dataset.objects.create(
                        owner=owner,
                        name=name,
                        modality=modality,
                        visibility=visibility,
                        description=description or "",
                    )
            except IntegrityError:
                raise Conflict(f"you already have a dataset named {name!r}", field="name") from None
            version = _record_version(
                dataset=dataset,
                result=result,
                staged=staged,
                original_name=original_name,
                note=note,
                created_by=owner,
            )
    finally:
        staged.unlink(missing_ok=True)
    return dataset, version


def dataset_version_add(
    *,
    dataset: Dataset,
    upload: BinaryIO,
    created_by: AbstractBaseUser,
    original_name: str = "",
    note: str = "",
) -> tuple[DatasetVersion, bool]:
    """Adds a version from an upload; returns (version, created). The same content as an
    existing version returns that version (created False) and stores nothing new."""
    staged, result = _validated_upload(
        upload, modality=dataset.modality, original_name=original_name
    )
    try:
        with transaction.atomic():
            locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
            existing = locked.versions.filter(sha256=result.sha256).first()
            if existing is not None:
                return existing, False
            version = _record_version(
                dataset=locked,
                result=result,
                staged=staged,
                original_name=original_name,
                note=note,
                created_by=created_by,
            )
            locked.save(update_fields=["updated_at"])
            return version, True
    finally:
        staged.unlink(missing_ok=True)


def _relabelled_schema(version: DatasetVersion, manifest: list[dict]) -> dict:
    counts = Counter(item["label"] for item in manifest if item["label"] is not None)
    schema = dict(version.schema)
    schema["classes"] = [{"name": name, "count": counts[name]} for name in sorted(counts)]
    schema["n_unlabelled"] = sum(1 for item in manifest if item["label"] is None)
    return schema


def _check_label(label: str | None) -> str | None:
    if label is None:
        return None
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_LENGTH:
        raise InvalidInput(f"a class name is 1-{MAX_LABEL_LENGTH} characters", field="labels")
    if "/" in label or "\\" in label:
        raise InvalidInput("a class name cannot contain slashes", field="labels")
    return label.strip()


@transaction.atomic
def dataset_version_relabel(
    *,
    version: DatasetVersion,
    labels: Mapping[str, str | None],
    created_by: AbstractBaseUser,
    note: str = "",
) -> tuple[DatasetVersion, bool]:
    """Saves an annotation session as a new version (the files stay, their labels change);
    the source version is never edited. Returns (version, created)."""
    if version.file_format != "zip":
        raise InvalidInput("only image and audio datasets carry labels", field="labels")
    if not labels:
        raise InvalidInput("no labels to save", field="labels")
    paths = {item["path"] for item in version.manifest}
    unknown = [path for path in labels if path not in paths]
    if unknown:
        raise InvalidInput(f"no sample {unknown[0]!r} in version {version.number}", field="labels")
    cleaned = {path: _check_label(label) for path, label in labels.items()}
    manifest = [
        {**item, "label": cleaned.get(item["path"], item["label"])} for item in version.manifest
    ]
    sha256 = manifest_sha256(manifest)
    dataset = Dataset.objects.select_for_update().get(pk=version.dataset_id)
    existing = dataset.versions.filter(sha256=sha256).first()
    if existing is not None:
        return existing, False
    latest = dataset.versions.aggregate(latest=Max("number"))["latest"] or 0
    created = DatasetVersion.objects.create(
        dataset=dataset,
        number=latest + 1,
        sha256=sha256,
        blob_sha256=version.blob_sha256,
        file_format=version.file_format,
        original_name=version.original_name,
        size_bytes=version.size_bytes,
        n_samples=version.n_samples,
        schema=_relabelled_schema(version, manifest),
        manifest=manifest,
        sample_rate=version.sample_rate,
        note=note or "",
        parent=version,
        created_by=created_by,
    )
    dataset.save(update_fields=["updated_at"])
    return created, True


@transaction.atomic
def dataset_update(
    *,
    dataset: Dataset,
    name: str | None = None,
    description: str | None = None,
    visibility: str | None = None,
) -> Dataset:
    """Renames, re-describes or publishes a dataset (its versions never change)."""
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if name is not None:
        dataset.name = _check_name(name)
    if description is not None:
        dataset.description = description
    if visibility is not None:
        dataset.visibility = _check_choice(visibility, Visibility, "visibility")
    try:
        with transaction.atomic():
            dataset.save()
    except IntegrityError:
        raise Conflict(f"you already have a dataset named {dataset.name!r}", field="name") from None
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    """Deletes a dataset and its versions, unless runs trained on its features (409)."""
    blobs = set(dataset.versions.values_list("blob_sha256", flat=True))
    feature_sets = FeatureSet.objects.filter(dataset_version__dataset=dataset)
    for blob_sha256, chain_blob_sha256 in feature_sets.values_list(
        "blob_sha256", "chain_blob_sha256"
    ):
        blobs.update((blob_sha256, chain_blob_sha256))
    try:
        with transaction.atomic():
            dataset.delete()
    except ProtectedError:
        raise Conflict(
            f"dataset {dataset.name!r} has features that runs trained on; delete those runs first"
        ) from None
    remove_unused_blobs(blobs)
