"""What serving raises: field-level problems with a request's inputs, and model files that fail.

A prediction request is untrusted input. Every problem found in it becomes a `FieldError` whose
`field` is a path into the request body (`inputs`, `inputs[0]`, `inputs[2].petal_length`), so the
API answers HTTP 400 with the same field errors a form would show. Many problems are reported at
once, because a script sending 200 rows should learn about all its bad cells in one round trip,
but never more than `MAX_FIELD_ERRORS`: a response listing 50,000 errors helps nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_FIELD_ERRORS = 20


@dataclass(frozen=True)
class FieldError:
    """One problem with one place of the request: `field` is its path, `message` says what was
    expected, in words a creator can act on."""

    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InputError(Exception):
    """The request's inputs cannot be predicted on; `errors` lists every problem found (at most
    `MAX_FIELD_ERRORS`, then one last error on `inputs` saying the list was cut short)."""

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("an InputError needs at least one FieldError")
        self.errors = list(errors)
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in self.errors))

    def by_field(self) -> dict[str, list[str]]:
        """{field: [messages]} in the order found: the shape of a DRF ValidationError detail."""
        grouped: dict[str, list[str]] = {}
        for error in self.errors:
            grouped.setdefault(error.field, []).append(error.message)
        return grouped


class ModelLoadError(Exception):
    """A published model's files are missing, cannot be trusted, or contradict its signature.

    A server-side problem (HTTP 500 or 409), never the caller's: nothing in a request causes it.
    """


class FieldErrors:
    """Collects problems while a batch is checked, and stops the check once it has enough.

    Decoders call `has_room()` before each item and skip the rest of the batch once
    `MAX_FIELD_ERRORS` problems are known (decoding an image costs time); `raise_if_any` then adds
    a closing note on `inputs`, since what was skipped may hold more problems.
    """

    def __init__(self, limit: int = MAX_FIELD_ERRORS) -> None:
        self.limit = limit
        self.errors: list[FieldError] = []
        self.is_cut_short = False

    def has_room(self) -> bool:
        """False once the list is full; from then on the check counts as cut short."""
        if len(self.errors) >= self.limit:
            self.is_cut_short = True
            return False
        return True

    def add(self, field: str, message: str) -> None:
        if self.has_room():
            self.errors.append(FieldError(field, message))

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        errors = list(self.errors)
        if self.is_cut_short:
            errors.append(
                FieldError(
                    "inputs", f"stopped after {self.limit} problems; fix these and send again"
                )
            )
        raise InputError(errors)


def quote(value: Any) -> str:
    """A request value as a message shows it: JSON words for null and booleans, a short quote
    of text and numbers, the kind of anything bigger ("not a number: 'abc'", "... a list")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if not isinstance(value, int | float):
        return f"a {type(value).__name__}"
    try:
        text = repr(value)
    except ValueError:  # an integer past Python's 4,300-digit conversion limit
        return "a huge integer"
    return text if len(text) <= 40 else text[:37] + "..."


def check_batch(inputs: Any, errors: FieldErrors, max_batch: int) -> None:
    """Refuses (raises) a batch that is not a list of 1 to `max_batch` inputs, before any
    input is looked at: every modality's decoder starts here."""
    if not isinstance(inputs, list):
        errors.add("inputs", f"expected a list of inputs, got {quote(inputs)}")
    elif not inputs:
        errors.add("inputs", "no inputs; send a list of at least one")
    elif len(inputs) > max_batch:
        errors.add("inputs", f"{len(inputs):,} inputs; at most {max_batch:,} per request")
    errors.raise_if_any()
