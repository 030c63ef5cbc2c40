"""Writes for the feature store: keep computed features once, record every use, purge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from registry import artifact_store
from registry.models import DatasetVersion, FeatureSet, Run, RunFeatureUse
from registry.services.blobs import remove_unused_blobs


@dataclass(frozen=True)
class FeatureFiles:
    """The computed arrays (.npz, no pickles) and the fitted chain's state file, on disk."""

    features_path: Path
    chain_path: Path
    n_samples: int
    feature_shape: tuple[int, ...]
    compute_s: float


def feature_set_store(
    *,
    dataset_version: DatasetVersion,
    chain_hash: str,
    chain_config: list[dict],
    files: FeatureFiles,
) -> FeatureSet:
    """Moves computed features into the store and records them under (content, chain) hash.

    Two workers that computed the same features at once both succeed: the second finds the
    first one's row and its own copy of the (identical) files is dropped.
    """
    features = artifact_store.adopt_file(files.features_path)
    chain = artifact_store.adopt_file(files.chain_path)
    try:
        with transaction.atomic():
            return FeatureSet.objects.create(
                dataset_version=dataset_version,
                dataset_sha256=dataset_version.sha256,
                chain_hash=chain_hash,
                chain_config=chain_config,
                blob_sha256=features.sha256,
                chain_blob_sha256=chain.sha256,
                size_bytes=features.size_bytes + chain.size_bytes,
                n_samples=files.n_samples,
                feature_shape=list(files.feature_shape),
                compute_s=files.compute_s,
            )
    except IntegrityError:
        return FeatureSet.objects.get(dataset_sha256=dataset_version.sha256, chain_hash=chain_hash)


def feature_set_record_use(
    *, feature_set: FeatureSet, run: Run | None, hit: bool, load_s: float
) -> RunFeatureUse | None:
    """Counts a use (a hit when the store already had the features) and links it to the run."""
    with transaction.atomic():
        FeatureSet.objects.filter(pk=feature_set.pk).update(
            n_hits=F("n_hits") + (1 if hit else 0), last_used_at=timezone.now()
        )
        if run is None:
            return None
        return RunFeatureUse.objects.create(
            run=run, feature_set=feature_set, hit=hit, load_s=load_s
        )


def feature_sets_purge(*, unused_for_days: int, dry_run: bool = False) -> list[FeatureSet]:
    """Deletes feature sets no run trained on and nobody used for `unused_for_days` days, with
    their files. Returns what was (or, with dry_run, would be) deleted."""
    cutoff = timezone.now() - timedelta(days=unused_for_days)
    stale = list(
        FeatureSet.objects.filter(last_used_at__lt=cutoff, uses__isnull=True)
        .select_related("dataset_version__dataset")
        .order_by("last_used_at")
    )
    if dry_run or not stale:
        return stale
    blobs = {sha for item in stale for sha in (item.blob_sha256, item.chain_blob_sha256)}
    with transaction.atomic():
        FeatureSet.objects.filter(pk__in=[item.pk for item in stale]).delete()
    remove_unused_blobs(blobs)
    return stale
