"""Whether a file of the content-addressed store is still referenced by any row."""

from __future__ import annotations

from registry import artifact_store
from registry.models import Artifact, DatasetVersion, FeatureSet, ModelVersionFile


def blob_in_use(sha256: str) -> bool:
    """Artifacts, dataset versions, feature sets and published model versions all share one
    store: a file goes only when none of them names it."""
    return (
        Artifact.objects.filter(sha256=sha256).exists()
        or ModelVersionFile.objects.filter(sha256=sha256).exists()
        or DatasetVersion.objects.filter(blob_sha256=sha256).exists()
        or FeatureSet.objects.filter(blob_sha256=sha256).exists()
        or FeatureSet.objects.filter(chain_blob_sha256=sha256).exists()
    )


def remove_unused_blobs(sha256s: set[str]) -> None:
    for sha256 in sha256s:
        if not blob_in_use(sha256):
            artifact_store.remove_blob(sha256)
