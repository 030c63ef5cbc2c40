"""Validation of a training request, before a run is queued.

Everything a worker would trip over later (an unknown template, a target column that is not
there, a parameter out of range, brushes of the wrong kind) is refused here, with the field to
blame, so a bad request never becomes a failed run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from pipelines.brushes import BrushChain, BrushError
from pipelines.training.templates import TemplateConfigError, check_params, get_template
from registry import dataset_selectors
from registry.errors import InvalidInput, NotFound
from registry.models import DatasetVersion, DeviceClass, Modality

TASKS = ("classification", "regression")
DEVICES = ("cpu", "gpu", "auto")
KNOWN_KEYS = {
    "dataset_version",
    "target",
    "task",
    "template",
    "brushes",
    "params",
    "device",
    "seed",
    "validation_fraction",
    "test_fraction",
    "timeout_s",
    "max_attempts",
}


@dataclass(frozen=True)
class RunConfig:
    """A checked training request, stored on the run as plain JSON."""

    dataset_version: int
    task: str
    template: str
    brushes: list[dict]
    params: dict[str, Any]
    device: str = "auto"
    target: str | None = None
    seed: int = 0
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    timeout_s: int = 0
    max_attempts: int = 3
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    @property
    def device_class(self) -> str:
        if self.device == "auto":
            return settings.AUTO_DEVICE_CLASS
        return DeviceClass.GPU if self.device == "gpu" else DeviceClass.CPU


def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"{name}: {message}", field=f"config.{name}")


def default_brushes(version: DatasetVersion) -> list[dict]:
    """Sensible preprocessing for each kind of data when the request names none."""
    modality = version.dataset.modality
    if modality == Modality.TABULAR:
        # Numbers get their mean, then text and categories their most frequent value, so
        # one_hot never meets a gap.
        return [
            {"name": "impute", "params": {"strategy": "mean"}},
            {"name": "impute", "params": {"strategy": "most_frequent"}},
            {"name": "one_hot", "params": {}},
            {"name": "standard_scaler", "params": {}},
        ]
    if modality == Modality.IMAGE:
        return [
            {"name": "image_resize", "params": {"height": 32, "width": 32}},
            {"name": "image_normalize", "params": {}},
        ]
    return [{"name": "audio_spectrogram", "params": {"sample_rate": version.sample_rate or 16000}}]


def _normalised_brushes(raw: Any, version: DatasetVersion) -> list[dict]:
    """Brushes as [{"name", "params"}]; settings may also sit beside the name."""
    if raw is None or raw == []:
        return default_brushes(version)
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise _invalid("brushes", "a list of {name, ...settings}")
    brushes = []
    for item in raw:
        params = item.get("params")
        if params is None:
            params = {key: value for key, value in item.items() if key != "name"}
        brushes.append({"name": item.get("name"), "params": dict(params)})
    for brush in brushes:
        if brush["name"] == "audio_spectrogram" or brush["name"] == "audio_mfcc":
            # Clips are resampled to the version's rate on read; the brush must agree.
            brush["params"].setdefault("sample_rate", version.sample_rate or 16000)
    try:
        chain = BrushChain.from_config(brushes)
    except BrushError as error:
        raise _invalid("brushes", str(error)) from None
    if chain.modality not in (None, version.dataset.modality):
        raise _invalid(
            "brushes", f"{chain.modality} brushes cannot paint a {version.dataset.modality} dataset"
        )
    return [dict(item) for item in chain.config()]


def _version(user, raw: Any) -> DatasetVersion:
    try:
        version = DatasetVersion.objects.select_related("dataset").get(pk=int(raw))
        dataset_selectors.dataset_for_user(user, version.dataset_id)
    except (DatasetVersion.DoesNotExist, TypeError, ValueError, OverflowError, NotFound):
        raise _invalid("dataset_version", f"no dataset version {raw!r} you can use") from None
    return version


def _fraction(raw: Mapping, name: str, default: float) -> float:
    value = raw.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 0.5:
        raise _invalid(name, "a fraction between 0 and 0.5")
    return float(value)


def check_run_config(*, user, raw: Any) -> tuple[RunConfig, DatasetVersion]:
    """The request checked and completed with defaults, and the dataset version it names."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("config must be an object", field="config")
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise _invalid(unknown[0], f"unknown setting; known: {', '.join(sorted(KNOWN_KEYS))}")
    version = _version(user, raw.get("dataset_version"))
    modality = version.dataset.modality
    task = raw.get("task")
    if task not in TASKS:
        raise _invalid("task", "classification or regression")
    try:
        template = get_template(str(raw.get("template")))
    except TemplateConfigError as error:
        raise _invalid("template", str(error)) from None
    if modality not in template.modalities:
        raise _invalid("template", f"{template.name} does not train on {modality} data")
    if task not in template.tasks:
        raise _invalid("template", f"{template.name} does not do {task}")
    target = raw.get("target")
    if modality == Modality.TABULAR:
        columns = [column["name"] for column in version.schema.get("columns", [])]
        if target not in columns:
            raise _invalid("target", f"pick one of the columns: {', '.join(columns)}")
    elif target is not None:
        raise _invalid(
            "target", "only tables have a target column; images and sounds use their classes"
        )
    elif task == "regression":
        raise _invalid("task", f"{modality} datasets are labelled by class: use classification")
    try:
        params = check_params(
            template.name, dict(raw.get("params") or {}), task=task, modality=modality
        )
    except TemplateConfigError as error:
        raise InvalidInput(
            f"params.{error.param}: {error}", field=f"config.params.{error.param}"
        ) from None
    device = raw.get("device", "auto")
    if device not in DEVICES:
        raise _invalid("device", "cpu, gpu or auto")
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
        raise _invalid("seed", "an integer from 0 to 2^31 - 1")
    timeout_s = raw.get("timeout_s", template.default_timeout_s)
    if (
        not isinstance(timeout_s, int)
        or isinstance(timeout_s, bool)
        or not 10 <= timeout_s <= 7 * 86400
    ):
        raise _invalid("timeout_s", "seconds, from 10 to 604800")
    max_attempts = raw.get("max_attempts", 3)
    if (
        not isinstance(max_attempts, int)
        or isinstance(max_attempts, bool)
        or not 1 <= max_attempts <= 10
    ):
        raise _invalid("max_attempts", "from 1 to 10")
    config = RunConfig(
        dataset_version=version.pk,
        task=task,
        template=template.name,
        brushes=_normalised_brushes(raw.get("brushes"), version),
        params=params,
        device=device,
        target=target,
        seed=seed,
        validation_fraction=_fraction(raw, "validation_fraction", 0.15),
        test_fraction=_fraction(raw, "test_fraction", 0.15),
        timeout_s=timeout_s,
        max_attempts=max_attempts,
    )
    return config, version
