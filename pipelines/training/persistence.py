"""Saving and loading trained models without pickle (DESIGN.md section 5).

A model is two files: `model.json` (template, params, labels, shapes, target scaling, history)
and either `weights.pt` (a torch state_dict, loaded with ``weights_only=True``) or `model.skops`
(a scikit-learn estimator in skops' format). Loading rebuilds the network from the template and
the JSON, so the weights file never decides what code runs; skops files are audited against an
allow-list before skops builds anything (`skops_files`).
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from pipelines.training.errors import ModelFileError, TemplateConfigError
from pipelines.training.skops_files import load_estimator
from pipelines.training.templates import SklearnTemplate, TorchTemplate, check_params, get_template

if TYPE_CHECKING:
    from pipelines.training.model import TrainedModel

FORMAT_VERSION = 1
MODEL_JSON = "model.json"
FILES_OF_FAMILY = {"torch": "weights.pt", "sklearn": "model.skops"}
# What model.json must hold before anything is built from it.
DESCRIPTION_SCHEMA = {
    "type": "object",
    "required": [
        "format_version",
        "template_name",
        "params",
        "task",
        "label_names",
        "feature_names",
        "input_shape",
        "target_mean",
        "target_std",
        "best_epoch",
        "history",
    ],
    "properties": {
        "template_name": {"type": "string"},
        "params": {"type": "object"},
        "task": {"enum": ["classification", "regression"]},
        "label_names": {"type": "array", "items": {"type": "string"}},
        "feature_names": {"type": "array", "items": {"type": "string"}},
        "input_shape": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "minItems": 1,
            "maxItems": 3,
        },
        "target_mean": {"type": "number"},
        "target_std": {"type": "number", "exclusiveMinimum": 0},
        "best_epoch": {"type": "integer", "minimum": 0},
        "history": {"type": "array", "items": {"type": "object"}},
    },
}


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
    try:
        template = get_template(description["template_name"])
        params = check_params(template.name, description["params"], task=description["task"])
    except TemplateConfigError as error:
        raise ModelFileError(f"{MODEL_JSON} holds an invalid {error.param}: {error}") from error
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
        loaded["estimator"] = load_estimator(template, files[FILES_OF_FAMILY["sklearn"]])
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
    if not isinstance(description, dict) or "format_version" not in description:
        raise ModelFileError(f"{MODEL_JSON} must be an object with a format_version")
    if description["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"{MODEL_JSON} has format version {description['format_version']!r}; this code "
            f"reads version {FORMAT_VERSION}"
        )
    error = best_match(Draft202012Validator(DESCRIPTION_SCHEMA).iter_errors(description))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the document"
        raise ModelFileError(f"{MODEL_JSON} is malformed at {where}: {error.message}")
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
