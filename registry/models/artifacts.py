from __future__ import annotations

from django.db import models


class Artifact(models.Model):
    """A file attached to a run under a relative path; the bytes live content-addressed.

    Two runs that log identical bytes share one file on disk (`sha256` names it).
    """

    run = models.ForeignKey("registry.Run", on_delete=models.CASCADE, related_name="artifacts")
    path = models.CharField(max_length=500)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField(max_length=200, default="application/octet-stream")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["run", "path"], name="artifact_unique_path_per_run")
        ]

    def __str__(self) -> str:
        return self.path
