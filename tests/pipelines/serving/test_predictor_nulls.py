"""A `null` in a column the chain fills in is answered as training's evaluation answered an
empty cell there, by the Python model and its ONNX export alike; elsewhere it is refused with
the reason. Real CSVs read by the training reader, real brushes, real tiny models."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.brushes import BrushChain
from pipelines.serving import FieldError, InputError, Predictor, decode_inputs, signature_for
from pipelines.serving.gaps import NULL_REFUSED, fillable_columns, nullable_columns
from registry.ingest.readers import read_table
from registry.ingest.table_reading import read_csv_frame
from registry.ingest.table_schema import describe_columns
from tests.pipelines.serving.test_onnx_export import (
    DEFAULT_TABLE_CHAIN,
    assert_same_answers,
    exported,
    fitted_files,
)

EXACT = 1e-6  # what an exact export claims (`onnx_export.EXACT_TOLERANCE`)


def flowers_with_gaps(path: Path, n_rows: int = 90):
    """(the table as training read it, the class codes, the signature): every column type with
    empty cells, as a creator's CSV has them."""
    generator = np.random.default_rng(11)
    lines = ["petal_length,petals,colour,wild,species"]
    for index in range(n_rows):
        code = index % 3
        length = f"{2 + 1.5 * code + generator.normal(0, 0.5):.3f}" if index % 7 else ""
        petals = str(int(generator.integers(3, 9))) if index % 5 else ""
        colour = ["blue", "red", "white"][(code + index // 4) % 3] if index % 9 else ""
        wild = str(bool(code == 2 or generator.random() < 0.2)) if index % 11 else ""
        lines.append(f"{length},{petals},{colour},{wild},{'abc'[code]}")
    path.write_text("\n".join(lines) + "\n")
    ingest = read_csv_frame(
        path, delimiter=",", has_header=True, encoding="utf-8", blank_lines_are_rows=False,
        nullable_dtypes=True,
    )  # fmt: skip
    schema = {"delimiter": ",", "has_header": True, "columns": describe_columns(ingest)}
    table = read_table(path, schema)
    codes = np.array(["abc".index(label) for label in table.pop("species")])
    signature = signature_for("tabular", table_columns=schema["columns"], target="species")
    return table, codes, signature


def json_rows(table: pd.DataFrame) -> list[dict]:
    """The rows as a script sends them: an empty cell as null, numbers and booleans as JSON's."""
    rows = []
    for record in table.to_dict(orient="records"):
        row = {}
        for key, value in record.items():
            if isinstance(value, float) and math.isnan(value):
                row[key] = None
            else:
                row[key] = value.item() if hasattr(value, "item") else value
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    ("template", "params"),
    [("random_forest", {"n_estimators": 20}), ("logistic_regression", {})],
    ids=["random-forest", "logistic-regression"],
)
def test_a_null_is_answered_as_training_scored_the_empty_cell(tmp_path, template, params):
    table, codes, signature = flowers_with_gaps(tmp_path / "flowers.csv")
    files = fitted_files(table, codes, DEFAULT_TABLE_CHAIN, template, params)
    python, runtime, manifest = exported(files, signature)
    rows = json_rows(table)
    assert [column.type for column in signature.columns] == [
        "float", "integer", "categorical", "boolean"
    ]  # fmt: skip
    assert sum(value is None for row in rows for value in row.values()) == 13 + 18 + 10 + 9

    # What training's evaluation computed for the table it read, empty cells and all.
    scored = python.predict_arrays(table)
    answers = python.predict(rows)
    features = python.features(decode_inputs(signature, rows, nullable=python.nullable_columns))
    one_by_one = [
        python.features(decode_inputs(signature, [row], nullable=python.nullable_columns))[0]
        for row in rows[:12]
    ]
    onnx_answers = runtime.predict(rows)

    assert python.nullable_columns == ["petal_length", "petals", "colour", "wild"]
    assert runtime.nullable_columns == python.nullable_columns == manifest["missing_allowed"]
    assert manifest["exact"] is True
    probabilities = np.array([list(answer["probabilities"].values()) for answer in answers])
    np.testing.assert_array_equal(probabilities, scored.probabilities)
    assert [answer["label"] for answer in answers] == [python.label_names[c] for c in scored.codes]
    # A row's features do not depend on the gaps of the others in its request.
    np.testing.assert_array_equal(np.array(one_by_one), features[:12])
    assert_same_answers(answers, onnx_answers, tolerance=EXACT)


def test_a_null_where_a_scaler_reads_the_column_first_is_refused_with_the_reason(tmp_path):
    table, codes, signature = flowers_with_gaps(tmp_path / "flowers.csv")
    complete = table.notna().all(axis=1).to_numpy()
    table, codes = table[complete].reset_index(drop=True), codes[complete]
    table["petals"] = table["petals"].astype(np.int64)
    table["wild"] = table["wild"].astype(bool)
    chain = [
        {"name": "standard_scaler"},
        {"name": "impute", "params": {"strategy": "most_frequent"}},
        {"name": "one_hot"},
    ]
    files = fitted_files(table, codes, chain, "logistic_regression", {})
    python, runtime, manifest = exported(files, signature)
    good = json_rows(table.iloc[:1])[0]
    rows = [
        {**good, "petal_length": None, "colour": None},
        {key: value for key, value in good.items() if key != "petals"},
    ]

    expected_problems = [
        FieldError("inputs[0].petal_length", NULL_REFUSED),
        FieldError("inputs[1].petals", "missing column 'petals'"),
    ]
    for predictor in (python, runtime):
        assert predictor.nullable_columns == ["colour", "wild"]
        with pytest.raises(InputError) as caught:
            predictor.predict(rows)
        assert caught.value.errors == expected_problems
    # The manifest's rule is serving's: the graph's imputation of petal_length comes too late.
    assert manifest["missing_allowed"] == ["colour", "wild"]
    fitted = BrushChain.from_config(chain).fit(table, codes)
    assert fillable_columns(fitted) == ["colour", "wild"]
    assert nullable_columns(signature, fitted) == ["colour", "wild"]
    gaps = [{**good, "colour": None, "wild": None}]
    assert_same_answers(python.predict(gaps), runtime.predict(gaps), tolerance=EXACT)


def test_a_model_without_imputation_accepts_no_null(tmp_path):
    table, codes, signature = flowers_with_gaps(tmp_path / "flowers.csv")
    complete = table.notna().all(axis=1).to_numpy()
    table, codes = table[complete].reset_index(drop=True), codes[complete]
    files = fitted_files(
        table, codes, [{"name": "one_hot"}, {"name": "standard_scaler"}], "logistic_regression", {}
    )
    predictor = Predictor.from_files(files, signature.to_dict())

    assert predictor.nullable_columns == []
    with pytest.raises(InputError) as caught:
        predictor.predict([{**json_rows(table.iloc[:1])[0], "wild": None}])
    assert caught.value.errors == [FieldError("inputs[0].wild", NULL_REFUSED)]
