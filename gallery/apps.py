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
        self._forget_predict_routes_on_change()

    @staticmethod
    def _forget_predict_routes_on_change() -> None:
        """The predict lane repeats answers Django gave; what could change one forgets them."""
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from gallery.predict_lane import forget_routes
        from registry.models import ApiToken, ModelAlias, RegisteredModel
        from registry.signals import alias_moved

        alias_moved.connect(forget_routes, dispatch_uid="gallery.predict_lane.alias_moved")
        for model in (ApiToken, ModelAlias, RegisteredModel, get_user_model()):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_routes,
                    sender=model,
                    dispatch_uid=f"gallery.predict_lane.{signal is post_save}.{model.__name__}",
                )
