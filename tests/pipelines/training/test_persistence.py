"""Model files: what they hold, and the payloads from_files refuses (no pickle, no strangers)."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import skops.io
import torch
from sklearn.preprocessing import FunctionTransformer

from pipelines.training.errors import ModelFileError
from pipelines.training.trainer import TrainedModel, train
from tests.pipelines.training.samples import Recorder, tiny_data


class Payload:
    """A class a pickle-based weights file could smuggle in."""


@pytest.fixture(scope="module")
def torch_files() -> dict[str, bytes]:
    model = train(
        "mlp",
        {"epochs": 1},
        tiny_data("tabular", "classification"),
        device="cpu",
        seed=0,
        callbacks=Recorder().callbacks,
    )
    return model.to_files()


@pytest.fixture(scope="module")
def forest() -> TrainedModel:
    return train(
        "random_forest",
        {"n_estimators": 3},
        tiny_data("tabular", "regression"),
        device="cpu",
        seed=0,
        callbacks=Recorder().callbacks,
    )


def test_torch_files_are_json_and_a_weights_only_state_dict(torch_files):
    description = json.loads(torch_files["model.json"])
    state = torch.load(io.BytesIO(torch_files["weights.pt"]), weights_only=True)

    assert set(torch_files) == {"model.json", "weights.pt"}
    assert description["template_name"] == "mlp" and description["input_shape"] == [4]
    assert description["label_names"] == ["circle", "square", "triangle"]
    assert {"input_scaling.mean", "input_scaling.inverse_std", "head.weight"} <= set(state)


def test_scikit_learn_files_keep_the_target_scaling(forest):
    files = forest.to_files()
    loaded = TrainedModel.from_files(files)

    assert set(files) == {"model.json", "model.skops"}
    assert loaded.target_mean == forest.target_mean and loaded.target_std == forest.target_std
    x = np.zeros((2, 4), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x), forest.predict(x))


def test_pickled_weights_are_refused(torch_files):
    buffer = io.BytesIO()
    torch.save({"head.weight": Payload()}, buffer)

    with pytest.raises(ModelFileError, match=r"weights\.pt cannot be loaded"):
        TrainedModel.from_files({**torch_files, "weights.pt": buffer.getvalue()})


def test_a_pickled_estimator_is_refused(forest):
    files = {**forest.to_files(), "model.skops": pickle.dumps(forest.estimator)}

    with pytest.raises(ModelFileError, match="not a skops file"):
        TrainedModel.from_files(files)


def test_another_templates_estimator_is_refused(forest):
    svm = train(
        "svm",
        {},
        tiny_data("tabular", "regression"),
        device="cpu",
        seed=0,
        callbacks=Recorder().callbacks,
    )
    files = {**forest.to_files(), "model.skops": svm.to_files()["model.skops"]}

    with pytest.raises(ModelFileError, match="not on the allow-list") as caught:
        TrainedModel.from_files(files)

    assert "sklearn.svm._classes.SVR" in str(caught.value)


def test_a_skops_file_naming_a_function_is_refused(forest):
    smuggled = skops.io.dumps(FunctionTransformer(func=np.exp))
    files = {**forest.to_files(), "model.skops": smuggled}

    with pytest.raises(ModelFileError, match="FunctionTransformer") as caught:
        TrainedModel.from_files(files)

    assert "FunctionNode" in str(caught.value) or "numpy.exp" in str(caught.value)


def test_a_tampered_schema_is_refused_before_skops_reads_it(forest):
    original = forest.to_files()["model.skops"]
    source, target = io.BytesIO(original), io.BytesIO()
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as tampered:
        for item in archive.infolist():
            data = archive.read(item)
            if item.filename == "schema.json":
                data = data.replace(b'"builtins"', b'"os"', 1)
            tampered.writestr(item, data)

    with pytest.raises(ModelFileError, match=r"os\."):
        TrainedModel.from_files({**forest.to_files(), "model.skops": target.getvalue()})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda files: {"weights.pt": files["weights.pt"]}, "lack model.json"),
        (lambda files: {**files, "model.json": b"{"}, "not JSON"),
        (lambda files: {**files, "extra.bin": b""}, "is the files"),
        (
            lambda files: {
                **files,
                "model.json": files["model.json"].replace(
                    b'"format_version": 1', b'"format_version": 99'
                ),
            },
            "format version 99",
        ),
        (
            lambda files: {
                **files,
                "model.json": files["model.json"].replace(b'"epochs": 1', b'"epochs": -1'),
            },
            "invalid epochs",
        ),
    ],
)
def test_malformed_files_are_refused_with_a_reason(torch_files, change, message):
    with pytest.raises(ModelFileError, match=message):
        TrainedModel.from_files(change(torch_files))


def test_a_description_of_the_wrong_shape_is_refused(torch_files):
    description = json.loads(torch_files["model.json"])

    for key, value, message in [
        ("input_shape", ["four"], "input_shape/0"),
        ("target_std", 0.0, "target_std"),
        ("template_name", "transformer", "unknown template 'transformer'"),
    ]:
        changed = json.dumps({**description, key: value}).encode()
        with pytest.raises(ModelFileError, match=message):
            TrainedModel.from_files({**torch_files, "model.json": changed})
