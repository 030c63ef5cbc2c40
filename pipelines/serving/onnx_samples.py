"""Made-up but plausible raw inputs for checking an ONNX export against the Python model.

An export is checked where it is made, from the version's files alone, without reading the
dataset (publishing must stay fast, and the dataset may be gone). So the check inputs are
synthesised in the chain's input format, as `decode_inputs` gives them: table rows whose numbers
sit where the training data sat (learned from the brushes' and the model's own statistics: a
scaler's mean and std, a min-max range, a forest's split thresholds), images of noise with a
few bright strokes, clips of tones in noise. Differences between the two runtimes show on any
input; realistic ones also exercise the decisions (tree splits, argmax) the model makes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.serving.gaps import fillable_columns
from pipelines.serving.signature import InputSignature
from pipelines.training.model import TrainedModel

# (centre, spread) of a column, and what it falls back to when nothing is known.
Spread = tuple[float, float]
UNKNOWN: Spread = (0.0, 1.0)


def raw_samples(
    signature: InputSignature,
    chain: Any,
    model: TrainedModel,
    n_samples: int,
    generator: np.random.Generator,
) -> Any:
    """`n_samples` inputs in the chain's input format for this signature."""
    if signature.modality == "tabular":
        return table_rows(signature, chain, model, n_samples, generator)
    if signature.modality == "image":
        return images(signature, n_samples, generator)
    return clips(signature, n_samples, generator)


def table_rows(
    signature: InputSignature,
    chain: Any,
    model: TrainedModel,
    n_samples: int,
    generator: np.random.Generator,
) -> pd.DataFrame:
    """A DataFrame typed as `decode_inputs` types it (int64, float64, bool, text), with gaps
    where the chain imputes a column before anything else reads it."""
    spreads = {**_model_spreads(model), **_brush_spreads(chain)}
    categories = _categories(chain)
    cells: dict[str, pd.Series] = {}
    for column in signature.columns:
        if column.type in ("integer", "float"):
            centre, spread = spreads.get(column.name, UNKNOWN)
            values = generator.normal(centre, max(spread, 1e-6), n_samples)
            if column.type == "integer":
                cells[column.name] = pd.Series(np.round(values), dtype=np.int64)
            else:
                cells[column.name] = pd.Series(values, dtype=np.float64)
        elif column.type == "boolean":
            cells[column.name] = pd.Series(generator.random(n_samples) < 0.5, dtype=np.bool_)
        else:
            known = categories.get(column.name) or ["a", "b", "c"]
            # One value in eight is new to the model: unseen categories must work too.
            choices = [*known, "never seen before"]
            weights = np.array([7.0 / len(known)] * len(known) + [1.0]) / 8.0
            cells[column.name] = pd.Series(generator.choice(choices, n_samples, p=weights))
    # Drawn after the values, so that a chain without imputation gets the same rows as before.
    for name in fillable_columns(chain):
        if name in cells:
            cells[name] = _with_gaps(cells[name], generator)
    return pd.DataFrame(cells)


def _with_gaps(series: pd.Series, generator: np.random.Generator) -> pd.Series:
    """About one value in eight missing, typed as a table read with gaps holds them (numbers
    as float64 NaN, booleans and text as None in an object column)."""
    missing = generator.random(len(series)) < 1 / 8
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(np.float64).mask(missing)
    return series.astype(object).mask(missing, None)


def _brush_spreads(chain: Any) -> dict[str, Spread]:
    """Column statistics of the brushes that saw the raw column first (a later brush sees
    scaled values, which say nothing about the raw ones)."""
    spreads: dict[str, Spread] = {}
    seen: set[str] = set()
    for brush in chain:
        columns = list(getattr(brush, "columns_", []))
        found: dict[str, Spread] = {}
        if brush.name == "standard_scaler":
            for index, column in enumerate(columns):
                found[column] = (float(brush.mean_[index]), float(brush.scale_[index]))
        elif brush.name == "min_max_scaler":
            for index, column in enumerate(columns):
                low, high = float(brush.data_min_[index]), float(brush.data_max_[index])
                found[column] = ((low + high) / 2, max((high - low) / 2, 1e-3))
        elif brush.name == "impute":
            for column, value in brush.fill_values_.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    found[column] = (float(value), abs(float(value)) / 4 + 1.0)
        for column in columns:
            if column not in seen and column in found:
                spreads[column] = found[column]
        seen |= set(columns)
    return spreads


def _categories(chain: Any) -> dict[str, list[str]]:
    known: dict[str, list[str]] = {}
    for brush in chain:
        for column, values in getattr(brush, "categories_", {}).items():
            known.setdefault(column, list(values))
    return known


def _model_spreads(model: TrainedModel) -> dict[str, Spread]:
    """Statistics of the model's input features, by feature name (a column the brushes leave
    alone keeps its name and its values)."""
    names = list(model.feature_names)
    by_index: dict[int, Spread] = {}
    if model.network is not None:
        scaling = getattr(model.network, "input_scaling", None)
        if scaling is not None and scaling.mean.ndim == 1:
            mean = scaling.mean.detach().cpu().numpy()
            std = 1.0 / scaling.inverse_std.detach().cpu().numpy()
            by_index = {
                index: (float(mean[index]), float(std[index])) for index in range(len(mean))
            }
    else:
        by_index = _estimator_spreads(model.estimator)
    return {names[index]: spread for index, spread in by_index.items() if index < len(names)}


def _estimator_spreads(estimator: Any) -> dict[int, Spread]:
    steps = [step for _name, step in getattr(estimator, "steps", [])] or [estimator]
    first = steps[0]
    if hasattr(first, "mean_") and hasattr(first, "scale_"):
        return {
            index: (float(mean), float(scale))
            for index, (mean, scale) in enumerate(zip(first.mean_, first.scale_, strict=True))
        }
    thresholds: dict[int, list[float]] = {}
    for tree in getattr(first, "estimators_", []):
        for fitted in np.ravel(tree):
            structure = getattr(fitted, "tree_", None)
            if structure is None:
                continue
            for feature, threshold in zip(structure.feature, structure.threshold, strict=True):
                if feature >= 0:
                    thresholds.setdefault(int(feature), []).append(float(threshold))
    mapper = getattr(first, "_bin_mapper", None)
    for feature, bins in enumerate(getattr(mapper, "bin_thresholds_", [])):
        if len(bins):
            thresholds.setdefault(feature, []).extend(float(value) for value in bins)
    spreads = {}
    for feature, values in thresholds.items():
        low, high = min(values), max(values)
        spreads[feature] = ((low + high) / 2, max((high - low) / 2, abs(high) * 0.1, 1e-3))
    return spreads


def images(
    signature: InputSignature, n_samples: int, generator: np.random.Generator
) -> list[np.ndarray]:
    """uint8 H x W x C pictures: dark noise and a few bright strokes. With a resizing chain
    they come in several sizes, grey and colour (the decoder's two layouts); otherwise at the
    model's size and channels, the only ones a request may send."""
    pictures = []
    for index in range(n_samples):
        height, width = signature.height, signature.width
        channels = signature.channels
        if signature.resizes:
            height = max(1, round(height * generator.uniform(0.5, 1.6)))
            width = max(1, round(width * generator.uniform(0.5, 1.6)))
            channels = 1 if index % 2 else 3
        picture = generator.integers(0, 60, (height, width, channels)).astype(np.float64)
        for _stroke in range(int(generator.integers(1, 4))):
            rows = np.linspace(*generator.uniform(0, height - 1, 2), num=4 * max(height, width))
            columns = np.linspace(*generator.uniform(0, width - 1, 2), num=4 * max(height, width))
            thickness = max(1, min(height, width) // 10)
            colour = generator.integers(150, 256, channels)
            for row, column in zip(rows.astype(int), columns.astype(int), strict=True):
                picture[row : row + thickness, column : column + thickness] = colour
        pictures.append(picture.clip(0, 255).astype(np.uint8))
    return pictures


def clips(
    signature: InputSignature, n_samples: int, generator: np.random.Generator
) -> list[np.ndarray]:
    """Mono float32 clips at the signature's rate: one to three tones in soft noise."""
    duration_s = signature.duration_s or 1.0
    n_frames = max(1, round(duration_s * signature.sample_rate))
    times = np.arange(n_frames) / signature.sample_rate
    waves = []
    for _index in range(n_samples):
        wave = generator.normal(0.0, 0.01, n_frames)
        for _tone in range(int(generator.integers(1, 4))):
            frequency = generator.uniform(80.0, signature.sample_rate / 4)
            wave += generator.uniform(0.05, 0.3) * np.sin(2 * np.pi * frequency * times)
        waves.append(wave.astype(np.float32))
    return waves
