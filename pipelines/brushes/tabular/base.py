"""What tabular brushes share: checking the DataFrame and choosing the columns to work on."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from pipelines.brushes.base import PreprocessingBrush
from pipelines.brushes.errors import BrushInputError

ColumnKind = Literal["numeric", "categorical", "any"]


def is_numeric_column(series: pd.Series) -> bool:
    """Numbers count as numeric; booleans count as categories (two labels, not a quantity)."""
    return is_numeric_dtype(series.dtype)


def is_numeric_dtype(dtype: Any) -> bool:
    """`is_numeric_column` for a column's dtype."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def columns_of(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`frame[columns]`, without pandas' reindexing when `columns` are all of them in order
    (a table of numbers): selecting 64 columns of a one-row request costs more than scaling it."""
    if columns == frame.columns.tolist():
        return frame
    return frame[columns]


class TabularBrush(PreprocessingBrush):
    """A brush over a pandas DataFrame; subclasses have a `columns` param (None = automatic)."""

    modality = "tabular"
    columns: list[str] | None

    def _check_input(self, X: Any) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise BrushInputError(f"{self.name} expects a pandas.DataFrame, got {type(X).__name__}")
        if len(X) == 0:
            raise BrushInputError(f"{self.name} got a DataFrame with no rows")
        labels = X.columns.tolist()
        non_text = [label for label in labels if not isinstance(label, str)]
        if non_text:
            raise BrushInputError(
                f"{self.name} needs string column names (stored as JSON), got {non_text[0]!r}"
            )
        if len(set(labels)) != len(labels):
            raise BrushInputError(f"{self.name} got a DataFrame with duplicate column names")
        return X

    def _select_columns(self, frame: pd.DataFrame, kind: ColumnKind) -> list[str]:
        """The configured columns (checked to exist and be of `kind`), or all columns of `kind`."""
        if self.columns is None:
            return [column for column in frame.columns if self._is_kind(frame[column], kind)]
        self._require_columns(frame, self.columns)
        for column in self.columns:
            if not self._is_kind(frame[column], kind):
                raise BrushInputError(
                    f"{self.name} needs {kind} columns, but column {column!r} has dtype "
                    f"{frame[column].dtype}"
                )
        return list(self.columns)

    @staticmethod
    def _is_kind(series: pd.Series, kind: ColumnKind) -> bool:
        if kind == "any":
            return True
        return is_numeric_column(series) == (kind == "numeric")

    def _require_columns(self, frame: pd.DataFrame, columns: list[str]) -> None:
        # A set of the labels: `in frame.columns` walks pandas' (Arrow) index once a column.
        present = set(frame.columns.tolist())
        missing = [column for column in columns if column not in present]
        if missing:
            raise BrushInputError(
                f"{self.name}: unknown column {missing[0]!r}; the DataFrame has "
                f"{', '.join(map(repr, frame.columns))}"
            )

    def _require_complete(self, frame: pd.DataFrame, columns: list[str]) -> None:
        # One vectorised check: a request of one row to a 64-column model should not pay 64
        # pandas calls.
        missing = columns_of(frame, columns).isna().to_numpy().any(axis=0) if columns else []
        for column, has_missing in zip(columns, missing, strict=True):
            if has_missing:
                raise BrushInputError(
                    f"{self.name}: column {column!r} has missing values; put an impute brush first"
                )

    def _numeric_values(self, frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
        """The columns as a float64 matrix, refusing non-numeric, missing and infinite values."""
        self._require_columns(frame, columns)
        self._require_complete(frame, columns)
        dtypes = dict(zip(frame.columns.tolist(), frame.dtypes.tolist(), strict=True))
        # Each distinct dtype checked once: a table of numbers has one, whatever its width.
        numeric = {dtype: is_numeric_dtype(dtype) for dtype in set(dtypes.values())}
        for column in columns:
            if not numeric[dtypes[column]]:
                raise BrushInputError(
                    f"{self.name}: column {column!r} is not numeric (dtype {dtypes[column]})"
                )
        values = columns_of(frame, columns).to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise BrushInputError(f"{self.name}: columns {columns} hold infinite values")
        return values

    @staticmethod
    def _replace_columns(
        frame: pd.DataFrame, columns: list[str], values: np.ndarray
    ) -> pd.DataFrame:
        """A copy of `frame` with `columns` replaced by the float64 `values`, order kept."""
        if columns == frame.columns.tolist():
            # Every column replaced (a table of numbers): a new frame from the matrix, ~50x
            # cheaper than assigning 64 columns into a copy for a one-row request.
            return pd.DataFrame(values, columns=columns, index=frame.index)
        result = frame.copy()
        if columns:
            result[columns] = values  # one assignment, not one per column
        return result
