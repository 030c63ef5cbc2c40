"""The errors a brush raises, one class per kind of mistake.

Callers map them to answers: a `BrushConfigError` is a bad field in a form or an API body (HTTP 400
naming `param`), a `BrushInputError` is data that does not fit the brush, a `BrushNotFittedError`
is a programming error in the pipeline, a `BrushStateError` is a saved chain that cannot be trusted.
"""

from __future__ import annotations


class BrushError(Exception):
    """Base class of every error raised by the brushes package."""


class BrushConfigError(BrushError, ValueError):
    """A brush or chain configuration is invalid (unknown name, unknown param, bad value, order).

    `brush_name` and `param` are set when the error is about one param of one brush, so that the
    API can answer with a field error.
    """

    def __init__(self, message: str, *, brush_name: str | None = None, param: str | None = None):
        super().__init__(message)
        self.brush_name = brush_name
        self.param = param


class BrushInputError(BrushError, ValueError):
    """The data given to `fit` or `transform` has the wrong type, shape, values or columns."""


class BrushNotFittedError(BrushError, RuntimeError):
    """`transform` (or `get_state`) was called on a brush or chain that was never fitted."""


class BrushStateError(BrushError, ValueError):
    """Saved state cannot be restored: corrupt file, unknown brush, wrong format version."""
