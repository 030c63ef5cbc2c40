"""Serving: a published model's files plus its input signature, answering raw request inputs.

Plain Python, no Django: the predict API loads the version's files and stored signature, builds a
`Predictor` (worth caching per model version) and calls `predict` with the request's `inputs`;
an `InputError` becomes HTTP 400 with its field errors, a `ModelLoadError` a server error.

    signature = signature_for("tabular", table_columns=version.schema["columns"], target="species")
    predictor = Predictor.from_files(files, signature.to_dict())
    predictor.predict([{"sepal_length": 5.1, ...}])  # [{"label": ..., "probabilities": {...}}]
"""

from pipelines.serving.errors import (
    MAX_FIELD_ERRORS,
    FieldError,
    InputError,
    ModelLoadError,
)
from pipelines.serving.inputs import (
    AUDIO_DURATION_FACTOR,
    DEFAULT_MAX_CLIP_S,
    MAX_BATCH,
    MAX_BATCH_AUDIO_S,
    MAX_BATCH_PIXELS,
    MAX_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    decode_inputs,
)
from pipelines.serving.predictor import BatchPredictions, Predictor
from pipelines.serving.signature import (
    COLUMN_TYPES,
    MODALITIES,
    ColumnSpec,
    InputSignature,
    signature_for,
)

__all__ = [
    "AUDIO_DURATION_FACTOR",
    "COLUMN_TYPES",
    "DEFAULT_MAX_CLIP_S",
    "MAX_BATCH",
    "MAX_BATCH_AUDIO_S",
    "MAX_BATCH_PIXELS",
    "MAX_FIELD_ERRORS",
    "MAX_FILE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MODALITIES",
    "BatchPredictions",
    "ColumnSpec",
    "FieldError",
    "InputError",
    "InputSignature",
    "ModelLoadError",
    "Predictor",
    "decode_inputs",
    "signature_for",
]
