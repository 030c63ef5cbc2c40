"""`manage.py sweep CONFIG.json [--user NAME] [--wait]`: create (and start) a sweep.

CONFIG.json holds what `POST /api/v1/sweeps/` takes: {"experiment": id or name, "name"?,
"base_config": {...}, "space": {...}, "strategy": …, "objective": {...} | "objectives": [...],
"n_trials"?, "time_budget_s"?, "parallelism"?, "pruner"?, "seed"?, "warm_start_runs"?,
"start"?}. An experiment given by name is created when the user has none of that name. With
--wait, a progress bar of the trials done and the best value so far follows the sweep until it
ends (stop it from the page, the API or the admin; Ctrl-C only stops watching).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from canvascraft.command_users import user_named
from pipelines.management.command_requests import experiment_for, read_request
from pipelines.sweeps import create_sweep
from registry.errors import RegistryError
from registry.models import Sweep, SweepStatus, TrialState
from registry.services.live import best_trial_summary, sweep_status_payload

BAR_WIDTH = 30
REQUEST_KEYS = {
    "experiment",
    "name",
    "base_config",
    "space",
    "strategy",
    "strategy_options",
    "objective",
    "objectives",
    "n_trials",
    "time_budget_s",
    "parallelism",
    "pruner",
    "seed",
    "warm_start_runs",
    "start",
}


class Command(BaseCommand):
    help = "Creates a sweep from a JSON file (the API's body) and starts it; --wait follows it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("config_file", type=Path)
        parser.add_argument("--user", default="demo", help="Owner of the sweep (default: demo).")
        parser.add_argument("--wait", action="store_true", help="Follow the sweep until it ends.")

    def handle(self, *args, config_file: Path, user: str, wait: bool, **options):
        owner = user_named(user)
        request = self._read(config_file)
        try:
            with transaction.atomic():  # a refused request leaves no experiment behind either
                sweep = create_sweep(
                    owner=owner,
                    experiment=experiment_for(
                        owner, request.get("experiment"), default_name="Sweeps from the shell"
                    ),
                    objectives=request.get("objectives", request.get("objective")),
                    start=bool(request.get("start", True)),
                    **{
                        key: request[key]
                        for key in REQUEST_KEYS - {"experiment", "objective", "objectives", "start"}
                        if key in request
                    },
                )
        except RegistryError as error:
            raise CommandError(f"{error.field or 'request'}: {error.message}") from None
        self.stdout.write(f"sweep {sweep.pk} {sweep.status} ({sweep.name})")
        if wait:
            self._follow(sweep)
        sweep.refresh_from_db()
        self._report(sweep)

    def _read(self, config_file: Path) -> dict:
        request = read_request(config_file)
        unknown = sorted(set(request) - REQUEST_KEYS)
        if unknown:
            raise CommandError(
                f"{unknown[0]}: unknown key; known: {', '.join(sorted(REQUEST_KEYS))}"
            )
        if "objective" in request and "objectives" in request:
            raise CommandError("objective: give objective or objectives, not both")
        return request

    def _follow(self, sweep: Sweep) -> None:
        """A bar of the trials trained out of n_trials (or of the time budget; warm starts are
        not counted), with the best value so far."""
        while True:
            sweep.refresh_from_db()
            status = sweep_status_payload(sweep)
            done = sweep.trials.filter(warm_start=False).exclude(state=TrialState.RUNNING).count()
            sys.stdout.write(f"\r{self._bar(sweep, done, status):<100}")
            sys.stdout.flush()
            if sweep.status not in (SweepStatus.QUEUED, SweepStatus.RUNNING):
                sys.stdout.write("\n")
                return
            time.sleep(1.0)

    def _bar(self, sweep: Sweep, done: int, status: dict) -> str:
        if sweep.n_trials:
            filled = min(BAR_WIDTH, int(BAR_WIDTH * done / sweep.n_trials))
            position = f"{done}/{sweep.n_trials} trials"
        else:
            elapsed_s = 0.0
            if sweep.started_at is not None:
                elapsed_s = time.time() - sweep.started_at.timestamp()
            share = min(1.0, elapsed_s / sweep.time_budget_s) if sweep.time_budget_s else 0.0
            filled = int(BAR_WIDTH * share)
            position = f"{done} trials, {elapsed_s:.0f}/{sweep.time_budget_s} s"
        best = status["best"]
        metric = sweep.objectives[0]["metric"]
        shown = (
            f"best {metric} {best['values'][0]:.4f} (#{best['number']})" if best else "no best yet"
        )
        running = f"{status['n_running']} running"
        return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {position}, {running}, {shown}"

    def _report(self, sweep: Sweep) -> None:
        self.stdout.write(f"sweep {sweep.pk}: {sweep.status}")
        best = best_trial_summary(sweep)
        if best is not None:
            values = ", ".join(
                f"{objective['metric']} = {value:.4f}"
                for objective, value in zip(sweep.objectives, best["values"], strict=True)
            )
            self.stdout.write(f"  best: trial {best['number']} (run {best['run']}): {values}")
            for name, value in sorted(best["params"].items()):
                self.stdout.write(f"    {name} = {value}")
        if sweep.error_text:
            self.stdout.write(sweep.error_text.splitlines()[0])
            if sweep.status == SweepStatus.FAILED:
                raise CommandError("the sweep failed")
