"""Content-addressed file store for artifacts, under `<data dir>/artifacts/`.

A blob is named by the SHA-256 of its bytes (`ab/cd/abcd…`), so identical files are stored once
and a file can be checked against its name before it is trusted. Writes go to a temporary file
in the same directory tree and are renamed into place only when complete, so a reader never sees
half a file and an aborted upload leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from registry.errors import LimitExceeded

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size_bytes: int


def _root() -> Path:
    return Path(settings.ARTIFACT_DIR)


def staging_dir() -> Path:
    """Where files are written before they are complete and checked (same filesystem as the
    store, so adopting one is an atomic rename)."""
    staging = _root() / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def blob_path(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a sha256 hex digest")
    return _root() / sha256[:2] / sha256[2:4] / sha256


def store_stream(stream: BinaryIO, *, max_bytes: int) -> StoredBlob:
    """Copies a stream into the store, refusing more than `max_bytes` while it streams."""
    staged = stage_stream(stream, max_bytes=max_bytes)
    try:
        return adopt_file(staged)
    finally:
        staged.unlink(missing_ok=True)


def adopt_file(path: Path) -> StoredBlob:
    """Moves a complete file (already size-checked) into the store under its content hash."""
    digest = hashlib.sha256()
    size_bytes = 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            size_bytes += len(chunk)
    sha256 = digest.hexdigest()
    target = blob_path(sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return StoredBlob(sha256=sha256, size_bytes=size_bytes)


def stage_stream(stream: BinaryIO, *, max_bytes: int) -> Path:
    """Copies an upload to a private temporary file, refusing it past `max_bytes`.

    The caller validates the staged file and then adopts or deletes it; nothing reaches the
    store before it has been validated.
    """
    handle, temp_name = tempfile.mkstemp(dir=staging_dir())
    size_bytes = 0
    try:
        with os.fdopen(handle, "wb") as temp_file:
            while chunk := stream.read(CHUNK_BYTES):
                size_bytes += len(chunk)
                if size_bytes > max_bytes:
                    raise LimitExceeded(
                        f"the file is larger than the {max_bytes // (1024 * 1024)} MiB limit",
                        field="file",
                    )
                temp_file.write(chunk)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return Path(temp_name)


def open_blob(sha256: str) -> BinaryIO:
    return blob_path(sha256).open("rb")


def remove_blob(sha256: str) -> None:
    blob_path(sha256).unlink(missing_ok=True)


class BlobDamaged(Exception):
    """A stored file whose bytes no longer match the sha256 that names it."""


def read_checked(sha256: str, *, max_bytes: int) -> bytes:
    """A blob's bytes, refused unless they hash to their name (and fit in `max_bytes`): what is
    loaded into a model is exactly what was published."""
    path = blob_path(sha256)
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitExceeded(f"stored file {sha256[:12]}… is {size:,} bytes; at most {max_bytes:,}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise BlobDamaged(f"stored file {sha256[:12]}… does not match its sha256")
    return data
