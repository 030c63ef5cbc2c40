"""Static files storage that works before `collectstatic` has run.

`make run` collects static files, and then pages link hashed, compressed, forever-cacheable
names. Tests and a bare `manage.py runserver` have no manifest yet: instead of failing every
page, fall back to the plain name, which whitenoise serves from the finders.
"""

from __future__ import annotations

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StudioStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def url(self, name: str | None, force: bool = False) -> str:
        try:
            return super().url(name, force)
        except ValueError:
            return f"{settings.STATIC_URL}{name}"
