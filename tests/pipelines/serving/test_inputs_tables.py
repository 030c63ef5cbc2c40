"""Table rows from a request: decoded exactly as the dataset reader reads the stored table, and
every bad cell reported with its path and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.serving import ColumnSpec, FieldError, InputError, InputSignature, decode_inputs
from pipelines.serving.gaps import NULL_REFUSED
from pipelines.serving.inputs import decode_table_matrix, is_matrix_table, is_numeric_table
from pipelines.serving.signature import signature_for
from registry.ingest.readers import read_table
from registry.ingest.table_reading import read_csv_frame
from registry.ingest.table_schema import describe_columns

MIXED = InputSignature.tabular(
    [
        ColumnSpec("a", "float"),
        ColumnSpec("n", "integer"),
        ColumnSpec("flag", "boolean"),
        ColumnSpec("word", "text"),
    ]
)


def flowers_csv(path: Path, n_rows: int = 60) -> Path:
    """A table with every column type that ingest finds in a CSV, and a class column."""
    generator = np.random.default_rng(3)
    lines = ["petal_length,petals,colour,is_wild,note,when,species"]
    for index in range(n_rows):
        lines.append(
            f"{generator.normal(4, 1):.17g},{generator.integers(3, 9)},"
            f"{['red', 'blue', 'green'][index % 3]},{bool(index % 2)},note {index},"
            f"2024-01-{index % 28 + 1:02d},{['setosa', 'virginica'][index % 2]}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def ingest_schema(path: Path) -> dict:
    """The schema ingest stores for a comma-separated CSV with a header."""
    frame = read_csv_frame(
        path, delimiter=",", has_header=True, encoding="utf-8", blank_lines_are_rows=False,
        nullable_dtypes=True,
    )  # fmt: skip
    return {"delimiter": ",", "has_header": True, "columns": describe_columns(frame)}


def problems(signature: InputSignature, inputs, **limits) -> list[FieldError]:
    with pytest.raises(InputError) as caught:
        decode_inputs(signature, inputs, **limits)
    return caught.value.errors


def test_rows_sent_as_json_decode_to_the_table_training_read(tmp_path):
    path = flowers_csv(tmp_path / "flowers.csv")
    schema = ingest_schema(path)
    signature = signature_for("tabular", table_columns=schema["columns"], target="species")
    training_table = read_table(path, schema).drop(columns="species")
    rows = json.loads(json.dumps(training_table.to_dict(orient="records")))

    decoded = decode_inputs(signature, rows)

    assert [column.type for column in signature.columns] == [
        "float", "integer", "categorical", "boolean", "text", "datetime"
    ]  # fmt: skip
    pd.testing.assert_frame_equal(decoded, training_table)


def test_numbers_are_stored_in_the_columns_types():
    decoded = decode_inputs(MIXED, [{"a": 1, "n": 3.0, "flag": False, "word": "fine"}])

    expected = pd.DataFrame(
        {
            "a": pd.Series([1.0], dtype=np.float64),
            "n": pd.Series([3], dtype=np.int64),
            "flag": pd.Series([False], dtype=np.bool_),
            "word": pd.Series(["fine"]),
        }
    )
    pd.testing.assert_frame_equal(decoded, expected)


def test_a_null_in_a_column_the_chain_fills_decodes_as_the_training_reader_reads_a_gap():
    rows = [
        {"a": None, "n": None, "flag": None, "word": None},
        {"a": 2.5, "n": 3, "flag": True, "word": "fine"},
    ]

    decoded = decode_inputs(MIXED, rows, nullable=["a", "n", "flag", "word"])
    one_gap = decode_inputs(MIXED, rows[:1], nullable=["a", "n", "flag", "word"])
    matrix = decode_table_matrix(
        MIXED, rows, categories={"word": ["fine"]}, nullable=["a", "n", "flag", "word"]
    )

    # read_table: numbers (integers too) as float64 NaN, booleans as objects, text as text.
    expected = pd.DataFrame(
        {
            "a": pd.Series([np.nan, 2.5], dtype=np.float64),
            "n": pd.Series([np.nan, 3.0], dtype=np.float64),
            "flag": pd.Series([np.nan, True], dtype=object),
            "word": pd.Series([np.nan, "fine"]),
        }
    )
    pd.testing.assert_frame_equal(decoded, expected)
    pd.testing.assert_frame_equal(one_gap, expected.iloc[:1])
    np.testing.assert_array_equal(matrix, [[np.nan] * 4, [2.5, 3.0, 1.0, 0.0]])
    assert problems(MIXED, rows) == [
        FieldError(f"inputs[0].{name}", NULL_REFUSED) for name in ("a", "n", "flag", "word")
    ]
    with pytest.raises(InputError) as caught:
        decode_table_matrix(MIXED, rows, categories={"word": ["fine"]}, nullable=["a"])
    assert [error.field for error in caught.value.errors] == [
        "inputs[0].n", "inputs[0].flag", "inputs[0].word"
    ]  # fmt: skip


def test_every_bad_cell_is_reported_with_its_path():
    inputs = [
        {"a": "abc", "n": 2.5, "flag": "yes", "word": 5},
        {"a": float("nan"), "n": True, "flag": None, "extra": 1},
        "not a row",
        {"a": float("-inf"), "n": 2**63, "flag": True, "word": "ok"},
        {"a": "1.5", "n": "3", "flag": 1, "word": ["x"]},
        {"a": 1, "n": 3, "flag": False, "word": "fine"},
    ]

    assert problems(MIXED, inputs) == [
        FieldError("inputs[0].a", "not a number: 'abc' (send numbers without quotes)"),
        FieldError("inputs[0].n", "not an integer: 2.5"),
        FieldError("inputs[0].flag", "not a boolean (true or false): 'yes'"),
        FieldError("inputs[0].word", "not text: 5 (send text in quotes)"),
        FieldError("inputs[1].extra", "unknown column 'extra'"),
        FieldError("inputs[1].a", "NaN is not allowed"),
        FieldError("inputs[1].n", "not an integer: true"),
        FieldError("inputs[1].flag", NULL_REFUSED),
        FieldError("inputs[1].word", "missing column 'word'"),
        FieldError("inputs[2]", "expected an object with one key per column, got 'not a row'"),
        FieldError("inputs[3].a", "infinity is not allowed"),
        FieldError(
            "inputs[3].n", "integer out of range: 9223372036854775808 (64-bit integers only)"
        ),
        FieldError("inputs[4].a", "not a number: '1.5' (send numbers without quotes)"),
        FieldError("inputs[4].n", "not an integer: '3' (send numbers without quotes)"),
        FieldError("inputs[4].flag", "not a boolean (true or false): 1"),
        FieldError("inputs[4].word", "not text: a list (send text in quotes)"),
    ]


@pytest.mark.parametrize(
    ("inputs", "limits", "message"),
    [
        ({"a": 1}, {}, "expected a list of inputs, got an object"),
        (None, {}, "expected a list of inputs, got null"),
        ([], {}, "no inputs; send a list of at least one"),
        ([{}] * 3, {"max_batch": 2}, "3 inputs; at most 2 per request"),
        ([{}] * 257, {}, "257 inputs; at most 256 per request"),
    ],
)
def test_the_batch_itself_is_checked_first(inputs, limits, message):
    assert problems(MIXED, inputs, **limits) == [FieldError("inputs", message)]


def test_at_most_twenty_problems_are_listed_then_a_note_says_the_check_stopped():
    good = {"a": 1.0, "n": 1, "flag": True, "word": "w"}
    many = [{**good, "a": "x"}] * 30
    twenty = [{**good, "a": "x"}] * 20

    listed = problems(MIXED, many)
    exactly_twenty = problems(MIXED, twenty)

    assert len(listed) == 21
    assert listed[19] == FieldError(
        "inputs[19].a", "not a number: 'x' (send numbers without quotes)"
    )
    assert listed[20] == FieldError("inputs", "stopped after 20 problems; fix these and send again")
    # Nothing was left unchecked, so there is no note.
    assert len(exactly_twenty) == 20 and exactly_twenty[-1].field == "inputs[19].a"


def test_the_error_groups_messages_by_field_and_says_them_all():
    with pytest.raises(InputError) as caught:
        decode_inputs(MIXED, [{"a": "x", "n": 1, "flag": True}])

    assert caught.value.by_field() == {
        "inputs[0].a": ["not a number: 'x' (send numbers without quotes)"],
        "inputs[0].word": ["missing column 'word'"],
    }
    assert str(caught.value) == (
        "inputs[0].a: not a number: 'x' (send numbers without quotes); "
        "inputs[0].word: missing column 'word'"
    )
    assert caught.value.errors[0].to_dict() == {
        "field": "inputs[0].a",
        "message": "not a number: 'x' (send numbers without quotes)",
    }


def test_long_text_and_huge_numbers_are_quoted_short():
    listed = problems(MIXED, [{"a": "y" * 100, "n": 10**5000, "flag": {}, "word": 1.5}])

    assert [error.message for error in listed] == [
        f"not a number: '{'y' * 37}...' (send numbers without quotes)",
        "integer out of range: a huge integer (64-bit integers only)",
        "not a boolean (true or false): an object",
        "not text: 1.5 (send text in quotes)",
    ]


NUMBERS = InputSignature.tabular(
    [ColumnSpec("a", "float"), ColumnSpec("n", "integer"), ColumnSpec("flag", "boolean")]
)


def test_a_table_of_numbers_decodes_straight_to_the_float64_matrix_of_its_dataframe():
    # 0.1 and 2**53 + 1 are not float32 numbers; float64 keeps what the brushes compute with.
    rows = [
        {"flag": True, "n": 3, "a": 1.25},
        {"a": -2, "n": -7.0, "flag": False},
        {"a": 0.1, "n": 2**53 + 1, "flag": True},
    ]

    matrix = decode_table_matrix(NUMBERS, rows)
    single = decode_table_matrix(NUMBERS, rows, dtype=np.float32)
    frame = decode_inputs(NUMBERS, rows)

    assert matrix.dtype == np.float64 and matrix.shape == (3, 3)
    np.testing.assert_array_equal(matrix, frame.to_numpy(dtype=np.float64))
    assert matrix[2, 0] == 0.1 and matrix[2, 1] == float(2**53)  # as pandas rounds the int
    assert single.dtype == np.float32  # what exports before `input_dtype` take
    np.testing.assert_array_equal(single, frame.to_numpy(dtype=np.float32))
    assert is_numeric_table(NUMBERS) and not is_numeric_table(MIXED)
    with pytest.raises(ValueError, match="numbers and booleans only"):
        decode_table_matrix(MIXED, rows)


# The manifest's `categories` of an ONNX export whose one_hot encodes `flag` and `word`.
CATEGORIES = {"flag": ["False", "True"], "word": ["blue", "red"]}


def test_categories_decode_to_their_positions_and_unseen_ones_to_minus_one():
    rows = [
        {"a": 1.5, "n": 2, "flag": True, "word": "red"},
        {"a": -1, "n": 0, "flag": False, "word": "blue"},
        {"a": 0.0, "n": 7, "flag": True, "word": "mauve"},
        {"a": 2.0, "n": 1, "flag": False, "word": ""},
    ]

    matrix = decode_table_matrix(MIXED, rows, categories=CATEGORIES)

    assert matrix.dtype == np.float64
    np.testing.assert_array_equal(
        matrix,
        [[1.5, 2, 1, 1], [-1, 0, 0, 0], [0, 7, 1, -1], [2, 1, 0, -1]],
    )
    assert is_matrix_table(MIXED, CATEGORIES) and not is_matrix_table(MIXED, {"flag": []})
    # A boolean without categories stays 0/1 (no one_hot encodes it).
    only_word = decode_table_matrix(MIXED, rows[:1], categories={"word": ["red"]})
    np.testing.assert_array_equal(only_word, [[1.5, 2, 1, 0]])


@pytest.mark.parametrize(
    ("signature", "categories"), [(NUMBERS, None), (MIXED, CATEGORIES)], ids=["numbers", "mixed"]
)
def test_the_matrix_decoder_reports_the_same_problems_as_the_dataframe_one(signature, categories):
    inputs = [
        {"a": "abc", "n": 2.5, "flag": "yes"},
        {"a": float("nan"), "n": True, "extra": 1},
        "not a row",
        {"a": 1.0, "n": 1, "flag": True},
    ]

    if signature is MIXED:
        inputs[0]["word"] = 3  # text columns want text
        inputs[1]["word"] = None
        inputs[3]["word"] = "red"
    with pytest.raises(InputError) as caught:
        decode_table_matrix(signature, inputs, categories=categories)

    assert caught.value.errors == problems(signature, inputs)
    fields = [
        "inputs[0].a", "inputs[0].n", "inputs[0].flag", "inputs[1].extra", "inputs[1].a",
        "inputs[1].n", "inputs[1].flag", "inputs[2]",
    ]  # fmt: skip
    if signature is MIXED:
        fields[3:3] = ["inputs[0].word"]
        fields[-1:-1] = ["inputs[1].word"]
    assert [error.field for error in caught.value.errors] == fields


def test_a_table_of_one_type_decodes_to_the_same_frame_as_column_by_column():
    columns = [ColumnSpec(f"p{index}", "integer") for index in range(5)]
    rows = [{f"p{index}": index * row for index in range(5)} for row in range(3)]

    decoded = decode_inputs(InputSignature.tabular(columns), rows)

    expected = pd.DataFrame(
        {f"p{index}": pd.Series([index * row for row in range(3)], dtype=np.int64)
         for index in range(5)}
    )  # fmt: skip
    pd.testing.assert_frame_equal(decoded, expected)
