from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    """The compute layer: brushes, training, search and the observers of registry signals."""

    name = "pipelines"
    verbose_name = "Pipelines"

    def ready(self) -> None:
        from pipelines.sweeps import on_run_finished
        from registry.signals import run_finished

        # A sweep trial's run ended: record its result and launch the next trials.
        run_finished.connect(on_run_finished, dispatch_uid="pipelines.sweeps.on_run_finished")
