"""The stored state of the studio: datasets, features, experiments, runs, metrics, artifacts
and API tokens."""

from registry.models.artifacts import Artifact
from registry.models.datasets import Dataset, DatasetVersion, Modality, Visibility
from registry.models.experiments import Experiment
from registry.models.features import FeatureSet, RunFeatureUse
from registry.models.metrics import MetricPoint, MetricRollup, MetricSummary
from registry.models.runs import DeviceClass, Run, RunStatus
from registry.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "Artifact",
    "Dataset",
    "DatasetVersion",
    "DeviceClass",
    "Experiment",
    "FeatureSet",
    "MetricPoint",
    "MetricRollup",
    "MetricSummary",
    "Modality",
    "Run",
    "RunFeatureUse",
    "RunStatus",
    "Visibility",
]
