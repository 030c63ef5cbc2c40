"""Errors that services raise for input a caller can fix.

Each carries an HTTP status, a machine code and, where one field is to blame, its name; the API's
exception handler reads these attributes, so the registry needs to know nothing about HTTP
frameworks.
"""

from __future__ import annotations


class RegistryError(Exception):
    http_status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(RegistryError):
    """The request is malformed or a value is out of range."""


class Conflict(RegistryError):
    """The request clashes with what is stored (a duplicate name, a finished run)."""

    http_status = 409
    code = "conflict"


class LimitExceeded(RegistryError):
    """The request is larger than a configured limit."""

    http_status = 413
    code = "too_large"


class NotFound(RegistryError):
    """Nothing by that id is visible to the caller (it may exist and belong to someone else)."""

    http_status = 404
    code = "not_found"


class Forbidden(RegistryError):
    """The caller may see this but not change it (someone else's public model)."""

    http_status = 403
    code = "permission_denied"
