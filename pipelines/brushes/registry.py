"""The lookup of brushes by name, as used by chains, configs, pages and the API.

Built-in brushes register themselves when `pipelines.brushes` is imported; a new brush only needs
the `@register` decorator to appear in `list_brushes()` (and so in the contract test suite).
"""

from __future__ import annotations

import copy
from typing import Any, TypedDict, TypeVar

from pipelines.brushes.base import PreprocessingBrush
from pipelines.brushes.errors import BrushConfigError
from pipelines.brushes.params import check_brush_class

BrushClass = TypeVar("BrushClass", bound=type[PreprocessingBrush])

_BRUSHES: dict[str, type[PreprocessingBrush]] = {}


class BrushInfo(TypedDict):
    """What pages and `GET /api/v1/brushes/` show about one brush."""

    name: str
    modality: str
    description: str
    training_only: bool
    config_schema: dict[str, Any]


class BrushConfig(TypedDict):
    """One brush of a stored chain: its registry name and its params."""

    name: str
    params: dict[str, Any]


def register(brush_class: BrushClass) -> BrushClass:
    """Class decorator: checks the class against the contract and makes it known by its name."""
    check_brush_class(brush_class)
    existing = _BRUSHES.get(brush_class.name)
    if existing is not None and existing is not brush_class:
        raise BrushConfigError(
            f"brush name {brush_class.name!r} is already taken by {existing.__qualname__}",
            brush_name=brush_class.name,
        )
    _BRUSHES[brush_class.name] = brush_class
    return brush_class


def get_brush_class(name: str) -> type[PreprocessingBrush]:
    """The brush class registered under `name`; BrushConfigError lists the known names if none."""
    try:
        return _BRUSHES[name]
    except (KeyError, TypeError):
        raise BrushConfigError(
            f"unknown brush {name!r}; known brushes: {', '.join(sorted(_BRUSHES))}",
            brush_name=name if isinstance(name, str) else None,
        ) from None


def brush_from_config(config: BrushConfig) -> PreprocessingBrush:
    """Builds an unfitted brush from {"name": ..., "params": {...}} (params may be left out)."""
    if not isinstance(config, dict) or set(config) - {"name", "params"} or "name" not in config:
        raise BrushConfigError(
            f"a brush config is an object with 'name' and optional 'params', got {config!r}"
        )
    params = config.get("params", {})
    if not isinstance(params, dict):
        raise BrushConfigError(
            f"{config['name']}: 'params' must be an object, got {type(params).__name__}",
            brush_name=config["name"],
        )
    return get_brush_class(config["name"])(**params)


def list_brushes() -> list[BrushInfo]:
    """Every registered brush, ordered by modality then name; safe to serialise as JSON."""
    return [
        BrushInfo(
            name=brush_class.name,
            modality=brush_class.modality,
            description=brush_class.description,
            training_only=brush_class.training_only,
            config_schema=copy.deepcopy(brush_class.config_schema),
        )
        for brush_class in sorted(_BRUSHES.values(), key=lambda item: (item.modality, item.name))
    ]
