"""Model hosting strategies: how a published version answers a prediction.

Contract (`ModelHostStrategy`): `predict(version, inputs)` validates the raw inputs against the
version's signature (`pipelines.serving.InputError` with field errors when they do not fit) and
returns one prediction per input, `{"label", "probabilities"}` or `{"value"}`; `warm(version)`
loads it ahead of the first request. Implementations are looked up by name (`host_for`).

`InProcessHost` keeps loaded versions in an LRU keyed by version id (a version never changes,
so an entry never goes stale); its files are read from the content-addressed store and checked
against their sha256 before anything is built from them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Any, ClassVar

from django.conf import settings

from pipelines.serving import Predictor
from registry import artifact_store
from registry.models import ModelVersion

MODEL_FILE_PREFIX = "model/"
MAX_MODEL_FILE_BYTES = 1024 * 1024 * 1024


class ModelHostStrategy(ABC):
    name: ClassVar[str]

    @abstractmethod
    def predict(self, version: ModelVersion, inputs: list[Any]) -> list[dict[str, Any]]:
        """One prediction per input (InputError when the inputs do not fit the signature)."""

    def warm(self, version: ModelVersion) -> None:  # noqa: B027 (optional for a strategy)
        """Loads `version` ahead of its first request; a no-op where nothing is cached."""


def version_model_files(version: ModelVersion) -> dict[str, bytes]:
    """The version's model files, each checked against its sha256 (BlobDamaged if not)."""
    return {
        file.path: artifact_store.read_checked(file.sha256, max_bytes=MAX_MODEL_FILE_BYTES)
        for file in version.files.all()
        if file.path.startswith(MODEL_FILE_PREFIX)
    }


class InProcessHost(ModelHostStrategy):
    """PyTorch or scikit-learn in this process, on the CPU."""

    name = "in-process"

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity or settings.MODEL_CACHE_SIZE
        self._predictors: OrderedDict[int, Predictor] = OrderedDict()
        self._lock = threading.Lock()

    def predictor(self, version: ModelVersion) -> Predictor:
        with self._lock:
            predictor = self._predictors.get(version.pk)
            if predictor is not None:
                self._predictors.move_to_end(version.pk)
                return predictor
        # Loaded outside the lock: a slow load must not stall requests for other versions.
        predictor = Predictor.from_files(version_model_files(version), version.signature)
        with self._lock:
            self._predictors[version.pk] = predictor
            self._predictors.move_to_end(version.pk)
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
            return list(self._predictors)


HOSTS: dict[str, ModelHostStrategy] = {}
_hosts_lock = threading.Lock()


def host_for(name: str = InProcessHost.name) -> ModelHostStrategy:
    """This process's host of that name (one instance each, so their caches are shared)."""
    with _hosts_lock:
        if name not in HOSTS:
            strategies = {strategy.name: strategy for strategy in (InProcessHost,)}
            if name not in strategies:
                raise ValueError(f"unknown host {name!r}; known: {', '.join(sorted(strategies))}")
            HOSTS[name] = strategies[name]()
        return HOSTS[name]
