"""What audio brushes share: checking waveforms and bringing them to one length."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.brushes.base import PreprocessingBrush
from pipelines.brushes.errors import BrushInputError


class AudioBrush(PreprocessingBrush):
    """A brush over mono waveforms: a list (or object array, or 2-D float array) of 1-D floats."""

    modality = "audio"

    def _check_input(self, X: Any) -> list[np.ndarray]:
        if isinstance(X, np.ndarray) and X.dtype != object:
            if X.ndim != 2:
                raise BrushInputError(
                    f"{self.name} expects a list of 1-D waveforms or an (N, n_samples) array, got "
                    f"an array of shape {X.shape}; wrap a single waveform in a list"
                )
            waveforms = list(X)
        elif isinstance(X, list | tuple) or (isinstance(X, np.ndarray) and X.ndim == 1):
            waveforms = list(X)
        else:
            raise BrushInputError(
                f"{self.name} expects a list of 1-D float waveforms, got {type(X).__name__}"
            )
        if not waveforms:
            raise BrushInputError(f"{self.name} got no waveforms")
        return [self._check_waveform(index, wave) for index, wave in enumerate(waveforms)]

    def _check_waveform(self, index: int, waveform: Any) -> np.ndarray:
        where = f"{self.name}: waveform {index}"
        if not isinstance(waveform, np.ndarray):
            raise BrushInputError(f"{where} is a {type(waveform).__name__}, not a NumPy array")
        if waveform.ndim != 1 or waveform.size == 0:
            raise BrushInputError(
                f"{where} has shape {waveform.shape}; expected a non-empty 1-D mono signal"
            )
        if not np.issubdtype(waveform.dtype, np.floating):
            raise BrushInputError(f"{where} has dtype {waveform.dtype}; expected float samples")
        if not np.isfinite(waveform).all():
            raise BrushInputError(f"{where} holds NaN or infinite samples")
        return waveform.astype(np.float32, copy=False)


def fixed_length_batch(waveforms: list[np.ndarray], n_samples: int) -> np.ndarray:
    """Stacks waveforms into (N, n_samples) float32, cropping the end or padding it with silence."""
    batch = np.zeros((len(waveforms), n_samples), dtype=np.float32)
    for index, waveform in enumerate(waveforms):
        kept = waveform[:n_samples]
        batch[index, : kept.size] = kept
    return batch
