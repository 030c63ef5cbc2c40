"""Receivers of registry signals that concern hosting: an alias that moved gets its new version
loaded in this process's host ahead of the first request that asks for it.

Loading takes from milliseconds (a forest) to a second or two (a network), so it happens in a
daemon thread: the request that moved the alias does not wait for it, and a failure is logged,
not raised (the first prediction then loads it, or reports why it cannot).

Only processes that serve requests warm (the ASGI and WSGI entry points call
`serve_predictions()`): a management command or a worker that moves an alias would only start a
load it never uses, and a daemon thread still inside torch when such a short process exits
aborts it.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from registry.signals import AliasMoved

logger = logging.getLogger("canvascraft.gallery")
_serving = False


def serve_predictions() -> None:
    """Marks this process as one that answers predictions (its models are worth warming)."""
    global _serving
    _serving = True


def warm_moved_alias(sender, event: AliasMoved, **kwargs) -> None:
    if not (_serving and settings.MODEL_WARM_ON_ALIAS_MOVE):
        return
    threading.Thread(
        target=_warm, args=(event.to_version_id,), name="warm-model", daemon=True
    ).start()


def _warm(version_id: int) -> None:
    from gallery.hosting import host_for
    from registry.models import ModelVersion

    try:
        version = ModelVersion.objects.filter(pk=version_id).first()
        if version is not None:
            host_for().warm(version)
    except Exception:
        logger.warning("could not warm model version %s", version_id, exc_info=True)
    finally:
        close_old_connections()
