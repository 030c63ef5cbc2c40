"""What the dataset pages draw from a version's schema and manifest, computed without a query.

Plain dictionaries for the templates: histogram bars as SVG coordinates, class balance bars as
percentages, the first samples of each class, and the sample list of an annotation session.
"""

from __future__ import annotations

import math
import posixpath
from collections import Counter

from registry.models import Dataset, DatasetVersion, Modality

IMAGES_PER_CLASS = 12
CLIPS_PER_CLASS = 6
# Column names that usually hold the class of a row: their top values draw the class balance.
TARGET_COLUMN_NAMES = {"target", "label", "labels", "class", "classes", "species", "category", "y"}
HISTOGRAM_HEIGHT = 40
HISTOGRAM_WIDTH = 100
PALETTE_SIZE = 10  # .swatch-0 .. .swatch-9 in studio.css
UNLABELLED = "__unlabelled__"


def samples_phrase(version: DatasetVersion) -> str:
    noun = "row" if version.file_format != "zip" else "sample"
    plural = "" if version.n_samples == 1 else "s"
    return f"{version.n_samples:,} {noun}{plural}"


def _number(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.2e}"
    return f"{value:.4g}"


def histogram_bars(histogram: dict) -> list[dict]:
    """SVG rectangles (viewBox 0 0 100 40) of a numeric column's histogram, one per bin."""
    edges = histogram.get("edges") or []
    counts = histogram.get("counts") or []
    if not counts or len(edges) != len(counts) + 1:
        return []
    tallest = max(counts) or 1
    slot = HISTOGRAM_WIDTH / len(counts)
    bars = []
    for index, count in enumerate(counts):
        height = count / tallest * (HISTOGRAM_HEIGHT - 2)
        height = max(height, 1.0) if count else 0.0
        bars.append(
            {
                "x": round(index * slot + slot * 0.08, 3),
                "y": round(HISTOGRAM_HEIGHT - height, 3),
                "width": round(slot * 0.84, 3),
                "height": round(height, 3),
                "title": f"{_number(edges[index])} to {_number(edges[index + 1])}: {count:,}",
            }
        )
    return bars


def share_bars(pairs: list[tuple[str, int]], total: int) -> list[dict]:
    """Horizontal bars: width relative to the largest, share relative to `total`."""
    largest = max((count for _name, count in pairs), default=0) or 1
    return [
        {
            "name": name,
            "count": count,
            "width_pct": round(count / largest * 100, 2),
            "share_pct": round(count / total * 100, 1) if total else 0.0,
            "swatch": index % PALETTE_SIZE,
        }
        for index, (name, count) in enumerate(pairs)
    ]


def _column(column: dict, n_rows: int) -> dict:
    top = [(str(value), int(count)) for value, count in column.get("top") or []]
    return {
        "name": column.get("name", ""),
        "type": column.get("type", "text"),
        "n_missing": column.get("n_missing", 0),
        "missing_pct": round(column.get("n_missing", 0) / n_rows * 100, 1) if n_rows else 0.0,
        "n_unique": column.get("n_unique"),
        "min": _number(column.get("min")) if "min" in column else None,
        "max": _number(column.get("max")) if "max" in column else None,
        "mean": _number(column.get("mean")) if "mean" in column else None,
        "bars": histogram_bars(column["histogram"]) if column.get("histogram") else [],
        "top": share_bars(top[:8], n_rows),
    }


def _tabular(schema: dict) -> dict:
    n_rows = int(schema.get("n_rows") or 0)
    columns = [_column(column, n_rows) for column in schema.get("columns") or []]
    target = next(
        (
            column
            for column in columns
            if column["name"].strip().lower() in TARGET_COLUMN_NAMES and column["top"]
        ),
        None,
    )
    numeric = [column["type"] in ("integer", "float") for column in columns]
    rows = [
        [
            {
                "value": value,
                "is_number": index < len(numeric) and numeric[index],
                "is_missing": value is None or value == "",
            }
            for index, value in enumerate(row)
        ]
        for row in schema.get("preview") or []
    ]
    return {
        "columns": columns,
        "rows": rows,
        "n_rows": n_rows,
        "target": target,
    }


def class_balance(schema: dict) -> list[dict]:
    pairs = [(item["name"], int(item["count"])) for item in schema.get("classes") or []]
    if schema.get("n_unlabelled"):
        pairs.append((UNLABELLED, int(schema["n_unlabelled"])))
    bars = share_bars(pairs, sum(count for _name, count in pairs))
    for bar in bars:
        bar["is_unlabelled"] = bar["name"] == UNLABELLED
    return bars


def sample_groups(version: DatasetVersion, *, per_class: int) -> list[dict]:
    """The first `per_class` samples of each class (in class order, unlabelled last)."""
    firsts: dict[str | None, list[dict]] = {}
    counts: Counter[str | None] = Counter()
    for index, item in enumerate(version.manifest):
        label = item.get("label")
        counts[label] += 1
        picked = firsts.setdefault(label, [])
        if len(picked) < per_class:
            picked.append({**item, "index": index, "name": posixpath.basename(item["path"])})
    order = [item["name"] for item in version.schema.get("classes") or []]
    order += sorted(label for label in firsts if label is not None and label not in order)
    if None in firsts:
        order.append(None)
    return [
        {
            "name": label,
            "count": counts[label],
            "samples": firsts[label],
            "n_more": counts[label] - len(firsts[label]),
            "swatch": position % PALETTE_SIZE,
        }
        for position, label in enumerate(order)
        if label in firsts
    ]


def _span(values: dict | None, unit: str, *, decimals: int | None = None) -> str:
    if not values:
        return "—"
    low, high = values.get("min"), values.get("max")
    if decimals is not None:
        low, high = f"{low:.{decimals}f}", f"{high:.{decimals}f}"
    return f"{low} {unit}" if low == high else f"{low}\u2013{high} {unit}"


def _tally(counts: dict | None, names: dict[str, str] | None = None) -> str:
    """'RGB (40), L (2)' from {"L": 2, "RGB": 40}, most common first."""
    if not isinstance(counts, dict) or not counts:
        return "—"
    ordered = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    if len(ordered) == 1:
        return (names or {}).get(ordered[0][0], ordered[0][0])
    return ", ".join(f"{(names or {}).get(key, key)} ({count:,})" for key, count in ordered)


def media_facts(schema: dict) -> list[tuple[str, str]]:
    """(label, value) pairs that summarise an image or audio version's schema."""
    if schema.get("kind") == "images":
        return [
            ("Width", _span(schema.get("width"), "px")),
            ("Height", _span(schema.get("height"), "px")),
            ("Colour modes", _tally(schema.get("modes"))),
        ]
    duration = schema.get("duration_s") or {}
    facts = [
        ("Sample rate", f"{schema['sample_rate']:,} Hz" if schema.get("sample_rate") else "—"),
        ("Clip length", _span(duration, "s", decimals=2)),
    ]
    if duration.get("total") is not None:
        facts.append(("Total", f"{duration['total']:,.1f} s"))
    facts.append(("Channels", _tally(schema.get("channels"), {"1": "mono", "2": "stereo"})))
    return facts


def build(dataset: Dataset, version: DatasetVersion) -> dict:
    schema = version.schema or {}
    if dataset.modality == Modality.TABULAR:
        return {"kind": "table", "table": _tabular(schema)}
    per_class = IMAGES_PER_CLASS if dataset.modality == Modality.IMAGE else CLIPS_PER_CLASS
    return {
        "kind": "images" if dataset.modality == Modality.IMAGE else "audio",
        "balance": class_balance(schema),
        "groups": sample_groups(version, per_class=per_class),
        "n_classes": len(schema.get("classes") or []),
        "facts": media_facts(schema),
    }


def annotation_session(version: DatasetVersion, *, only: str) -> dict:
    """The samples to label (`only`: "all", "unlabelled" or a class), unlabelled ones first."""
    classes = [item["name"] for item in version.schema.get("classes") or []]
    labels = [item.get("label") for item in version.manifest]
    for label in labels:
        if label is not None and label not in classes:
            classes.append(label)
    counts = Counter(labels)
    if only not in ("all", "unlabelled") and only not in classes:
        only = "all"
    samples = [
        {"index": index, "path": item["path"], "label": item.get("label")}
        for index, item in enumerate(version.manifest)
        if only == "all"
        or (only == "unlabelled" and item.get("label") is None)
        or item.get("label") == only
    ]
    samples.sort(key=lambda sample: sample["label"] is not None)  # stable: file order kept
    filters = [("all", "All", len(labels)), ("unlabelled", "Unlabelled", counts[None])]
    filters += [(name, name, counts[name]) for name in classes]
    return {"only": only, "samples": samples, "classes": classes, "filters": filters}
