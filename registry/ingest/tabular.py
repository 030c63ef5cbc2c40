"""Ingesting a table: a CSV or Parquet upload becomes a typed, described dataset version."""

from __future__ import annotations

from pathlib import Path, PurePath

from registry.ingest.errors import IngestRejected
from registry.ingest.hashing import file_sha256
from registry.ingest.limits import IngestLimits
from registry.ingest.result import FileFormat, IngestResult
from registry.ingest.table_format import sniff_csv
from registry.ingest.table_reading import (
    PARQUET_MAGIC,
    read_csv_frame,
    read_parquet_frame,
    refuse_column_count,
    refuse_table_shape,
)
from registry.ingest.table_schema import describe_columns, preview_rows

# Plain-text table exports, and "no extension" for text pasted into a file.
_CSV_SUFFIXES = frozenset({"", ".csv", ".tsv", ".tab", ".txt"})
_PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})


def ingest_table(path: Path, *, original_name: str, limits: IngestLimits) -> IngestResult:
    """Parse and describe the table; refuse it with one clear message if it cannot be a dataset."""
    file_format = table_file_format(path, original_name)
    if file_format == "parquet":
        frame = read_parquet_frame(path, nullable_dtypes=True, limits=limits)
        layout = {"format": "parquet", "encoding": None, "delimiter": None, "has_header": True}
    else:
        dialect = sniff_csv(path)
        refuse_column_count(dialect.n_columns, limits)  # before pandas builds a million columns
        frame = read_csv_frame(
            path,
            delimiter=dialect.delimiter,
            has_header=dialect.has_header,
            encoding=dialect.encoding,
            blank_lines_are_rows=dialect.n_columns == 1,
            nullable_dtypes=True,
            max_rows=limits.max_rows,
        )
        layout = {
            "format": "csv",
            "encoding": dialect.encoding,
            "delimiter": dialect.delimiter,
            "has_header": dialect.has_header,
        }
    refuse_table_shape(len(frame), frame.shape[1], limits)
    schema = {
        "kind": "table",
        **layout,
        "columns": describe_columns(frame),
        "n_rows": len(frame),
        "preview": preview_rows(frame),
    }
    return IngestResult(
        sha256=file_sha256(path),
        size_bytes=path.stat().st_size,
        file_format=file_format,
        n_samples=len(frame),
        schema=schema,
    )


def table_file_format(path: Path, original_name: str) -> FileFormat:
    """Parquet when the bytes say so (or the name, to explain a broken one); CSV for text names."""
    with path.open("rb") as file:
        magic = file.read(len(PARQUET_MAGIC))
    suffix = PurePath(original_name).suffix.lower()
    if magic == PARQUET_MAGIC or suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _CSV_SUFFIXES:
        return "csv"
    raise IngestRejected(f'"{original_name}" is not a table: upload a .csv or .parquet file')
