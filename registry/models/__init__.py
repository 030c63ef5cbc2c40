"""The stored state of the studio: datasets, features, experiments, runs, metrics, artifacts
API tokens, the live event streams, sweeps and published models."""

from registry.models.artifacts import Artifact
from registry.models.datasets import Dataset, DatasetVersion, Modality, Visibility
from registry.models.experiments import Experiment
from registry.models.features import FeatureSet, RunFeatureUse
from registry.models.metrics import MetricPoint, MetricRollup, MetricSummary
from registry.models.published import (
    AliasMove,
    ModelAlias,
    ModelVersion,
    ModelVersionFile,
    PredictionLog,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
)
from registry.models.runs import DeviceClass, Run, RunStatus
from registry.models.streams import EventStream, StreamEvent
from registry.models.sweeps import (
    Sweep,
    SweepPruner,
    SweepStatus,
    SweepStrategy,
    SweepTrial,
    TrialState,
)
from registry.models.tokens import ApiToken
from registry.models.webhooks import DeliveryStatus, ModelWebhook, WebhookDelivery, WebhookEvent

__all__ = [
    "AliasMove",
    "ApiToken",
    "Artifact",
    "Dataset",
    "DatasetVersion",
    "DeliveryStatus",
    "DeviceClass",
    "EventStream",
    "Experiment",
    "FeatureSet",
    "MetricPoint",
    "MetricRollup",
    "MetricSummary",
    "Modality",
    "ModelAlias",
    "ModelVersion",
    "ModelVersionFile",
    "ModelWebhook",
    "PredictionLog",
    "PromotionRequest",
    "PromotionStatus",
    "RegisteredModel",
    "Run",
    "RunFeatureUse",
    "RunStatus",
    "StreamEvent",
    "Sweep",
    "SweepPruner",
    "SweepStatus",
    "SweepStrategy",
    "SweepTrial",
    "TrialState",
    "Visibility",
    "WebhookDelivery",
    "WebhookEvent",
]
