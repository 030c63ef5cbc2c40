"""3-D views of what a model sees: a sample's features (the brushes' output) or the network's
penultimate layer, projected on their first three principal components.

Plain NumPy and torch; the page that shows it (`gallery.embedding_views`) reads the samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SPACES = ("features", "penultimate")


@dataclass(frozen=True)
class Embedding:
    points: np.ndarray  # (n, 3) float32, centred and scaled into [-1, 1]
    explained: list[float]  # variance share of each of the three axes
    space: str


def principal_components(vectors: np.ndarray, n_components: int = 3) -> tuple[np.ndarray, list]:
    """The rows of `vectors` projected on their first principal axes (via SVD), scaled so the
    farthest point sits at distance 1; and each axis's share of the variance."""
    flat = np.asarray(vectors, dtype=np.float64).reshape(len(vectors), -1)
    centred = flat - flat.mean(axis=0)
    _u, singular, axes = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ axes[:n_components].T
    if projected.shape[1] < n_components:  # fewer dimensions than axes asked for
        padding = np.zeros((len(projected), n_components - projected.shape[1]))
        projected = np.hstack([projected, padding])
    radius = np.abs(projected).max() or 1.0
    variance = singular**2
    shares = (variance[:n_components] / variance.sum()).tolist() if variance.sum() else []
    return (projected / radius).astype(np.float32), [round(float(s), 4) for s in shares]


def penultimate(predictor: Any, features: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """The input of a torch network's `head` layer for each row of `features` (what the last
    layer separates classes with). ValueError for models without one (scikit-learn)."""
    import torch

    network = getattr(predictor.model, "network", None)
    head = getattr(network, "head", None) if network is not None else None
    if head is None:
        raise ValueError("only neural networks have a penultimate layer; use features")
    captured: list[np.ndarray] = []
    hook = head.register_forward_hook(
        lambda _module, inputs, _output: captured.append(inputs[0].detach().cpu().numpy())
    )
    try:
        network.eval()
        with torch.inference_mode():
            for start in range(0, len(features), batch_size):
                network(torch.from_numpy(features[start : start + batch_size]))
    finally:
        hook.remove()
    return np.concatenate(captured)


def embed(predictor: Any, raw_batch: Any, *, space: str) -> tuple[Embedding, np.ndarray]:
    """(the 3-D embedding of the samples, the model's predicted class codes or values)."""
    if space not in SPACES:
        raise ValueError(f"space is one of {', '.join(SPACES)}")
    features = predictor.features(raw_batch)
    vectors = penultimate(predictor, features) if space == "penultimate" else features
    points, explained = principal_components(vectors)
    predictions = predictor.predict_arrays(raw_batch)
    outputs = predictions.codes if predictions.codes is not None else predictions.values
    return Embedding(points=points, explained=explained, space=space), np.asarray(outputs)
