"""Small PNG pictures of dataset samples for the preview pages.

A spectrogram is how a sound designer skims a folder of clips: a log-mel picture shows silence,
hits and pitch at a glance. The colour map is a few hand-picked anchors of the "inferno" family
interpolated with NumPy, so previews need no plotting library.
"""

from __future__ import annotations

import io

import librosa
import numpy as np
import soundfile
from PIL import Image, UnidentifiedImageError

from registry.ingest.audio import decode_mono
from registry.ingest.errors import IngestRejected
from registry.ingest.images import ACCEPTED_FORMATS, DECODE_ERRORS
from registry.ingest.limits import DEFAULT_LIMITS

# Dark (quiet) to bright (loud): black, deep purple, crimson, orange, pale yellow.
_COLOUR_ANCHORS = np.array(
    [
        [0, 0, 4],
        [40, 11, 84],
        [101, 21, 110],
        [159, 42, 99],
        [212, 72, 66],
        [245, 125, 21],
        [250, 193, 39],
        [252, 255, 164],
    ],
    dtype=np.float64,
)
_DYNAMIC_RANGE_DB = 80.0
_SILENCE_POWER = 1e-10
_N_FFT = 1024


def spectrogram_png(audio_bytes: bytes, *, width: int = 160, height: int = 64) -> bytes:
    """A width x height log-mel spectrogram of a clip, low pitches at the bottom, as PNG bytes."""
    try:
        samples, sample_rate = decode_mono(audio_bytes)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise IngestRejected("the clip could not be decoded") from error
    n_fft = _N_FFT
    if samples.size < n_fft:
        samples = np.pad(samples, (0, n_fft - samples.size))
    hop_length = max(1, samples.size // width)
    power = librosa.feature.melspectrogram(
        y=samples, sr=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=height
    )
    if power.max() <= _SILENCE_POWER:
        levels = np.zeros_like(power)  # silence is dark, not "as loud as its own maximum"
    else:
        decibels = librosa.power_to_db(power, ref=np.max, top_db=_DYNAMIC_RANGE_DB)
        levels = 1.0 + decibels / _DYNAMIC_RANGE_DB
    picture = Image.fromarray(colourise(levels[::-1]))
    return _png_bytes(picture.resize((width, height), Image.Resampling.BILINEAR))


def colourise(levels: np.ndarray) -> np.ndarray:
    """Levels in [0, 1] to RGB uint8 through the anchor colours."""
    positions = np.linspace(0.0, 1.0, len(_COLOUR_ANCHORS))
    clipped = np.clip(levels, 0.0, 1.0)
    channels = [np.interp(clipped, positions, _COLOUR_ANCHORS[:, index]) for index in range(3)]
    return np.rint(np.stack(channels, axis=-1)).astype(np.uint8)


def thumbnail_png(image_bytes: bytes, *, size: int = 96) -> bytes:
    """The image shrunk to fit a size x size box, aspect kept, as PNG bytes (alpha kept).

    Raises IngestRejected for bytes that are not a decodable image or exceed the pixel limit.
    """
    try:
        image = Image.open(io.BytesIO(image_bytes), formats=ACCEPTED_FORMATS)
    except (UnidentifiedImageError, Image.DecompressionBombError, *DECODE_ERRORS) as error:
        raise IngestRejected("the image could not be decoded") from error
    with image:
        width, height = image.size
        if width * height > DEFAULT_LIMITS.max_image_pixels:
            raise IngestRejected(f"the image is {width}x{height} pixels, too large to preview")
        image.draft("RGB", (size, size))  # JPEG decodes straight at a fraction of its size
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        try:
            thumbnail = image.convert("RGBA" if has_alpha else "RGB")
        except DECODE_ERRORS as error:
            raise IngestRejected("the image could not be decoded") from error
    thumbnail.thumbnail((size, size), Image.Resampling.LANCZOS)
    return _png_bytes(thumbnail)


def _png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
