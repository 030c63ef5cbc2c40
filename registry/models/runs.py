from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def terminal(cls) -> frozenset[str]:
        return frozenset({cls.SUCCEEDED, cls.FAILED, cls.CANCELLED})


class DeviceClass(models.TextChoices):
    CPU = "cpu", "CPU"
    GPU = "gpu", "GPU"


class Run(models.Model):
    """One attempt inside an experiment: its params, timings, outcome and lineage.

    `parent` nests a run under another (a sweep trial under its sweep run); `remix_of` records that
    a creator started from someone else's run.
    """

    experiment = models.ForeignKey(
        "registry.Experiment", on_delete=models.CASCADE, related_name="runs"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs"
    )
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    error_text = models.TextField(blank=True, default="")
    device = models.CharField(max_length=32, blank=True, default="")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    remix_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="remixes"
    )
    # Runs the studio trains itself (empty `config` for runs opened by outside scripts).
    config = models.JSONField(default=dict, blank=True)
    device_class = models.CharField(
        max_length=8, choices=DeviceClass.choices, blank=True, default=""
    )
    attempt = models.PositiveSmallIntegerField(default=0, help_text="Times a worker took it.")
    max_attempts = models.PositiveSmallIntegerField(default=3)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    timeout_s = models.PositiveIntegerField(null=True, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="Final metrics (test_…).")
    log_text = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["experiment", "-created_at"], name="run_by_experiment"),
            models.Index(fields=["status", "heartbeat_at"], name="run_by_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in RunStatus.terminal()

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        if self.ended_at is None:
            return None
        return self.ended_at - self.started_at
