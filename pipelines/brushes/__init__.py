"""Preprocessing brushes: plain-Python fit/transform steps for tabular, image and audio data.

Importing this package registers the built-in brushes. It never imports Django: the training
pipeline, the feature store and the API use it, and it is tested on its own.
"""

from pipelines.brushes import audio, image, tabular  # noqa: F401  (registers the built-ins)
from pipelines.brushes.base import MODALITIES, PreprocessingBrush
from pipelines.brushes.chain import BrushChain
from pipelines.brushes.errors import (
    BrushConfigError,
    BrushError,
    BrushInputError,
    BrushNotFittedError,
    BrushStateError,
)
from pipelines.brushes.registry import (
    BrushConfig,
    BrushInfo,
    brush_from_config,
    get_brush_class,
    list_brushes,
    register,
)

__all__ = [
    "MODALITIES",
    "BrushChain",
    "BrushConfig",
    "BrushConfigError",
    "BrushError",
    "BrushInfo",
    "BrushInputError",
    "BrushNotFittedError",
    "BrushStateError",
    "PreprocessingBrush",
    "audio",
    "brush_from_config",
    "get_brush_class",
    "image",
    "list_brushes",
    "register",
]
