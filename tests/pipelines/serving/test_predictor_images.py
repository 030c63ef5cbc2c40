"""An image model served from its files answers base64 images exactly as training scored the
same files: read from a dataset archive, through the fitted brushes, into the model."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipelines.brushes import BrushChain
from pipelines.serving import InputSignature, ModelLoadError, Predictor, signature_for
from pipelines.training.data import TrainingData, split_indices
from pipelines.training.trainer import train
from registry.ingest.readers import read_images
from tests.pipelines.training.samples import LABEL_NAMES, Recorder

RESIZED = [
    {"name": "image_resize", "params": {"height": 8, "width": 8, "channels": 1}},
    {"name": "image_normalize"},
]


def picture_files(n_images: int, *, same_size: bool) -> tuple[list[bytes], np.ndarray]:
    """PNGs whose class is which third of the picture is bright; grey and colour, two sizes
    unless `same_size`."""
    generator = np.random.default_rng(11)
    files, codes = [], np.arange(n_images) % 3
    for index, code in enumerate(codes):
        height, width = (10, 12) if same_size or index % 2 else (14, 9)
        pixels = generator.integers(0, 80, (height, width, 3), dtype=np.uint8)
        band = height // 3
        pixels[code * band : (code + 1) * band] += 150
        image = Image.fromarray(pixels)
        image = image.convert("L") if same_size or index % 4 < 2 else image
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        files.append(buffer.getvalue())
    return files, codes


def read_like_training(tmp_path: Path, files: list[bytes]) -> list[np.ndarray]:
    path = tmp_path / "pictures.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index, data in enumerate(files):
            archive.writestr(f"picture_{index}.png", data)
    manifest = [
        {"path": f"picture_{index}.png", "label": None, "size_bytes": len(data)}
        for index, data in enumerate(files)
    ]
    return read_images(path, manifest)[0]


def served_and_expected(tmp_path: Path, template: str, params: dict, chain_config: list):
    """(the predictor's answers and arrays for the test files, the model's own probabilities and
    codes for the same files read as training reads them)."""
    files, codes = picture_files(30, same_size=not chain_config)
    raw = read_like_training(tmp_path, files)
    train_at, val_at, test_at = split_indices(
        codes, task="classification", validation_fraction=0.2, test_fraction=0.2, seed=0
    )
    chain = BrushChain.from_config(chain_config).fit([raw[i] for i in train_at], codes[train_at])
    features = np.asarray(chain.transform(raw, training=False), dtype=np.float32)
    data = TrainingData(
        *(array for at in (train_at, val_at, test_at) for array in (features[at], codes[at])),
        task="classification",
        label_names=LABEL_NAMES,
        feature_names=[],
    )
    model = train(template, params, data, device="cpu", seed=0, callbacks=Recorder().callbacks)
    model_files = {f"model/{name}": data for name, data in model.to_files().items()}
    signature = signature_for(
        "image",
        image_sizes=[(image.shape[1], image.shape[0]) for image in raw],
        image_modes=["L" if image.shape[2] == 1 else "RGB" for image in raw],
        chain_configs=chain_config,
    )
    predictor = Predictor.from_files(
        {**model_files, "model/brushes.zip": chain.deterministic_part.to_bytes()},
        signature.to_dict(),
    )
    requests = [base64.b64encode(files[index]).decode() for index in test_at]
    served = predictor.predict(requests), predictor.predict_arrays([raw[i] for i in test_at])
    return served, (model.predict_proba(data.x_test), model.predict(data.x_test)), signature


@pytest.mark.parametrize(
    ("template", "params", "chain_config"),
    [
        ("cnn", {"epochs": 2, "batch_size": 8, "channels": [4]}, RESIZED),
        ("mlp", {"epochs": 2, "batch_size": 8}, RESIZED),
        ("mlp", {"epochs": 2, "batch_size": 8}, []),
    ],
    ids=["cnn-resized", "mlp-resized", "mlp-raw-pixels"],
)
def test_images_get_the_probabilities_training_computed(tmp_path, template, params, chain_config):
    (answers, arrays), (probabilities, codes), signature = served_and_expected(
        tmp_path, template, params, chain_config
    )

    served = np.array([[answer["probabilities"][n] for n in LABEL_NAMES] for answer in answers])
    np.testing.assert_allclose(served, probabilities, rtol=0, atol=1e-6)
    assert [answer["label"] for answer in answers] == [LABEL_NAMES[code] for code in codes]
    assert np.array_equal(arrays.probabilities, probabilities)
    assert signature.resizes == bool(chain_config)


def test_a_signature_that_contradicts_the_brushes_or_the_model_is_refused(tmp_path):
    files, codes = picture_files(12, same_size=True)
    raw = read_like_training(tmp_path, files)
    resized = BrushChain.from_config(RESIZED).fit(raw)
    features = resized.transform(raw)
    data = TrainingData(
        features[:8], codes[:8], features[8:10], codes[8:10], features[10:], codes[10:],
        task="classification", label_names=LABEL_NAMES, feature_names=[],
    )  # fmt: skip
    model = train("mlp", {"epochs": 1}, data, device="cpu", seed=0, callbacks=Recorder().callbacks)
    files = {f"model/{name}": data for name, data in model.to_files().items()}
    files["model/brushes.zip"] = resized.to_bytes()
    cases = [
        (InputSignature.image(width=8, height=8, channels=1, resizes=False), "resizes does not"),
        (InputSignature.image(width=8, height=8, channels=3, resizes=True), r"\(8, 8, 3\); the "),
        (InputSignature.audio(sample_rate=8000, duration_s=1.0), "the model or its brushes take"),
    ]

    for signature, message in cases:
        with pytest.raises(ModelLoadError, match=message):
            Predictor.from_files(files, signature)
