"""The errors the training core raises, one class per kind of mistake.

Callers map them to answers: a `TemplateConfigError` or a `TrainingDataError` with a `param` is a
field error in a form or an API body (HTTP 400); `TrainingDivergedError` ends a run as failed with
a message a creator can act on; `CheckpointError` and `ModelFileError` mean stored bytes cannot be
trusted or do not belong to this run. `TrainingStopped` is not an error at all (see its docstring).
"""

from __future__ import annotations


class TrainingError(Exception):
    """Base class of the errors raised by the training core (not of `TrainingStopped`)."""


class TemplateConfigError(TrainingError, ValueError):
    """A template name or one of its params is invalid; `param` names the offending field
    ("template" for the template itself), so the API can answer with a field error."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class TrainingDataError(TrainingError, ValueError):
    """Arrays or split fractions that cannot be trained on; `param` is set when one request field
    (such as "validation_fraction") is to blame."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class TrainingDivergedError(TrainingError, FloatingPointError):
    """The loss became NaN or infinite: the run fails with a hint instead of training on garbage."""


class CheckpointError(TrainingError, ValueError):
    """A checkpoint given to `resume_from` is unreadable or was written by another configuration."""


class ModelFileError(TrainingError, ValueError):
    """Saved model files are incomplete, malformed or hold types that are not on the allow-list."""


class TrainingStopped(Exception):
    """Training stopped on request before it finished; `reason` is "cancelled" or "timed out".

    Deliberately not a `TrainingError`: the runner ends the run as cancelled or timed out (a
    deliberate end), not as failed, so a broad `except TrainingError` must not swallow it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"training stopped: {reason}")
        self.reason = reason
