"""What an accepted upload is, described without keeping anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FileFormat = Literal["csv", "parquet", "zip"]
Modality = Literal["tabular", "image", "audio"]


@dataclass(frozen=True)
class IngestResult:
    """The facts a dataset version stores about its file.

    `sha256` is the content hash: of the file bytes for tables, of the canonical manifest for ZIPs
    (see `manifest_sha256`), so re-zipping the same files gives the same version hash.
    `schema` and `manifest` are JSON-able as they are. `manifest` is empty for tables.
    `sample_rate` is set for audio only: the most common rate among the clips.
    """

    sha256: str
    size_bytes: int
    file_format: FileFormat
    n_samples: int
    schema: dict
    manifest: list[dict] = field(default_factory=list)
    sample_rate: int | None = None
