"""BrushChain: brushes of one modality applied in order, configured, hashed and saved as one unit.

The feature store caches the output of the deterministic brushes of a chain (keyed by
`deterministic_config_hash()`), and training applies the training-only brushes on top, afresh
each epoch. That only works if training-only brushes come last, so a chain refuses any other order.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self

from pipelines.brushes import archive, stored_state
from pipelines.brushes.base import PreprocessingBrush
from pipelines.brushes.errors import BrushConfigError, BrushStateError
from pipelines.brushes.registry import BrushConfig, brush_from_config


def _canonical_hash(configs: list[BrushConfig]) -> str:
    text = json.dumps(configs, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class BrushChain:
    """An ordered, immutable sequence of brushes of one modality; training-only brushes last.

    `fit` fits every brush on the output of the deterministic brushes before it; training-only
    brushes are fitted on the deterministic output and only run in `transform(..., training=True)`.
    An empty chain passes data through unchanged.
    """

    def __init__(self, brushes: Iterable[PreprocessingBrush] = ()) -> None:
        self.brushes: tuple[PreprocessingBrush, ...] = tuple(brushes)
        for index, brush in enumerate(self.brushes):
            if not isinstance(brush, PreprocessingBrush):
                raise BrushConfigError(
                    f"chain item {index} is a {type(brush).__name__}, not a brush"
                )
        modalities = sorted({brush.modality for brush in self.brushes})
        if len(modalities) > 1:
            raise BrushConfigError(f"a chain mixes modalities {modalities}; use one per chain")
        for before, after in zip(self.brushes, self.brushes[1:], strict=False):
            if before.training_only and not after.training_only:
                raise BrushConfigError(
                    f"training-only brush {before.name!r} comes before {after.name!r}: "
                    "training-only brushes must come last, because the feature store caches the "
                    "deterministic part and augmentation is applied per epoch on top of it",
                    brush_name=after.name,
                )

    @property
    def modality(self) -> str | None:
        """The modality of the brushes, or None for an empty chain."""
        return self.brushes[0].modality if self.brushes else None

    @property
    def deterministic_part(self) -> BrushChain:
        """The brushes that run at inference too (the same objects, not copies)."""
        return BrushChain(brush for brush in self.brushes if not brush.training_only)

    def fit(self, X: Any, y: Any = None) -> Self:
        """Fits each brush on the deterministic output before it; returns self."""
        data = X
        for index, brush in enumerate(self.brushes):
            if brush.training_only or index == len(self.brushes) - 1:
                brush.fit(data, y)
            else:
                data = brush.fit_transform(data, y)
        return self

    def transform(self, X: Any, *, training: bool = False) -> Any:
        """Runs the brushes in order; training-only ones only when `training` is True."""
        data = X
        for brush in self.brushes:
            if training or not brush.training_only:
                data = brush.transform(data)
        return data

    def fit_transform(self, X: Any, y: Any = None, *, training: bool = False) -> Any:
        """Fits the chain on X and returns X transformed, one pass over the deterministic part."""
        data = X
        for brush in self.brushes:
            if not brush.training_only:
                data = brush.fit_transform(data, y)
        training_brushes = [brush for brush in self.brushes if brush.training_only]
        for brush in training_brushes:
            brush.fit(data, y)
        if training:
            for brush in training_brushes:
                data = brush.transform(data)
        return data

    def config(self) -> list[BrushConfig]:
        """[{"name", "params"}, ...]: everything needed to rebuild the unfitted chain."""
        return [BrushConfig(name=brush.name, params=brush.config()) for brush in self.brushes]

    @classmethod
    def from_config(cls, configs: list[BrushConfig]) -> BrushChain:
        """Builds an unfitted chain from `config()` output; BrushConfigError names the bad item."""
        if not isinstance(configs, list):
            raise BrushConfigError(f"a chain config is a list, got {type(configs).__name__}")
        brushes = []
        for index, config in enumerate(configs):
            try:
                brushes.append(brush_from_config(config))
            except BrushConfigError as error:
                raise BrushConfigError(
                    f"chain item {index}: {error}", brush_name=error.brush_name, param=error.param
                ) from error
        return cls(brushes)

    def config_hash(self) -> str:
        """sha256 hex of the canonical JSON config: equal chains (defaults filled) hash equally."""
        return _canonical_hash(self.config())

    def deterministic_config_hash(self) -> str:
        """The hash of the deterministic part only: the feature store's cache key for the chain."""
        return self.deterministic_part.config_hash()

    def to_bytes(self) -> bytes:
        """The chain (configs and any fitted state) as one ZIP archive, without pickle."""
        return archive.pack(*stored_state.document_of(self.brushes))

    @classmethod
    def from_bytes(
        cls, data: bytes, *, max_unpacked_bytes: int = archive.DEFAULT_MAX_UNPACKED_BYTES
    ) -> BrushChain:
        """Rebuilds a chain saved by `to_bytes`; BrushStateError on anything it cannot trust."""
        document, arrays = archive.unpack(data, max_unpacked_bytes)
        try:
            chain = cls.from_config(stored_state.configs_of(document))
        except BrushConfigError as error:
            raise BrushStateError(f"the brush chain file cannot be loaded: {error}") from error
        stored_state.restore_states(chain.brushes, document, arrays)
        return chain

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes `to_bytes()` to `path` atomically: a reader never sees a half-written file."""
        target = Path(path)
        data = self.to_bytes()
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        max_unpacked_bytes: int = archive.DEFAULT_MAX_UNPACKED_BYTES,
    ) -> BrushChain:
        """Reads a chain written by `save`; BrushStateError if the file cannot be trusted."""
        size_bytes = Path(path).stat().st_size
        if size_bytes > max_unpacked_bytes:  # a ZIP is never larger than what it unpacks to
            raise BrushStateError(f"{path} has {size_bytes} bytes, over {max_unpacked_bytes}")
        return cls.from_bytes(Path(path).read_bytes(), max_unpacked_bytes=max_unpacked_bytes)

    def __len__(self) -> int:
        return len(self.brushes)

    def __iter__(self) -> Iterator[PreprocessingBrush]:
        return iter(self.brushes)

    def __repr__(self) -> str:
        return f"BrushChain([{', '.join(map(repr, self.brushes))}])"
