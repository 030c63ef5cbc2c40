"""Content hashes: of a file's bytes, and of an archive's manifest.

An archive's hash is taken over what it holds, not over its bytes: zip tools differ in member order,
timestamps and compression, and the same pictures re-zipped must be recognised as the same data.
Labels are part of the hash because relabelling changes what a model learns from the data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

_CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks so a large upload never sits whole in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_sha256(manifest: Iterable[Mapping]) -> str:
    """The sha256 of a manifest's canonical JSON: entries sorted by path, each reduced to its
    path, member hash and label.

    Sizes, dimensions and rates follow from the member bytes, so they add nothing to the identity;
    leaving them out lets the annotation service relabel a manifest and hash it again without
    re-reading any file.
    """
    canonical = sorted(
        (
            {"label": entry["label"], "path": entry["path"], "sha256": entry["sha256"]}
            for entry in manifest
        ),
        key=lambda entry: entry["path"],
    )
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
