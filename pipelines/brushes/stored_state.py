"""What a chain file says about its brushes: configs plus each brush's JSON values and arrays.

`archive` knows the ZIP; this module knows the document inside it. Arrays are stored flat as
``<position>.<attribute>`` (e.g. ``0.mean_``) and each brush lists the names it owns, so that a
missing or stray array is noticed instead of silently ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from jsonschema import Draft202012Validator

from pipelines.brushes.base import PreprocessingBrush
from pipelines.brushes.errors import BrushStateError
from pipelines.brushes.registry import BrushConfig

DOCUMENT_SCHEMA = {
    "type": "object",
    "required": ["brushes"],
    "properties": {
        "brushes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "params", "state"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "params": {"type": "object"},
                    "state": {
                        "type": ["object", "null"],
                        "required": ["values", "arrays"],
                        "additionalProperties": False,
                        "properties": {
                            "values": {"type": "object"},
                            "arrays": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        }
    },
}


def document_of(
    brushes: Sequence[PreprocessingBrush],
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and flat arrays that describe `brushes` (fitted or not)."""
    entries = []
    arrays: dict[str, np.ndarray] = {}
    for index, brush in enumerate(brushes):
        state = None
        if brush.is_fitted:
            values, brush_arrays = brush.get_state()
            arrays.update({f"{index}.{key}": value for key, value in brush_arrays.items()})
            state = {"values": values, "arrays": sorted(brush_arrays)}
        entries.append({"name": brush.name, "params": brush.config(), "state": state})
    return {"brushes": entries}, arrays


def configs_of(document: dict[str, Any]) -> list[BrushConfig]:
    """The brush configs of a document, after checking the document's shape."""
    error = next(Draft202012Validator(DOCUMENT_SCHEMA).iter_errors(document), None)
    if error is not None:
        raise BrushStateError(f"the brush chain file is malformed: {error.message}")
    return [BrushConfig(name=item["name"], params=item["params"]) for item in document["brushes"]]


def restore_states(
    brushes: Sequence[PreprocessingBrush], document: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    """Sets the stored state on each brush built from `configs_of(document)`."""
    used: set[str] = set()
    for index, (brush, item) in enumerate(zip(brushes, document["brushes"], strict=True)):
        if item["state"] is None:
            continue
        names = {f"{index}.{key}": key for key in item["state"]["arrays"]}
        if not set(names) <= set(arrays):
            raise BrushStateError(f"the brush chain file lacks arrays of {brush.name}")
        used |= set(names)
        brush.set_state(
            item["state"]["values"], {key: arrays[stored] for stored, key in names.items()}
        )
    if used != set(arrays):
        raise BrushStateError("the brush chain file holds arrays that belong to no brush")
