"""Sweeps: create, start, stop, resume, and keep `parallelism` trials running until the budget
is used (docs/sweeps.md).

Each trial is a queued Run (`start_run`) with the trial's params over the base config's. When a
trial's run ends, the registry's `run_finished` signal reaches `on_run_finished` (connected in
`PipelinesConfig.ready`), which records the trial's result and calls `fill_slots` again; so a
sweep advances on whichever worker finished its last trial, and needs no process of its own.

`fill_slots` is the one place that launches trials. It holds the sweep row's lock (select for
update) from counting the running trials to queuing the new ones, so two workers finishing at
the same moment launch no more than the free slots, and trial numbers are given under that same
lock (`registry.services.trial_allocate`). It also reconciles: a trial whose run ended without
its result being recorded (the process died between the two) is recorded first. The reaper's
minute schedule calls it for every running sweep (`advance_running_sweeps`), so a lost signal
delays a sweep by a minute at most and never stalls it.

The budget: `n_trials` trials trained (warm-start trials and trials whose run was cancelled by
a stop are not counted: a resumed sweep trains them again) and/or `time_budget_s` seconds of
running time (the time a sweep stood stopped does not count); no trial starts once it is
used, running ones finish. When nothing runs and the budget is used, the sweep ends succeeded,
or failed if every trial it trained failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from pipelines.services import cancel_run, start_run
from pipelines.sweep_objectives import objective_values
from pipelines.sweep_pruning import PRUNED_PREFIX, trial_record
from registry import services
from registry.errors import Conflict, RegistryError
from registry.models import Experiment, Run, RunStatus, Sweep, SweepStatus, SweepTrial, TrialState
from registry.signals import RunFinished

logger = logging.getLogger("canvascraft.sweeps")

# Trials whose run could not even be queued (a proposal the template refused) before a
# `fill_slots` call gives up and fails the sweep with the reason.
MAX_LAUNCH_FAILURES = 3
RESUMABLE = (SweepStatus.STOPPED, SweepStatus.FAILED)


def create_sweep(
    *,
    owner,
    experiment: Experiment,
    base_config: Any,
    space: Any,
    strategy: Any,
    objectives: Any,
    name: Any = "",
    strategy_options: Any = None,
    n_trials: Any = None,
    time_budget_s: Any = None,
    parallelism: Any = 2,
    pruner: Any = "none",
    seed: Any = 0,
    warm_start_runs: Any = None,
    start: bool = False,
) -> Sweep:
    """Checks a sweep request (raises `InvalidInput` naming the field: "space.lr.low",
    "base_config.template", "objective.metric", …) and stores it with its warm-start trials;
    with `start`, starts it in the same transaction. A refused request writes nothing.

    `objectives`: one {"metric", "direction"} or a list of them (the first is primary).
    `warm_start_runs`: ids of the owner's succeeded runs of the same template, told to the
    strategy as the first trials (numbered first, `warm_start`, nothing trained).
    """
    # Imported when used: the checks import the search strategies (Optuna).
    from pipelines.sweep_checks import check_sweep_request

    request = check_sweep_request(
        owner=owner,
        name=name,
        base_config=base_config,
        space=space,
        strategy=strategy,
        strategy_options=strategy_options,
        objectives=objectives,
        n_trials=n_trials,
        time_budget_s=time_budget_s,
        parallelism=parallelism,
        pruner=pruner,
        seed=seed,
        warm_start_runs=warm_start_runs,
    )
    with transaction.atomic():
        sweep = services.sweep_create(
            owner=owner,
            experiment=experiment,
            name=request.name,
            base_config=request.base_config,
            space=request.space,
            strategy=request.strategy,
            strategy_options=request.strategy_options,
            objectives=request.objectives,
            n_trials=request.n_trials,
            time_budget_s=request.time_budget_s,
            parallelism=request.parallelism,
            pruner=request.pruner,
            seed=request.seed,
            warm_start_runs=[warm.run_id for warm in request.warm_starts],
        )
        for warm in request.warm_starts:
            trial = services.trial_allocate(
                sweep=sweep, propose=_fixed(warm.params), warm_start=True, reads_trials=False
            )
            services.trial_finish(
                trial=trial,
                state=TrialState.COMPLETE,
                values=warm.values,
                intermediate=warm.intermediate,
            )
        if start:
            sweep = start_sweep(sweep=sweep)
    return sweep


def _fixed(params: dict[str, Any]) -> Callable[[list[Any], int], dict[str, Any]]:
    return lambda trials, number: dict(params)


def start_sweep(*, sweep: Sweep) -> Sweep:
    """queued -> running, and launches the first trials (a conflict for any other status)."""
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        if locked.status != SweepStatus.QUEUED:
            hint = "; resume it instead" if locked.status in RESUMABLE else ""
            raise Conflict(f"sweep {sweep.pk} is {locked.status}{hint}")
        services.sweep_set_status(sweep=locked, status=SweepStatus.RUNNING)
        return fill_slots(sweep.pk)


def stop_sweep(*, sweep: Sweep) -> Sweep:
    """Stops launching trials and cancels the running ones' runs (queued runs at once, running
    ones at their next batch); their trials end failed as the runs end. A conflict unless the
    sweep is queued or running."""
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        if locked.status not in (SweepStatus.QUEUED, SweepStatus.RUNNING):
            raise Conflict(f"sweep {sweep.pk} is {locked.status}; there is nothing to stop")
        locked = services.sweep_set_status(sweep=locked, status=SweepStatus.STOPPED)
        runs = Run.objects.filter(
            trial__sweep=locked, trial__state=TrialState.RUNNING, cancel_requested_at=None
        ).exclude(status__in=RunStatus.terminal())
        for run in runs.order_by("pk"):
            cancel_run(run=run)
    return locked


def resume_sweep(*, sweep: Sweep) -> Sweep:
    """A stopped (or failed) sweep runs again: trial numbers continue where they stopped and
    the budget counts what was trained before. A conflict when its budget is already used."""
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        if locked.status not in RESUMABLE:
            raise Conflict(
                f"sweep {sweep.pk} is {locked.status}; only a stopped or failed sweep resumes"
            )
        locked = services.sweep_set_status(sweep=locked, status=SweepStatus.RUNNING)
        if not _budget_left(locked):
            raise Conflict(f"sweep {sweep.pk} has used its budget; there is nothing to resume")
        return fill_slots(sweep.pk)


def fill_slots(sweep_id: int) -> Sweep:
    """Launches trials until `parallelism` run or the budget is used, and ends the sweep
    when nothing runs and nothing is left to launch (locks the sweep row throughout).

    Cost per call: a few queries, plus per launched trial one proposal (an in-memory study
    built from the stored trials) and one `start_run`.
    """
    with transaction.atomic():
        sweep = (
            Sweep.objects.select_for_update(of=("self",))
            .select_related("owner", "experiment")
            .get(pk=sweep_id)
        )
        if sweep.status != SweepStatus.RUNNING:
            return sweep
        _reconcile(sweep)
        running = SweepTrial.objects.filter(sweep=sweep, state=TrialState.RUNNING).count()
        launcher = _Launcher(sweep)
        while running < sweep.parallelism and _budget_left(sweep):
            outcome = launcher.launch_one()
            if outcome == "exhausted":
                break
            if outcome == "launched":
                running += 1
            elif launcher.n_failures >= MAX_LAUNCH_FAILURES:
                return services.sweep_set_status(
                    sweep=sweep,
                    status=SweepStatus.FAILED,
                    error_text=f"{launcher.n_failures} trials could not start: "
                    f"{launcher.last_error}",
                )
        if running == 0 and (launcher.exhausted or not _budget_left(sweep)):
            return _end(sweep)
    sweep.refresh_from_db(fields=["next_number"])  # advanced by trial_allocate's own copy
    return sweep


class _Launcher:
    """Proposes and queues one trial at a time for `fill_slots`."""

    def __init__(self, sweep: Sweep) -> None:
        from pipelines import search
        from pipelines.sweep_checks import directions_of

        self.sweep = sweep
        self.strategy = search.strategy_for(sweep.strategy, sweep.strategy_options)
        self.directions = directions_of(sweep.objectives)
        self.exhausted = False
        self.n_failures = 0
        self.last_error = ""

    def propose(self, trials: list[Any], number: int) -> dict[str, Any]:
        records = [
            trial_record(trial.number, trial.params, trial.state, trial.values, trial.intermediate)
            for trial in trials
        ]
        return self.strategy.propose(
            self.sweep.space,
            records,
            directions=self.directions,
            seed=self.sweep.seed,
            number=number,
        )

    def launch_one(self) -> str:
        """Proposes and queues one trial; says "launched", "failed" (the template refused the
        proposal: the trial is stored failed) or "exhausted" (a grid with no point left)."""
        from pipelines import search
        from pipelines.sweep_checks import trial_config

        try:
            trial = services.trial_allocate(
                sweep=self.sweep, propose=self.propose, reads_trials=self.strategy.reads_trials
            )
        except search.GridExhausted:
            self.exhausted = True
            return "exhausted"
        try:
            # A savepoint: a run the template refuses leaves no row and no queued task.
            with transaction.atomic():
                run = start_run(
                    owner=self.sweep.owner,
                    experiment=self.sweep.experiment,
                    name=f"{self.sweep.name} #{trial.number}",
                    config=trial_config(self.sweep.base_config, trial.params),
                )
                services.trial_attach_run(trial=trial, run=run)
        except RegistryError as error:
            self.n_failures += 1
            self.last_error = f"trial {trial.number}: {error.message}"
            logger.warning("sweep %s: %s", self.sweep.pk, self.last_error)
            services.trial_finish(trial=trial, state=TrialState.FAILED)
            return "failed"
        return "launched"


def _budget_left(sweep: Sweep) -> bool:
    if sweep.time_budget_s is not None and sweep.started_at is not None:
        elapsed_s = (timezone.now() - sweep.started_at).total_seconds()
        if elapsed_s >= sweep.time_budget_s:
            return False
    if sweep.n_trials is None:
        return True
    return _n_counted_trials(sweep) < sweep.n_trials


def _n_counted_trials(sweep: Sweep) -> int:
    """Trials that count toward `n_trials`: trained ones, except those a stop cancelled."""
    trained = SweepTrial.objects.filter(sweep=sweep, warm_start=False)
    stopped = trained.filter(state=TrialState.FAILED, run__status=RunStatus.CANCELLED)
    return trained.count() - stopped.count()


def _end(sweep: Sweep) -> Sweep:
    trained = SweepTrial.objects.filter(sweep=sweep, warm_start=False)
    if trained.exists() and not trained.exclude(state=TrialState.FAILED).exists():
        first = trained.select_related("run").order_by("number").first()
        reason = (first.run.error_text if first.run else "") or "no run"
        return services.sweep_set_status(
            sweep=sweep,
            status=SweepStatus.FAILED,
            error_text=f"every trial failed; trial {first.number}: {reason.splitlines()[0]}",
        )
    return services.sweep_set_status(sweep=sweep, status=SweepStatus.SUCCEEDED)


def _reconcile(sweep: Sweep) -> None:
    """Records trials whose run ended while nobody recorded them."""
    unrecorded = SweepTrial.objects.filter(
        sweep=sweep, state=TrialState.RUNNING, run__status__in=RunStatus.terminal()
    ).select_related("run")
    for trial in unrecorded:
        trial.sweep = sweep
        record_trial_result(trial)


def record_trial_result(trial: SweepTrial) -> SweepTrial:
    """Ends a trial from its finished run: complete with its objective values, pruned (its
    run was stopped by the pruning hook), or failed (the run failed or was cancelled, or
    lacks an objective's value)."""
    run = trial.run
    if run is None or run.status not in RunStatus.terminal():
        return trial
    if run.status == RunStatus.SUCCEEDED:
        values = objective_values(run, trial.sweep.objectives)
        if values is not None:
            return services.trial_finish(trial=trial, state=TrialState.COMPLETE, values=values)
    elif run.status == RunStatus.CANCELLED and run.error_text.startswith(PRUNED_PREFIX):
        # The hook ends the trial itself; this covers a process that died in between.
        steps = [int(step) for step in trial.intermediate]
        return services.trial_finish(
            trial=trial, state=TrialState.PRUNED, pruned_at_step=max(steps, default=None)
        )
    return services.trial_finish(trial=trial, state=TrialState.FAILED)


def on_run_finished(sender, event: RunFinished, **kwargs) -> None:
    """`run_finished` receiver: a trial's run ended -> record its result, launch the next
    trials. Sent after the run's transaction commits; one query for runs that are not trials.

    Done here rather than in a queued task: the Redis broker delivers at most once, and a
    lost task would stall the sweep until the reaper's next minute. A failure is logged, not
    raised: the run itself has ended either way, and the reaper's pass reconciles.
    """
    trial = SweepTrial.objects.filter(run_id=event.run_id).select_related("sweep", "run").first()
    if trial is None:
        return
    try:
        if trial.state == TrialState.RUNNING:
            record_trial_result(trial)
        fill_slots(trial.sweep_id)
    except Exception:
        logger.exception("sweep %s: trial %s not recorded", trial.sweep_id, trial.number)


def advance_running_sweeps() -> int:
    """Calls `fill_slots` for every running sweep (the reaper's minute schedule): trials whose
    result was never recorded are recorded, free slots filled, finished sweeps ended."""
    advanced = 0
    for sweep_id in Sweep.objects.filter(status=SweepStatus.RUNNING).values_list("pk", flat=True):
        try:
            fill_slots(sweep_id)
            advanced += 1
        except Exception:
            logger.exception("sweep %s could not advance", sweep_id)
    return advanced
