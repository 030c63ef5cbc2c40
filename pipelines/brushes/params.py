"""Constructor params of brushes: JSON Schema helpers and validation.

A brush's params are its whole configuration, so they are described by a JSON Schema (draft
2020-12) that pages render as a form and the API uses to validate a chain before anything runs.
Every property carries a `default`, which is how a brush built with no params gets its values.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from pipelines.brushes.errors import BrushConfigError

if TYPE_CHECKING:
    from pipelines.brushes.base import PreprocessingBrush

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# NumPy seeds must fit in 32 bits unsigned for legacy generators; keep the same range everywhere.
MAX_RANDOM_STATE = 2**32 - 1


def object_schema(properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The schema of a brush's params: an object with exactly these properties, all optional."""
    return {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def columns_property(default_meaning: str) -> dict[str, Any]:
    """The `columns` param of tabular brushes; `null` means "the columns that fit the brush"."""
    return {
        "type": ["array", "null"],
        "items": {"type": "string"},
        "uniqueItems": True,
        "default": None,
        "description": f"Columns to work on; null means {default_meaning}.",
    }


def random_state_property() -> dict[str, Any]:
    """The `random_state` param of random brushes: a fixed default so that no run is unseeded."""
    return {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_RANDOM_STATE,
        "default": 0,
        "description": "Seed of the brush's random stream; the same seed gives the same output.",
    }


@cache
def _validator(brush_class: type[PreprocessingBrush]) -> Draft202012Validator:
    return Draft202012Validator(brush_class.config_schema)


def validate_params(
    brush_class: type[PreprocessingBrush], params: dict[str, Any]
) -> dict[str, Any]:
    """Checks `params` against the brush's schema and returns them completed with the defaults.

    Raises `BrushConfigError` naming the brush and the first offending param.
    """
    properties = brush_class.config_schema["properties"]
    unknown = sorted(set(params) - set(properties))
    if unknown:
        raise BrushConfigError(
            f"{brush_class.name}: unknown param {unknown[0]!r}; "
            f"known params: {', '.join(sorted(properties))}",
            brush_name=brush_class.name,
            param=unknown[0],
        )
    error = best_match(_validator(brush_class).iter_errors(params))
    if error is not None:
        param = str(error.absolute_path[0]) if error.absolute_path else None
        raise BrushConfigError(
            f"{brush_class.name}: invalid param {param!r}: {error.message}",
            brush_name=brush_class.name,
            param=param,
        )
    completed = {key: copy.deepcopy(spec["default"]) for key, spec in properties.items()}
    completed.update(
        {key: _canonical(value, properties[key]) for key, value in copy.deepcopy(params).items()}
    )
    return completed


def _canonical(value: Any, property_schema: dict[str, Any]) -> Any:
    """One spelling per value (3.0 -> 3 for integers, 1 -> 1.0 for numbers), so equal configs
    give equal JSON and equal chain hashes."""
    if "enum" in property_schema:
        return next(member for member in property_schema["enum"] if member == value)
    if isinstance(value, list) and "items" in property_schema:
        return [_canonical(item, property_schema["items"]) for item in value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    types = _types(property_schema)
    if "integer" in types:
        return int(value)
    return float(value) if "number" in types else value


def _types(property_schema: dict[str, Any]) -> list[str]:
    declared = property_schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def check_brush_class(brush_class: type[PreprocessingBrush]) -> None:
    """Refuses a brush class that breaks the contract, at registration instead of at first use."""
    from pipelines.brushes.base import MODALITIES

    label = getattr(brush_class, "name", brush_class.__qualname__)
    problems = []
    if not getattr(brush_class, "name", "") or not brush_class.name.isidentifier():
        problems.append("`name` must be a non-empty snake_case identifier")
    if getattr(brush_class, "modality", None) not in MODALITIES:
        problems.append(f"`modality` must be one of {', '.join(MODALITIES)}")
    if not getattr(brush_class, "description", ""):
        problems.append("`description` must be a sentence")
    schema = getattr(brush_class, "config_schema", None)
    if not isinstance(schema, dict) or schema.get("additionalProperties") is not False:
        problems.append("`config_schema` must be an object schema with additionalProperties false")
    else:
        Draft202012Validator.check_schema(schema)
        for key, spec in schema.get("properties", {}).items():
            if "default" not in spec:
                problems.append(f"param {key!r} has no default")
            if key.endswith("_") or key.startswith("_"):
                problems.append(f"param {key!r} must not start or end with '_' (fitted state does)")
    if problems:
        raise BrushConfigError(f"brush {label}: " + "; ".join(problems), brush_name=label)
    brush_class()  # the defaults themselves must be a valid configuration
