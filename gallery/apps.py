from django.apps import AppConfig


class GalleryConfig(AppConfig):
    """The view layer: creators' pages, the REST API and live progress."""

    name = "gallery"
    verbose_name = "Gallery"
