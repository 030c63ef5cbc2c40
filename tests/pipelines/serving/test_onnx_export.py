"""An ONNX export of a trained model answers requests as the Python model answers them.

Real tiny models (trained here in a second or two), real brushes, real ONNX Runtime: each export
is checked on the same raw request inputs against `Predictor`, and its manifest says what a
browser must send (table columns, pixel values 0..255) or that it cannot (Python-only brushes).
"""

from __future__ import annotations

import base64
import io
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipelines.brushes import BrushChain
from pipelines.serving import ColumnSpec, InputSignature, Predictor
from pipelines.serving.onnx_export import (
    ExportRefused,
    build_graph,
    check_against,
    export_onnx,
    plan_for,
)
from pipelines.serving.onnx_runtime import MANIFEST_PATH, MODEL_PATH, OnnxPredictor
from pipelines.serving.onnx_samples import raw_samples
from pipelines.training.data import TrainingData, split_indices
from pipelines.training.trainer import train
from tests.pipelines.training.samples import LABEL_NAMES, Recorder

TOLERANCE = 1e-4
# What a run gets for a table when it names no brushes (pipelines.run_config.default_brushes).
DEFAULT_TABLE_CHAIN = [
    {"name": "impute", "params": {"strategy": "mean"}},
    {"name": "impute", "params": {"strategy": "most_frequent"}},
    {"name": "one_hot", "params": {}},
    {"name": "standard_scaler", "params": {}},
]


def fitted_files(raw, targets, chain_config, template, params, *, task="classification"):
    """A run's model files, trained as the pipeline trains: brushes fitted on the training
    split, the model on their output."""
    train_at, val_at, test_at = split_indices(
        targets, task=task, validation_fraction=0.2, test_fraction=0.2, seed=0
    )
    subset = raw.iloc if isinstance(raw, pd.DataFrame) else None
    pick = (lambda at: subset[at]) if subset is not None else (lambda at: [raw[i] for i in at])
    chain = BrushChain.from_config(chain_config).fit(pick(train_at), targets[train_at])
    transformed = chain.transform(raw, training=False)
    names = [str(name) for name in getattr(transformed, "columns", [])]
    features = np.asarray(transformed, dtype=np.float32)
    data = TrainingData(
        *(array for at in (train_at, val_at, test_at) for array in (features[at], targets[at])),
        task=task,
        label_names=LABEL_NAMES if task == "classification" else [],
        feature_names=names,
    )
    model = train(template, params, data, device="cpu", seed=0, callbacks=Recorder().callbacks)
    files = {f"model/{name}": data for name, data in model.to_files().items()}
    return {**files, "model/brushes.zip": chain.deterministic_part.to_bytes()}


def flowers(n_rows=60, *, with_gaps=False, with_colour=False, with_wild=False):
    """(a table whose class follows petal length, the class codes, its signature); with_colour
    adds a categorical column, with_wild a boolean one (both encoded by one_hot)."""
    generator = np.random.default_rng(3)
    codes = np.arange(n_rows) % 3
    table = pd.DataFrame(
        {
            "petal_length": generator.normal(2 + 2 * codes, 0.5),
            "petals": generator.integers(3, 9, n_rows).astype(np.int64),
            "proline": generator.normal(800 + 200 * codes, 150),
        }
    )
    columns = [ColumnSpec("petal_length", "float"), ColumnSpec("petals", "integer")]
    columns.append(ColumnSpec("proline", "float"))
    if with_gaps:
        table.loc[::7, "petal_length"] = np.nan
    if with_colour:
        colours = np.array(["red", "blue", "green"], dtype=object)[(codes + n_rows) % 3]
        if with_gaps:
            colours[2::9] = None  # the most frequent colour fills these
        table["colour"] = pd.Series(colours, dtype=object)
        columns.append(ColumnSpec("colour", "categorical"))
    if with_wild:
        table["wild"] = pd.Series((codes == 2) | (generator.random(n_rows) < 0.2), dtype=np.bool_)
        columns.append(ColumnSpec("wild", "boolean"))
    return table, codes, InputSignature.tabular(columns)


def rows_of(table: pd.DataFrame) -> list[dict]:
    return [
        {key: (value.item() if hasattr(value, "item") else value) for key, value in row.items()}
        for row in table.to_dict(orient="records")
    ]


def assert_same_answers(python_answers, onnx_answers, *, tolerance=TOLERANCE):
    assert len(python_answers) == len(onnx_answers)
    for expected, found in zip(python_answers, onnx_answers, strict=True):
        if "value" in expected:
            assert found["value"] == pytest.approx(expected["value"], rel=tolerance, abs=tolerance)
            continue
        assert found["label"] == expected["label"]
        assert list(found["probabilities"]) == list(expected["probabilities"])
        np.testing.assert_allclose(
            list(found["probabilities"].values()),
            list(expected["probabilities"].values()),
            rtol=0,
            atol=tolerance,
        )


def exported(files, signature):
    export = export_onnx(files, signature)
    assert export.status == "ready", export.reason
    both = {**files, **export.files}
    manifest = json.loads(both[MANIFEST_PATH])
    return (
        Predictor.from_files(files, signature),
        OnnxPredictor.from_files(both, signature.to_dict()),
        manifest,
    )


@pytest.mark.parametrize(
    ("template", "params", "chain_config"),
    [
        ("logistic_regression", {}, [{"name": "standard_scaler"}]),
        ("random_forest", {"n_estimators": 20}, []),
        ("mlp", {"epochs": 3, "hidden_units": [16]}, [{"name": "min_max_scaler"}]),
        ("random_forest", {"n_estimators": 20}, DEFAULT_TABLE_CHAIN),
        ("gradient_boosting", {"max_iter": 30}, DEFAULT_TABLE_CHAIN),
    ],
    ids=[
        "logistic-regression",
        "random-forest",
        "mlp-min-max",
        "forest-default-brushes",
        "boosting-default-brushes",
    ],
)
def test_tables_answer_as_the_python_model(template, params, chain_config):
    table, codes, signature = flowers()
    files = fitted_files(table, codes, chain_config, template, params)

    python, runtime, manifest = exported(files, signature)

    rows = rows_of(table.iloc[:24])
    assert_same_answers(python.predict(rows), runtime.predict(rows))
    assert manifest["input_kind"] == "table"
    assert manifest["columns"] == ["petal_length", "petals", "proline"]
    assert manifest["input_shape"] == [None, 3]
    assert manifest["browser"] == {"supported": True, "reason": ""}
    assert manifest["label_names"] == LABEL_NAMES and manifest["task"] == "classification"
    assert manifest["check"]["n_samples"] == 16 and manifest["check"]["labels_agree"]
    assert manifest["check"]["max_abs_diff"] <= TOLERANCE


def test_an_mlp_with_imputation_fills_missing_values_inside_the_graph():
    table, codes, signature = flowers(with_gaps=True)
    chain = [{"name": "impute", "params": {"strategy": "median"}}, {"name": "standard_scaler"}]
    files = fitted_files(table, codes, chain, "mlp", {"epochs": 3, "hidden_units": [16]})

    python, runtime, manifest = exported(files, signature)

    gaps = table.iloc[:21]  # rows 0, 7 and 14 lack petal_length
    expected = python.predict_arrays(gaps)
    found = runtime.predict_arrays(gaps)
    np.testing.assert_allclose(found.probabilities, expected.probabilities, atol=TOLERANCE)
    assert manifest["missing_allowed"] == ["petal_length", "petals", "proline"]
    rows = rows_of(table.iloc[1:7])
    assert_same_answers(python.predict(rows), runtime.predict(rows))


def test_regression_values_come_out_in_the_targets_units():
    table, _codes, signature = flowers()
    targets = (table["proline"] * 3.0 + 50.0).to_numpy(dtype=np.float32)
    table = table.drop(columns="proline")
    signature = InputSignature.tabular(signature.columns[:2])
    for template, params in (
        ("mlp", {"epochs": 3}),
        ("random_forest", {"n_estimators": 5}),
        ("gradient_boosting", {"max_iter": 20}),
    ):
        files = fitted_files(
            table, targets, [{"name": "standard_scaler"}], template, params, task="regression"
        )
        python, runtime, manifest = exported(files, signature)
        rows = rows_of(table.iloc[:10])
        assert_same_answers(python.predict(rows), runtime.predict(rows))
        assert manifest["task"] == "regression" and manifest["label_names"] == []


@pytest.mark.parametrize(
    ("template", "params"),
    [
        ("logistic_regression", {}),
        ("mlp", {"epochs": 3, "hidden_units": [16]}),
        ("random_forest", {"n_estimators": 20}),
    ],
    ids=["logistic-regression", "mlp", "random-forest"],
)
def test_categories_and_booleans_are_one_hot_encoded_inside_the_graph(template, params):
    table, codes, signature = flowers(with_gaps=True, with_colour=True, with_wild=True)
    files = fitted_files(table, codes, DEFAULT_TABLE_CHAIN, template, params)

    python, runtime, manifest = exported(files, signature)

    assert manifest["input_kind"] == "table"
    assert manifest["browser"] == {"supported": True, "reason": ""}
    assert manifest["columns"] == ["petal_length", "petals", "proline", "colour", "wild"]
    assert manifest["input_shape"] == [None, 5]
    assert manifest["categories"] == {
        "colour": ["blue", "green", "red"],
        "wild": ["False", "True"],
    }
    assert manifest["missing_allowed"] == manifest["columns"]
    assert runtime.takes_matrix
    # Requests: known colours, a colour the model never saw, both booleans.
    rows = rows_of(table.dropna().iloc[:6])
    rows += [{**rows[0], "colour": "purple"}, {**rows[1], "colour": "", "wild": True}]
    assert_same_answers(python.predict(rows), runtime.predict(rows))
    # Missing values where the chain imputes them: a number, a colour, a boolean.
    gaps = table.iloc[:24].astype({"wild": object})
    gaps.loc[4, "wild"] = None
    gaps.loc[5, "colour"] = "never seen"
    assert gaps["petal_length"].isna().sum() == 4 and gaps["colour"].isna().sum() == 3
    expected, found = python.predict_arrays(gaps), runtime.predict_arrays(gaps)
    np.testing.assert_allclose(found.probabilities, expected.probabilities, atol=TOLERANCE)
    np.testing.assert_array_equal(found.codes, expected.codes)


def test_check_rows_have_gaps_only_where_the_chain_imputes_before_anything_else():
    table, codes, signature = flowers(with_gaps=True, with_colour=True, with_wild=True)
    imputing_first = BrushChain.from_config(DEFAULT_TABLE_CHAIN).fit(table, codes)
    scaling_first = BrushChain.from_config(
        [{"name": "standard_scaler"}, {"name": "impute", "params": {"strategy": "most_frequent"}}]
    ).fit(table.dropna(), codes[table.notna().all(axis=1)])
    model = SimpleNamespace(feature_names=[], network=None, estimator=None)

    gaps = raw_samples(signature, imputing_first, model, 64, np.random.default_rng(0))
    none = raw_samples(signature, scaling_first, model, 64, np.random.default_rng(0))

    # About one cell in eight; a scaler refuses gaps, so none where it reads the column first.
    assert gaps.isna().sum().to_dict() == {
        "petal_length": 9, "petals": 4, "proline": 6, "colour": 4, "wild": 8,
    }  # fmt: skip
    assert none.isna().sum().to_dict() == {
        "petal_length": 0, "petals": 0, "proline": 0, "colour": 9, "wild": 4,
    }  # fmt: skip


def test_a_one_hot_after_a_scaler_keeps_the_scaled_numbers_first():
    table, codes, signature = flowers(with_colour=True)
    chain = [{"name": "standard_scaler"}, {"name": "one_hot"}]
    files = fitted_files(table, codes, chain, "mlp", {"epochs": 3, "hidden_units": [16]})

    python, runtime, manifest = exported(files, signature)

    assert manifest["input_kind"] == "table"
    assert manifest["input_shape"] == [None, 4]  # 3 numbers and a colour's position
    assert manifest["categories"] == {"colour": ["blue", "green", "red"]}
    assert manifest["missing_allowed"] == []
    assert manifest["browser"]["supported"] is True
    rows = rows_of(table.iloc[:12])
    rows.append({**rows[0], "colour": "mauve"})
    assert_same_answers(python.predict(rows), runtime.predict(rows))


def test_a_table_the_graph_cannot_take_says_why():
    from pipelines.serving.onnx_plans import table_plan

    table, codes, signature = flowers(with_colour=True, with_wild=True)
    only_colour = BrushChain.from_config(
        [{"name": "one_hot", "params": {"columns": ["colour"]}}]
    ).fit(table, codes)
    wild_as_text = BrushChain.from_config(
        [
            {
                "name": "impute",
                "params": {"strategy": "constant", "fill_value": "unknown", "columns": ["wild"]},
            },
            {"name": "one_hot", "params": {"columns": ["colour"]}},
        ]
    ).fit(table, codes)
    any_model = SimpleNamespace(feature_names=[])
    text = InputSignature.tabular([*signature.columns, ColumnSpec("note", "text")])

    assert table_plan(text, only_colour, any_model) == (
        None,
        "column 'note' is text and no one_hot brush encodes it: Python only",
    )
    assert table_plan(signature, wild_as_text, any_model) == (
        None,
        "the impute brush fills 'wild' with text, in Python only",
    )
    assert table_plan(signature, only_colour, any_model) == (
        None,
        "the brushes change the table's columns; they run in Python only",
    )


def test_a_classifier_without_probabilities_is_not_exported():
    table, codes, signature = flowers()
    files = fitted_files(table, codes, [], "svm", {})

    export = export_onnx(files, signature)

    assert (export.status, export.model_bytes, export.files) == ("unavailable", None, {})
    assert export.reason == "SVC gives no probabilities, and the ONNX output holds them"
    assert export.summary()["status"] == "unavailable"


def test_an_export_that_disagrees_with_its_model_is_refused():
    table, codes, signature = flowers()
    files = fitted_files(table, codes, [], "random_forest", {"n_estimators": 20})
    other = fitted_files(table, 2 - codes, [], "random_forest", {"n_estimators": 20})
    predictor = Predictor.from_files(files, signature)
    plan = plan_for(Predictor.from_files(other, signature))
    wrong_bytes = build_graph(Predictor.from_files(other, signature), plan).SerializeToString()

    with pytest.raises(ExportRefused, match="disagrees with the Python model"):
        check_against(predictor, wrong_bytes, plan.manifest, table.iloc[:16])
    assert plan.manifest["check"]["labels_agree"] is False


def pictures(n_images: int, size=(12, 10)):
    """(uint8 grey and colour pictures whose class is the bright third, class codes)."""
    generator = np.random.default_rng(11)
    images, codes = [], np.arange(n_images) % 3
    for index, code in enumerate(codes):
        height, width = size if index % 2 else (size[0] + 4, size[1] - 1)
        pixels = generator.integers(0, 80, (height, width, 3), dtype=np.uint8)
        band = height // 3
        pixels[code * band : (code + 1) * band] += 150
        images.append(pixels[:, :, :1] if index % 4 < 2 else pixels)
    return images, codes


def encoded(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("template", "params", "side"),
    [
        ("cnn", {"epochs": 2, "batch_size": 8, "channels": [4]}, 8),
        ("cnn", {"epochs": 2, "batch_size": 8, "channels": [4], "pooled_size": 4}, 12),
        ("mlp", {"epochs": 2, "batch_size": 8, "hidden_units": [16]}, 8),
        ("logistic_regression", {"max_iter": 200}, 8),
    ],
    ids=["cnn", "cnn-uneven-pooling", "mlp", "logistic-regression"],
)
def test_images_take_pixel_values_and_normalise_inside_the_graph(template, params, side):
    images, codes = pictures(30)
    chain = [
        {"name": "image_resize", "params": {"height": side, "width": side, "channels": 3}},
        {"name": "image_normalize"},
    ]
    files = fitted_files(images, codes, chain, template, params)
    signature = InputSignature.image(width=side, height=side, channels=3, resizes=True)

    python, runtime, manifest = exported(files, signature)

    requests = [encoded(image) for image in images[:12]]
    assert_same_answers(python.predict(requests), runtime.predict(requests))
    assert manifest["input_kind"] == "image"
    assert manifest["input_shape"] == [None, side, side, 3]
    assert manifest["image"] == {
        "width": side,
        "height": side,
        "channels": 3,
        "resample": "bilinear",
        "resizes": True,
        "mode": "stretch",
        "pad_value": 0.0,
    }
    assert manifest["browser"]["supported"] is True
    # The graph takes pixel values 0..255: a resized batch times 255, as a canvas gives them.
    resized = BrushChain.from_config(chain[:1]).fit(images).transform(images[:4]) * 255.0
    (output,) = runtime.session.run(["output"], {"input": resized.astype(np.float32)})
    expected = python.predict_arrays(images[:4]).probabilities
    np.testing.assert_allclose(output, expected, atol=TOLERANCE)


def test_an_image_model_without_resizing_takes_raw_pixels():
    images, codes = pictures(30)
    grey = [np.ascontiguousarray(image[:8, :8, :1]) for image in images]
    files = fitted_files(grey, codes, [], "cnn", {"epochs": 2, "batch_size": 8, "channels": [4]})
    signature = InputSignature.image(width=8, height=8, channels=1, resizes=False)

    python, runtime, manifest = exported(files, signature)

    requests = [encoded(image) for image in grey[:10]]
    assert_same_answers(python.predict(requests), runtime.predict(requests))
    assert manifest["image"]["resizes"] is False and manifest["image"]["resample"] is None
    assert manifest["input_shape"] == [None, 8, 8, 1]


def test_audio_exports_its_model_part_for_the_server_only():
    generator = np.random.default_rng(5)
    codes = np.arange(24) % 3
    times = np.arange(4000) / 16000
    waves = [
        (np.sin(2 * np.pi * [300, 900, 2000][code] * times) * 0.5).astype(np.float32)
        + generator.normal(0, 0.05, times.size).astype(np.float32)
        for code in codes
    ]
    spectrogram = {
        "name": "audio_spectrogram",
        "params": {"sample_rate": 16000, "duration_s": 0.25, "n_fft": 256, "hop_length": 128},
    }
    spectrogram["params"]["n_mels"] = 16
    files = fitted_files(waves, codes, [spectrogram], "audio_cnn", {"epochs": 2, "channels": [4]})
    signature = InputSignature.audio(sample_rate=16000, duration_s=0.25)

    python, runtime, manifest = exported(files, signature)

    assert manifest["input_kind"] == "features"
    assert manifest["browser"] == {
        "supported": False,
        "reason": "the audio_spectrogram brush runs in Python only",
    }
    expected = python.predict_arrays(waves[:8]).probabilities
    np.testing.assert_allclose(runtime.predict_arrays(waves[:8]).probabilities, expected, atol=1e-4)
    assert MODEL_PATH.endswith("model.onnx")
