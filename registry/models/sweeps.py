from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast


class SweepStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"


class SweepStrategy(models.TextChoices):
    RANDOM = "random", "Random search"
    GRID = "grid", "Grid search"
    BAYESIAN = "bayesian", "Bayesian search (TPE)"


class SweepPruner(models.TextChoices):
    NONE = "none", "No pruning"
    MEDIAN = "median", "Median"
    HALVING = "halving", "Successive halving"


class Sweep(models.Model):
    """A search over a run config: a strategy proposes params, each trial is a Run.

    The strategy keeps no state of its own between proposals: every proposal is made from the
    trials stored here (ask/tell over our own rows, see `pipelines.search`), so a sweep survives
    any restart, and proposals are made under this row's lock, so two workers never hand out
    the same trial number.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sweeps"
    )
    experiment = models.ForeignKey(
        "registry.Experiment", on_delete=models.CASCADE, related_name="sweeps"
    )
    name = models.CharField(max_length=200)
    base_config = models.JSONField(help_text="A run config (as for POST /api/v1/runs/).")
    space = models.JSONField(help_text="The search space: {param: {type, low, high, ...}}.")
    strategy = models.CharField(max_length=16, choices=SweepStrategy.choices)
    strategy_options = models.JSONField(default=dict, blank=True)
    objectives = models.JSONField(
        help_text='[{"metric": "val_accuracy", "direction": "maximize"}, ...] (first = primary).'
    )
    n_trials = models.PositiveIntegerField(null=True, blank=True)
    time_budget_s = models.PositiveIntegerField(null=True, blank=True)
    parallelism = models.PositiveSmallIntegerField(default=2)
    pruner = models.CharField(max_length=16, choices=SweepPruner.choices, default="none")
    seed = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=SweepStatus.choices, default=SweepStatus.QUEUED, db_index=True
    )
    next_number = models.PositiveIntegerField(default=0, help_text="The next trial number.")
    warm_start_runs = models.JSONField(default=list, blank=True, help_text="Run ids seeded in.")
    error_text = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class TrialState(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    PRUNED = "pruned", "Pruned"
    FAILED = "failed", "Failed"


class SweepTrial(models.Model):
    """One proposal of a sweep and its outcome; `run` trains it (none for warm-start trials
    told from existing runs' results)."""

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField()
    run = models.OneToOneField(
        "registry.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="trial"
    )
    params = models.JSONField()
    state = models.CharField(
        max_length=16, choices=TrialState.choices, default=TrialState.RUNNING, db_index=True
    )
    values = models.JSONField(
        null=True, blank=True, help_text="One value per objective, once complete."
    )
    # values[0] as a column the database computes (on every write, bulk ones too) and indexes:
    # the best trial is then one walk of an index rather than a scan of every trial's JSON.
    primary_value = models.GeneratedField(
        expression=Cast(KT("values__0"), models.FloatField()),
        output_field=models.FloatField(),
        db_persist=True,
    )
    intermediate = models.JSONField(
        default=dict, blank=True, help_text="{step: value} of the primary objective."
    )
    pruned_at_step = models.IntegerField(null=True, blank=True)
    warm_start = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sweep", "number"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "number"], name="sweep_trial_unique_number")
        ]
        indexes = [
            models.Index(fields=["sweep", "state"], name="trial_by_state"),
            models.Index(fields=["sweep", "state", "primary_value"], name="trial_by_value"),
        ]

    def __str__(self) -> str:
        return f"trial {self.number} of sweep {self.sweep_id} ({self.state})"
