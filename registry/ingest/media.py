"""The archive walk shared by image and audio datasets: check, label, read, probe, list problems.

A modality supplies a probe: bytes in, its manifest fields out (width/height/mode, or
rate/duration/channels). A probe raises UndecodableMember for a bad file, which is collected so
that one message names them all, and IngestRejected for a file that must stop the walk at once
(a pixel bomb, a clip over the duration limit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from registry.ingest.archive import (
    InflationBudget,
    checked_files,
    open_archive,
    read_member_bytes,
)
from registry.ingest.errors import IngestRejected, UndecodableMember, undecodable_files_rejection
from registry.ingest.layout import assign_labels
from registry.ingest.limits import IngestLimits

Probe = Callable[[bytes, str, IngestLimits], dict]


def build_manifest(path: Path, *, probe: Probe, limits: IngestLimits, noun: str) -> list[dict]:
    """The manifest of an archive, in path order; `noun` names its files in messages ("images").

    Nothing is kept: each member is inflated into memory, hashed, probed and dropped.
    """
    with open_archive(path, limits) as archive:
        files = checked_files(archive, limits)
        if not files:
            raise IngestRejected(f"the archive holds no {noun}")
        labels = assign_labels([info.filename for info in files])
        budget = InflationBudget(limits)
        manifest = []
        problems = []
        # Path order, not archive order, so that the same files give the same message.
        for info in sorted(files, key=lambda info: info.filename):
            try:
                data = read_member_bytes(archive, info, budget)
                facts = probe(data, info.filename, limits)
            except UndecodableMember as error:
                problems.append(f"{info.filename} ({error.reason})")
                continue
            manifest.append(
                {
                    "path": info.filename,
                    "label": labels[info.filename],
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size_bytes": len(data),
                    **facts,
                }
            )
    if problems:
        raise undecodable_files_rejection(problems, max_listed=limits.max_listed_problems)
    return manifest
