import os

from django.apps import AppConfig


class CanvascraftConfig(AppConfig):
    """Project wiring only (the `runstudio` command lives here); no domain logic."""

    name = "canvascraft"
    verbose_name = "CanvasCraft"

    def ready(self) -> None:
        from canvascraft.backends import forget_inherited_connections

        # django-q2 forks its worker processes from the cluster process.
        os.register_at_fork(after_in_child=forget_inherited_connections)
