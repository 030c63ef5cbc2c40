"""How a CSV upload is written: its encoding, delimiter and whether it has a header row.

Everything is decided from the bytes, not from the file name, because creators export tables from
spreadsheets in every European and American flavour (`;` with decimal commas, tabs, latin-1).
The decision is stored in the schema so that readers parse the stored file exactly as ingest did.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from registry.ingest.errors import IngestRejected

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes that never appear in text: C0 controls other than tab, newlines and form feed, and DEL.
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32), 127])
_MAX_CONTROL_SHARE = 0.05
_HEADER_ROWS_COMPARED = 20


@dataclass(frozen=True)
class CsvDialect:
    """What pandas needs to parse the file the same way every time."""

    delimiter: str
    has_header: bool
    encoding: str  # "utf-8-sig" (reads plain UTF-8 too, dropping a BOM) or "latin-1"
    n_columns: int  # fields in the first row, known before pandas reads anything


def sniff_csv(path: Path) -> CsvDialect:
    """Read the first 64 KiB and decide how the file is written; refuse what is not CSV text."""
    with path.open("rb") as file:
        sample = file.read(SAMPLE_BYTES)
        is_truncated = bool(file.read(1))
    if not sample.strip():
        raise IngestRejected("the file is empty")
    refuse_binary(sample)
    encoding = detect_encoding(path)
    text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    if is_truncated and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line of a cut sample is partial
    delimiter = sniff_delimiter(text)
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    return CsvDialect(
        delimiter=delimiter,
        has_header=detect_header(rows),
        encoding=encoding,
        n_columns=len(rows[0]),
    )


def refuse_binary(sample: bytes) -> None:
    """Refuse bytes that are not text, so a PNG renamed .csv gets a message, not a table of noise.

    Latin-1 decodes any byte, so the encoding fallback alone would accept anything.
    """
    if sample.startswith(_UTF16_BOMS):
        raise IngestRejected("the file is UTF-16 text: save it as UTF-8 CSV and upload it again")
    control_count = sum(sample.count(byte) for byte in _CONTROL_BYTES)
    if b"\x00" in sample or control_count > _MAX_CONTROL_SHARE * len(sample):
        raise IngestRejected("the file is binary, not CSV text")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without a BOM) when the whole file decodes as UTF-8, latin-1 otherwise.

    The whole file is checked, in chunks, because a single accented byte on the last line is enough
    to make a UTF-8 parse fail after minutes of work.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        try:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8-sig"


def sniff_delimiter(text: str) -> str:
    """csv.Sniffer's choice among `, ; tab |`; where it gives up, the delimiter whose count per
    line is the most regular; where none is, a comma (a one-column file)."""
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return _most_regular_delimiter(text)


def _most_regular_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()][:50]
    best_delimiter, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = Counter(line.count(delimiter) for line in lines)
        usual_count, lines_agreeing = counts.most_common(1)[0]
        score = (lines_agreeing / len(lines), usual_count)
        if usual_count > 0 and score > best_score:
            best_delimiter, best_score = delimiter, score
    return best_delimiter


def detect_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns.

    The vote of csv.Sniffer.has_header, column by column: a column whose cells below are all
    numbers (or all true/false, or all of one length) votes for a header when its first cell breaks
    that pattern, and against when it follows it. Unlike the Sniffer, empty cells do not spoil a
    column's vote, and a tie goes to a first row that looks like names (non-empty, distinct, not
    numbers) instead of to "no header", since text-only tables nearly always have one.
    """
    header, body = rows[0], rows[1 : _HEADER_ROWS_COMPARED + 1]
    votes = 0
    for index, name in enumerate(header):
        cells = [row[index] for row in body if len(row) == len(header) and row[index] != ""]
        kinds = {_cell_kind(cell) for cell in cells}
        if len(kinds) == 1:
            votes += 1 if _cell_kind(name) != kinds.pop() else -1
    if votes:
        return votes > 0
    return all(header) and len(set(header)) == len(header) and not any(map(_is_number, header))


def _cell_kind(cell: str) -> str:
    if _is_number(cell):
        return "number"
    if cell.strip().lower() in ("true", "false"):
        return "boolean"
    return f"text of length {len(cell)}"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
