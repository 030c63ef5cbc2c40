"""Training entry point: `train` runs a template on `TrainingData` and returns a `TrainedModel`.

Metric names reported per epoch through `TrainingCallbacks.on_epoch_end` are stable, because
pages, comparisons and sweeps key on them:

- ``train_loss``, ``val_loss``: cross-entropy (classification; multiclass hinge for the SVM) or
  mean squared error of standardised targets (regression);
- ``train_accuracy``, ``val_accuracy`` (classification) or ``val_rmse`` (regression, in the
  target's units);
- ``learning_rate`` (torch only: the rate used during the epoch), ``samples_per_s`` (training
  throughput) and ``epoch_s`` (wall time of the epoch, validation included).

scikit-learn templates report once, as epoch 0. This module also re-exports what a pipeline step
needs, so that steps import one module.
"""

from __future__ import annotations

from typing import Any

from pipelines.training.callbacks import TrainingCallbacks
from pipelines.training.confusion_image import confusion_matrix_png
from pipelines.training.data import TrainingData
from pipelines.training.devices import configure_threads, pick_device
from pipelines.training.errors import TemplateConfigError, TrainingStopped
from pipelines.training.evaluation import confusion_matrix, evaluate, sample_predictions
from pipelines.training.model import TrainedModel
from pipelines.training.templates import SklearnTemplate, TorchTemplate, check_params, get_template

__all__ = [
    "TrainedModel",
    "TrainingCallbacks",
    "TrainingStopped",
    "configure_threads",
    "confusion_matrix",
    "confusion_matrix_png",
    "evaluate",
    "pick_device",
    "sample_predictions",
    "train",
]

MAX_SEED = 2**32 - 1  # NumPy's legacy global generator takes 32-bit seeds


def train(
    template_name: str,
    params: dict[str, Any],
    data: TrainingData,
    *,
    device: str,
    seed: int,
    callbacks: TrainingCallbacks,
    resume_from: bytes | None = None,
) -> TrainedModel:
    """Trains `template_name` with `params` (defaults filled in here) on `data`.

    `device` is a torch device string, as `pick_device` returns (scikit-learn templates always
    run on the CPU). `seed` (0 to 2**32 - 1) seeds everything random. `resume_from` is the last
    bytes given to `callbacks.save_checkpoint` by an interrupted run with the same template,
    params, seed and data; training continues after that epoch.

    Raises `TemplateConfigError` (bad template, params, or data the template does not take),
    `TrainingStopped` (should_stop asked for it), `TrainingDivergedError` (NaN loss) and
    `CheckpointError` (a checkpoint of another configuration). Thread counts are the caller's
    business: call `configure_threads` once per worker process.
    """
    template = get_template(template_name)
    template.check_data_fits(data.modality, data.task)
    completed = check_params(template_name, params, task=data.task)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise TemplateConfigError(f"seed must be an integer from 0 to {MAX_SEED}", param="seed")
    if issubclass(template, TorchTemplate):
        from pipelines.training.torch_loop import train_torch

        return train_torch(
            template,
            completed,
            data,
            device=device,
            seed=seed,
            callbacks=callbacks,
            resume_from=resume_from,
        )
    if issubclass(template, SklearnTemplate):
        from pipelines.training.sklearn_loop import train_sklearn

        return train_sklearn(
            template, completed, data, seed=seed, callbacks=callbacks, resume_from=resume_from
        )
    raise TemplateConfigError(f"template {template_name} has no training loop", param="template")
