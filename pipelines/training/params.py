"""Template params: JSON Schema helpers, validation and the "allowed values" wording of errors.

A template's params are its whole configuration, so they are a JSON Schema (draft 2020-12) that
pages render as a form and the API validates before a run is queued. Every property carries a
`default`, which is how a template called with no params gets its values. Same conventions as
the brushes' params (`pipelines/brushes/params.py`); kept separate so that the training core
does not import the brushes.
"""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from pipelines.training.errors import TemplateConfigError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def object_schema(properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The schema of a template's params: an object with exactly these properties, all optional."""
    return {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def integer_property(default: int, minimum: int, maximum: int, description: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": minimum,
        "maximum": maximum,
        "default": default,
        "description": description,
    }


def number_property(
    default: float,
    description: str,
    *,
    minimum: float | None = None,
    exclusive_minimum: float | None = None,
    maximum: float | None = None,
    exclusive_maximum: float | None = None,
) -> dict[str, Any]:
    bounds = {
        "minimum": minimum,
        "exclusiveMinimum": exclusive_minimum,
        "maximum": maximum,
        "exclusiveMaximum": exclusive_maximum,
    }
    return {
        "type": "number",
        **{key: value for key, value in bounds.items() if value is not None},
        "default": default,
        "description": description,
    }


def choice_property(default: str, choices: list[str], description: str) -> dict[str, Any]:
    return {"enum": choices, "default": default, "description": description}


def widths_property(default: list[int], description: str, maximum: int = 4096) -> dict[str, Any]:
    """Layer widths: a list of 1 to 8 integers, or one integer (expanded by the template)."""
    return {
        "type": ["integer", "array"],
        "minimum": 1,
        "maximum": maximum,
        "items": {"type": "integer", "minimum": 1, "maximum": maximum},
        "minItems": 1,
        "maxItems": 8,
        "default": default,
        "description": description,
    }


def allowed_values(spec: dict[str, Any]) -> str:
    """What a property accepts, in words, for error messages ("an integer from 1 to 500")."""
    if "enum" in spec:
        return "one of " + ", ".join(str(member) for member in spec["enum"])
    if "anyOf" in spec:
        return " or ".join(allowed_values(option) for option in spec["anyOf"])
    types = [spec["type"]] if isinstance(spec.get("type"), str) else list(spec.get("type", []))
    if "array" in types:
        single = allowed_values({**spec, "type": "integer"})
        return f"{single}, or a list of {spec['minItems']} to {spec['maxItems']} such integers"
    noun = "an integer" if "integer" in types else "a number"
    if "minimum" in spec and "maximum" in spec:
        text = f"{noun} from {spec['minimum']} to {spec['maximum']}"
    else:
        bounds = [
            f"{symbol} {spec[key]}"
            for key, symbol in (
                ("minimum", ">="),
                ("exclusiveMinimum", ">"),
                ("maximum", "<="),
                ("exclusiveMaximum", "<"),
            )
            if key in spec
        ]
        text = f"{noun} {' and '.join(bounds)}" if bounds else noun
    return f"{text}, or null" if "null" in types else text


def validate_params(
    template_name: str, schema: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """Checks `params` against `schema` and returns them completed with the defaults, each value in
    one canonical spelling. Raises `TemplateConfigError` naming the first offending param."""
    if not isinstance(params, dict):
        raise TemplateConfigError(
            f"{template_name}: params must be an object, got {type(params).__name__}",
            param="params",
        )
    properties = schema["properties"]
    unknown = sorted(set(params) - set(properties))
    if unknown:
        raise TemplateConfigError(
            f"{template_name}: unknown param {unknown[0]!r}; known params: "
            f"{', '.join(sorted(properties))}",
            param=unknown[0],
        )
    error = best_match(Draft202012Validator(schema).iter_errors(params))
    if error is not None:
        param = str(error.absolute_path[0]) if error.absolute_path else "params"
        allowed = allowed_values(properties[param]) if param in properties else "an object"
        raise TemplateConfigError(
            f"{template_name}: invalid param {param!r}: {error.message}; allowed: {allowed}",
            param=param,
        )
    completed = {key: copy.deepcopy(spec["default"]) for key, spec in properties.items()}
    completed.update(
        {key: _canonical(value, properties[key]) for key, value in copy.deepcopy(params).items()}
    )
    return completed


def _canonical(value: Any, spec: dict[str, Any]) -> Any:
    """One spelling per value (3.0 -> 3 for integers, 1 -> 1.0 for numbers, 64 -> [64] for
    widths), so equal configurations give equal JSON and compare equal across runs."""
    if "enum" in spec:
        return next(member for member in spec["enum"] if member == value)
    if "anyOf" in spec:
        option = next(o for o in spec["anyOf"] if Draft202012Validator(o).is_valid(value))
        return _canonical(value, option)
    types = [spec["type"]] if isinstance(spec.get("type"), str) else list(spec.get("type", []))
    if "array" in types:
        values = value if isinstance(value, list) else [value]
        return [int(item) for item in values]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if "integer" in types:
        return int(value)
    return float(value) if "number" in types else value
