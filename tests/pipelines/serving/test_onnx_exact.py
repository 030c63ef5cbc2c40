"""Exact table exports: float64 input, float64 preprocessing, trees that split as scikit-learn.

Each test builds a case where the float32 export (before `input_dtype`) and Python disagree:
a request value that rounds to another float32 on the way in, a split threshold that rounds to
a float32 feature. The exact export must give Python's labels on every such row, and the
probabilities to within the float32 rounding of its output (measured: at most 8.5e-8 for
boosting, whose softmax ends in float32, 3.6e-8 for a forest; EXACT_TOLERANCE is 1e-6).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pipelines.brushes import BrushChain
from pipelines.serving import ColumnSpec, InputSignature, Predictor
from pipelines.serving.onnx_export import EXACT_TOLERANCE
from pipelines.serving.onnx_runtime import table_matrix
from pipelines.serving.onnx_samples import raw_samples
from tests.pipelines.serving.test_onnx_export import (
    DEFAULT_TABLE_CHAIN,
    exported,
    fitted_files,
    flowers,
    rows_of,
)

ONE_COLUMN = InputSignature.tabular([ColumnSpec("x", "float")])


def one_column_table(values_and_codes: list[tuple[float, int]], copies: int = 30):
    """(a one-column table with `copies` rows of each value, the class codes)."""
    values = [value for value, _code in values_and_codes for _copy in range(copies)]
    codes = np.array([code for _value, code in values_and_codes for _copy in range(copies)])
    return pd.DataFrame({"x": np.array(values, dtype=np.float64)}), codes


def assert_exact(python: Predictor, runtime, frame: pd.DataFrame) -> float:
    """Python's labels on every row, probabilities within EXACT_TOLERANCE; the largest
    probability difference."""
    expected, found = python.predict_arrays(frame), runtime.predict_arrays(frame)
    np.testing.assert_array_equal(found.codes, expected.codes)
    difference = float(np.abs(found.probabilities - expected.probabilities).max())
    assert difference <= EXACT_TOLERANCE
    return difference


def test_a_request_value_that_float32_would_round_keeps_its_branch():
    # 1000.1 and float32(1000.1) = 1000.0999756 are two classes, and the trees split between
    # them. A float32 input rounds a request of 1000.1 onto the other class's value.
    value = 1000.1
    near = float(np.float32(value))
    table, codes = one_column_table([(value, 0), (near, 1), (value + 1e-4, 2), (near - 1e-4, 2)])
    chain = [{"name": "standard_scaler"}]
    files = fitted_files(table, codes, chain, "random_forest", {"n_estimators": 10})

    python, runtime, manifest = exported(files, ONE_COLUMN)

    assert (manifest["input_dtype"], manifest["exact"]) == ("float64", True)
    requests = pd.DataFrame({"x": [value, near, value + 1e-4, near - 1e-4]})
    assert list(python.predict_arrays(requests).codes) == [0, 1, 2, 2]
    assert assert_exact(python, runtime, requests) <= 6e-8
    answers = runtime.predict([{"x": value}, {"x": near}])
    assert [answer["label"] for answer in answers] == ["circle", "square"]
    # What the float32 input computed: the same graph on the request rounded to float32.
    rounded = table_matrix(requests, ["x"], {}).astype(np.float32).astype(np.float64)
    old_codes = runtime.run(rounded).argmax(axis=1)
    assert list(old_codes) == [1, 1, 2, 2]  # 1000.1 answered as float32(1000.1)'s class


def test_a_threshold_between_two_float32_values_splits_as_in_scikit_learn():
    # Boosting splits a and b, adjacent float32 values, at (a + b) / 2 in float64, which rounds
    # (to even) to b in float32: a float32 threshold sends b down a's branch.
    a = float(np.nextafter(np.float32(1.0), np.float32(2.0)))
    b = float(np.nextafter(np.float32(a), np.float32(2.0)))
    assert np.float32((a + b) / 2) == np.float32(b)
    # 100 rows of each: boosting's leaves need 20 samples of the training split.
    table, codes = one_column_table([(a, 0), (b, 1), (5.0, 2)], copies=100)
    files = fitted_files(table, codes, [], "gradient_boosting", {"max_iter": 20})

    python, runtime, manifest = exported(files, ONE_COLUMN)

    assert manifest["exact"] is True
    requests = pd.DataFrame({"x": [a, b, 5.0]})
    assert list(python.predict_arrays(requests).codes) == [0, 1, 2]
    assert assert_exact(python, runtime, requests) <= 6e-8
    # The same estimator converted as skl2onnx does it (float thresholds) gets b wrong.
    assert list(float_threshold_codes(python, requests)) == [0, 0, 2]


def float_threshold_codes(python: Predictor, frame: pd.DataFrame) -> np.ndarray:
    """The classes skl2onnx's own conversion (float input, float thresholds) gives."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    from pipelines.serving import skl2onnx_fixes
    from pipelines.serving.onnx_runtime import session_for

    skl2onnx_fixes.apply()
    estimator = python.model.estimator
    features = python.features(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = to_onnx(
            estimator,
            initial_types=[("features", FloatTensorType([None, features.shape[1]]))],
            target_opset={"": 17, "ai.onnx.ml": 3},
            options={type(estimator): {"zipmap": False}},
        )
    session = session_for(model.SerializeToString())
    _labels, probabilities = session.run(None, {"features": features})
    return np.asarray(probabilities).argmax(axis=1)


def boundary_rows(python: Predictor, table: pd.DataFrame, n_rows: int) -> pd.DataFrame:
    """Rows whose numeric columns sit on the model's split thresholds, mapped back through
    the chain's standard_scaler into raw values, and 1-2 float64 steps either side: where any
    rounding shows."""
    scaler = next(brush for brush in python.chain if brush.name == "standard_scaler")
    names = list(python.model.feature_names)
    thresholds: list[tuple[int, float]] = []
    estimator = python.model.estimator
    for tree in getattr(estimator, "estimators_", []):
        structure = tree.tree_
        thresholds += [
            (int(feature), float(threshold))
            for feature, threshold in zip(structure.feature, structure.threshold, strict=True)
            if feature >= 0
        ]
    for trees in getattr(estimator, "_predictors", []):
        for tree in trees:
            thresholds += [
                (int(node["feature_idx"]), float(node["num_threshold"]))
                for node in tree.nodes
                if not node["is_leaf"]
            ]
    rows = []
    generator = np.random.default_rng(1)
    for index in generator.permutation(len(thresholds))[:n_rows]:
        feature, threshold = thresholds[index]
        column = names[feature]
        if column not in scaler.columns_:
            continue
        at = scaler.columns_.index(column)
        raw = threshold * scaler.scale_[at] + scaler.mean_[at]
        base = table.iloc[int(generator.integers(len(table)))].to_dict()
        for steps in (-2, -1, 0, 1, 2):
            value = raw
            for _step in range(abs(steps)):
                value = np.nextafter(value, np.inf if steps > 0 else -np.inf)
            rows.append({**base, column: float(value)})
    frame = pd.DataFrame(rows)
    return frame.astype({"petals": np.float64}) if "petals" in frame else frame


@pytest.mark.parametrize(
    ("template", "params"),
    [("random_forest", {"n_estimators": 20}), ("gradient_boosting", {"max_iter": 30})],
    ids=["random-forest", "boosting"],
)
def test_rows_on_every_split_get_pythons_labels(template, params):
    table, codes, _signature = flowers(n_rows=300)  # enough for boosting's 20-sample leaves
    table["petals"] = table["petals"].astype(np.float64)
    signature = InputSignature.tabular(
        [ColumnSpec(name, "float") for name in ("petal_length", "petals", "proline")]
    )
    files = fitted_files(table, codes, [{"name": "standard_scaler"}], template, params)
    python, runtime, manifest = exported(files, signature)
    rows = boundary_rows(python, table, 400)

    assert manifest["exact"] is True and len(rows) >= 1500
    assert assert_exact(python, runtime, rows) <= 1e-7  # measured: 3.6e-8 forest, 8.5e-8 boosting
    # The float32 input, on the same rows, takes other branches on some of them.
    rounded = table_matrix(rows, signature.column_names, {}).astype(np.float32)
    old_codes = runtime.run(rounded.astype(np.float64)).argmax(axis=1)
    assert (old_codes != python.predict_arrays(rows).codes).sum() > 0


def test_the_graphs_features_are_the_python_chains_bit_for_bit():
    table, codes, signature = flowers(with_gaps=True, with_colour=True, with_wild=True)
    chain = [
        *DEFAULT_TABLE_CHAIN[:3],
        {"name": "min_max_scaler", "params": {"clip": True, "columns": ["petals"]}},
        {"name": "standard_scaler"},
    ]
    files = fitted_files(table, codes, chain, "random_forest", {"n_estimators": 5})
    python, runtime, manifest = exported(files, signature)
    fitted = BrushChain.from_bytes(files["model/brushes.zip"])
    samples = raw_samples(signature, fitted, python.model, 500, np.random.default_rng(2))
    samples = pd.concat([samples, table], ignore_index=True)

    graph_input = table_matrix(samples, manifest["columns"], manifest["categories"])
    (features,) = runtime.session.run(["features"], {"input": graph_input})

    assert features.dtype == np.float32
    np.testing.assert_array_equal(features, python.features(samples), strict=True)


def test_features_that_overflow_float32_are_refused_as_in_python():
    table, codes, signature = flowers()
    files = fitted_files(table, codes, [{"name": "standard_scaler"}], "random_forest", {})
    python, runtime, _manifest = exported(files, signature)
    row = rows_of(table.iloc[:1])[0]
    # Finite as float64, past float32's range once scaled: Python refuses the features.
    bad = [row, {**row, "proline": 1e300}]

    with pytest.raises(Exception) as from_python:
        python.predict(bad)
    with pytest.raises(Exception) as from_onnx:
        runtime.predict(bad)

    assert from_onnx.value.errors == from_python.value.errors
    assert [error.field for error in from_onnx.value.errors] == ["inputs[1]"]
