"""The 3-D view of a published version: its dataset's samples as the model sees them.

Reads up to MAX_POINTS samples of the version's dataset version (a seeded subset, the same on
every call), runs them through the version's brushes and model, and projects the features or
the penultimate layer on three principal axes (`pipelines.serving.embedding`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.features import raw_samples
from pipelines.publishing import version_model_files
from pipelines.serving import Predictor
from pipelines.serving.embedding import embed
from registry.errors import InvalidInput
from registry.models import DatasetVersion, ModelVersion

MAX_POINTS = 1500


def version_predictor(version: ModelVersion) -> Predictor:
    return Predictor.from_files(version_model_files(version), version.signature)


def version_embedding(version: ModelVersion, dataset: DatasetVersion, *, space: str) -> dict:
    """{points: [[x, y, z], ...], classes, predictions, label_names, explained, space, n}"""
    target = version.lineage.get("target")
    raw, labels, _names = raw_samples(dataset, target)
    chosen = np.sort(
        np.random.default_rng(0).choice(
            len(labels), size=min(MAX_POINTS, len(labels)), replace=False
        )
    )
    subset = raw.iloc[chosen] if hasattr(raw, "iloc") else [raw[index] for index in chosen]
    try:
        embedding, outputs = embed(version_predictor(version), subset, space=space)
    except ValueError as error:
        raise InvalidInput(str(error), field="space") from None
    label_names = list(version.label_names)
    truth: list[Any] = [None if labels[index] is None else str(labels[index]) for index in chosen]
    if label_names:
        predictions: list[Any] = [label_names[int(code)] for code in outputs]
    else:
        predictions = [round(float(value), 4) for value in outputs]
    return {
        "space": embedding.space,
        "n": len(chosen),
        "n_samples": len(labels),
        "explained": embedding.explained,
        "points": np.round(embedding.points, 4).tolist(),
        "truth": truth,
        "predictions": predictions,
        "label_names": label_names,
        "task": version.model.task,
    }
