"""A table described for people and for training: each column's type, gaps and spread.

The description is computed once at upload and stored as JSON, so every value here is a plain
Python number, string, boolean or None (NaN and numpy scalars are not JSON).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

PREVIEW_ROWS = 20
HISTOGRAM_BINS = 10
TOP_VALUES = 10
CATEGORICAL_MAX_UNIQUE = 50
CATEGORICAL_MAX_UNIQUE_SHARE = 0.05
# Only ISO 8601 text counts as a date: "03/04/2024" means two different days on two continents.
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
)


def describe_columns(frame: pd.DataFrame) -> list[dict]:
    """One description per column, in the table's order."""
    return [describe_column(str(name), frame[name], len(frame)) for name in frame.columns]


def describe_column(name: str, series: pd.Series, n_rows: int) -> dict:
    """name, type, n_missing, n_unique, plus min/max/mean/histogram for numbers, min/max for
    dates, and the most frequent values for categories and booleans."""
    present = series.dropna()
    if isinstance(present.dtype, pd.CategoricalDtype):
        present = present.astype(present.dtype.categories.dtype)  # a Parquet dictionary column
    if present.dtype == object:
        present = present.astype(str)  # lists or mixed objects from Parquet: compare as text
    column_type = classify(present, n_rows)
    description: dict[str, Any] = {
        "name": name,
        "type": column_type,
        "n_missing": int(series.isna().sum()),
        "n_unique": int(present.nunique()),
    }
    if column_type in ("integer", "float"):
        description.update(numeric_summary(present, is_integer=column_type == "integer"))
    elif column_type == "datetime":
        moments = as_datetimes(present)
        description.update(min=moments.min().isoformat(), max=moments.max().isoformat())
    elif column_type in ("categorical", "boolean"):
        description["top"] = top_values(present)
    return description


def classify(present: pd.Series, n_rows: int) -> str:
    """The column's type from its non-missing values: a column with none is "text"."""
    dtype = present.dtype
    if present.empty:
        return "text"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype) or _is_iso_datetime_text(present):
        return "datetime"
    n_unique = present.nunique()
    is_few = n_unique <= CATEGORICAL_MAX_UNIQUE or n_unique <= CATEGORICAL_MAX_UNIQUE_SHARE * n_rows
    return "categorical" if is_few else "text"


def numeric_summary(present: pd.Series, *, is_integer: bool) -> dict:
    """min, max, mean and a 10-bin histogram over the finite values (infinities are left out of
    the numbers, since no bin holds them)."""
    values = present.to_numpy(dtype="float64")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"min": None, "max": None, "mean": None, "histogram": None}
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    return {
        "min": int(present.min()) if is_integer else float(finite.min()),
        "max": int(present.max()) if is_integer else float(finite.max()),
        "mean": float(finite.mean()),
        "histogram": {"edges": [float(edge) for edge in edges], "counts": counts.tolist()},
    }


def top_values(present: pd.Series) -> list[list]:
    """The most frequent values with their counts, most frequent first, ties by value."""
    counts = present.value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [[json_value(value), int(count)] for value, count in ranked[:TOP_VALUES]]


def as_datetimes(present: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(present.dtype):
        return present
    return _parse_iso(present.astype("string"), errors="raise")


def _is_iso_datetime_text(present: pd.Series) -> bool:
    text = present.astype("string")
    # A cheap look at the first values spares a full scan of columns that are plainly not dates.
    if not text.head(100).str.fullmatch(_ISO_DATETIME).all():
        return False
    if not text.str.fullmatch(_ISO_DATETIME).all():
        return False
    return not _parse_iso(text, errors="coerce").isna().any()


def _parse_iso(text: pd.Series, *, errors: str) -> pd.Series:
    try:
        return pd.to_datetime(text, format="ISO8601", errors=errors)
    except (ValueError, TypeError):
        # Mixed offsets ("+01:00" beside "Z") have no common zone but one common instant: UTC.
        return pd.to_datetime(text, format="ISO8601", errors=errors, utc=True)


def preview_rows(frame: pd.DataFrame) -> list[list]:
    """The first rows as lists of JSON values, None for a missing cell."""
    head = frame.head(PREVIEW_ROWS).astype(object)
    return [[json_value(value) for value in row] for row in head.itertuples(index=False)]


def json_value(value: Any) -> Any:
    """A cell as a JSON value: None for missing, "inf"/"-inf" for infinities, ISO text for
    moments, text for anything else that JSON cannot hold."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else ("inf" if number > 0 else "-inf")
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value)
