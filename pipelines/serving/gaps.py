"""Which table columns a request may leave empty (`null`): those the fitted chain fills in.

Training read a gap as a missing value (NaN) and the chain's impute brush filled it before
anything else used the column. A request's `null` becomes the same missing value, so the model
answers it exactly as training's evaluation answered such a row. That only holds where an
impute brush covers the column before every other brush that reads it: a scaler or one_hot
that came first refuses a gap in Python (and an ONNX graph would compute with NaN), so such a
column still needs a value. Serving (`Predictor`, `OnnxPredictor`), the ONNX check's
synthesised rows and the export's manifest (`missing_allowed`) share this one rule.
"""

from __future__ import annotations

from typing import Any

from pipelines.serving.signature import InputSignature

NULL_REFUSED = "a value is required: this model does not fill in missing values for this column"


def fillable_columns(chain: Any) -> list[str]:
    """Columns an impute brush fills before any other brush reads them, in the chain's order
    (the impute brushes' order, then each brush's column order)."""
    fillable: list[str] = []
    seen: set[str] = set()
    for brush in chain:
        if brush.name == "impute":
            fillable += [column for column in brush.fill_values_ if column not in seen]
        seen |= set(getattr(brush, "columns_", []))
    return fillable


def nullable_columns(signature: InputSignature, chain: Any) -> list[str]:
    """The signature's columns that accept `null`, in the signature's order; none for images
    and audio."""
    if signature.modality != "tabular":
        return []
    fillable = set(fillable_columns(chain))
    return [name for name in signature.column_names if name in fillable]
