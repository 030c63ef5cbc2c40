"""Which brushes of a fitted chain an ONNX export can take inside its graph, and the graph.

Expressible: the table scalers and imputation (per-column arithmetic), one_hot (a change of
layout over category positions: the caller sends a category column as the position of its
value in the brush's category list, see `table_categories`), image_resize's uint8 -> [0, 1]
division and image_normalize (per-channel arithmetic). Resizing itself and channel conversion
stay outside: the caller does them (a browser with a canvas, the server with the brush).
Anything else (a text column no one_hot encodes, text filled into such a column, spectrograms,
a brush added later) makes the export take the Python chain's output instead, and a reason
says which brush is to blame.
Each plan returns `(preprocessing graph or None, None)` or `(None, reason)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.serving.signature import InputSignature
from pipelines.training.model import TrainedModel

TABLE_BRUSHES = ("standard_scaler", "min_max_scaler", "impute", "one_hot")
NUMERIC_COLUMN_TYPES = ("integer", "float", "boolean")
# Pillow's filter in image_resize (`Image.Resampling.BILINEAR`, with antialiasing).
RESAMPLE = "bilinear"


def first_python_brush(chain: Any, modality: str) -> str:
    """The reason an export of this chain takes the Python chain's output."""
    names = [brush.name for brush in chain]
    if not names:
        return f"{modality} inputs are prepared in Python only"
    return f"the {names[0]} brush runs in Python only"


def table_plan(
    signature: InputSignature, chain: Any, model: TrainedModel
) -> tuple[Any, str | None]:
    """The table preprocessing graph, or why the table must go through Python.

    It walks the chain keeping the table's current layout (column names in order), since
    one_hot changes it and the brushes after it work on the new columns by name."""
    from pipelines.serving.onnx_graphs import table_preprocessing

    categories = table_categories(signature, chain)
    for column in signature.columns:
        if column.type not in NUMERIC_COLUMN_TYPES and column.name not in categories:
            blame = next((b.name for b in chain if b.name not in TABLE_BRUSHES), None)
            kind = f"column {column.name!r} is {column.type}"
            if blame is None:
                return None, f"{kind} and no one_hot brush encodes it: Python only"
            return None, f"the {blame} brush runs in Python only ({kind})"
    names = list(signature.column_names)
    steps: list[Any] = []
    for brush in chain:
        step = _brush_steps(brush, names, categories)
        if isinstance(step, str):
            return None, step
        brush_steps, names = step
        steps.extend(brush_steps)
    if list(model.feature_names) != names:
        return None, "the brushes change the table's columns; they run in Python only"
    return table_preprocessing(steps, len(signature.columns)), None


def table_categories(signature: InputSignature, chain: Any) -> dict[str, list[str]]:
    """{column: its categories in the one_hot brush's order} for the signature's columns that a
    one_hot brush encodes: the graph takes such a column as the position of its value's text
    (`str(value)`, as the brush compares them) in this list."""
    found: dict[str, list[str]] = {}
    for brush in chain:
        if brush.name == "one_hot":
            for column in brush.columns_:
                found.setdefault(column, [str(category) for category in brush.categories_[column]])
    return {name: found[name] for name in signature.column_names if name in found}


def _brush_steps(
    brush: Any, names: list[str], categories: dict[str, list[str]]
) -> tuple[list[Any], list[str]] | str:
    """(the graph steps of one table brush, the column names after it), or the reason it
    cannot be expressed."""
    from pipelines.serving.onnx_graphs import ColumnSteps, OneHotLayout

    if brush.name == "one_hot":
        if not brush.columns_:
            return [], names  # no categorical column: it passes the table through
        encoded = set(brush.columns_)
        kept = [index for index, name in enumerate(names) if name not in encoded]
        sizes = [(names.index(column), len(brush.categories_[column])) for column in brush.columns_]
        layout = OneHotLayout(kept=tuple(kept), encoded=tuple(sizes))
        return [layout], [names[index] for index in kept] + list(brush.feature_names_out_)
    if brush.name not in TABLE_BRUSHES:
        return f"the {brush.name} brush runs in Python only"
    width = len(names)
    positions = [names.index(column) for column in brush.columns_]
    if brush.name == "standard_scaler":
        mean, scale = np.zeros(width), np.ones(width)
        mean[positions], scale[positions] = brush.mean_, brush.scale_
        return [ColumnSteps("standardise", mean, scale)], names
    if brush.name == "min_max_scaler":
        factor, offset = np.ones(width), np.zeros(width)
        factor[positions], offset[positions] = brush.scale_, brush.min_
        steps = [ColumnSteps("affine", factor, offset)]
        if brush.clip:
            low, high = np.full(width, -np.inf), np.full(width, np.inf)
            low[positions], high[positions] = brush.feature_range
            steps.append(ColumnSteps("clip", low, high))
        return steps, names
    fill, mask = np.zeros(width), np.zeros(width, dtype=bool)
    for column, value in brush.fill_values_.items():
        at = names.index(column)
        fill[at], mask[at] = _fill_position(column, value, categories), True
        if np.isnan(fill[at]):
            return f"the impute brush fills {column!r} with text, in Python only"
    return [ColumnSteps("impute", fill, fill_mask=mask)], names


def _fill_position(column: str, value: Any, categories: dict[str, list[str]]) -> float:
    """What the graph puts where `column` is missing: for a column one_hot encodes later, the
    position of the fill value's text among its categories (-1 when one_hot dropped it, which
    it then encodes as all zeros); otherwise the number (booleans 0/1). NaN: text the graph
    cannot hold."""
    if column in categories:
        known = categories[column]
        return float(known.index(str(value))) if str(value) in known else -1.0
    if isinstance(value, int | float):
        return float(value)
    return float("nan")


def image_plan(signature: InputSignature, chain: Any) -> tuple[Any, str | None]:
    """The pixel preprocessing graph, or why the images must go through Python.

    Without image_resize the chain is empty (nothing else takes a list of decoded images) and
    the network takes the 0..255 pixels as they are; with it, the graph divides by 255 as the
    brush divides uint8 images, then normalises per channel if the chain does."""
    from pipelines.serving.onnx_graphs import image_preprocessing

    brushes = list(chain)
    resizes = bool(brushes) and brushes[0].name == "image_resize"
    rest = brushes[1:] if resizes else brushes
    normalise = None
    for brush in rest:
        if brush.name != "image_normalize" or normalise is not None:
            return None, f"the {brush.name} brush runs in Python only"
        normalise = (brush.mean_, brush.std_)
    shape = (signature.height, signature.width, signature.channels)
    return image_preprocessing(shape, to_unit_range=resizes, normalise=normalise), None


def image_description(signature: InputSignature, resize: Any) -> dict[str, Any]:
    """What a caller does to an image before the graph: convert to `channels` (grey by ITU-R
    601-2 luma), and resize to width x height as `mode` says, or send exactly that size."""
    description: dict[str, Any] = {
        "width": signature.width,
        "height": signature.height,
        "channels": signature.channels,
        "resample": RESAMPLE if resize is not None else None,
        "resizes": resize is not None,
    }
    if resize is not None:
        description["mode"] = resize.mode
        description["pad_value"] = float(resize.pad_value) * 255.0
    return description
