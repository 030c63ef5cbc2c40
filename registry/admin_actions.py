"""What every admin action that calls a service row by row does with the rows it selected.

Here, not in one app's admin, because the sweep admin lives in pipelines (stopping a sweep is
orchestration) and pipelines may import registry but not the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.contrib import admin, messages
from django.http import HttpRequest

from registry.errors import RegistryError

Row = TypeVar("Row")


def apply_to_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Row],
    operation: Callable[[Row], object],
    *,
    label: Callable[[Row], str],
    refused_level: int = messages.WARNING,
) -> int:
    """Calls `operation` on each row in turn and returns how many it went through for.

    A row the service refuses (a `RegistryError`: already ended, not pending, …) is named in a
    message of its own and skipped, so one stale row in a selection does not stop the others.
    """
    done = 0
    for row in rows:
        try:
            operation(row)
            done += 1
        except RegistryError as error:
            model_admin.message_user(request, f"{label(row)}: {error.message}", refused_level)
    return done
