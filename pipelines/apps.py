from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    """The compute layer: brushes, training, search and the observers of registry signals."""

    name = "pipelines"
    verbose_name = "Pipelines"

    def ready(self) -> None:
        from pipelines import webhooks
        from pipelines.sweeps import on_run_finished
        from registry.signals import alias_moved, model_version_created, run_finished

        # A sweep trial's run ended: record its result and launch the next trials.
        run_finished.connect(on_run_finished, dispatch_uid="pipelines.sweeps.on_run_finished")
        # A model's version or alias changed: tell its webhooks.
        model_version_created.connect(
            webhooks.on_version_created, dispatch_uid="pipelines.webhooks.on_version_created"
        )
        alias_moved.connect(
            webhooks.on_alias_moved, dispatch_uid="pipelines.webhooks.on_alias_moved"
        )
