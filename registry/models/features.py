from __future__ import annotations

from django.db import models


class FeatureSet(models.Model):
    """Features a brush chain computed from a dataset version, stored once and reused.

    Keyed by (dataset version content hash, chain config hash): any later run that asks for
    the same chain on the same data reads this instead of computing again. The arrays and the
    fitted chain live in the content-addressed store (`blob_sha256`, an .npz without pickles;
    `chain_blob_sha256`, the chain's own state file).
    """

    dataset_version = models.ForeignKey(
        "registry.DatasetVersion", on_delete=models.CASCADE, related_name="feature_sets"
    )
    dataset_sha256 = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    chain_config = models.JSONField(default=list)
    blob_sha256 = models.CharField(max_length=64)
    chain_blob_sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    n_samples = models.PositiveIntegerField()
    feature_shape = models.JSONField(default=list, help_text="Shape of one sample's features.")
    compute_s = models.FloatField(help_text="Seconds it took to compute.")
    n_hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_used_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset_sha256", "chain_hash"], name="feature_set_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset_version} + chain {self.chain_hash[:10]}"


class RunFeatureUse(models.Model):
    """Which feature set a run trained on, and whether the store already had it (a hit)."""

    run = models.ForeignKey("registry.Run", on_delete=models.CASCADE, related_name="feature_uses")
    feature_set = models.ForeignKey(FeatureSet, on_delete=models.PROTECT, related_name="uses")
    hit = models.BooleanField()
    load_s = models.FloatField(help_text="Seconds to load (hit) or compute (miss).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.run_id}: {'hit' if self.hit else 'miss'}"
