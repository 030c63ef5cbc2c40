"""Writes for artifacts: a run's files, stored content-addressed."""

from __future__ import annotations

import mimetypes
import posixpath
import re
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from registry import artifact_store
from registry.errors import InvalidInput
from registry.models import Artifact, Run
from registry.services.blobs import remove_unused_blobs
from registry.services.runs import ensure_open

_DRIVE = re.compile(r"^[A-Za-z]:")
# Model files that `mimetypes` misnames (".pt" is guessed as an SNES page table).
_BINARY_SUFFIXES = (".pt", ".pth", ".ckpt", ".safetensors", ".onnx", ".skops", ".npy", ".npz")


def check_artifact_path(path: str) -> str:
    """A relative POSIX path inside the run: no absolute paths, `..`, drive letters or controls."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput("path must not be blank", field="path")
    if len(path) > 500:
        raise InvalidInput("path must be at most 500 characters", field="path")
    if "\\" in path or _DRIVE.match(path) or path.startswith("/"):
        raise InvalidInput("path must be relative and use forward slashes", field="path")
    if any(ord(char) < 32 for char in path):
        raise InvalidInput("path must not contain control characters", field="path")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidInput("path must not contain empty, '.' or '..' parts", field="path")
    return posixpath.normpath(path)


def run_log_artifact(
    *,
    run: Run,
    path: str,
    stream: BinaryIO,
    content_type: str = "",
    max_bytes: int | None = None,
) -> Artifact:
    """Stores a file under `path` in a run; logging the same path again replaces it.

    The bytes are written (and size-checked while streaming) before the row; if the row cannot
    be written the bytes are removed again unless another artifact shares them.
    """
    clean_path = check_artifact_path(path)
    ensure_open(run)
    limit = settings.MAX_ARTIFACT_BYTES if max_bytes is None else max_bytes
    blob = artifact_store.store_stream(stream, max_bytes=limit)
    guessed_type = content_type or mimetypes.guess_type(clean_path)[0] or "application/octet-stream"
    if clean_path.lower().endswith(_BINARY_SUFFIXES):
        guessed_type = "application/octet-stream"
    try:
        with transaction.atomic():
            locked = Run.objects.select_for_update().get(pk=run.pk)
            ensure_open(locked)
            artifact, _created = Artifact.objects.update_or_create(
                run=locked,
                path=clean_path,
                defaults={
                    "size_bytes": blob.size_bytes,
                    "sha256": blob.sha256,
                    "content_type": guessed_type[:200],
                },
            )
    except BaseException:
        remove_unused_blobs({blob.sha256})
        raise
    return artifact
