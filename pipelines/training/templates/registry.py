"""The lookup of model templates by name, as used by the trainer, pages and the API.

Built-in templates register themselves when `pipelines.training.templates` is imported; a new
template only needs the `@register` decorator to appear in `list_templates()` and so in the
contract test suite.
"""

from __future__ import annotations

import copy
from typing import Any, TypedDict, TypeVar

from jsonschema import Draft202012Validator

from pipelines.training.errors import TemplateConfigError
from pipelines.training.params import validate_params
from pipelines.training.templates.base import FAMILIES, MODALITIES, TASKS, ModelTemplate

TemplateClass = TypeVar("TemplateClass", bound=type[ModelTemplate])

_TEMPLATES: dict[str, type[ModelTemplate]] = {}


class TemplateInfo(TypedDict):
    """What pages and `GET /api/v1/templates/` show about one template."""

    name: str
    family: str
    modalities: list[str]
    tasks: list[str]
    description: str
    param_schema: dict[str, Any]
    default_timeout_s: int


def register(template: TemplateClass) -> TemplateClass:
    """Class decorator: checks the class against the contract and makes it known by its name."""
    _check_template_class(template)
    existing = _TEMPLATES.get(template.name)
    if existing is not None and existing is not template:
        raise TemplateConfigError(
            f"template name {template.name!r} is already taken by {existing.__qualname__}",
            param="template",
        )
    _TEMPLATES[template.name] = template
    return template


def get_template(name: str) -> type[ModelTemplate]:
    """The template registered under `name`; TemplateConfigError lists the known names if none."""
    try:
        return _TEMPLATES[name]
    except (KeyError, TypeError):
        raise TemplateConfigError(
            f"unknown template {name!r}; known templates: {', '.join(sorted(_TEMPLATES))}",
            param="template",
        ) from None


def check_params(
    template_name: str,
    params: dict[str, Any],
    *,
    task: str | None = None,
    modality: str | None = None,
) -> dict[str, Any]:
    """`params` validated for the template and completed with its defaults.

    With `task` and `modality` given (as a request that names its dataset can), the template
    must accept them and rules that depend on the task are checked too (an early-stopping metric
    of the other task), so a bad request fails before a run is queued. Raises
    `TemplateConfigError` whose `param` names the offending field.
    """
    template = get_template(template_name)
    template.check_data_fits(modality, task)
    completed = validate_params(template.name, template.param_schema, params)
    template.check_param_combination(completed, task)
    return completed


def list_templates() -> list[TemplateInfo]:
    """Every registered template, torch first then scikit-learn, by name; JSON-able."""
    ordered = sorted(_TEMPLATES.values(), key=lambda item: (item.family != "torch", item.name))
    return [
        TemplateInfo(
            name=template.name,
            family=template.family,
            modalities=sorted(template.modalities),
            tasks=sorted(template.tasks),
            description=template.description,
            param_schema=copy.deepcopy(template.param_schema),
            default_timeout_s=template.default_timeout_s,
        )
        for template in ordered
    ]


def _check_template_class(template: type[ModelTemplate]) -> None:
    """Refuses a class that breaks the contract, at registration instead of at first use."""
    label = getattr(template, "name", template.__qualname__)
    problems = []
    if not getattr(template, "name", "") or not template.name.isidentifier():
        problems.append("`name` must be a snake_case identifier")
    if getattr(template, "family", None) not in FAMILIES:
        problems.append(f"`family` must be one of {', '.join(sorted(FAMILIES))}")
    if not template.modalities or not template.modalities <= MODALITIES:
        problems.append(f"`modalities` must be a non-empty subset of {sorted(MODALITIES)}")
    if not template.tasks or not template.tasks <= TASKS:
        problems.append(f"`tasks` must be a non-empty subset of {sorted(TASKS)}")
    if not getattr(template, "description", "").endswith("."):
        problems.append("`description` must be a sentence")
    schema = template.param_schema
    if schema.get("additionalProperties") is not False:
        problems.append("`param_schema` must have additionalProperties false")
    Draft202012Validator.check_schema(schema)
    missing = [key for key, spec in schema["properties"].items() if "default" not in spec]
    if missing:
        problems.append(f"params without a default: {', '.join(missing)}")
    if problems:
        raise TemplateConfigError(f"template {label}: " + "; ".join(problems), param="template")
    validate_params(template.name, schema, {})  # the defaults themselves must be valid
