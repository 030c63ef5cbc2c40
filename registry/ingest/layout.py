"""Class labels from an archive's folders, the way torchvision's ImageFolder reads them.

- One folder holding everything (`digits/...`, what "compress this folder" makes) is stripped.
- Then, if every file sits in a folder, the first folder is the file's class: `0/a.png` -> "0".
- If every file sits at the top, the dataset is unlabelled (label None).
- A mix of the two is refused: it is nearly always a mistake, and guessing would be silent.
- Files deeper than class/file keep the first folder as their class (`cats/indoor/a.png` ->
  "cats"), as ImageFolder does, so sessions or sources can stay sorted in sub-folders.

A single class folder (`cats/a.png`, `cats/b.png`) is therefore read as a root folder: unlabelled.
"""

from __future__ import annotations

from registry.ingest.errors import IngestRejected


def assign_labels(paths: list[str]) -> dict[str, str | None]:
    """Each member path's class label, or None for an unlabelled archive."""
    parts_by_path = {path: path.split("/") for path in paths}
    first_folders = {parts[0] for parts in parts_by_path.values()}
    if len(first_folders) == 1 and all(len(parts) > 1 for parts in parts_by_path.values()):
        parts_by_path = {path: parts[1:] for path, parts in parts_by_path.items()}
    at_top = [path for path, parts in parts_by_path.items() if len(parts) == 1]
    in_folders = [path for path, parts in parts_by_path.items() if len(parts) > 1]
    if at_top and in_folders:
        raise IngestRejected(
            f"the archive mixes files at the top level ({at_top[0]}) with files in class folders "
            f"({in_folders[0]}): put every file in a class folder, or none"
        )
    return {path: (parts[0] if len(parts) > 1 else None) for path, parts in parts_by_path.items()}


def class_counts(manifest: list[dict]) -> list[dict]:
    """[{"name", "count"}] per class, sorted by name; unlabelled entries are not a class."""
    counts: dict[str, int] = {}
    for entry in manifest:
        if entry["label"] is not None:
            counts[entry["label"]] = counts.get(entry["label"], 0) + 1
    return [{"name": name, "count": counts[name]} for name in sorted(counts)]


def unlabelled_count(manifest: list[dict]) -> int:
    return sum(1 for entry in manifest if entry["label"] is None)
