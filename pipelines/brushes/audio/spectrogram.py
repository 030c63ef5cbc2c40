"""audio_spectrogram: waveforms into fixed-size log-mel spectrograms (librosa)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.brushes.audio.base import AudioBrush, fixed_length_batch
from pipelines.brushes.errors import BrushConfigError
from pipelines.brushes.params import object_schema
from pipelines.brushes.registry import register


def _integer(default: int, minimum: int, maximum: int, description: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": minimum,
        "maximum": maximum,
        "default": default,
        "description": description,
    }


SPECTROGRAM_PROPERTIES: dict[str, dict[str, Any]] = {
    "sample_rate": _integer(16000, 1000, 192000, "Sample rate of the input waveforms, in Hz."),
    "duration_s": {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 600,
        "default": 1.0,
        "description": "Clips are padded with silence or cropped to this length, in seconds.",
    },
    "n_fft": _integer(512, 16, 16384, "FFT window length, in samples."),
    "hop_length": _integer(160, 1, 16384, "Samples between frames (160 at 16 kHz = 10 ms)."),
    "n_mels": _integer(64, 1, 512, "Number of mel bands."),
    "fmin": {
        "type": "number",
        "minimum": 0,
        "default": 0.0,
        "description": "Lowest frequency, Hz.",
    },
    "fmax": {
        "type": ["number", "null"],
        "exclusiveMinimum": 0,
        "default": None,
        "description": "Highest frequency in Hz; null means half the sample rate.",
    },
    "top_db": {
        "type": ["number", "null"],
        "exclusiveMinimum": 0,
        "default": 80.0,
        "description": "Floor of each clip at this many dB below its loudest bin; null: no floor.",
    },
}


@register
class AudioSpectrogramBrush(AudioBrush):
    """Pads or crops each clip to `duration_s`, then computes a log-mel power spectrogram.

    Output: float32 (N, n_mels, n_frames), in dB relative to a power of 1 (librosa
    ``melspectrogram`` then ``power_to_db``), with ``n_frames = 1 + n_samples // hop_length``
    (centred frames). The `top_db` floor is applied clip by clip so that a clip's features never
    depend on the other clips of its batch. Nothing is learned in fit.
    """

    name = "audio_spectrogram"
    description = "Turns waveforms into fixed-size log-mel spectrograms (N, n_mels, n_frames)."
    config_schema = object_schema(SPECTROGRAM_PROPERTIES)

    sample_rate: int
    duration_s: float
    n_fft: int
    hop_length: int
    n_mels: int
    fmin: float
    fmax: float | None
    top_db: float | None

    def _check_params(self) -> None:
        nyquist = self.sample_rate / 2
        fmax = nyquist if self.fmax is None else self.fmax
        if fmax > nyquist or self.fmin >= fmax:
            raise BrushConfigError(
                f"{self.name}: invalid param 'fmax': need fmin < fmax <= sample_rate / 2 "
                f"({self.fmin} < {fmax} <= {nyquist})",
                brush_name=self.name,
                param="fmax",
            )

    @property
    def n_samples(self) -> int:
        """Length every clip is brought to, in samples."""
        return round(self.duration_s * self.sample_rate)

    @property
    def n_frames(self) -> int:
        """Number of time frames of every output."""
        return 1 + self.n_samples // self.hop_length

    def _fit(self, data: list[np.ndarray], y: Any) -> None:
        """Nothing to learn: the features are a fixed function of the waveform."""

    def _transform(self, data: list[np.ndarray]) -> np.ndarray:
        return self._log_mel(fixed_length_batch(data, self.n_samples))

    def _log_mel(self, batch: np.ndarray) -> np.ndarray:
        import librosa  # imported here: importing it costs ~1 s and numba, which pages never need

        power = librosa.feature.melspectrogram(
            y=batch,
            sr=self.sample_rate,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            power=2.0,
        )
        decibels = [librosa.power_to_db(clip, ref=1.0, top_db=self.top_db) for clip in power]
        return np.stack(decibels).astype(np.float32, copy=False)
