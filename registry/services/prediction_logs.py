"""Writes for what predictions leave behind: the model's "tried" counter and the bounded,
sampled log of requests that drift monitoring reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F

from registry.models import ModelVersion, PredictionLog, RegisteredModel


def model_count_predictions(*, model_id: int, count: int) -> None:
    """Adds to a model's "tried" counter (one UPDATE; the gallery sorts by it)."""
    RegisteredModel.objects.filter(pk=model_id).update(n_predictions=F("n_predictions") + count)


MAX_LOGGED_INPUTS = 16
TRIM_EVERY = 100


def _summarise_inputs(inputs: Sequence[Any]) -> dict[str, Any]:
    """What the drift checks read of a request, bounded: table rows as sent (the first 16),
    files by their size only (the bytes are the creator's, and large)."""
    head = list(inputs[:MAX_LOGGED_INPUTS])
    if all(isinstance(item, dict) for item in head):
        return {"kind": "rows", "rows": head}
    return {"kind": "files", "sizes": [len(item) if isinstance(item, str) else 0 for item in head]}


def prediction_log(
    *,
    version: ModelVersion,
    alias: str,
    inputs: Sequence[Any],
    outputs: Sequence[dict[str, Any]],
    latency_ms: float,
    keep: int,
) -> PredictionLog:
    """Logs one request (its first 16 inputs and outputs); now and then drops the version's
    rows past the newest `keep`, so the log stays bounded without a job."""
    log = PredictionLog.objects.create(
        version=version,
        alias=alias[:50],
        n_inputs=len(inputs),
        inputs_summary=_summarise_inputs(inputs),
        outputs=list(outputs[:MAX_LOGGED_INPUTS]),
        latency_ms=float(latency_ms),
    )
    if log.pk % TRIM_EVERY == 0:
        cutoff = (
            PredictionLog.objects.filter(version=version)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[keep : keep + 1]
            .first()
        )
        if cutoff is not None:
            PredictionLog.objects.filter(version=version, id__lte=cutoff).delete()
    return log
