"""Tables: CSV dialects, column types and statistics, Parquet, and the refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from registry.ingest import IngestLimits, IngestRejected, ingest
from tests.registry.ingest.builders import image_bytes

PEOPLE_CSV = (
    "name,age,score,member,joined,city\n"
    "ann,31,1.5,true,2024-01-02,paris\n"
    "bob,,2.5,false,2024-02-03,\n"
    "cid,40,,true,,paris\n"
    "dee,22,4.0,false,2024-03-04,oslo\n"
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def ingest_table(path: Path, **limits: int):
    return ingest(path, modality="tabular", original_name=path.name, limits=IngestLimits(**limits))


def column(schema: dict, name: str) -> dict:
    return next(entry for entry in schema["columns"] if entry["name"] == name)


def test_semicolons_without_header_are_sniffed(tmp_path):
    path = write(tmp_path, "measures.csv", "1.5;2;red\n2.5;3;blue\n3.5;4;red\n")

    result = ingest_table(path)

    assert result.file_format == "csv"
    assert result.n_samples == 3
    assert result.size_bytes == path.stat().st_size
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.manifest == []
    assert result.sample_rate is None
    schema = result.schema
    assert (schema["kind"], schema["delimiter"], schema["has_header"]) == ("table", ";", False)
    assert [entry["name"] for entry in schema["columns"]] == ["column_1", "column_2", "column_3"]
    assert [entry["type"] for entry in schema["columns"]] == ["float", "integer", "categorical"]
    assert column(schema, "column_2") | {"histogram": None} == {
        "name": "column_2",
        "type": "integer",
        "n_missing": 0,
        "n_unique": 3,
        "min": 2,
        "max": 4,
        "mean": 3.0,
        "histogram": None,
    }
    assert column(schema, "column_3")["top"] == [["red", 2], ["blue", 1]]
    assert schema["preview"] == [[1.5, 2, "red"], [2.5, 3, "blue"], [3.5, 4, "red"]]


def test_missing_values_categories_and_types(tmp_path):
    schema = ingest_table(write(tmp_path, "people.csv", PEOPLE_CSV)).schema

    assert (schema["delimiter"], schema["has_header"], schema["n_rows"]) == (",", True, 4)
    types = {entry["name"]: entry["type"] for entry in schema["columns"]}
    assert types == {
        "name": "categorical",
        "age": "integer",
        "score": "float",
        "member": "boolean",
        "joined": "datetime",
        "city": "categorical",
    }
    missing = {entry["name"]: entry["n_missing"] for entry in schema["columns"]}
    assert missing == {"name": 0, "age": 1, "score": 1, "member": 0, "joined": 1, "city": 1}
    age = column(schema, "age")
    assert (age["min"], age["max"], age["mean"], age["n_unique"]) == (22, 40, 31.0, 3)
    assert age["histogram"]["counts"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert age["histogram"]["edges"][0] == 22.0 and age["histogram"]["edges"][-1] == 40.0
    assert len(age["histogram"]["edges"]) == 11
    score = column(schema, "score")
    assert (score["min"], score["max"], score["mean"]) == (1.5, 4.0, 8.0 / 3)
    assert column(schema, "city")["top"] == [["paris", 2], ["oslo", 1]]
    assert column(schema, "member")["top"] == [[False, 2], [True, 2]]
    joined = column(schema, "joined")
    assert (joined["min"], joined["max"]) == ("2024-01-02T00:00:00", "2024-03-04T00:00:00")
    assert schema["preview"][1] == ["bob", None, 2.5, False, "2024-02-03", None]
    for described in (age, score):
        assert sum(described["histogram"]["counts"]) == 4 - described["n_missing"]


def test_histogram_counts_every_present_value(tmp_path):
    values = [str(value) if value % 7 else "" for value in range(1, 101)]
    path = write(tmp_path, "values.csv", "value\n" + "\n".join(values) + "\n")

    described = column(ingest_table(path).schema, "value")

    assert described["n_missing"] == 14
    assert sum(described["histogram"]["counts"]) == 100 - 14
    assert described["histogram"]["counts"] == [9, 9, 8, 9, 8, 9, 8, 9, 9, 8]


def test_categorical_or_text_by_unique_share(tmp_path):
    rows = [f"word{index % 55},note{index}" for index in range(1100)]
    path = write(tmp_path, "words.csv", "word,note\n" + "\n".join(rows) + "\n")

    schema = ingest_table(path).schema

    # 55 unique words in 1,100 rows is 5%: few enough. 1,100 unique notes are free text.
    assert column(schema, "word")["type"] == "categorical"
    assert column(schema, "word")["top"][0] == ["word0", 20]
    assert len(column(schema, "word")["top"]) == 10
    assert column(schema, "note") == {"name": "note", "type": "text", "n_missing": 0,
                                      "n_unique": 1100}  # fmt: skip
    assert len(schema["preview"]) == 20


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "scores.tsv"), ("|", "scores")])
def test_tab_and_pipe_delimiters(tmp_path, delimiter, name):
    text = delimiter.join(["kind", "weight"]) + "\n" + delimiter.join(["a", "1"]) + "\n"
    path = write(tmp_path, name, text + delimiter.join(["b", "2"]) + "\n")

    schema = ingest_table(path).schema

    assert (schema["delimiter"], schema["has_header"]) == (delimiter, True)
    assert [entry["name"] for entry in schema["columns"]] == ["kind", "weight"]


def test_latin1_and_utf8_bom(tmp_path):
    latin = write(tmp_path, "latin.csv", "ville;prix\ncafé;3\nthé;2\n".encode("latin-1"))
    bom = write(tmp_path, "bom.csv", "\ufeffville,prix\ncafé,3\n".encode())

    latin_schema = ingest_table(latin).schema
    bom_schema = ingest_table(bom).schema

    assert latin_schema["encoding"] == "latin-1"
    assert latin_schema["preview"] == [["café", 3], ["thé", 2]]
    assert bom_schema["encoding"] == "utf-8-sig"
    assert bom_schema["columns"][0]["name"] == "ville"


def test_only_empty_cells_are_missing(tmp_path):
    path = write(tmp_path, "words.csv", "word\nNA\nNone\n\nnull\n")

    described = ingest_table(path).schema["columns"][0]

    assert (described["type"], described["n_missing"], described["n_unique"]) == (
        "categorical",
        1,
        3,
    )


def test_parquet(tmp_path):
    frame = pd.DataFrame(
        {
            "count": pd.array([1, None, 3], dtype="Int64"),
            "ratio": [0.5, 1.5, 2.5],
            "kind": pd.Categorical(["a", "b", "a"]),
            "taken": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
        }
    )
    path = tmp_path / "frame.bin"
    frame.to_parquet(path)

    result = ingest(path, modality="tabular", original_name="frame.bin")

    assert result.file_format == "parquet"
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    schema = result.schema
    assert (schema["format"], schema["delimiter"], schema["n_rows"]) == ("parquet", None, 3)
    types = [(entry["name"], entry["type"], entry["n_missing"]) for entry in schema["columns"]]
    assert types == [
        ("count", "integer", 1),
        ("ratio", "float", 0),
        ("kind", "categorical", 0),
        ("taken", "datetime", 1),
    ]
    assert column(schema, "kind")["top"] == [["a", 2], ["b", 1]]
    assert schema["preview"][2] == [3, 2.5, "a", None]
    assert schema["preview"][0][3] == "2024-01-01T00:00:00"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b" \n\n \n", "the file is empty"),
        ("picture.csv", image_bytes(), "the file is binary, not CSV text"),
        ("wide.csv", "a\n".encode("utf-16"), "the file is UTF-16 text"),
        ("header.csv", b"name,age\n", "the table has no rows"),
        ("ragged.csv", b"a,b\n1,2\n1,2,3,4\n", "the CSV could not be parsed: Expected 2 fields"),
        ("sheet.xlsx", b"a,b\n1,2\n", '"sheet.xlsx" is not a table: upload a .csv or .parquet'),
        ("broken.parquet", b"PAR1 and then nothing", "the Parquet file could not be read"),
    ],
)
def test_refusals(tmp_path, name, content, message):
    with pytest.raises(IngestRejected) as refusal:
        ingest_table(write(tmp_path, name, content))

    assert message in str(refusal.value)


def test_limits(tmp_path):
    path = write(tmp_path, "people.csv", PEOPLE_CSV)

    with pytest.raises(IngestRejected, match="has 6 columns, over the 5-column limit"):
        ingest_table(path, max_columns=5)
    with pytest.raises(IngestRejected, match="more rows than the 3-row limit"):
        ingest_table(path, max_rows=3)
    with pytest.raises(IngestRejected, match=r"the upload is 147 bytes, over the 100 bytes limit"):
        ingest_table(path, max_upload_bytes=100)
    assert ingest_table(path, max_rows=4, max_columns=6).n_samples == 4


def test_parquet_shape_is_checked_from_its_footer(tmp_path):
    path = tmp_path / "frame.parquet"
    pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]}).to_parquet(path)

    with pytest.raises(IngestRejected, match="more rows than the 2-row limit"):
        ingest_table(path, max_rows=2)
    with pytest.raises(IngestRejected, match="has 2 columns, over the 1-column limit"):
        ingest_table(path, max_columns=1)


def test_unknown_modality_is_a_caller_error(tmp_path):
    with pytest.raises(ValueError, match="unknown modality 'video'"):
        ingest(write(tmp_path, "a.csv", PEOPLE_CSV), modality="video", original_name="a.csv")
