"""The scikit-learn "loop": one fit, reported as epoch 0 with the same metric names as torch.

scikit-learn fits cannot be interrupted, so `should_stop` is honoured before and after the fit;
the template's `default_timeout_s` bounds how long a fit may run. The checkpoint after the fit
holds the saved model files, so a run resumed after a crash in a later pipeline step does not fit
again.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from pipelines.training import checkpoints
from pipelines.training.callbacks import TrainingCallbacks
from pipelines.training.data import TrainingData, target_scaling
from pipelines.training.errors import TrainingStopped
from pipelines.training.model import TrainedModel
from pipelines.training.samples import model_predictions
from pipelines.training.templates import SklearnTemplate


def _check_stop(callbacks: TrainingCallbacks) -> None:
    reason = callbacks.should_stop()
    if reason is not None:
        raise TrainingStopped(reason)


def _metrics(model: TrainedModel, data: TrainingData) -> dict[str, float]:
    metrics = {
        "train_loss": model.loss(data.x_train, data.y_train),
        "val_loss": model.loss(data.x_val, data.y_val),
    }
    if data.task == "classification":
        metrics["train_accuracy"] = float(np.mean(model.predict(data.x_train) == data.y_train))
        metrics["val_accuracy"] = float(np.mean(model.predict(data.x_val) == data.y_val))
    else:
        errors = model.predict(data.x_val).astype(np.float64) - data.y_val
        metrics["val_rmse"] = float(np.sqrt(np.mean(np.square(errors))))
    return metrics


def train_sklearn(
    template: type[SklearnTemplate],
    params: dict[str, Any],
    data: TrainingData,
    *,
    seed: int,
    callbacks: TrainingCallbacks,
    resume_from: bytes | None = None,
) -> TrainedModel:
    """Fits a scikit-learn template on the flattened training split."""
    target_mean, target_std = target_scaling(data)
    identity = {
        "template_name": template.name,
        "params": params,
        "seed": seed,
        "task": data.task,
        "input_shape": list(data.input_shape),
        "n_training_samples": len(data.x_train),
    }
    if resume_from is not None:
        state = checkpoints.from_bytes(resume_from, expected=identity)
        callbacks.log(f"{template.name} was fitted before the interruption: reusing the fit")
        return TrainedModel.from_files(state["model_files"])
    _check_stop(callbacks)
    callbacks.log(
        f"fitting {template.name} on {len(data.x_train)} samples of "
        f"{int(np.prod(data.input_shape))} features"
    )
    started = time.perf_counter()
    features = data.x_train.reshape(len(data.x_train), -1)
    if data.task == "classification":
        targets = data.y_train
    else:
        targets = (data.y_train.astype(np.float64) - target_mean) / target_std
    estimator = template.build_estimator(params, data.task, seed).fit(features, targets)
    fit_s = time.perf_counter() - started
    _check_stop(callbacks)
    model = TrainedModel(
        template_name=template.name,
        params=params,
        task=data.task,
        label_names=data.label_names,
        feature_names=data.feature_names,
        input_shape=data.input_shape,
        estimator=estimator,
        target_mean=target_mean,
        target_std=target_std,
    )
    metrics = _metrics(model, data)
    metrics["samples_per_s"] = len(features) / max(fit_s, 1e-9)
    metrics["epoch_s"] = time.perf_counter() - started
    model.history = [metrics]
    callbacks.on_epoch_end(0, dict(metrics))
    if callbacks.sample_due(0, True):
        callbacks.on_sample(0, lambda indices: model_predictions(model, data.x_val[indices]))
    callbacks.save_checkpoint(
        checkpoints.to_bytes({**identity, "epoch": 0, "model_files": model.to_files()})
    )
    shown = " ".join(f"{name} {value:.4g}" for name, value in metrics.items())
    callbacks.log(f"fitted {template.name} in {fit_s:.2f} s: {shown}")
    return model
