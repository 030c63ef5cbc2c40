from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    """The compute layer: brushes, training, search and the observers of registry signals."""

    name = "pipelines"
    verbose_name = "Pipelines"
