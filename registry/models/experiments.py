from __future__ import annotations

from django.conf import settings
from django.db import models


class Experiment(models.Model):
    """A named collection of runs that answer one question ("which brush helps my sketches?")."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="experiments"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="experiment_unique_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return self.name
