from django.apps import AppConfig


class GalleryConfig(AppConfig):
    """The view layer: creators' pages, the REST API, live progress and model hosting."""

    name = "gallery"
    verbose_name = "Gallery"

    def ready(self) -> None:
        from gallery.receivers import warm_moved_alias
        from registry.signals import alias_moved

        # An alias moved: load its new version in this process before anyone asks it.
        alias_moved.connect(warm_moved_alias, dispatch_uid="gallery.receivers.warm_moved_alias")
