"""Parsing a stored table into a DataFrame, the one way that ingest and readers share.

Only empty cells count as missing: a creator's "NA" or "None" is a value they typed, and strings
stay strings. Ingest asks for pandas' nullable dtypes, under which an integer column with a gap
is still integer (Int64 with <NA>), so the schema can say "integer"; readers get pandas' default
NumPy-backed dtypes (that column as float64 with NaN), which scikit-learn, NumPy and `x != x`
checks expect. The parse itself (tokenising, number inference) is the same for both.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.parquet as parquet

from registry.ingest.errors import IngestRejected
from registry.ingest.limits import IngestLimits

PARQUET_MAGIC = b"PAR1"


def read_csv_frame(
    path: Path,
    *,
    delimiter: str,
    has_header: bool,
    encoding: str,
    blank_lines_are_rows: bool,
    nullable_dtypes: bool = False,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """The table as typed columns; `max_rows` stops the parse one row past a limit.

    `blank_lines_are_rows` is for one-column tables, where a missing value is written as an
    empty line (pandas writes them so); in wider tables a blank line is only spacing.
    Columns of a file without a header are named column_1, column_2, ... so names are always
    strings and read the same in a schema, a form and a DataFrame.
    """
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            header=0 if has_header else None,
            encoding=encoding,
            quotechar='"',
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=not blank_lines_are_rows,
            nrows=None if max_rows is None else max_rows + 1,
            low_memory=False,
            engine="c",
            **_dtype_backend(nullable_dtypes),
        )
    except pd.errors.EmptyDataError as error:
        raise IngestRejected("the file is empty") from error
    except pd.errors.ParserError as error:
        raise IngestRejected(f"the CSV could not be parsed: {_first_line(error)}") from error
    if has_header:
        frame.columns = [str(name) for name in frame.columns]
    else:
        frame.columns = [f"column_{index + 1}" for index in range(frame.shape[1])]
    return frame


def read_parquet_frame(
    path: Path, *, nullable_dtypes: bool = False, limits: IngestLimits | None = None
) -> pd.DataFrame:
    """The table of a Parquet file; with `limits`, its size is checked from the footer first,
    before any column is loaded."""
    try:
        if limits is not None:
            metadata = parquet.ParquetFile(path).metadata
            refuse_table_shape(metadata.num_rows, metadata.num_columns, limits)
        frame = pd.read_parquet(path, **_dtype_backend(nullable_dtypes))
    except (pyarrow.ArrowException, OSError) as error:
        raise IngestRejected(f"the Parquet file could not be read: {_first_line(error)}") from error
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()  # a stored index is data the creator wrote; keep it as columns
    frame.columns = [str(name) for name in frame.columns]
    return frame


def refuse_table_shape(n_rows: int, n_columns: int, limits: IngestLimits) -> None:
    """Refuse a table with no columns, no rows, or more of either than the limits allow."""
    refuse_column_count(n_columns, limits)
    if n_rows > limits.max_rows:
        raise IngestRejected(f"the table has more rows than the {limits.max_rows:,}-row limit")
    if n_rows == 0:
        raise IngestRejected("the table has no rows")


def refuse_column_count(n_columns: int, limits: IngestLimits) -> None:
    """Refuse no columns or too many; callable before parsing, from the first row alone."""
    if n_columns == 0:
        raise IngestRejected("the table has no columns")
    if n_columns > limits.max_columns:
        raise IngestRejected(
            f"the table has {n_columns:,} columns, over the {limits.max_columns:,}-column limit"
        )


def _dtype_backend(nullable_dtypes: bool) -> dict[str, str]:
    return {"dtype_backend": "numpy_nullable"} if nullable_dtypes else {}


def _first_line(error: Exception) -> str:
    text = str(error).strip().removeprefix("Error tokenizing data. C error: ")
    return text.splitlines()[0] if text else type(error).__name__
