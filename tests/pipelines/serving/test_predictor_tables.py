"""A table model served from its files answers JSON rows exactly as training scored the same rows:
read from the stored CSV, through the fitted brushes, into the model's own predict calls."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipelines.brushes import BrushChain
from pipelines.serving import (
    FieldError,
    InputError,
    InputSignature,
    ModelLoadError,
    Predictor,
    decode_inputs,
    signature_for,
)
from pipelines.training.data import TrainingData, split_indices
from pipelines.training.trainer import train
from registry.ingest.readers import read_table
from registry.ingest.table_reading import read_csv_frame
from registry.ingest.table_schema import describe_columns
from tests.pipelines.training.samples import Recorder

SPECIES = ["setosa", "versicolor", "virginica"]
CHAIN = [{"name": "standard_scaler"}, {"name": "one_hot"}]


def write_flowers(path: Path, n_rows: int = 60) -> dict:
    """A CSV whose species follows petal length; returns the schema ingest stores for it."""
    generator = np.random.default_rng(7)
    lines = ["petal_length,petals,colour,is_wild,species"]
    for index in range(n_rows):
        code = index % 3
        lines.append(
            f"{generator.normal(2 + 2 * code, 0.5):.17g},{generator.integers(3, 9)},"
            f"{['red', 'blue', 'green'][index % 4 % 3]},{index % 5 == 0},{SPECIES[code]}"
        )
    path.write_text("\n".join(lines) + "\n")
    frame = read_csv_frame(
        path, delimiter=",", has_header=True, encoding="utf-8", blank_lines_are_rows=False,
        nullable_dtypes=True,
    )  # fmt: skip
    return {"delimiter": ",", "has_header": True, "columns": describe_columns(frame)}


def prepared(tmp_path: Path, *, target: str, task: str):
    """(training data, fitted chain, signature, JSON rows of the test split), made the way the
    training run makes them: brushes fitted on the training split only."""
    path = tmp_path / "flowers.csv"
    schema = write_flowers(path)
    table = read_table(path, schema)
    raw_targets = table.pop(target)
    if task == "classification":
        targets = np.array([SPECIES.index(name) for name in raw_targets])
    else:
        targets = raw_targets.to_numpy(dtype=np.float32)
    train_at, val_at, test_at = split_indices(
        targets, task=task, validation_fraction=0.2, test_fraction=0.2, seed=0
    )
    chain = BrushChain.from_config(CHAIN).fit(table.iloc[train_at], targets[train_at])
    features = chain.transform(table, training=False).to_numpy(dtype=np.float32)
    data = TrainingData(
        *(array for at in (train_at, val_at, test_at) for array in (features[at], targets[at])),
        task=task,
        label_names=SPECIES if task == "classification" else [],
        feature_names=[],
    )
    signature = signature_for("tabular", table_columns=schema["columns"], target=target)
    rows = json.loads(json.dumps(table.iloc[test_at].to_dict(orient="records")))
    return data, chain, signature, rows


def files_of(model, chain: BrushChain) -> dict[str, bytes]:
    """The artifacts a succeeded run stores (see SaveArtifacts)."""
    files = {f"model/{name}": data for name, data in model.to_files().items()}
    files["model/brushes.zip"] = chain.deterministic_part.to_bytes()
    return files


def trained(name: str, params: dict, data: TrainingData):
    return train(name, params, data, device="cpu", seed=0, callbacks=Recorder().callbacks)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("logistic_regression", {}),
        ("random_forest", {"n_estimators": 5}),
        ("mlp", {"epochs": 3, "batch_size": 8}),
    ],
)
def test_rows_get_the_probabilities_training_computed(tmp_path, name, params):
    data, chain, signature, rows = prepared(tmp_path, target="species", task="classification")
    model = trained(name, params, data)

    predictor = Predictor.from_files(files_of(model, chain), signature.to_dict())
    answers = predictor.predict(rows)
    arrays = predictor.predict_arrays(decode_inputs(signature, rows))

    expected = model.predict_proba(data.x_test)
    assert [answer["label"] for answer in answers] == [
        SPECIES[code] for code in model.predict(data.x_test)
    ]
    served = np.array([[answer["probabilities"][label] for label in SPECIES] for answer in answers])
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-6)
    assert np.array_equal(arrays.probabilities, expected)
    assert np.array_equal(arrays.codes, model.predict(data.x_test))
    assert all(type(p) is float for answer in answers for p in answer["probabilities"].values())
    assert (predictor.task, predictor.label_names) == ("classification", SPECIES)


def test_a_regression_answers_values_in_the_targets_units(tmp_path):
    data, chain, signature, rows = prepared(tmp_path, target="petal_length", task="regression")
    model = trained("random_forest", {"n_estimators": 5}, data)

    answers = Predictor.from_files(files_of(model, chain), signature).predict(rows)

    assert answers == [{"value": float(value)} for value in model.predict(data.x_test)]
    assert signature.column_names == ["petals", "colour", "is_wild", "species"]


def test_a_model_without_probabilities_answers_labels_only(tmp_path):
    data, chain, signature, rows = prepared(tmp_path, target="species", task="classification")
    model = trained("svm", {"kernel": "linear"}, data)

    answers = Predictor.from_files(files_of(model, chain), signature).predict(rows[:3])

    codes = model.predict(data.x_test[:3])
    assert answers == [{"label": SPECIES[code], "probabilities": None} for code in codes]


def test_an_unseen_category_is_answered_and_bad_rows_are_refused(tmp_path):
    data, chain, signature, rows = prepared(tmp_path, target="species", task="classification")
    predictor = Predictor.from_files(
        files_of(trained("logistic_regression", {}, data), chain), signature
    )
    row = rows[0]

    (answer,) = predictor.predict([{**row, "colour": "purple"}])
    with pytest.raises(InputError) as bad_cell:
        predictor.predict([row, {**row, "petals": "many"}])
    with pytest.raises(InputError) as far_out:
        predictor.predict([row, {**row, "petal_length": 1e300}])

    assert answer["label"] in SPECIES
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-12)
    assert bad_cell.value.errors == [
        FieldError("inputs[1].petals", "not an integer: 'many' (send numbers without quotes)")
    ]
    assert far_out.value.errors == [
        FieldError(
            "inputs[1]",
            "gives values the model cannot take after preprocessing (infinite or NaN); "
            "is it far outside the training data?",
        )
    ]


def test_files_that_cannot_serve_are_refused_with_the_reason(tmp_path):
    data, chain, signature, _rows = prepared(tmp_path, target="species", task="classification")
    files = files_of(trained("logistic_regression", {}, data), chain)
    brushes_file = io.BytesIO()
    with zipfile.ZipFile(brushes_file, "w") as archive:
        archive.writestr("chain.json", "{}")
    image = InputSignature.image(width=8, height=8, channels=1, resizes=True)
    cases = [
        ({k: v for k, v in files.items() if k != "model/brushes.zip"}, signature, "lack model/"),
        ({k: v for k, v in files.items() if k != "model/model.json"}, signature, "lack model.json"),
        ({**files, "model/brushes.zip": brushes_file.getvalue()}, signature, "the brushes cannot"),
        (files, {"modality": "tabular"}, "the stored signature is malformed"),
        (files, image, "the signature is for image inputs, but the model or its brushes take"),
    ]

    for broken_files, broken_signature, message in cases:
        with pytest.raises(ModelLoadError, match=message):
            Predictor.from_files(broken_files, broken_signature)
