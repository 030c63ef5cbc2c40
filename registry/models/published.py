"""Published models: a RegisteredModel, its immutable versions, the aliases that point at them
and every move of an alias.

A version is made once from a succeeded run and never changes: its files are the run's
artifacts, named by their sha256 in the content-addressed store and checked against it whenever
they are loaded; its signature, classes, metrics and lineage are copied from the run at
registration, so a later edit or deletion of the run changes nothing about what serves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.models.datasets import Modality, Visibility


class RegisteredModel(models.Model):
    """A model as the gallery shows it: a name everyone addresses it by, and its story."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registered_models"
    )
    name = models.SlugField(
        max_length=100, unique=True, help_text="Unique across the studio: the API addresses it."
    )
    modality = models.CharField(max_length=16, choices=Modality.choices)
    task = models.CharField(max_length=16)
    tags = models.JSONField(default=list, blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE, db_index=True
    )
    description = models.TextField(blank=True, default="")
    licence = models.CharField(max_length=100, blank=True, default="")
    intended_use = models.TextField(blank=True, default="")
    production_needs_approval = models.BooleanField(
        default=False,
        help_text="Moving `production` waits for an operator's approval in the admin.",
    )
    n_predictions = models.PositiveBigIntegerField(default=0, help_text="Times it was tried.")
    # Kept up to date when a version is published, so the gallery lists and sorts 10,000 models
    # from this table alone: the newest version, and its headline test metric.
    latest_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    headline_metric = models.CharField(max_length=64, blank=True, default="")
    headline_value = models.FloatField(null=True, blank=True)
    headline_score = models.FloatField(
        null=True, blank=True, help_text="The headline as higher-is-better, for sorting."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["visibility", "-created_at"], name="model_by_newest"),
            models.Index(fields=["visibility", "-headline_score"], name="model_by_metric"),
            models.Index(fields=["visibility", "-n_predictions"], name="model_by_tries"),
        ]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    """One immutable published state of a model, made from a succeeded run."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    run = models.ForeignKey(
        "registry.Run",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="model_versions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(blank=True, default="")
    signature = models.JSONField(help_text="What a prediction request must contain.")
    label_names = models.JSONField(default=list, blank=True, help_text="Output classes.")
    metrics = models.JSONField(default=dict, blank=True, help_text="The run's final metrics.")
    lineage = models.JSONField(
        default=dict,
        blank=True,
        help_text="Dataset version, run, brushes, template, params and code version.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="model_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.number}"


class ModelVersionFile(models.Model):
    """A file of a version: a path and the sha256 that names its bytes in the store."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField()

    class Meta:
        ordering = ["version", "path"]
        constraints = [
            models.UniqueConstraint(fields=["version", "path"], name="version_file_unique_path")
        ]

    def __str__(self) -> str:
        return self.path


class ModelAlias(models.Model):
    """A name (`production`, `staging`, anything) that points at one version of a model."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.SlugField(max_length=50)
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="aliases")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "name"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="model_alias_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.name}"


class AliasMove(models.Model):
    """One move of an alias, kept forever: who, when, from which version to which, and why."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="moves")
    alias = models.SlugField(max_length=50)
    from_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    is_rollback = models.BooleanField(default=False)
    moved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-moved_at", "-id"]
        indexes = [models.Index(fields=["model", "alias", "-moved_at"], name="move_by_alias")]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.alias} -> {self.to_version_id}"


class PromotionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class PromotionRequest(models.Model):
    """A move of `production` that waits for an operator (when the model asks for approval)."""

    model = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="promotion_requests"
    )
    alias = models.SlugField(max_length=50)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(
        max_length=16,
        choices=PromotionStatus.choices,
        default=PromotionStatus.PENDING,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.model.name}@{self.alias} -> v{self.version.number} ({self.status})"


class PredictionLog(models.Model):
    """A sampled prediction, for drift monitoring: what was asked (summarised) and answered."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="prediction_logs"
    )
    alias = models.CharField(max_length=50, blank=True, default="")
    n_inputs = models.PositiveIntegerField()
    inputs_summary = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=list, blank=True)
    latency_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["version", "-created_at"], name="prediction_by_version")]

    def __str__(self) -> str:
        return f"{self.n_inputs} inputs to version {self.version_id} at {self.created_at}"
