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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import soundfile
from PIL import Image, UnidentifiedImageError

from pipelines.serving.errors import FieldErrors, quote
from pipelines.serving.signature import (
    AUDIO_FORMATS_TEXT,
    IMAGE_FORMATS_TEXT,
    ColumnSpec,
    InputSignature,
    size_text,
)
from registry.ingest.audio import ACCEPTED_FORMATS as AUDIO_FORMATS

MAX_BATCH = 256
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
INTEGER_RANGE = (-(2**63), 2**63 - 1)
_DTYPE_OF_TYPE = {"integer": np.int64, "float": np.float64, "boolean": np.bool_}


def decode_inputs(
    signature: InputSignature,
    inputs: Any,
    *,
    max_batch: int = MAX_BATCH,
    max_bytes: int = MAX_FILE_BYTES,
) -> Any:
    """The chain's input for `inputs` (a list: dicts for tables, base64 strings otherwise).

    Raises InputError listing every problem found (up to MAX_FIELD_ERRORS).
    """
    errors = FieldErrors()
    _check_batch(inputs, errors, max_batch)
    if signature.modality == "tabular":
        batch: Any = _decode_rows(signature.columns, inputs, errors)
    elif signature.modality == "image":
        batch = _decode_files(inputs, errors, max_bytes, _ImageDecoder(signature))
    else:
        batch = _decode_files(inputs, errors, max_bytes, _AudioDecoder(signature))
    errors.raise_if_any()
    return batch


def decode_table_matrix(
    signature: InputSignature,
    inputs: Any,
    *,
    categories: Mapping[str, Sequence[str]] | None = None,
    max_batch: int = MAX_BATCH,
    dtype: type[np.floating] = np.float64,
) -> np.ndarray:
    """Table rows straight to a matrix of `dtype` (columns in the signature's order), with the
    checks and field errors of `decode_inputs`; for callers that need numbers and no DataFrame
    (an ONNX export's graph takes the columns as numbers, booleans as 0/1, and a column with
    `categories` as the position of its value's text in that list, -1 for one not in it).
    float64 by default: the numbers the DataFrame holds and the brushes compute with (an
    integer past 2**53 rounds as pandas rounds it); float32 for exports that take float32.

    Only for signatures whose columns all decode to numbers (`is_matrix_table`)."""
    categories = categories or {}
    if not is_matrix_table(signature, categories):
        raise ValueError(
            "decode_table_matrix needs numbers and booleans only, or categories for the others"
        )
    errors = FieldErrors()
    _check_batch(inputs, errors, max_batch)
    rows = _row_values(signature.columns, inputs, errors)
    errors.raise_if_any()
    shape = (len(rows), len(signature.columns))
    lookups = category_lookups(categories)
    if not lookups:
        return np.array(rows, dtype=dtype).reshape(shape)
    matrix = np.empty(shape, dtype=dtype)
    for at, column in enumerate(signature.columns):
        lookup = lookups.get(column.name)
        if lookup is None:
            matrix[:, at] = [row[at] for row in rows]
        else:  # str(True) is "True", as the one_hot brush compares booleans
            matrix[:, at] = [lookup.get(str(row[at]), -1) for row in rows]
    return matrix


def category_lookups(categories: Mapping[str, Sequence[str]]) -> dict[str, dict[str, int]]:
    """{column: {category text: its position}}: how a category column becomes a number for an
    ONNX export's graph (the manifest's `categories`, in the one_hot brush's order)."""
    return {
        column: {str(category): index for index, category in enumerate(known)}
        for column, known in categories.items()
    }


def is_numeric_table(signature: InputSignature) -> bool:
    """Whether every column of a table signature is an integer, a float or a boolean."""
    return is_matrix_table(signature, {})


def is_matrix_table(signature: InputSignature, categories: Mapping[str, Any]) -> bool:
    """Whether every column of a table signature is an integer, a float, a boolean, or a column
    whose categories are known (it becomes a category's position)."""
    return signature.modality == "tabular" and all(
        column.type in _DTYPE_OF_TYPE or column.name in categories for column in signature.columns
    )


def _check_batch(inputs: Any, errors: FieldErrors, max_batch: int) -> None:
    if not isinstance(inputs, list):
        errors.add("inputs", f"expected a list of inputs, got {quote(inputs)}")
    elif not inputs:
        errors.add("inputs", "no inputs; send a list of at least one")
    elif len(inputs) > max_batch:
        errors.add("inputs", f"{len(inputs):,} inputs; at most {max_batch:,} per request")
    errors.raise_if_any()


def _row_values(columns: tuple[ColumnSpec, ...], inputs: list, errors: FieldErrors) -> list:
    """Each row's checked values in column order; problems go to `errors` by field."""
    names = {column.name for column in columns}
    typed = [(column.name, column.type) for column in columns]
    rows = []
    for index, row in enumerate(inputs):
        where = f"inputs[{index}]"
        if not errors.has_room():
            break
        if not isinstance(row, dict):
            errors.add(where, f"expected an object with one key per column, got {quote(row)}")
            continue
        if len(row) != len(names) or not names.issuperset(row):
            for key in row:
                if key not in names:
                    errors.add(f"{where}.{key}", f"unknown column {str(key)!r}")
        values = []
        for name, column_type in typed:
            if name not in row:
                errors.add(f"{where}.{name}", f"missing column {name!r}")
                continue
            value, problem = _cell(column_type, row[name])
            if problem is None:
                values.append(value)
            else:
                errors.add(f"{where}.{name}", problem)
        rows.append(values)
    return rows


def _decode_rows(
    columns: tuple[ColumnSpec, ...], inputs: list, errors: FieldErrors
) -> pd.DataFrame:
    rows = _row_values(columns, inputs, errors)
    if errors.errors:
        return pd.DataFrame()
    names = [column.name for column in columns]
    # Training read numbers as int64/float64, booleans as bool and everything else as text.
    dtypes = {_DTYPE_OF_TYPE.get(column.type, object) for column in columns}
    if len(dtypes) == 1 and object not in dtypes:
        # One type throughout (a table of floats): one block, not one Series per column, which
        # for a row of 64 columns is the difference between ~40 us and ~3 ms.
        return pd.DataFrame(np.array(rows, dtype=dtypes.pop()), columns=names)
    return pd.DataFrame(
        {
            column.name: pd.Series(
                [row[position] for row in rows], dtype=_DTYPE_OF_TYPE.get(column.type)
            )
            for position, column in enumerate(columns)
        }
    )


def _cell(column_type: str, value: Any) -> tuple[Any, str | None]:
    """(value as the column holds it, None) or (None, what is wrong with it)."""
    if value is None:
        return None, "a value is required (null is not allowed)"
    if column_type in ("integer", "float"):
        return _number(value, is_integer=column_type == "integer")
    if column_type == "boolean":
        if isinstance(value, bool):
            return value, None
        return None, f"not a boolean (true or false): {quote(value)}"
    if isinstance(value, str):
        return value, None
    return None, f"not text: {quote(value)} (send text in quotes)"


def _number(value: Any, *, is_integer: bool) -> tuple[Any, str | None]:
    noun = "an integer" if is_integer else "a number"
    if isinstance(value, str):
        return None, f"not {noun}: {quote(value)} (send numbers without quotes)"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, f"not {noun}: {quote(value)}"
    if isinstance(value, float) and math.isnan(value):
        return None, "NaN is not allowed"
    if isinstance(value, float) and math.isinf(value):
        return None, "infinity is not allowed"
    if not is_integer:
        return float(value), None
    if isinstance(value, float) and not value.is_integer():
        return None, f"not an integer: {quote(value)}"
    if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
        return None, f"integer out of range: {quote(value)} (64-bit integers only)"
    return int(value), None


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
