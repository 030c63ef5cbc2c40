"""The stored state of the studio: experiments, runs, metrics, artifacts and API tokens."""

from registry.models.artifacts import Artifact
from registry.models.experiments import Experiment
from registry.models.metrics import MetricPoint, MetricRollup, MetricSummary
from registry.models.runs import Run, RunStatus
from registry.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "Artifact",
    "Experiment",
    "MetricPoint",
    "MetricRollup",
    "MetricSummary",
    "Run",
    "RunStatus",
]
