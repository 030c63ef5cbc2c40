from __future__ import annotations

from django.conf import settings
from django.db import models


class Modality(models.TextChoices):
    TABULAR = "tabular", "Table"
    IMAGE = "image", "Images"
    AUDIO = "audio", "Audio"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLIC = "public", "Public"


class Dataset(models.Model):
    """A creator's material (a table, a folder of images, a box of sounds) across its versions."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    modality = models.CharField(max_length=16, choices=Modality.choices)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="dataset_unique_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    """One immutable state of a dataset. Never edited: a change (an upload, an annotation
    session) makes a new version, and the same content is the same version (`sha256`).

    The stored file (CSV, Parquet or ZIP) lives in the content-addressed store under
    `blob_sha256`; `sha256` names the content (the file bytes for tables, the canonical
    manifest for archives, so relabelled files are a different version).
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    blob_sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=16)
    original_name = models.CharField(max_length=255, blank=True, default="")
    size_bytes = models.BigIntegerField()
    n_samples = models.PositiveIntegerField()
    schema = models.JSONField(default=dict)
    manifest = models.JSONField(default=list, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number"),
            models.UniqueConstraint(fields=["dataset", "sha256"], name="dataset_version_content"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"
