"""`manage.py train CONFIG.json [--user NAME] [--wait | --sync]`: queue (or run) a training.

CONFIG.json holds what `POST /api/v1/runs/` takes: {"experiment": id or name, "name": …,
"config": {"dataset_version": …, "task": …, "template": …, …}}. An experiment given by name is
created when the user has none of that name.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from canvascraft.command_users import user_named
from pipelines.management.command_requests import experiment_for, read_request
from pipelines.services import start_run
from registry.errors import RegistryError
from registry.models import Run, RunStatus

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Queues a training run from a JSON file; --wait follows it, --sync trains right here."

    def add_arguments(self, parser) -> None:
        parser.add_argument("config_file", type=Path)
        parser.add_argument("--user", default="demo", help="Owner of the run (default: demo).")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="Follow the run until it ends.")
        mode.add_argument("--sync", action="store_true", help="Train in this process.")

    def handle(self, *args, config_file: Path, user: str, wait: bool, sync: bool, **options):
        owner = user_named(user)
        request = read_request(config_file)
        try:
            run = start_run(
                owner=owner,
                experiment=experiment_for(
                    owner, request.get("experiment"), default_name="Trained from the shell"
                ),
                name=str(request.get("name", "")),
                config=request.get("config"),
            )
        except RegistryError as error:
            raise CommandError(f"{error.field or 'request'}: {error.message}") from None
        self.stdout.write(f"run {run.pk} queued ({run.device_class} queue)")
        if sync:
            from pipelines.runner import execute_run

            self.stdout.write(f"training in this process… {execute_run(run.pk)}")
        elif wait:
            self._follow(run)
        run.refresh_from_db()
        self._report(run)

    def _follow(self, run: Run) -> None:
        """A progress bar from the run's heartbeat progress, until it ends."""
        while True:
            run.refresh_from_db(fields=["status", "progress"])
            progress = run.progress or {}
            epoch, n_epochs = progress.get("epoch"), progress.get("n_epochs")
            if epoch and n_epochs:
                done = int(BAR_WIDTH * epoch / n_epochs)
                bar = f"[{'#' * done}{'.' * (BAR_WIDTH - done)}] epoch {epoch}/{n_epochs}"
            else:
                bar = f"[{'.' * BAR_WIDTH}] {progress.get('phase', run.status)}"
            sys.stdout.write(f"\r{bar:<70}")
            sys.stdout.flush()
            if run.status in RunStatus.terminal():
                sys.stdout.write("\n")
                return
            time.sleep(0.5)

    def _report(self, run: Run) -> None:
        self.stdout.write(f"run {run.pk}: {run.status}")
        for key, value in sorted(run.summary.items()):
            self.stdout.write(f"  {key} = {value:.4f}")
        if run.error_text:
            self.stdout.write(run.error_text.splitlines()[0])
            if run.status == RunStatus.FAILED:
                raise CommandError("the run failed")
