from django.apps import AppConfig


class CanvascraftConfig(AppConfig):
    """Project wiring only (the `runstudio` command lives here); no domain logic."""

    name = "canvascraft"
    verbose_name = "CanvasCraft"
