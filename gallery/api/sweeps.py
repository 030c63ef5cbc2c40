"""`/api/v1/sweeps/`: the caller's sweeps: create (and start), read with every trial, start,
stop, resume, parameter importances (docs/sweeps.md).

A sweep is seen only by its owner: anyone else's is a 404, as if it did not exist.
"""

from __future__ import annotations

import logging

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from gallery import sweep_selectors
from gallery.api.serializers import (
    SweepCreateSerializer,
    SweepDetailSerializer,
    SweepImportancesSerializer,
    SweepSerializer,
)
from registry import selectors
from registry.errors import InvalidInput, NotFound
from registry.models import Sweep, SweepStatus, SweepTrial, TrialState

logger = logging.getLogger("canvascraft.gallery")

MAX_ID = 2**63 - 1
IMPORTANCE_MAX_TRIALS = 2_000


def _sweep(user, pk) -> Sweep:
    text = str(pk)
    sweep = None
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        sweep = sweep_selectors.sweep_for_user(user, int(text))
    if sweep is None:
        raise NotFound(f"sweep {pk} not found", field="sweep")
    return sweep


def _records(trials: list[SweepTrial]):
    from pipelines.sweep_pruning import trial_record

    return [
        trial_record(trial.number, trial.params, trial.state, trial.values, trial.intermediate)
        for trial in trials
    ]


def _detail(sweep: Sweep) -> dict:
    """The sweep with its trials (one query), its best trial and Pareto front."""
    from pipelines import search

    trials = list(SweepTrial.objects.filter(sweep_id=sweep.pk).order_by("number"))
    records = _records(trials)
    directions = [objective["direction"] for objective in sweep.objectives]
    best_number = search.best_trial(records, directions)
    by_number = {trial.number: trial for trial in trials}
    counts = {state: 0 for state in TrialState.values}
    for trial in trials:
        counts[trial.state] += 1
    sweep.n_started = len(trials)
    sweep.n_complete = counts[TrialState.COMPLETE]
    sweep.n_done = len(trials) - counts[TrialState.RUNNING]
    context = {
        "trials": trials,
        "best_trial": by_number.get(best_number),
        "pareto": search.pareto_front(records, directions),
    }
    return SweepDetailSerializer(sweep, context=context).data


class SweepViewSet(viewsets.GenericViewSet):
    serializer_class = SweepSerializer
    queryset = Sweep.objects.none()  # for the schema; reads go through selectors

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=[choice.value for choice in SweepStatus]),
            OpenApiParameter("experiment", int, description="Only sweeps of this experiment."),
        ],
        responses=SweepSerializer(many=True),
    )
    def list(self, request):
        sweeps = sweep_selectors.sweeps_for_user(request.user)
        wanted_status = request.query_params.get("status")
        if wanted_status:
            if wanted_status not in SweepStatus.values:
                raise InvalidInput(
                    f"status: one of {', '.join(SweepStatus.values)}", field="status"
                )
            sweeps = sweeps.filter(status=wanted_status)
        experiment = request.query_params.get("experiment")
        if experiment is not None:
            if not (experiment.isascii() and experiment.isdigit() and int(experiment) <= MAX_ID):
                raise InvalidInput("experiment must be an id", field="experiment")
            sweeps = sweeps.filter(experiment_id=int(experiment))
        page = self.paginate_queryset(sweeps)
        return self.get_paginated_response(SweepSerializer(page, many=True).data)

    @extend_schema(request=SweepCreateSerializer, responses={201: SweepDetailSerializer})
    def create(self, request):
        """Creates a sweep and (unless `"start": false`) starts it: the first trials are queued
        before the answer comes."""
        from pipelines.sweeps import create_sweep

        serializer = SweepCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        experiment = selectors.experiment_for_user(request.user, data.pop("experiment"))
        sweep = create_sweep(owner=request.user, experiment=experiment, **data)
        return Response(_detail(sweep), status=status.HTTP_201_CREATED)

    @extend_schema(responses=SweepDetailSerializer)
    def retrieve(self, request, pk=None):
        return Response(_detail(_sweep(request.user, pk)))

    @extend_schema(request=None, responses=SweepDetailSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Starts a queued sweep."""
        from pipelines.sweeps import start_sweep

        sweep = start_sweep(sweep=_sweep(request.user, pk))
        return Response(_detail(_sweep(request.user, sweep.pk)))

    @extend_schema(request=None, responses=SweepDetailSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Launches no more trials and cancels the running ones (queued runs at once)."""
        from pipelines.sweeps import stop_sweep

        sweep = stop_sweep(sweep=_sweep(request.user, pk))
        return Response(_detail(_sweep(request.user, sweep.pk)))

    @extend_schema(request=None, responses=SweepDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Runs a stopped sweep again; trial numbers and the budget continue."""
        from pipelines.sweeps import resume_sweep

        sweep = resume_sweep(sweep=_sweep(request.user, pk))
        return Response(_detail(_sweep(request.user, sweep.pk)))

    @extend_schema(responses=SweepImportancesSerializer)
    @action(detail=True, methods=["get"])
    def importances(self, request, pk=None):
        """How much each param matters for the primary objective (Optuna's PED-ANOVA), from
        the complete trials ({} with fewer than 2)."""
        from pipelines import search

        sweep = _sweep(request.user, pk)
        complete = list(
            SweepTrial.objects.filter(sweep_id=sweep.pk, state=TrialState.COMPLETE).order_by(
                "number"
            )
        )
        importances = search.param_importances(
            sweep.space,
            _records(complete),
            direction=sweep.objectives[0]["direction"],
            max_trials=IMPORTANCE_MAX_TRIALS,
            seed=sweep.seed,
        )
        return Response({"importances": importances, "n_trials": len(complete)})
