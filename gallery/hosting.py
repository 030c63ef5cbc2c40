"""Model hosting strategies: how a published version answers a prediction.

Contract (`ModelHostStrategy`): `predict(version, inputs)` validates the raw inputs against the
version's signature (`pipelines.serving.InputError` with field errors when they do not fit) and
returns one prediction per input, `{"label", "probabilities"}` or `{"value"}`; `warm(version)`
loads it ahead of the first request. Implementations are looked up by name (`host_for`).

`InProcessHost` keeps loaded versions in an LRU keyed by version id (a version never changes,
so an entry never goes stale); its files are read from the content-addressed store and checked
against their sha256 before anything is built from them. `OnnxRuntimeHost` does the same with
the version's ONNX export (`model/model.onnx`), run by ONNX Runtime: the file a browser runs with
onnxruntime-web, so the server can answer with exactly what the browser computes.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Any, ClassVar

from django.conf import settings

from pipelines.publishing import ONNX_PATHS, version_model_files
from pipelines.serving import Predictor
from pipelines.serving.onnx_runtime import OnnxExportMissing, OnnxPredictor
from pipelines.serving.predictor import CHAIN_PATH
from pipelines.training.errors import TemplateConfigError
from pipelines.training.templates import get_template
from registry.models import ModelVersion


class ModelHostStrategy(ABC):
    """How a published version answers predictions; one instance per process (`host_for`)."""

    name: ClassVar[str]

    @abstractmethod
    def predict(self, version: ModelVersion, inputs: list[Any]) -> list[dict[str, Any]]:
        """One prediction per input (InputError when the inputs do not fit the signature)."""

    def warm(self, version: ModelVersion) -> None:  # noqa: B027 (optional for a strategy)
        """Loads `version` ahead of its first request; a no-op where nothing is cached."""


class CachingHost(ModelHostStrategy):
    """A host that keeps the last `capacity` loaded versions in an LRU keyed by version id
    (a version never changes, so an entry never goes stale). Subclasses say how to `load`,
    and may add to the key what can change about a version (its ONNX export)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity or settings.MODEL_CACHE_SIZE
        self._predictors: OrderedDict[tuple[int, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    @abstractmethod
    def load(self, version: ModelVersion) -> Any:
        """A predictor for `version` (ModelLoadError when its files cannot serve)."""

    def cache_key(self, version: ModelVersion) -> tuple[int, str]:
        return (version.pk, "")

    def predictor(self, version: ModelVersion) -> Any:
        key = self.cache_key(version)
        with self._lock:
            predictor = self._predictors.get(key)
            if predictor is not None:
                self._predictors.move_to_end(key)
                return predictor
        # Loaded outside the lock: a slow load must not stall requests for other versions.
        predictor = self.load(version)
        with self._lock:
            self._predictors[key] = predictor
            self._predictors.move_to_end(key)
            while len(self._predictors) > self.capacity:
                self._predictors.popitem(last=False)
        return predictor

    def predict(self, version: ModelVersion, inputs: list[Any]) -> list[dict[str, Any]]:
        return self.predictor(version).predict(
            inputs,
            max_batch=settings.PREDICT_MAX_INPUTS,
            max_bytes=settings.PREDICT_MAX_FILE_BYTES,
        )

    def warm(self, version: ModelVersion) -> None:
        self.predictor(version)

    def cached_versions(self) -> list[int]:
        with self._lock:
            return [version_id for version_id, _export in self._predictors]


class InProcessHost(CachingHost):
    """PyTorch or scikit-learn in this process, on the CPU."""

    name = "in-process"

    def load(self, version: ModelVersion) -> Predictor:
        return Predictor.from_files(version_model_files(version), version.signature)


class OnnxRuntimeHost(CachingHost):
    """The version's ONNX export in ONNX Runtime, in this process, on the CPU (one thread per
    session). Raises OnnxExportMissing (a ModelLoadError) for a version without an export."""

    name = "onnx"

    def cache_key(self, version: ModelVersion) -> tuple[int, str]:
        """A re-export (`manage.py export_onnx`) replaces a version's export: the model's
        sha256, recorded in the lineage read with the version anyway, tells them apart."""
        return (version.pk, str((version.lineage or {}).get("onnx", {}).get("sha256", "")))

    def load(self, version: ModelVersion) -> OnnxPredictor:
        if not has_onnx_export(version):
            raise OnnxExportMissing(
                f"version {version.number} has no ONNX export "
                f"({(version.lineage or {}).get('onnx', {}).get('reason') or 'not exported'})"
            )
        # The weights stay in the store: the export holds the model, the chain the brushes.
        files = version_model_files(version, only={*ONNX_PATHS, CHAIN_PATH})
        return OnnxPredictor.from_files(files, version.signature)


def serves_onnx(version: ModelVersion) -> bool:
    """Whether the `auto` runtime answers with the version's ONNX export: it was made and
    passed its check (`lineage["onnx"]`, read with the version: no query), and either the
    export is exact (`exact`: the graph gives the core the Python chain's float32 features bit
    for bit and its trees compare in float64 as scikit-learn's do, so a tree takes the branch
    it takes in Python) or the model's output is continuous in its input (a network or a
    logistic regression, where a rounding moves the answer by ~1e-7). Exports made before
    `exact` existed took the table as float32 and are judged by the second rule alone: a
    standardised training value of 3e-16 rounded to exactly 0 there, the other side of a
    forest's split."""
    onnx = (version.lineage or {}).get("onnx", {})
    if onnx.get("status") != "ready":
        return False
    if onnx.get("exact") is True:
        return True
    try:
        return get_template((version.lineage or {}).get("template")).continuous
    except TemplateConfigError:
        return False


def has_onnx_export(version: ModelVersion) -> bool:
    """Whether the version holds an ONNX export (its files, prefetched or not, say so)."""
    return {file.path for file in version.files.all()} >= set(ONNX_PATHS)


HOST_STRATEGIES: tuple[type[ModelHostStrategy], ...] = (InProcessHost, OnnxRuntimeHost)
HOSTS: dict[str, ModelHostStrategy] = {}
_hosts_lock = threading.Lock()


def host_for(name: str = InProcessHost.name) -> ModelHostStrategy:
    """This process's host of that name (one instance each, so their caches are shared)."""
    with _hosts_lock:
        if name not in HOSTS:
            strategies = {strategy.name: strategy for strategy in HOST_STRATEGIES}
            if name not in strategies:
                raise ValueError(f"unknown host {name!r}; known: {', '.join(sorted(strategies))}")
            HOSTS[name] = strategies[name]()
        return HOSTS[name]
