"""One prediction request, from the API or a page's "try it" panel: pick the version and the
runtime, bound the body, ask the host, log a sample for drift monitoring, count the try.

Bad input is a 400 whose `errors` name each field (`inputs[2].petal_width`); nothing is logged
or counted for it. The runtime (`?runtime=`) is `auto` (the default: the version's ONNX export
in ONNX Runtime when it has a checked one, else in-process), `in-process` (PyTorch or
scikit-learn) or `onnx`; asking a version without an export for `onnx` is the caller's mistake,
a 400 on `runtime`. The answer names the runtime that answered.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ValidationError

from gallery import model_selectors
from gallery.hosting import (
    HOST_STRATEGIES,
    InProcessHost,
    OnnxRuntimeHost,
    host_for,
    serves_onnx,
)
from pipelines.brushes import BrushChain, BrushStateError
from pipelines.publishing import version_model_files
from pipelines.serving import InputError, InputSignature, ModelLoadError
from pipelines.serving.gaps import nullable_columns
from pipelines.serving.onnx_runtime import OnnxExportMissing
from pipelines.serving.predictor import CHAIN_PATH
from registry import artifact_store, services
from registry.errors import RegistryError
from registry.ingest.limits import describe_bytes
from registry.models import ModelVersion, RegisteredModel
from registry.services.published import PRODUCTION, check_alias_name

logger = logging.getLogger("canvascraft.gallery")


class ModelUnavailable(RegistryError):
    """A version whose files cannot be loaded (damaged, or not what its signature says)."""

    http_status = 503
    code = "model_unavailable"


_request_counter = itertools.count()


class TryCounter:
    """Each model's "tried" counter, added up in this process and written at most once per
    PREDICTION_COUNT_FLUSH_S: one UPDATE per model per second, not one per request (a
    process that dies loses at most that second's count)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[int, int] = {}
        self.flushed_at = 0.0

    def add(self, model_id: int, count: int) -> dict[int, int] | None:
        """Adds the count; returns the counts due to be written (`write`), if a flush is due."""
        with self.lock:
            self.pending[model_id] = self.pending.get(model_id, 0) + count
            now = time.monotonic()
            if now - self.flushed_at < settings.PREDICTION_COUNT_FLUSH_S:
                return None
            pending, self.pending, self.flushed_at = self.pending, {}, now
        return pending

    @staticmethod
    def write(pending: dict[int, int]) -> None:
        for model_id, count in pending.items():
            services.model_count_predictions(model_id=model_id, count=count)


class LogBudget:
    """At most PREDICTION_LOG_MAX_PER_S logged requests a second in this process: every try
    of a quiet studio is logged, a busy endpoint is sampled rather than slowed by writes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.second = 0
        self.used = 0

    def take(self) -> bool:
        with self.lock:
            second = int(time.monotonic())
            if second != self.second:
                self.second, self.used = second, 0
            if self.used >= settings.PREDICTION_LOG_MAX_PER_S:
                return False
            self.used += 1
            return True


_tries = TryCounter()
_log_budget = LogBudget()


def _outputs(
    model: RegisteredModel, version: ModelVersion, inputs: list[Any], runtime: str
) -> tuple[str, list[dict[str, Any]]]:
    """(the runtime that answered, the predictions). `auto` asks the ONNX export when the
    version has a checked one that answers as Python does (`serves_onnx`: an exact export, or
    a continuous model; the same answers within 1e-6, several times cheaper for small models,
    ~30x for a 100-tree forest) and the in-process model otherwise, or when the export cannot
    be loaded."""
    if runtime != AUTO:
        return runtime, host_for(runtime).predict(version, inputs)
    if serves_onnx(version):
        try:
            return OnnxRuntimeHost.name, host_for(OnnxRuntimeHost.name).predict(version, inputs)
        except (ModelLoadError, artifact_store.BlobDamaged) as error:
            logger.warning(
                "%s version %s: its ONNX export cannot serve (%s); answering in-process",
                model.name,
                version.number,
                error,
            )
    return InProcessHost.name, host_for(InProcessHost.name).predict(version, inputs)


def check_body_size(content_length: str | None) -> None:
    """Refuses a declared body over PREDICT_MAX_BODY_BYTES before it is read."""
    try:
        declared = int(content_length or 0)
    except ValueError:
        declared = 0
    limit = settings.PREDICT_MAX_BODY_BYTES
    if declared > limit:
        raise ValidationError(
            {
                "inputs": [
                    f"the request body is {describe_bytes(declared)}; a prediction request is "
                    f"at most {describe_bytes(limit)} (send fewer or smaller inputs)"
                ]
            }
        )


def chosen_version(
    model: RegisteredModel, query: Mapping[str, str]
) -> tuple[ModelVersion, str | None]:
    """(version, alias) from `?version=n` or `?alias=name` (default `production`)."""
    if query.get("version"):
        if query.get("alias"):
            raise ValidationError({"version": ["give an alias or a version, not both"]})
        return model_selectors.version_of(model, query["version"]), None
    alias = check_alias_name(query.get("alias") or PRODUCTION)
    return model_selectors.version_for_alias(model, alias), alias


AUTO = "auto"
RUNTIMES = (AUTO, *(strategy.name for strategy in HOST_STRATEGIES))


def chosen_runtime(query: Mapping[str, str]) -> str:
    """The runtime named by `?runtime=` (default auto); a 400 on `runtime` for others."""
    runtime = query.get("runtime") or AUTO
    if runtime not in RUNTIMES:
        raise ValidationError(
            {"runtime": [f"unknown runtime {runtime[:40]!r}; use one of {', '.join(RUNTIMES)}"]}
        )
    return runtime


def predict(
    model: RegisteredModel,
    version: ModelVersion,
    inputs: list[Any],
    *,
    alias: str | None,
    runtime: str = AUTO,
) -> dict[str, Any]:
    """The response body: which version and runtime answered, and one prediction per input."""
    body, bookkeeping = predict_then_record(model, version, inputs, alias=alias, runtime=runtime)
    if bookkeeping is not None:
        bookkeeping()
    return body


def predict_then_record(
    model: RegisteredModel,
    version: ModelVersion,
    inputs: list[Any],
    *,
    alias: str | None,
    runtime: str = AUTO,
) -> tuple[dict[str, Any], Callable[[], None] | None]:
    """`predict`'s body, and the database writes still to do for it (None when none are due:
    most requests under load), for a caller that must not use the database where it predicts
    (the predict lane's event loop) or should not wait for them. The prediction itself reads
    nothing from the database once the version's model is loaded."""
    if len(inputs) > settings.PREDICT_MAX_INPUTS:
        raise ValidationError(
            {"inputs": [f"{len(inputs)} inputs; at most {settings.PREDICT_MAX_INPUTS} a request"]}
        )
    started = time.perf_counter()
    try:
        runtime, outputs = _outputs(model, version, inputs, runtime)
    except InputError as error:
        raise ValidationError(error.by_field()) from None
    except OnnxExportMissing as error:
        raise ValidationError(
            {
                "runtime": [
                    f"{model.name} {error}; ask runtime {InProcessHost.name!r}, or re-export "
                    f"it with `manage.py export_onnx` ({OnnxRuntimeHost.name!r} needs an export)"
                ]
            }
        ) from None
    except (ModelLoadError, artifact_store.BlobDamaged) as error:
        logger.error("%s version %s cannot serve: %s", model.name, version.number, error)
        raise ModelUnavailable(
            f"{model.name} version {version.number} cannot be loaded ({error}); "
            "an operator has been told"
        ) from None
    latency_ms = 1000 * (time.perf_counter() - started)
    counts = _tries.add(model.pk, len(inputs))
    logged = next(_request_counter) % settings.PREDICTION_LOG_EVERY == 0 and _log_budget.take()
    body = {
        "model": model.name,
        "version": version.number,
        "alias": alias,
        "runtime": runtime,
        "predictions": outputs,
    }
    if counts is None and not logged:
        return body, None

    def bookkeeping() -> None:
        if counts is not None:
            TryCounter.write(counts)
        if logged:
            services.prediction_log(
                version=version,
                alias=alias or "",
                inputs=inputs,
                outputs=outputs,
                latency_ms=latency_ms,
                keep=settings.PREDICTION_LOG_KEEP,
            )

    return body, bookkeeping


MISSING_ALLOWED_CACHE_SIZE = 1024
_missing_allowed: OrderedDict[int, list[str]] = OrderedDict()
_missing_allowed_lock = threading.Lock()


def missing_allowed(version: ModelVersion) -> list[str]:
    """The table columns a prediction request may leave empty (`null`) for `version`: those
    its fitted brushes fill in (`pipelines.serving.gaps`, the rule every runtime applies), as
    the export at publish recorded them in `lineage["onnx"]`; for a version exported before
    that, read from its `model/brushes.zip` once per process (a version never changes, so an
    entry never goes stale). [] for images and audio, and for brushes that cannot be read (a
    prediction then says why)."""
    if (version.signature or {}).get("modality") != "tabular":
        return []
    recorded = ((version.lineage or {}).get("onnx") or {}).get("missing_allowed")
    if isinstance(recorded, list):  # recorded by the export at publish: no file to read
        return list(recorded)
    with _missing_allowed_lock:
        if version.pk in _missing_allowed:
            _missing_allowed.move_to_end(version.pk)
            return list(_missing_allowed[version.pk])
    try:
        chain = BrushChain.from_bytes(version_model_files(version, only={CHAIN_PATH})[CHAIN_PATH])
        columns = nullable_columns(InputSignature.from_dict(version.signature), chain)
    except (
        KeyError,
        ValueError,
        OSError,
        BrushStateError,
        RegistryError,
        artifact_store.BlobDamaged,
    ) as error:
        logger.warning("version %s: its brushes cannot be read (%s)", version.pk, error)
        return []
    with _missing_allowed_lock:
        _missing_allowed[version.pk] = columns
        while len(_missing_allowed) > MISSING_ALLOWED_CACHE_SIZE:
            _missing_allowed.popitem(last=False)
    return list(columns)
