"""Exact values of the audio brushes on synthesised tones (0.5 s clips at 16 kHz)."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from pipelines.brushes import BrushConfigError, get_brush_class

AudioSpectrogramBrush = get_brush_class("audio_spectrogram")
AudioMfccBrush = get_brush_class("audio_mfcc")
SAMPLE_RATE = 16000
HALF_SECOND = {"sample_rate": SAMPLE_RATE, "duration_s": 0.5}


def tone(frequency_hz: float, duration_s: float = 0.5) -> np.ndarray:
    times = np.arange(round(duration_s * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.5 * np.sin(2 * np.pi * frequency_hz * times)).astype(np.float32)


@pytest.mark.parametrize("frequency_hz", [440.0, 2000.0])
def test_a_sine_peaks_in_the_mel_band_that_contains_its_frequency(frequency_hz):
    brush = AudioSpectrogramBrush(**HALF_SECOND, n_mels=40)

    spectrogram = brush.fit_transform([tone(frequency_hz)])

    loudest_band = int(spectrogram[0].mean(axis=1).argmax())
    # Mel band k is a triangle from edge k to edge k + 2 of n_mels + 2 mel-spaced edges.
    edges = librosa.mel_frequencies(n_mels=40 + 2, fmin=0.0, fmax=SAMPLE_RATE / 2)
    assert edges[loudest_band] < frequency_hz < edges[loudest_band + 2]


def test_clips_are_padded_and_cropped_to_the_duration():
    brush = AudioSpectrogramBrush(**HALF_SECOND).fit([tone(440.0)])
    short, long = tone(440.0, 0.3), tone(440.0, 0.8)

    output = brush.transform([short, long])

    assert output.shape == (2, 64, 1 + 8000 // 160) and output.dtype == np.float32
    padded = np.concatenate([short, np.zeros(8000 - short.size, dtype=np.float32)])
    # A batch of two and a batch of one may sum in another order: equal to float32 rounding.
    np.testing.assert_allclose(output[0], brush.transform([padded])[0], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(output[1], brush.transform([long[:8000]])[0], rtol=1e-5, atol=1e-4)


def test_silence_sits_on_the_decibel_floor_and_loud_clips_do_not_lower_it():
    brush = AudioSpectrogramBrush(**HALF_SECOND).fit([tone(440.0)])
    silence = np.zeros(8000, dtype=np.float32)

    alone = brush.transform([silence])
    beside_a_tone = brush.transform([silence, tone(440.0)])

    np.testing.assert_allclose(alone, -100.0, rtol=1e-6)  # power floor 1e-10, dB relative to 1
    np.testing.assert_array_equal(beside_a_tone[0], alone[0])
    assert beside_a_tone[1].max() - beside_a_tone[1].min() == pytest.approx(80.0)


def test_mfcc_has_n_mfcc_rows_computed_from_the_log_mel_bands():
    clips = [tone(440.0), tone(1000.0, 0.4)]
    spectrogram = AudioSpectrogramBrush(**HALF_SECOND).fit_transform(clips)

    mfcc = AudioMfccBrush(**HALF_SECOND, n_mfcc=13).fit_transform(clips)

    assert mfcc.shape == (2, 13, 51) and mfcc.dtype == np.float32
    np.testing.assert_allclose(mfcc, librosa.feature.mfcc(S=spectrogram, n_mfcc=13), rtol=1e-6)


def test_cross_param_rules_are_enforced():
    with pytest.raises(BrushConfigError, match="need fmin < fmax <= sample_rate / 2") as caught:
        AudioSpectrogramBrush(sample_rate=8000, fmax=6000)
    assert caught.value.param == "fmax"
    with pytest.raises(BrushConfigError, match="13 coefficients need at least as many mel bands"):
        AudioMfccBrush(n_mels=8, n_mfcc=13)
