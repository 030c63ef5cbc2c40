"""Which brushes of a fitted chain an ONNX export can take inside its graph, and the graph.

Expressible: the table scalers and numeric imputation (per-column arithmetic), image_resize's
uint8 -> [0, 1] division and image_normalize (per-channel arithmetic). Resizing itself and
channel conversion stay outside: the caller does them (a browser with a canvas, the server
with the brush). Anything else (one_hot, text columns, spectrograms, a brush added later) makes
the export take the Python chain's output instead, and a reason says which brush is to blame.
Each plan returns `(preprocessing graph or None, None)` or `(None, reason)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.serving.signature import InputSignature
from pipelines.training.model import TrainedModel

TABLE_BRUSHES = ("standard_scaler", "min_max_scaler", "impute")
NUMERIC_STRATEGIES = ("mean", "median", "most_frequent", "constant")
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
    """The table preprocessing graph, or why the table must go through Python."""
    from pipelines.serving.onnx_graphs import table_preprocessing

    for column in signature.columns:
        if column.type not in NUMERIC_COLUMN_TYPES:
            blame = next((b.name for b in chain if b.name not in TABLE_BRUSHES), None)
            kind = f"column {column.name!r} is {column.type}"
            if blame is None:
                return None, f"{kind}; it is prepared in Python only"
            return None, f"the {blame} brush runs in Python only ({kind})"
    names = signature.column_names
    steps = []
    for brush in chain:
        step = _column_step(brush, names)
        if isinstance(step, str):
            return None, step
        steps.extend(step)
    if list(model.feature_names) != names:
        return None, "the brushes change the table's columns; they run in Python only"
    return table_preprocessing(steps, len(names)), None


def _column_step(brush: Any, names: list[str]) -> list[Any] | str:
    """The graph steps of one table brush, or the reason it cannot be one."""
    from pipelines.serving.onnx_graphs import ColumnSteps

    if brush.name == "one_hot" and not brush.columns_:
        return []  # no categorical column: it passes the table through (the default chain's)
    if brush.name not in TABLE_BRUSHES:
        return f"the {brush.name} brush runs in Python only"
    positions = [names.index(column) for column in brush.columns_]
    if brush.name == "standard_scaler":
        mean, scale = np.zeros(len(names)), np.ones(len(names))
        mean[positions], scale[positions] = brush.mean_, brush.scale_
        return [ColumnSteps("standardise", mean, scale)]
    if brush.name == "min_max_scaler":
        factor, offset = np.ones(len(names)), np.zeros(len(names))
        factor[positions], offset[positions] = brush.scale_, brush.min_
        steps = [ColumnSteps("affine", factor, offset)]
        if brush.clip:
            low, high = np.full(len(names), -np.inf), np.full(len(names), np.inf)
            low[positions], high[positions] = brush.feature_range
            steps.append(ColumnSteps("clip", low, high))
        return steps
    fill, mask = np.zeros(len(names)), np.zeros(len(names), dtype=bool)
    for column, value in brush.fill_values_.items():
        # Booleans are numbers to the graph (0/1); text is not.
        if not isinstance(value, int | float):
            return f"the impute brush fills {column!r} with text, in Python only"
        fill[names.index(column)], mask[names.index(column)] = float(value), True
    return [ColumnSteps("impute", fill, fill_mask=mask)]


def imputed_columns(signature: InputSignature, chain: Any) -> list[str]:
    """Columns whose missing values (NaN) the graph fills, in the signature's order."""
    filled = {column for brush in chain if brush.name == "impute" for column in brush.fill_values_}
    return [name for name in signature.column_names if name in filled]


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
