"""Walking an uploaded ZIP without trusting it, and without extracting anything to disk.

Every entry's path is checked before any byte is inflated; declared sizes may only make a refusal
earlier, never an acceptance; and the bytes really inflated are counted as they come, per member
and for the whole archive.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from registry.ingest.errors import IngestRejected, UndecodableMember
from registry.ingest.limits import IngestLimits, describe_bytes

_CHUNK_BYTES = 64 * 1024
_CENTRAL_DIRECTORY_SIGNATURE = b"PK\x01\x02"
# Folders and macOS "__MACOSX/._x" shadow files are entries too; they cost nothing to skip, but the
# central directory is parsed whole before any entry can be skipped, so its size is bounded first.
_ENTRIES_PER_MEMBER = 3
# bzip2 and LZMA are left out because zipfile inflates them without a bound per read: one 4 KiB
# bzip2 read can expand to gigabytes in memory before any count can stop it.
_ACCEPTED_COMPRESSION = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_ENCRYPTED_FLAG = 0x1
_DRIVE_LETTER = re.compile(r"[A-Za-z]:")
_SYSTEM_JUNK = frozenset({"Thumbs.db", "desktop.ini"})


@contextmanager
def open_archive(path: Path, limits: IngestLimits) -> Iterator[zipfile.ZipFile]:
    """The ZIP open for reading, once its entry count is known to be bounded."""
    entry_bound = _count_central_directory_signatures(path)
    if entry_bound > _ENTRIES_PER_MEMBER * limits.max_members:
        raise IngestRejected(f"the archive holds more than {limits.max_members:,} files")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise IngestRejected("the upload is not a readable ZIP archive") from error
    with archive:
        yield archive


def checked_files(archive: zipfile.ZipFile, limits: IngestLimits) -> list[zipfile.ZipInfo]:
    """The files worth reading, in archive order, after every entry has passed `check_entry`.

    Folders, dotfiles, `__MACOSX/` and Windows thumbnail caches are skipped. Declared sizes are
    only used to refuse early: a member that declares more than a limit is refused unread.
    """
    names_seen: set[str] = set()
    files = []
    for info in archive.infolist():
        check_entry(info)
        if info.filename in names_seen:
            raise IngestRejected(f'member "{info.filename}" appears twice in the archive')
        names_seen.add(info.filename)
        if not is_skipped(info.filename):
            files.append(info)
    if len(files) > limits.max_members:
        raise IngestRejected(f"the archive holds more than {limits.max_members:,} files")
    for info in files:
        if info.file_size > limits.max_member_bytes:
            raise _member_too_large(info.filename, limits)
    if sum(info.file_size for info in files) > limits.max_uncompressed_bytes:
        raise _archive_too_large(limits)
    return files


def check_entry(info: zipfile.ZipInfo) -> None:
    """Refuse an entry that could write outside a folder, point elsewhere, or hide its bytes."""
    check_member_name(info.filename)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise IngestRejected(f'member "{info.filename}" is a symbolic link')
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise IngestRejected(f'member "{info.filename}" is encrypted')
    if not info.is_dir() and info.compress_type not in _ACCEPTED_COMPRESSION:
        raise IngestRejected(
            f'member "{info.filename}" uses an unsupported compression method: '
            "re-zip it with the usual (deflate) compression"
        )


def check_member_name(name: str) -> None:
    """Refuse absolute paths (`/x`, `C:\\x`, `C:/x`), backslashes and any `..` part."""
    if name.startswith("/") or _DRIVE_LETTER.match(name):
        raise IngestRejected(f'member "{name}" has an absolute path')
    if "\\" in name:
        raise IngestRejected(f'member "{name}" has a backslash in its path')
    parts = name.removesuffix("/").split("/")
    if ".." in parts:
        raise IngestRejected(f'member "{name}" escapes the archive')
    if any(part in ("", ".") for part in parts):
        raise IngestRejected(f'member "{name}" has an empty or "." part in its path')


def is_skipped(name: str) -> bool:
    """Entries that archivers and operating systems add beside a creator's files."""
    path = PurePosixPath(name)
    return (
        name.endswith("/")
        or "__MACOSX" in path.parts
        or any(part.startswith(".") for part in path.parts)
        or path.name in _SYSTEM_JUNK
    )


class InflationBudget:
    """The bytes inflated so far in one walk of one archive, against the archive-wide limit."""

    def __init__(self, limits: IngestLimits) -> None:
        self.limits = limits
        self.inflated_bytes = 0


def read_member_bytes(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: InflationBudget
) -> bytes:
    """A member's bytes, inflated in chunks and counted as they come.

    Raises IngestRejected past a limit (the walk stops: the archive is hostile or too big) and
    UndecodableMember for a damaged member (bad CRC, broken deflate stream), which is listed.
    """
    limits = budget.limits
    chunks = []
    member_bytes = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                member_bytes += len(chunk)
                budget.inflated_bytes += len(chunk)
                if member_bytes > limits.max_member_bytes:
                    raise _member_too_large(info.filename, limits)
                if budget.inflated_bytes > limits.max_uncompressed_bytes:
                    raise _archive_too_large(limits)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise UndecodableMember(f"damaged in the archive: {error}") from error
    return b"".join(chunks)


def _member_too_large(name: str, limits: IngestLimits) -> IngestRejected:
    limit = describe_bytes(limits.max_member_bytes)
    return IngestRejected(f'member "{name}" inflates past the {limit} limit')


def _archive_too_large(limits: IngestLimits) -> IngestRejected:
    limit = describe_bytes(limits.max_uncompressed_bytes)
    return IngestRejected(f"archive inflates past the {limit} limit")


def _count_central_directory_signatures(path: Path) -> int:
    """An upper bound on the archive's entries: each starts with this 4-byte signature.

    Counted over the raw bytes in chunks (overlapping by 3 bytes so none is split), because
    zipfile reads the whole central directory into objects before anything can be counted.
    """
    count = 0
    overlap = b""
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            window = overlap + chunk
            count += window.count(_CENTRAL_DIRECTORY_SIGNATURE)
            overlap = window[-3:]
    return count
