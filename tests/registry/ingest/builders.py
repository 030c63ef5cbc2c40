"""Fixtures built in memory: images, clips, tables and ZIPs, including hostile ones.

Nothing is read from disk but what a test writes itself, so every expected value in a test follows
from the lines that made the file.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

# A central directory record: signature, versions, flags, method, time, date, CRC, sizes, ...
_CENTRAL_RECORD = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"


def image_bytes(
    colour: str | int | tuple = "red",
    *,
    size: tuple[int, int] = (8, 6),
    fmt: str = "PNG",
    mode: str = "RGB",
) -> bytes:
    """A plain image of one colour, encoded as `fmt`."""
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height but which holds almost no pixel data: the
    shape of a pixel bomb, costing a few bytes."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        checksum = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def clip_bytes(
    duration_s: float,
    sample_rate: int,
    *,
    channels: int = 1,
    fmt: str = "WAV",
    subtype: str | None = None,
    frequency_hz: float = 440.0,
) -> bytes:
    """A sine tone of exactly round(duration_s * sample_rate) frames, encoded by libsndfile."""
    n_frames = round(duration_s * sample_rate)
    time_s = np.arange(n_frames) / sample_rate
    tone = (0.5 * np.sin(2 * np.pi * frequency_hz * time_s)).astype(np.float32)
    buffer = io.BytesIO()
    soundfile.write(
        buffer, np.repeat(tone[:, None], channels, axis=1), sample_rate, format=fmt, subtype=subtype
    )
    return buffer.getvalue()


def ogg_vorbis_works() -> bool:
    """Whether this libsndfile was built with Ogg Vorbis (some distributions leave it out)."""
    try:
        clip_bytes(0.1, 8000, fmt="OGG", subtype="VORBIS")
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError):
        return False
    return True


def write_zip(
    path: Path, members: Mapping[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    """A ZIP holding `members` in the mapping's order."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_symlink_zip(path: Path, link_name: str, target: str) -> Path:
    """A ZIP whose one member is a Unix symbolic link, as `zip --symlinks` writes it."""
    info = zipfile.ZipInfo(link_name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, target)
    return path


def patch_central_record(
    zip_bytes: bytes,
    name: str,
    *,
    flag_bits: int | None = None,
    compress_type: int | None = None,
    crc: int | None = None,
    file_size: int | None = None,
) -> bytes:
    """The archive with some fields of `name`'s central directory record overwritten: how a
    hostile archive lies about a member (zipfile trusts the central directory)."""
    encoded_name = name.encode()
    start = zip_bytes.index(_CENTRAL_SIGNATURE)
    while True:
        fields = list(_CENTRAL_RECORD.unpack_from(zip_bytes, start))
        name_start = start + _CENTRAL_RECORD.size
        if zip_bytes[name_start : name_start + fields[12]] == encoded_name:
            break
        start = zip_bytes.index(_CENTRAL_SIGNATURE, start + 1)
    replacements = {5: flag_bits, 6: compress_type, 9: crc, 11: file_size}
    for index, value in replacements.items():
        if value is not None:
            fields[index] = value
    record = _CENTRAL_RECORD.pack(*fields)
    return zip_bytes[:start] + record + zip_bytes[start + _CENTRAL_RECORD.size :]


def deflated_zeros(size_mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of `size_mib` MiB of zeros, and its CRC-32, without ever holding them.

    One MiB is compressed with a full flush (which ends its blocks and resets the dictionary), so
    copies of it chain into a valid stream; a final empty block ends it.
    """
    zeros = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    one_mib = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = 0
    for _ in range(size_mib):
        checksum = zlib.crc32(zeros, checksum)
    return one_mib * size_mib + compressor.flush(), checksum


def write_deflated_zip(path: Path, streams: Mapping[str, tuple[bytes, int, int]]) -> Path:
    """A ZIP of pre-deflated members {name: (stream, crc, declared size)}: each is stored raw, then
    its central record is switched to deflate with the given CRC and size."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, (stream, _, _) in streams.items():
            archive.writestr(name, stream)
    zip_bytes = buffer.getvalue()
    for name, (_, crc, declared_size) in streams.items():
        zip_bytes = patch_central_record(
            zip_bytes, name, compress_type=zipfile.ZIP_DEFLATED, crc=crc, file_size=declared_size
        )
    path.write_bytes(zip_bytes)
    return path
