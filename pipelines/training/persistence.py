"""Saving and loading trained models without pickle (DESIGN.md section 5).

A model is two files: `model.json` (template, params, labels, shapes, target scaling, history)
and either `weights.pt` (a torch state_dict, loaded with ``weights_only=True``) or `model.skops`
(a scikit-learn estimator in skops' format). Loading rebuilds the network from the template and
the JSON, so the weights file never decides what code runs. skops files are audited before
skops sees them: every node type must be on an explicit allow-list (plain containers, NumPy
arrays and scalars, and the scikit-learn types of that file's own template), and node kinds that
can name functions are refused outright.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

from pipelines.training.errors import ModelFileError, TemplateConfigError
from pipelines.training.templates import SklearnTemplate, TorchTemplate, check_params, get_template

if TYPE_CHECKING:
    from pipelines.training.model import TrainedModel

FORMAT_VERSION = 1
MODEL_JSON = "model.json"
FILES_OF_FAMILY = {"torch": "weights.pt", "sklearn": "model.skops"}
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


def model_to_files(model: TrainedModel) -> dict[str, bytes]:
    """The files of a model; see the module docstring."""
    description = {
        "format_version": FORMAT_VERSION,
        "family": model.family,
        "template_name": model.template_name,
        "params": model.params,
        "task": model.task,
        "label_names": model.label_names,
        "feature_names": model.feature_names,
        "input_shape": list(model.input_shape),
        "target_mean": model.target_mean,
        "target_std": model.target_std,
        "best_epoch": model.best_epoch,
        "history": model.history,
    }
    files = {MODEL_JSON: json.dumps(description, indent=2, allow_nan=False).encode()}
    if model.family == "torch":
        import torch

        buffer = io.BytesIO()
        state = {key: value.detach().cpu() for key, value in model.network.state_dict().items()}
        torch.save(state, buffer)
        files[FILES_OF_FAMILY["torch"]] = buffer.getvalue()
    else:
        import skops.io

        files[FILES_OF_FAMILY["sklearn"]] = skops.io.dumps(model.estimator)
    return files


def model_from_files(files: dict[str, bytes], *, device: str = "cpu") -> TrainedModel:
    """Loads `model_to_files` output; ModelFileError says what is wrong with anything else."""
    from pipelines.training.model import TrainedModel

    description = _description(files)
    template = get_template(description["template_name"])
    try:
        params = check_params(template.name, description["params"], task=description["task"])
    except TemplateConfigError as error:
        raise ModelFileError(f"{MODEL_JSON} holds invalid params: {error}") from error
    expected = {MODEL_JSON, FILES_OF_FAMILY[template.family]}
    if set(files) != expected:
        raise ModelFileError(
            f"a {template.family} model is the files {sorted(expected)}, got {sorted(files)}"
        )
    input_shape = tuple(description["input_shape"])
    n_outputs = len(description["label_names"]) if description["task"] == "classification" else 1
    loaded: dict[str, Any] = {"device": "cpu"}
    if issubclass(template, TorchTemplate):
        loaded["network"] = _network(template, params, input_shape, n_outputs, files, device)
        loaded["device"] = device
    elif issubclass(template, SklearnTemplate):
        loaded["estimator"] = _estimator(template, files[FILES_OF_FAMILY["sklearn"]])
    return TrainedModel(
        template_name=template.name,
        params=params,
        task=description["task"],
        label_names=description["label_names"],
        feature_names=description["feature_names"],
        input_shape=input_shape,
        target_mean=description["target_mean"],
        target_std=description["target_std"],
        history=description["history"],
        best_epoch=description["best_epoch"],
        **loaded,
    )


def _description(files: dict[str, bytes]) -> dict[str, Any]:
    if MODEL_JSON not in files:
        raise ModelFileError(f"the model files lack {MODEL_JSON}")
    try:
        description = json.loads(files[MODEL_JSON])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{MODEL_JSON} is not JSON: {error}") from error
    required = {"format_version", "template_name", "params", "task", "label_names"}
    required |= {"feature_names", "input_shape", "target_mean", "target_std", "history"}
    if not isinstance(description, dict) or not required <= set(description):
        raise ModelFileError(f"{MODEL_JSON} must be an object with {sorted(required)}")
    if description["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"{MODEL_JSON} has format version {description['format_version']!r}; this code "
            f"reads version {FORMAT_VERSION}"
        )
    description.setdefault("best_epoch", 0)
    return description


def _network(
    template: type[TorchTemplate],
    params: dict[str, Any],
    input_shape: tuple[int, ...],
    n_outputs: int,
    files: dict[str, bytes],
    device: str,
) -> Any:
    import torch

    try:
        network = template.build_network(params, input_shape, n_outputs)
        state = torch.load(
            io.BytesIO(files[FILES_OF_FAMILY["torch"]]), map_location="cpu", weights_only=True
        )
        network.load_state_dict(state, strict=True)
    except Exception as error:  # torch raises many kinds here (unpickling, zip, key, shape)
        raise ModelFileError(
            f"weights.pt cannot be loaded as this model's weights: {error}"
        ) from error
    return network.to(device).eval()


def _estimator(template: type[SklearnTemplate], data: bytes) -> Any:
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
