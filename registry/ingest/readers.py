"""Loading a stored dataset version's samples for training, evaluation and preview pages.

Readers take the stored blob (the CSV, Parquet or ZIP that ingest accepted) with the schema or
manifest that ingest returned, so they parse exactly as ingest did and read only the members that
the manifest names. The archive is opened with the same checks as at upload: a stored file is
trusted no more than the storage it sits on.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
from PIL import Image

from registry.ingest.archive import (
    InflationBudget,
    check_entry,
    check_member_name,
    open_archive,
    read_member_bytes,
)
from registry.ingest.audio import decode_mono
from registry.ingest.errors import IngestRejected, UndecodableMember
from registry.ingest.limits import DEFAULT_LIMITS, IngestLimits
from registry.ingest.previews import spectrogram_png, thumbnail_png
from registry.ingest.table_reading import PARQUET_MAGIC, read_csv_frame, read_parquet_frame

__all__ = [
    "read_audio",
    "read_images",
    "read_member",
    "read_table",
    "spectrogram_png",
    "thumbnail_png",
]


def read_table(path: Path, schema: dict) -> pd.DataFrame:
    """The stored table, parsed with the delimiter, header and encoding found at upload.

    Columns come in pandas' default dtypes with NaN for missing cells: an "integer" column with
    gaps is float64 here, a "boolean" one with gaps is object, text is pandas' str dtype.
    """
    with path.open("rb") as file:
        is_parquet = file.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC
    if schema.get("format", "parquet" if is_parquet else "csv") == "parquet":
        return read_parquet_frame(path)
    return read_csv_frame(
        path,
        delimiter=schema["delimiter"],
        has_header=schema["has_header"],
        encoding=schema.get("encoding") or "utf-8-sig",
        blank_lines_are_rows=len(schema["columns"]) == 1,
    )


def read_member(path: Path, member_path: str, limits: IngestLimits = DEFAULT_LIMITS) -> bytes:
    """One member's bytes, with the path, kind and size checks of ingest.

    Raises IngestRejected for a member that is missing, unsafe, too large or damaged.
    """
    with open_archive(path, limits) as archive:
        return next(_member_bytes(archive, [member_path], limits))


def read_images(path: Path, manifest: list[dict]) -> tuple[list[np.ndarray], list[str | None]]:
    """Every manifest image as an H x W x C uint8 array (C = 1 for grey images, 3 otherwise),
    with its label.

    Grey stays grey (L, LA, 16-bit and 1-bit images become L) so a digit set is not tripled in
    memory; every other mode (palette, RGBA, CMYK) becomes RGB, dropping alpha.
    """
    arrays = []
    limits = _manifest_limits(manifest)
    with open_archive(path, limits) as archive:
        paths = [entry["path"] for entry in manifest]
        for data in _member_bytes(archive, paths, limits):
            with Image.open(io.BytesIO(data)) as image:
                is_grey = Image.getmodebase(image.mode) == "L"
                array = np.asarray(image.convert("L" if is_grey else "RGB"), dtype=np.uint8)
            arrays.append(array[:, :, np.newaxis] if array.ndim == 2 else array)
    return arrays, [entry["label"] for entry in manifest]


def read_audio(
    path: Path, manifest: list[dict], *, sample_rate: int, duration_s: float | None = None
) -> tuple[list[np.ndarray], list[str | None]]:
    """Every manifest clip as mono float32 at `sample_rate`, with its label.

    With `duration_s`, every clip is cut or padded with silence at its end to exactly that long,
    so clips stack into one batch.
    """
    clips = []
    target_frames = None if duration_s is None else round(duration_s * sample_rate)
    limits = _manifest_limits(manifest)
    with open_archive(path, limits) as archive:
        paths = [entry["path"] for entry in manifest]
        for data in _member_bytes(archive, paths, limits):
            samples, clip_rate = decode_mono(data)
            if clip_rate != sample_rate:
                samples = librosa.resample(
                    samples, orig_sr=clip_rate, target_sr=sample_rate, res_type="soxr_hq"
                )
            if target_frames is not None:
                samples = librosa.util.fix_length(samples, size=target_frames)
            clips.append(samples.astype(np.float32, copy=False))
    return clips, [entry["label"] for entry in manifest]


def _manifest_limits(manifest: list[dict]) -> IngestLimits:
    """Limits from the sizes that ingest counted: whatever limits the version was accepted under,
    each member may inflate to its recorded size and no further."""
    sizes = [entry["size_bytes"] for entry in manifest] or [0]
    return replace(
        DEFAULT_LIMITS,
        max_members=max(DEFAULT_LIMITS.max_members, len(manifest)),
        max_member_bytes=max(sizes),
        max_uncompressed_bytes=sum(sizes),
    )


def _member_bytes(
    archive: zipfile.ZipFile, member_paths: list[str], limits: IngestLimits
) -> Iterator[bytes]:
    """The named members' bytes in order, each checked as at upload; one budget for them all."""
    budget = InflationBudget(limits)
    for member_path in member_paths:
        check_member_name(member_path)
        try:
            info = archive.getinfo(member_path)
        except KeyError as error:
            raise IngestRejected(f'member "{member_path}" is not in the archive') from error
        check_entry(info)
        try:
            data = read_member_bytes(archive, info, budget)
        except UndecodableMember as error:
            raise IngestRejected(f'member "{member_path}" is {error.reason}') from error
        yield data
