from __future__ import annotations

from django.db import models


def _run_without_constraint() -> models.ForeignKey:
    """The run of a metric row, for the tables written a batch of rows at a time.

    No database-level constraint or extra index: the primary key starts with run_id, and a
    deferred FK check per point cost a third of a batch's time on PostgreSQL. Deleting a run
    still deletes its rows (Django's collector cascades).
    """
    return models.ForeignKey(
        "registry.Run",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )


class MetricPoint(models.Model):
    """One value of one metric at one step of a run.

    The primary key is (run, key, step): logging the same step again replaces the value, and the
    primary-key index is the one index a series read needs (no surrogate id to maintain).
    """

    pk = models.CompositePrimaryKey("run_id", "key", "step")
    run = _run_without_constraint()
    key = models.CharField(max_length=250)
    step = models.BigIntegerField()
    value = models.FloatField()
    timestamp_ms = models.BigIntegerField(help_text="Wall time of the point, epoch milliseconds.")

    class Meta:
        ordering = ["run", "key", "step"]

    def __str__(self) -> str:
        return f"{self.key}[{self.step}]={self.value}"


class MetricSummary(models.Model):
    """Last/min/max of one metric of one run, kept current on every write for fast listing."""

    run = models.ForeignKey("registry.Run", on_delete=models.CASCADE, related_name="summaries")
    key = models.CharField(max_length=250)
    last_value = models.FloatField()
    last_step = models.BigIntegerField()
    last_timestamp_ms = models.BigIntegerField()
    first_step = models.BigIntegerField()
    first_value = models.FloatField()
    min_value = models.FloatField()
    max_value = models.FloatField()
    n_points = models.BigIntegerField()

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "metric summaries"
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="metric_summary_unique_run_key")
        ]
        indexes = [models.Index(fields=["key", "last_value"], name="summary_by_key_value")]

    def __str__(self) -> str:
        return (
            f"{self.key}: last {self.last_value:g} (min {self.min_value:g}, max {self.max_value:g})"
        )


class MetricRollup(models.Model):
    """Lowest and highest point of one bucket of 2^shift steps of a series.

    Maintained on every write (see `registry.rollups`) so a downsampled chart reads a few hundred
    rows however long the series grows.
    """

    pk = models.CompositePrimaryKey("run_id", "key", "shift", "bucket")
    run = _run_without_constraint()
    key = models.CharField(max_length=250)
    shift = models.SmallIntegerField()
    bucket = models.BigIntegerField()
    min_step = models.BigIntegerField()
    min_value = models.FloatField()
    max_step = models.BigIntegerField()
    max_value = models.FloatField()

    class Meta:
        ordering = ["run", "key", "shift", "bucket"]

    def __str__(self) -> str:
        return f"{self.key} 2^{self.shift}#{self.bucket}"
