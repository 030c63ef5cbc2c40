"""Table rows of a request as the chain's input (a DataFrame) or an ONNX graph's (a matrix).

A row names every column of the signature (a missing key is a field error: a row that forgot a
column is more likely a mistake than a gap). A cell is checked against its column's type. A
`null` is accepted only in the columns the version's chain fills in (`gaps.nullable_columns`);
it becomes the missing value training's reader made of an empty cell (`registry.ingest.readers.
read_table`: NaN in a float64 column, for an integer column too; NaN in an object column for
booleans and text), so the impute brush fills it as it filled the training gaps, and NaN in
a graph's matrix, where the graph's imputation fills it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipelines.serving.errors import FieldErrors, check_batch, quote
from pipelines.serving.gaps import NULL_REFUSED
from pipelines.serving.signature import ColumnSpec, InputSignature

MAX_BATCH = 256
INTEGER_RANGE = (-(2**63), 2**63 - 1)
_DTYPE_OF_TYPE = {"integer": np.int64, "float": np.float64, "boolean": np.bool_}
# A column with a gap, as the training reader holds it (pandas' default, NumPy-backed dtypes):
# numbers as float64 NaN, booleans as objects (True, False, NaN), text in its inferred dtype.
_GAP_DTYPE_OF_TYPE = {"integer": np.float64, "float": np.float64, "boolean": object}
# Text with a gap keeps pandas' text dtype, even in a request whose only value is the gap (left
# to inference, a column of one NaN would be float64).
_TEXT_DTYPE = pd.Series(["text"]).dtype


def decode_rows(
    columns: tuple[ColumnSpec, ...],
    inputs: list,
    errors: FieldErrors,
    nullable: Collection[str] = (),
) -> pd.DataFrame:
    """The rows as the DataFrame training handed the chain; problems go to `errors`."""
    rows = _row_values(columns, inputs, errors, nullable)
    if errors.errors:
        return pd.DataFrame()
    names = [column.name for column in columns]
    with_gaps = {
        position
        for position, column in enumerate(columns)
        if column.name in nullable and any(row[position] is None for row in rows)
    }
    # Training read numbers as int64/float64, booleans as bool and everything else as text
    # (None: pandas infers its text dtype); a column with a gap as the reader read one.
    dtypes = [
        _GAP_DTYPE_OF_TYPE.get(column.type, _TEXT_DTYPE)
        if position in with_gaps
        else _DTYPE_OF_TYPE.get(column.type)
        for position, column in enumerate(columns)
    ]
    if len(set(dtypes)) == 1 and dtypes[0] not in (None, object):
        # One type throughout (a table of floats): one block, not one Series per column, which
        # for a row of 64 columns is the difference between ~40 us and ~3 ms. NumPy makes a
        # None NaN in float64.
        return pd.DataFrame(np.array(rows, dtype=dtypes[0]), columns=names)
    return pd.DataFrame(
        {
            column.name: pd.Series(
                [_gap_as_nan(row[position]) for row in rows]
                if position in with_gaps
                else [row[position] for row in rows],
                dtype=dtypes[position],
            )
            for position, column in enumerate(columns)
        }
    )


def _gap_as_nan(value: Any) -> Any:
    """The reader's empty cell: NaN, in a number column and in a text or boolean one."""
    return np.nan if value is None else value


def decode_table_matrix(
    signature: InputSignature,
    inputs: Any,
    *,
    categories: Mapping[str, Sequence[str]] | None = None,
    max_batch: int = MAX_BATCH,
    dtype: type[np.floating] = np.float64,
    nullable: Collection[str] = (),
) -> np.ndarray:
    """Table rows straight to a matrix of `dtype` (columns in the signature's order), with the
    checks and field errors of `decode_inputs`; for callers that need numbers and no DataFrame
    (an ONNX export's graph takes the columns as numbers, booleans as 0/1, and a column with
    `categories` as the position of its value's text in that list, -1 for one not in it, and
    a `null` in a `nullable` column as NaN, which the graph's imputation fills).
    float64 by default: the numbers the DataFrame holds and the brushes compute with (an
    integer past 2**53 rounds as pandas rounds it); float32 for exports that take float32.

    Only for signatures whose columns all decode to numbers (`is_matrix_table`)."""
    categories = categories or {}
    if not is_matrix_table(signature, categories):
        raise ValueError(
            "decode_table_matrix needs numbers and booleans only, or categories for the others"
        )
    errors = FieldErrors()
    check_batch(inputs, errors, max_batch)
    rows = _row_values(signature.columns, inputs, errors, nullable)
    errors.raise_if_any()
    shape = (len(rows), len(signature.columns))
    lookups = category_lookups(categories)
    if not lookups:  # NumPy makes a None NaN in a float matrix
        return np.array(rows, dtype=dtype).reshape(shape)
    matrix = np.empty(shape, dtype=dtype)
    for at, column in enumerate(signature.columns):
        lookup = lookups.get(column.name)
        if lookup is None:
            matrix[:, at] = [np.nan if row[at] is None else row[at] for row in rows]
        else:  # str(True) is "True", as the one_hot brush compares booleans
            matrix[:, at] = [
                np.nan if row[at] is None else lookup.get(str(row[at]), -1) for row in rows
            ]
    return matrix


def category_lookups(categories: Mapping[str, Sequence[str]]) -> dict[str, dict[str, int]]:
    """{column: {category text: its position}}: how a category column becomes a number for an
    ONNX export's graph (the manifest's `categories`, in the one_hot brush's order)."""
    return {
        column: {str(category): index for index, category in enumerate(known)}
        for column, known in categories.items()
    }


def is_numeric_table(signature: InputSignature) -> bool:
    """Whether every column of a table signature is an integer, a float or a boolean."""
    return is_matrix_table(signature, {})


def is_matrix_table(signature: InputSignature, categories: Mapping[str, Any]) -> bool:
    """Whether every column of a table signature is an integer, a float, a boolean, or a column
    whose categories are known (it becomes a category's position)."""
    return signature.modality == "tabular" and all(
        column.type in _DTYPE_OF_TYPE or column.name in categories for column in signature.columns
    )


def _row_values(
    columns: tuple[ColumnSpec, ...], inputs: list, errors: FieldErrors, nullable: Collection[str]
) -> list:
    """Each row's checked values in column order (None for an accepted `null`); problems go
    to `errors` by field."""
    names = {column.name for column in columns}
    typed = [(column.name, column.type, column.name in nullable) for column in columns]
    rows = []
    for index, row in enumerate(inputs):
        where = f"inputs[{index}]"
        if not errors.has_room():
            break
        if not isinstance(row, dict):
            errors.add(where, f"expected an object with one key per column, got {quote(row)}")
            continue
        if len(row) != len(names) or not names.issuperset(row):
            for key in row:
                if key not in names:
                    errors.add(f"{where}.{key}", f"unknown column {str(key)!r}")
        values = []
        for name, column_type, accepts_null in typed:
            if name not in row:
                errors.add(f"{where}.{name}", f"missing column {name!r}")
                continue
            if row[name] is None:
                if accepts_null:
                    values.append(None)
                else:
                    errors.add(f"{where}.{name}", NULL_REFUSED)
                continue
            value, problem = _cell(column_type, row[name])
            if problem is None:
                values.append(value)
            else:
                errors.add(f"{where}.{name}", problem)
        rows.append(values)
    return rows


def _cell(column_type: str, value: Any) -> tuple[Any, str | None]:
    """(value as the column holds it, None) or (None, what is wrong with it); not for null."""
    if column_type in ("integer", "float"):
        return _number(value, is_integer=column_type == "integer")
    if column_type == "boolean":
        if isinstance(value, bool):
            return value, None
        return None, f"not a boolean (true or false): {quote(value)}"
    if isinstance(value, str):
        return value, None
    return None, f"not text: {quote(value)} (send text in quotes)"


def _number(value: Any, *, is_integer: bool) -> tuple[Any, str | None]:
    noun = "an integer" if is_integer else "a number"
    if isinstance(value, str):
        return None, f"not {noun}: {quote(value)} (send numbers without quotes)"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"not {noun}: {quote(value)}"
    if isinstance(value, float) and math.isnan(value):
        return None, "NaN is not allowed"
    if isinstance(value, float) and math.isinf(value):
        return None, "infinity is not allowed"
    if not is_integer:
        return float(value), None
    if isinstance(value, float) and not value.is_integer():
        return None, f"not an integer: {quote(value)}"
    if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
        return None, f"integer out of range: {quote(value)} (64-bit integers only)"
    return int(value), None
