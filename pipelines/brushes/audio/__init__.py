"""Audio brushes: lists of 1-D float waveforms in, float32 (N, n_features, n_frames) out."""

from pipelines.brushes.audio.mfcc import AudioMfccBrush
from pipelines.brushes.audio.spectrogram import AudioSpectrogramBrush

__all__ = ["AudioMfccBrush", "AudioSpectrogramBrush"]
