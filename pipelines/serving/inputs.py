"""Turning a request's raw inputs into the brush chain's input, checking every item first.

The output is exactly what training handed the chain (see `pipelines.features.raw_samples`):
a DataFrame of the signature's columns for tables, a list of H x W x C uint8 arrays for images,
a list of mono float32 waveforms at the signature's rate for audio. Every item is checked and
every problem is reported as a field error, so nothing malformed reaches a brush or a model.
Limits are checked before the costly step they guard (size before base64 decoding, pixel count
before decoding pixels, duration before decoding samples).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import struct
import zlib
from collections.abc import Collection
from typing import Any

import numpy as np
import soundfile
from PIL import Image, UnidentifiedImageError

from pipelines.serving.errors import FieldErrors, check_batch, quote
from pipelines.serving.signature import (
    AUDIO_FORMATS_TEXT,
    IMAGE_FORMATS_TEXT,
    InputSignature,
    size_text,
)
from pipelines.serving.table_inputs import (
    MAX_BATCH,
    category_lookups,
    decode_rows,
    decode_table_matrix,
    is_matrix_table,
    is_numeric_table,
)
from registry.ingest.audio import ACCEPTED_FORMATS as AUDIO_FORMATS

# The table decoders live in `table_inputs`; their names stay importable from here.
__all__ = [
    "MAX_BATCH",
    "category_lookups",
    "decode_inputs",
    "decode_table_matrix",
    "is_matrix_table",
    "is_numeric_table",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
# Per image the ingest limit (a model never saw a larger one); per request a budget, so that 256
# large images cannot take gigabytes once image_resize turns them into float32.
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_BATCH_PIXELS = 64 * 1024 * 1024
# A clip may be this many times the model's clip length; without one, as long as ingest allows.
AUDIO_DURATION_FACTOR = 4
DEFAULT_MAX_CLIP_S = 60.0
MAX_BATCH_AUDIO_S = 600.0
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
# What Pillow's decoders raise on damaged data, as in registry/ingest/images.py.
IMAGE_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)


def decode_inputs(
    signature: InputSignature,
    inputs: Any,
    *,
    max_batch: int = MAX_BATCH,
    max_bytes: int = MAX_FILE_BYTES,
    nullable: Collection[str] = (),
) -> Any:
    """The chain's input for `inputs` (a list: dicts for tables, base64 strings otherwise).
    `nullable`: the table columns that accept `null` (`gaps.nullable_columns`: those the
    chain fills in); a `null` elsewhere is a field error.

    Raises InputError listing every problem found (up to MAX_FIELD_ERRORS).
    """
    errors = FieldErrors()
    check_batch(inputs, errors, max_batch)
    if signature.modality == "tabular":
        batch: Any = decode_rows(signature.columns, inputs, errors, nullable)
    elif signature.modality == "image":
        batch = _decode_files(inputs, errors, max_bytes, _ImageDecoder(signature))
    else:
        batch = _decode_files(inputs, errors, max_bytes, _AudioDecoder(signature))
    errors.raise_if_any()
    return batch


def _file_bytes(item: Any, max_bytes: int, noun: str) -> tuple[bytes | None, str | None]:
    """The bytes of a base64 string, with or without a `data:<type>;base64,` prefix."""
    if not isinstance(item, str):
        return None, f"expected the {noun} file as a base64 string, got {quote(item)}"
    text = item
    if text.startswith("data:"):
        header, comma, text = text.partition(",")
        if not comma or not header.endswith(";base64"):
            return None, "a data URL must be base64: data:<type>;base64,<data>"
    limit_text = f"{noun} larger than {max_bytes / 2**20:g} MB is refused"
    # Base64 spends four characters (plus any line breaks) on three bytes: a string twice the
    # limit cannot fit, whatever it holds, and is refused before it is decoded.
    if len(text) > 2 * max_bytes + 1024:
        return None, limit_text
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None, "not valid base64"
    if len(data) > max_bytes:
        return None, limit_text
    if not data:
        return None, f"an empty {noun} file"
    return data, None


def _decode_files(
    inputs: list, errors: FieldErrors, max_bytes: int, decoder: _ImageDecoder | _AudioDecoder
) -> list:
    """Each base64 file decoded by `decoder`, which returns the sample or a problem (str)."""
    samples = []
    for index, item in enumerate(inputs):
        if not errors.has_room():
            break
        data, problem = _file_bytes(item, max_bytes, decoder.noun)
        result = problem if data is None else decoder(data)
        if isinstance(result, str):
            errors.add(f"inputs[{index}]", result)
        else:
            samples.append(result)
    return samples


class _ImageDecoder:
    """Image bytes to H x W x C uint8, as the dataset readers load a dataset's images.

    With image_resize in the chain, grey images stay one channel and others become RGB (the
    readers' rule; image_resize then converts to the model's channels, as in training); without
    it, the image is converted to the model's channels here, since nothing downstream would.
    """

    noun = "image"

    def __init__(self, signature: InputSignature) -> None:
        self.signature = signature
        self.n_pixels = 0

    def __call__(self, data: bytes) -> np.ndarray | str:
        signature = self.signature
        not_an_image = f"not an image ({IMAGE_FORMATS_TEXT} expected)"
        try:
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        except Image.DecompressionBombError:
            return f"image over the {MAX_IMAGE_PIXELS:,}-pixel limit is refused"
        except (UnidentifiedImageError, *IMAGE_DECODE_ERRORS):
            return not_an_image
        with image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                size = size_text(width, height)
                return f"image is {size}, over the {MAX_IMAGE_PIXELS:,}-pixel limit"
            self.n_pixels += width * height
            if self.n_pixels > MAX_BATCH_PIXELS:
                return (
                    f"the images add up to over {MAX_BATCH_PIXELS:,} pixels, the limit of one "
                    "request; send fewer or smaller images"
                )
            expected = (signature.width, signature.height)
            if not signature.resizes and (width, height) != expected:
                wanted = size_text(*expected)
                return f"image is {size_text(width, height)}; this model takes {wanted}"
            is_grey = Image.getmodebase(image.mode) == "L"
            if not signature.resizes:
                is_grey = signature.channels == 1
            try:
                array = np.asarray(image.convert("L" if is_grey else "RGB"), dtype=np.uint8)
            except IMAGE_DECODE_ERRORS:
                return f"broken or truncated {image.format} image"
        return array[:, :, np.newaxis] if array.ndim == 2 else array


class _AudioDecoder:
    """Audio bytes to mono float32 at the signature's rate, as the dataset readers do it
    (`registry.ingest.audio.decode_mono`, then soxr_hq resampling), reading no more frames than
    the length limit allows."""

    noun = "audio"

    def __init__(self, signature: InputSignature) -> None:
        self.signature = signature
        typical_s = signature.duration_s
        self.max_duration_s = (
            DEFAULT_MAX_CLIP_S if typical_s is None else AUDIO_DURATION_FACTOR * typical_s
        )
        self.total_s = 0.0

    def __call__(self, data: bytes) -> np.ndarray | str:
        try:
            with soundfile.SoundFile(io.BytesIO(data)) as clip:
                if clip.format not in AUDIO_FORMATS:
                    return f"{clip.format} audio is not accepted ({AUDIO_FORMATS_TEXT} expected)"
                clip_rate = clip.samplerate
                max_frames = math.floor(self.max_duration_s * clip_rate)
                samples = clip.read(max_frames + 1, dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, TypeError):
            return f"not an audio file, or a broken one ({AUDIO_FORMATS_TEXT} expected)"
        if len(samples) == 0:
            return "the clip holds no audio"
        if len(samples) > max_frames:
            return f"clip longer than {self.max_duration_s:g} s is refused for this model"
        self.total_s += len(samples) / clip_rate
        if self.total_s > MAX_BATCH_AUDIO_S:
            return (
                f"the clips add up to over {MAX_BATCH_AUDIO_S:g} s, the limit of one request; "
                "send fewer or shorter clips"
            )
        waveform = samples.mean(axis=1, dtype=np.float32)
        if not np.isfinite(waveform).all():
            return "the clip holds NaN or infinite samples"
        if clip_rate != self.signature.sample_rate:
            import librosa  # imported here: ~1 s and numba, which table and image models never need

            waveform = librosa.resample(
                waveform,
                orig_sr=clip_rate,
                target_sr=self.signature.sample_rate,
                res_type="soxr_hq",
            )
        return waveform.astype(np.float32, copy=False)
