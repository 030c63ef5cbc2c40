"""Demo datasets made on the spot, without network: digits as images, iris and wine as tables,
and synthesised sounds of four timbres. Seeded, so every install gets the same bytes (and so
the same dataset versions). Heavy libraries are imported only when a dataset is made, so a
`make run` that finds the demo in place starts fast."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

import numpy as np

AUDIO_SAMPLE_RATE = 16_000
CLIPS_PER_TIMBRE = 80
TIMBRES = ("sine", "square", "sawtooth", "noise")
# A fixed modification time keeps ZIP bytes identical from one run to the next.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), data)
    return buffer.getvalue()


def digits_zip() -> bytes:
    """scikit-learn's 1,797 handwritten digits as 32x32 greyscale PNGs, one folder per digit."""
    from PIL import Image
    from sklearn import datasets as sklearn_datasets

    digits = sklearn_datasets.load_digits()
    members = []
    for index, (image, target) in enumerate(zip(digits.images, digits.target, strict=True)):
        pixels = (image * (255 / 16)).clip(0, 255).astype(np.uint8)
        picture = Image.fromarray(pixels, mode="L").resize((32, 32), Image.Resampling.NEAREST)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", optimize=True)
        members.append((f"digits/{target}/digit-{index:04d}.png", buffer.getvalue()))
    return _zip(members)


def _table_csv(loader: Callable, target_name: str) -> bytes:
    bunch = loader()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = [name.replace(" (cm)", "_cm").replace(" ", "_") for name in bunch.feature_names]
    writer.writerow([*columns, target_name])
    for row, target in zip(bunch.data, bunch.target, strict=True):
        writer.writerow([*(f"{value:g}" for value in row), bunch.target_names[target]])
    return buffer.getvalue().encode()


def iris_csv() -> bytes:
    from sklearn.datasets import load_iris

    return _table_csv(load_iris, "species")


def wine_csv() -> bytes:
    from sklearn.datasets import load_wine

    return _table_csv(load_wine, "cultivar")


def _envelope(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Attack-decay-sustain-release with random proportions."""
    attack, decay, release = (rng.uniform(0.01, 0.15, 3) * n_samples).astype(int) + 1
    sustain_level = rng.uniform(0.4, 0.9)
    sustain = max(n_samples - attack - decay - release, 1)
    shape = np.concatenate(
        [
            np.linspace(0, 1, attack),
            np.linspace(1, sustain_level, decay),
            np.full(sustain, sustain_level),
            np.linspace(sustain_level, 0, release),
        ]
    )
    return (
        shape[:n_samples] if len(shape) >= n_samples else np.pad(shape, (0, n_samples - len(shape)))
    )


def _clip(timbre: str, rng: np.random.Generator) -> np.ndarray:
    duration_s = rng.uniform(0.4, 1.2)
    n_samples = int(duration_s * AUDIO_SAMPLE_RATE)
    time_s = np.arange(n_samples) / AUDIO_SAMPLE_RATE
    frequency = 110.0 * 2 ** rng.uniform(0, 3)  # three octaves above A2
    phase = frequency * time_s
    if timbre == "sine":
        wave = np.sin(2 * np.pi * phase)
    elif timbre == "square":
        wave = np.sign(np.sin(2 * np.pi * phase))
    elif timbre == "sawtooth":
        wave = 2 * (phase - np.floor(phase + 0.5))
    else:  # bursts of noise: short gated grains
        wave = rng.standard_normal(n_samples)
        gate = (np.sin(2 * np.pi * rng.uniform(4, 12) * time_s) > 0).astype(float)
        wave *= gate
    return (0.6 * wave * _envelope(n_samples, rng)).astype(np.float32)


def timbres_zip() -> bytes:
    """320 short FLAC clips: sine, square, sawtooth and noise bursts at random pitches,
    lengths and envelopes, one folder per timbre."""
    import soundfile

    rng = np.random.default_rng(20261127)
    members = []
    for timbre in TIMBRES:
        for index in range(CLIPS_PER_TIMBRE):
            buffer = io.BytesIO()
            soundfile.write(buffer, _clip(timbre, rng), AUDIO_SAMPLE_RATE, format="FLAC")
            members.append((f"timbres/{timbre}/{timbre}-{index:03d}.flac", buffer.getvalue()))
    return _zip(members)


# (name, modality, file name, description, maker)
DEMO_DATASETS: list[tuple[str, str, str, str, Callable[[], bytes]]] = [
    (
        "Digits",
        "image",
        "digits.zip",
        "1,797 hand-drawn digits, 32x32 greyscale, one folder per digit.",
        digits_zip,
    ),
    ("Iris", "tabular", "iris.csv", "Petal and sepal sizes of three iris species.", iris_csv),
    ("Wine", "tabular", "wine.csv", "Chemistry of wines from three cultivars.", wine_csv),
    (
        "Synth timbres",
        "audio",
        "timbres.zip",
        "Sine, square, sawtooth and noise bursts at random pitches.",
        timbres_zip,
    ),
]
