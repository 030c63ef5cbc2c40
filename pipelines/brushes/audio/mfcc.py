"""audio_mfcc: waveforms into fixed-size mel-frequency cepstral coefficients (librosa)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.brushes.audio.spectrogram import SPECTROGRAM_PROPERTIES, AudioSpectrogramBrush
from pipelines.brushes.errors import BrushConfigError
from pipelines.brushes.params import object_schema
from pipelines.brushes.registry import register


@register
class AudioMfccBrush(AudioSpectrogramBrush):
    """The log-mel bands of `audio_spectrogram`, compressed by a DCT into `n_mfcc` coefficients.

    Output: float32 (N, n_mfcc, n_frames), from ``librosa.feature.mfcc`` (DCT-II, orthonormal) on
    the same log-mel bands, so both brushes agree on framing and padding.
    """

    name = "audio_mfcc"
    description = "Turns waveforms into fixed-size MFCC features (N, n_mfcc, n_frames)."
    config_schema = object_schema(
        {
            **SPECTROGRAM_PROPERTIES,
            "n_mfcc": {
                "type": "integer",
                "minimum": 1,
                "maximum": 512,
                "default": 20,
                "description": "Number of coefficients kept (at most n_mels).",
            },
        }
    )

    n_mfcc: int

    def _check_params(self) -> None:
        super()._check_params()
        if self.n_mfcc > self.n_mels:
            raise BrushConfigError(
                f"{self.name}: invalid param 'n_mfcc': {self.n_mfcc} coefficients need at least "
                f"as many mel bands (n_mels is {self.n_mels})",
                brush_name=self.name,
                param="n_mfcc",
            )

    def _transform(self, data: list[np.ndarray]) -> np.ndarray:
        import librosa  # imported here for the same reason as in audio_spectrogram

        log_mel = super()._transform(data)
        return librosa.feature.mfcc(S=log_mel, n_mfcc=self.n_mfcc).astype(np.float32, copy=False)

    def _fit(self, data: list[np.ndarray], y: Any) -> None:
        """Nothing to learn: the features are a fixed function of the waveform."""
