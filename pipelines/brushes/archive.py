"""The one-file format of a saved brush chain: a ZIP of `chain.json` and `state.npz`, no pickle.

Saved chains travel with models and may come back as uploads, so reading is defensive: the
archive must hold exactly the two members, their unpacked sizes are bounded before anything is
read, arrays load with ``allow_pickle=False``, and every failure is a `BrushStateError`. Writing is
byte-for-byte reproducible (fixed timestamps, sorted keys), so equal chains give equal files.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from typing import Any

import numpy as np

from pipelines.brushes.errors import BrushStateError

FORMAT_NAME = "canvascraft.brush_chain"
FORMAT_VERSION = 1
CHAIN_MEMBER = "chain.json"
STATE_MEMBER = "state.npz"
DEFAULT_MAX_UNPACKED_BYTES = 1 << 30
# ZIP cannot store dates before 1980; a fixed one keeps the bytes reproducible.
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
# What reading a damaged archive raises: BadZipFile for a CRC mismatch, zlib.error for damaged
# compressed data, ValueError for bad JSON or a pickled array, EOFError/OSError for truncation.
DAMAGE_ERRORS = (zipfile.BadZipFile, zlib.error, UnicodeDecodeError, ValueError, OSError, EOFError)


def _write_member(archive: zipfile.ZipFile, name: str, payload: bytes, compress: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    archive.writestr(info, payload)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (a ZIP of .npy files) written by hand so that its timestamps are fixed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(arrays[key]), allow_pickle=False)
            _write_member(archive, f"{key}.npy", member.getvalue(), compress=False)
    return buffer.getvalue()


def pack(document: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """The archive bytes of a JSON document (format name and version are added) and arrays."""
    try:
        text = json.dumps(
            {**document, "format": FORMAT_NAME, "format_version": FORMAT_VERSION},
            sort_keys=True,
            separators=(",", ":"),
            allow_nan=False,
        )
        state = _npz_bytes(arrays)
    except (TypeError, ValueError) as error:
        raise BrushStateError(f"the chain cannot be saved without pickle: {error}") from error
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _write_member(archive, CHAIN_MEMBER, text.encode("utf-8"), compress=True)
        _write_member(archive, STATE_MEMBER, state, compress=True)
    return buffer.getvalue()


def _open_zip(data: bytes, what: str, max_unpacked_bytes: int) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise BrushStateError(f"{what} is not a ZIP archive: {error}") from error
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max_unpacked_bytes:
        raise BrushStateError(f"{what} unpacks to {unpacked} bytes, over {max_unpacked_bytes}")
    return archive


def _read_document(archive: zipfile.ZipFile) -> dict[str, Any]:
    document = json.loads(archive.read(CHAIN_MEMBER).decode("utf-8"))
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise BrushStateError(f"{CHAIN_MEMBER} is not a {FORMAT_NAME} document")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise BrushStateError(
            f"brush chain format version {version!r} is not supported; this code reads version "
            f"{FORMAT_VERSION}"
        )
    return document


def _read_arrays(data: bytes, max_unpacked_bytes: int) -> dict[str, np.ndarray]:
    inner = _open_zip(data, STATE_MEMBER, max_unpacked_bytes)
    if not all(name.endswith(".npy") and "/" not in name for name in inner.namelist()):
        raise BrushStateError(f"{STATE_MEMBER} holds something other than flat .npy arrays")
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


def unpack(
    data: bytes, max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The (document, arrays) of an archive made by `pack`; BrushStateError on anything else."""
    archive = _open_zip(data, "the brush chain file", max_unpacked_bytes)
    members = sorted(archive.namelist())
    if members != sorted([CHAIN_MEMBER, STATE_MEMBER]):
        raise BrushStateError(
            f"a brush chain file holds exactly {CHAIN_MEMBER} and {STATE_MEMBER}, got {members}"
        )
    try:
        document = _read_document(archive)
        arrays = _read_arrays(archive.read(STATE_MEMBER), max_unpacked_bytes)
    except BrushStateError:
        raise
    except DAMAGE_ERRORS as error:
        raise BrushStateError(f"the brush chain file is corrupt: {error}") from error
    return document, arrays
