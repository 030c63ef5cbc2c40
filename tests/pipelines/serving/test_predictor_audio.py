"""An audio model served from its files answers base64 clips exactly as training scored the same
clips: read and resampled from a dataset archive, through the spectrogram, into the model."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import numpy as np
import soundfile

from pipelines.brushes import BrushChain
from pipelines.serving import Predictor, signature_for
from pipelines.training.data import TrainingData, split_indices
from pipelines.training.trainer import train
from registry.ingest.readers import read_audio
from tests.pipelines.training.samples import LABEL_NAMES, Recorder

DATASET_RATE = 16000
SPECTROGRAM = [
    {
        "name": "audio_spectrogram",
        "params": {
            "sample_rate": DATASET_RATE,
            "duration_s": 0.25,
            "n_fft": 256,
            "hop_length": 128,
            "n_mels": 16,
        },
    }
]


def tone_files(n_clips: int) -> tuple[list[bytes], np.ndarray]:
    """Clips whose class is their pitch, at two rates (one resampled to the dataset's rate),
    some stereo, of slightly different lengths."""
    generator = np.random.default_rng(5)
    files, codes = [], np.arange(n_clips) % 3
    for index, code in enumerate(codes):
        rate = 8000 if index % 2 else DATASET_RATE
        times = np.arange(round((0.2 + 0.01 * (index % 5)) * rate)) / rate
        wave = np.sin(2 * np.pi * [300, 900, 2000][code] * times)
        wave = wave + generator.normal(0, 0.05, times.size)
        samples = np.stack([wave, 0.5 * wave], axis=1) if index % 3 == 0 else wave
        buffer = io.BytesIO()
        soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
        files.append(buffer.getvalue())
    return files, codes


def read_like_training(tmp_path: Path, files: list[bytes]) -> list[np.ndarray]:
    path = tmp_path / "tones.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index, data in enumerate(files):
            archive.writestr(f"tone_{index}.wav", data)
    manifest = [
        {"path": f"tone_{index}.wav", "label": None, "size_bytes": len(data)}
        for index, data in enumerate(files)
    ]
    return read_audio(path, manifest, sample_rate=DATASET_RATE)[0]


def test_clips_get_the_probabilities_training_computed(tmp_path):
    files, codes = tone_files(24)
    raw = read_like_training(tmp_path, files)
    train_at, val_at, test_at = split_indices(
        codes, task="classification", validation_fraction=0.25, test_fraction=0.25, seed=0
    )
    chain = BrushChain.from_config(SPECTROGRAM).fit([raw[i] for i in train_at])
    features = chain.transform(raw, training=False)
    data = TrainingData(
        *(array for at in (train_at, val_at, test_at) for array in (features[at], codes[at])),
        task="classification",
        label_names=LABEL_NAMES,
        feature_names=[],
    )
    model = train("mlp", {"epochs": 2}, data, device="cpu", seed=0, callbacks=Recorder().callbacks)
    signature = signature_for(
        "audio", sample_rate=DATASET_RATE, durations_s=[0.24], chain_configs=SPECTROGRAM
    )
    model_files = {f"model/{name}": data for name, data in model.to_files().items()}
    predictor = Predictor.from_files(
        {**model_files, "model/brushes.zip": chain.deterministic_part.to_bytes()}, signature
    )

    answers = predictor.predict([base64.b64encode(files[index]).decode() for index in test_at])

    expected = model.predict_proba(data.x_test)
    served = np.array([[answer["probabilities"][n] for n in LABEL_NAMES] for answer in answers])
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-6)
    assert [answer["label"] for answer in answers] == [
        LABEL_NAMES[code] for code in model.predict(data.x_test)
    ]
    assert signature.describe() == (
        "mono audio (WAV, FLAC or OGG), resampled to 16,000 Hz, about 0.25 s"
    )
