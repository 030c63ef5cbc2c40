"""The one entry point: an uploaded file in, an IngestResult or an IngestRejected out."""

from __future__ import annotations

from pathlib import Path

from registry.ingest.errors import IngestRejected
from registry.ingest.limits import DEFAULT_LIMITS, IngestLimits, describe_bytes
from registry.ingest.result import IngestResult, Modality


def ingest(
    path: Path,
    *,
    modality: Modality,
    original_name: str,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> IngestResult:
    """Validate and describe an uploaded dataset file before anything is kept.

    `path` is the upload on local disk (a temporary file); it is only read. `original_name` is the
    name the creator's file had: it tells a Parquet or CSV table apart when the bytes alone
    cannot explain a failure. Tables are CSV or Parquet; images and audio are a ZIP.

    Costs a full read of the file (hash, encoding check) and, for a ZIP, a full inflate of every
    member, bounded by `limits`. Raises IngestRejected with one message for anything the uploader
    can fix; ValueError for an unknown modality (a caller's bug).
    """
    size_bytes = path.stat().st_size
    if size_bytes > limits.max_upload_bytes:
        raise IngestRejected(
            f"the upload is {describe_bytes(size_bytes)}, "
            f"over the {describe_bytes(limits.max_upload_bytes)} limit"
        )
    if size_bytes == 0:
        raise IngestRejected("the file is empty")
    # Each modality's libraries are imported when an upload needs them: pandas and pyarrow alone
    # take half a second, which every Django process would otherwise pay at start-up.
    if modality == "tabular":
        from registry.ingest.tabular import ingest_table

        return ingest_table(path, original_name=original_name, limits=limits)
    if modality == "image":
        from registry.ingest.images import ingest_images

        return ingest_images(path, limits=limits)
    if modality == "audio":
        from registry.ingest.audio import ingest_audio

        return ingest_audio(path, limits=limits)
    raise ValueError(f"unknown modality {modality!r}: expected tabular, image or audio")
