"""Parse the run filter language of the experiment page and the API (plain Python, no Django).

    val_acc > 0.9 and params.optimizer = "adam" and status = succeeded

A bare name, or `metrics.<name>`, is a metric and compares its latest value; `params.<name>`
compares a param; `status` and `name` compare those attributes. Conditions are joined by `and`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Operator = Literal[">", ">=", "<", "<=", "=", "!="]
Target = Literal["metric", "param", "attribute"]

ATTRIBUTES = ("status", "name")
MAX_CONDITIONS = 10

_CONDITION = re.compile(
    r"""^\s*(?P<name>[A-Za-z0-9_.\-/:]+)\s*
        (?P<op>>=|<=|!=|==|=|>|<)\s*
        (?P<value>"[^"]*"|'[^']*'|[^\s"']+)\s*$""",
    re.VERBOSE,
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class FilterSyntaxError(ValueError):
    """The filter text cannot be parsed; the message says where and how to write it."""


@dataclass(frozen=True, slots=True)
class Condition:
    target: Target
    key: str
    operator: Operator
    value: float | str


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FilterSyntaxError(f"{name} compares with a number, not {text!r}") from None
    # nan/inf parse as floats but match nothing meaningful and cannot be sent to the database
    # inside JSON (params), so they are refused here rather than failing there.
    if not math.isfinite(value):
        raise FilterSyntaxError(f"{name} compares with a finite number, not {text!r}")
    return value


def _key(name: str, prefix: str) -> str:
    key = name.removeprefix(prefix)
    if not key:
        raise FilterSyntaxError(f"name a key after {prefix!r}, e.g. {prefix}lr")
    return key


def parse_condition(text: str) -> Condition:
    match = _CONDITION.match(text)
    if match is None:
        raise FilterSyntaxError(
            f"cannot read {text.strip()!r}: write <metric> <op> <number>, e.g. val_acc > 0.9 "
            "(ops: > >= < <= = !=)"
        )
    name, operator, raw_value = match["name"], match["op"], match["value"]
    operator = "=" if operator == "==" else operator
    quoted = raw_value[:1] in ("'", '"')
    value_text = raw_value[1:-1] if quoted else raw_value
    if name in ATTRIBUTES:
        if operator not in ("=", "!="):
            raise FilterSyntaxError(f"{name} can only be compared with = or !=")
        return Condition("attribute", name, operator, value_text)
    if name.startswith("params."):
        key = _key(name, "params.")
        if quoted:
            if operator not in ("=", "!="):
                raise FilterSyntaxError(f"text param {key!r} can only be compared with = or !=")
            return Condition("param", key, operator, value_text)
        try:
            float(value_text)
        except ValueError:
            if operator not in ("=", "!="):
                raise FilterSyntaxError(
                    f"text param {key!r} can only be compared with = or !="
                ) from None
            return Condition("param", key, operator, value_text)
        return Condition("param", key, operator, _number(value_text, f"param {key!r}"))
    key = _key(name, "metrics.") if name.startswith("metrics.") else name
    if quoted:
        raise FilterSyntaxError(f"metric {key!r} compares with a number, not text")
    return Condition("metric", key, operator, _number(value_text, f"metric {key!r}"))


def parse_filter(text: str) -> list[Condition]:
    """All conditions of a filter; an empty text is no condition."""
    if not text or not text.strip():
        return []
    parts = _AND.split(text.strip())
    if len(parts) > MAX_CONDITIONS:
        raise FilterSyntaxError(f"at most {MAX_CONDITIONS} conditions")
    return [parse_condition(part) for part in parts]


@dataclass(frozen=True, slots=True)
class Ordering:
    target: Target
    key: str
    descending: bool


def parse_ordering(text: str) -> Ordering | None:
    """`-metrics.val_acc`, `params.lr`, `created_at`, `name`… (a leading - sorts descending)."""
    if not text or not text.strip():
        return None
    text = text.strip()
    descending = text.startswith("-")
    name = text.lstrip("-")
    if name in ("created_at", "name", "status", "started_at", "ended_at", "id"):
        return Ordering("attribute", name, descending)
    if name.startswith("params."):
        return Ordering("param", _key(name, "params."), descending)
    if name.startswith("metrics."):
        return Ordering("metric", _key(name, "metrics."), descending)
    raise FilterSyntaxError(
        f"cannot sort by {name!r}: use metrics.<key>, params.<key>, name, status or created_at"
    )
