"""The contract every model template keeps, and the two families that implement it.

A template is a named recipe for a model: which data it takes, its params as a JSON Schema with
defaults, and how to build the untrained network or estimator from those params. Templates hold
no state and are never instantiated: the registry hands out the classes, the trainer calls their
class methods, and a saved model names its template so that `from_files` can build it again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pipelines.training.errors import TemplateConfigError

if TYPE_CHECKING:
    from torch import nn

MODALITIES = frozenset({"tabular", "image", "audio"})
TASKS = frozenset({"classification", "regression"})
FAMILIES = frozenset({"torch", "sklearn"})
# Early-stopping metrics that only make sense for one task.
TASK_OF_METRIC = {"val_accuracy": "classification", "val_rmse": "regression"}


class ModelTemplate(ABC):
    """Abstract base of model templates.

    Contract:

    - Class attributes: ``name`` (registry key, snake_case), ``family`` ("torch" or "sklearn",
      which picks the training loop and the file format), ``modalities`` and ``tasks`` (the data
      it accepts), ``description`` (one sentence for pages), ``param_schema`` (JSON Schema draft
      2020-12: every property has a default and a description, ``additionalProperties`` is
      false, and the defaults alone are a valid configuration) and ``default_timeout_s`` (the
      wall-clock budget a run gets when the request names none). ``continuous`` is False for
      models whose output jumps at thresholds (trees): any rounding in an ONNX export can send
      an input on a split the other way, so such exports are served by default only when the
      export is marked exact (same features bit for bit, float64 thresholds).
    - ``check_param_combination(params, task)`` refuses rules that span several params or depend
      on the task (JSON Schema checks each param alone), raising ``TemplateConfigError`` with
      ``param`` set.
    - Each family adds one build method (``TorchTemplate.build_network``,
      ``SklearnTemplate.build_estimator``) that is a pure function of params and data shape:
      the same call in a later process gives the same architecture, which is what lets a saved
      model hold only weights and JSON.

    Lifecycle: ``@register`` checks the class at import -> ``check_params`` validates a request
    and fills in defaults (stored with the run) -> ``train`` checks the data against
    ``modalities``/``tasks``, builds, fits -> ``TrainedModel.to_files`` stores the template name,
    params and weights -> ``TrainedModel.from_files`` builds again and loads the weights.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    modalities: ClassVar[frozenset[str]]
    tasks: ClassVar[frozenset[str]]
    description: ClassVar[str]
    param_schema: ClassVar[dict[str, Any]]
    default_timeout_s: ClassVar[int]
    continuous: ClassVar[bool] = True

    @classmethod
    def check_param_combination(cls, params: dict[str, Any], task: str | None) -> None:
        """Refuses an early-stopping metric of the other task; templates may add rules."""
        metric = params.get("early_stopping_metric")
        needed_task = TASK_OF_METRIC.get(metric or "")
        if task is not None and needed_task is not None and needed_task != task:
            allowed = ["val_loss", *(m for m, t in TASK_OF_METRIC.items() if t == task)]
            raise TemplateConfigError(
                f"{cls.name}: invalid param 'early_stopping_metric': {metric} needs a "
                f"{needed_task} task, this one is {task}; allowed: one of {', '.join(allowed)}",
                param="early_stopping_metric",
            )

    @classmethod
    def check_data_fits(cls, modality: str | None, task: str | None) -> None:
        """Refuses data this template cannot train on, naming what it can (None: not known yet)."""
        if modality is not None and modality not in cls.modalities:
            raise TemplateConfigError(
                f"template {cls.name} takes {', '.join(sorted(cls.modalities))} data, this "
                f"dataset is {modality}",
                param="template",
            )
        if task is not None and task not in cls.tasks:
            raise TemplateConfigError(
                f"template {cls.name} does {', '.join(sorted(cls.tasks))}, not {task}",
                param="template",
            )


class TorchTemplate(ModelTemplate):
    """A PyTorch network trained by the epoch loop (`pipelines.training.torch_loop`).

    The network takes the batch exactly as the brushes produce it ((N, F) tables, (N, H, W, C)
    images, (N, n_mels, n_frames) spectrograms) and starts with an input-scaling layer whose
    statistics the trainer sets from the training split, so hosting and export need no separate
    preprocessing. It returns (N, n_outputs) logits, or (N, 1) standardised values for regression.
    """

    family = "torch"

    @classmethod
    @abstractmethod
    def build_network(
        cls, params: dict[str, Any], input_shape: tuple[int, ...], n_outputs: int
    ) -> nn.Module:
        """An untrained network for samples of `input_shape` (no batch axis); `params` come
        completed by `check_params` (layer widths always as lists)."""


class SklearnTemplate(ModelTemplate):
    """A scikit-learn estimator fitted once (`pipelines.training.sklearn_loop`).

    ``trusted_types`` lists the fully qualified scikit-learn types its fitted estimators contain:
    loading a saved model refuses any type outside it (plus plain Python and NumPy values), so a
    tampered file cannot make the loader build arbitrary objects.
    """

    family = "sklearn"
    modalities = frozenset({"tabular", "image"})
    default_timeout_s = 600
    trusted_types: ClassVar[frozenset[str]]

    @classmethod
    @abstractmethod
    def build_estimator(cls, params: dict[str, Any], task: str, seed: int) -> Any:
        """An unfitted estimator for `task`; inputs arrive as a 2-D float32 (N, features) array."""
