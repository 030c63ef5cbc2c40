"""How much an upload may hold before the studio refuses to look further.

Every bound exists because an upload is untrusted: a small file can declare or inflate to far more
than it weighs (zip bombs, pixel bombs, hour-long clips), so each costly step is capped up front and
counted again while it happens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IngestLimits:
    """The caps one ingest runs under; services may pass stricter ones per user or per plan."""

    max_upload_bytes: int = 200 * 2**20
    max_members: int = 20_000
    # Counted on the bytes really inflated, never on the sizes that the archive declares.
    max_uncompressed_bytes: int = 1 * 2**30
    max_member_bytes: int = 50 * 2**20
    max_image_pixels: int = 4096 * 4096
    max_audio_duration_s: float = 60.0
    max_columns: int = 1000
    max_rows: int = 5_000_000
    # Undecodable files named in one message; the rest are counted ("and 12 more").
    max_listed_problems: int = 10


def describe_bytes(size_bytes: int) -> str:
    """A size as people read it in a message: '1 GiB', '50 MiB', '1.5 KiB', '12 bytes'."""
    if size_bytes < 1024:
        return f"{size_bytes} bytes"
    value = float(size_bytes)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"


# One shared instance as the default argument: the dataclass is frozen, so sharing is safe.
DEFAULT_LIMITS = IngestLimits()
