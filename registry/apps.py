from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """The model layer: everything stored and versioned. Imports nothing else of the project."""

    name = "registry"
    verbose_name = "Registry"
