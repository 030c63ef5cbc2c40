"""Loading scikit-learn estimators from skops files without trusting the file.

skops builds objects from a JSON schema inside a ZIP; by default it trusts every scikit-learn and
NumPy type. A saved model needs far fewer, so the schema is audited first, without building any
object: every node type must be on an explicit allow-list (plain containers, NumPy arrays and
scalars, and the scikit-learn types of that file's own template), and node kinds that can name
functions are refused outright. Only then does skops load it, trusting exactly that list.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from pipelines.training.errors import ModelFileError
from pipelines.training.templates import SklearnTemplate

PLAIN_TYPES = frozenset(
    {f"builtins.{name}" for name in ("dict", "list", "tuple", "str", "int", "float", "bool")}
    | {"numpy.ndarray", "numpy.dtype", "numpy.bool", "numpy.random._generator.Generator"}
    | {
        f"numpy.{kind}{bits}"
        for kind, sizes in (("float", (16, 32, 64)), ("int", (8, 16, 32, 64)))
        for bits in sizes
    }
    | {f"numpy.uint{bits}" for bits in (8, 16, 32, 64)}
)
# skops node kinds our estimators produce; FunctionNode, MethodNode, PartialNode, ReduceNode and
# friends could name arbitrary callables, so any other kind is refused.
ALLOWED_NODE_KINDS = frozenset(
    {
        "ObjectNode",
        "DictNode",
        "ListNode",
        "TupleNode",
        "JsonNode",
        "NdArrayNode",
        "TypeNode",
        "TreeNode",
        "LossNode",
        "RandomGeneratorNode",
    }
)


def load_estimator(template: type[SklearnTemplate], data: bytes) -> Any:
    """The estimator in a template's model.skops, after `audit_skops` passed it."""
    import skops.io

    allowed = PLAIN_TYPES | template.trusted_types
    root_type = audit_skops(data, allowed)
    if root_type not in template.trusted_types:
        raise ModelFileError(f"model.skops holds a {root_type}, not a {template.name} estimator")
    try:
        return skops.io.loads(data, trusted=sorted(allowed))
    except Exception as error:  # skops re-raises what the node loaders meet, of many kinds
        raise ModelFileError(f"model.skops cannot be loaded: {error}") from error


def audit_skops(data: bytes, allowed_types: frozenset[str]) -> str:
    """Checks every node of a skops file against `allowed_types` and `ALLOWED_NODE_KINDS`
    without building any object; returns the root type. Raises ModelFileError otherwise."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ModelFileError(
            f"model.skops is not a skops file (a pickle, perhaps?): {error}"
        ) from error
    found_types: set[str] = set()
    found_kinds: set[str] = set()
    _walk(schema, found_types, found_kinds)
    unexpected = sorted(found_types - allowed_types) + sorted(found_kinds - ALLOWED_NODE_KINDS)
    if unexpected:
        raise ModelFileError(
            f"model.skops holds types that are not on the allow-list: {', '.join(unexpected)}"
        )
    if not isinstance(schema, dict) or "__class__" not in schema:
        raise ModelFileError("model.skops has no root object")
    return f"{schema.get('__module__')}.{schema['__class__']}"


def _walk(node: Any, found_types: set[str], found_kinds: set[str]) -> None:
    if isinstance(node, dict):
        if "__class__" in node or "__module__" in node or "__loader__" in node:
            found_types.add(f"{node.get('__module__')}.{node.get('__class__')}")
            found_kinds.add(str(node.get("__loader__")))
        for value in node.values():
            _walk(value, found_types, found_kinds)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found_types, found_kinds)
