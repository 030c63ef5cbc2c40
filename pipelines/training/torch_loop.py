"""The torch training loop: seeded epochs, validation, early stopping, checkpoints, resume.

Reproducibility: torch, NumPy and Python are seeded from the run's seed before the network is
built, and each epoch's sample order comes from its own generator derived from (seed, epoch), so
a resumed run (which restores every generator from the checkpoint) continues the same sequence
and ends with the same weights on the CPU. Augmentation (`TrainingData.augment`) keeps its own
random stream, which a checkpoint does not hold: a resumed run with augmentation sees other
variations. On CUDA, training uses automatic mixed precision (bfloat16 where supported, else
float16 with gradient scaling) and is seeded but not bit-for-bit reproducible.
"""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np
import torch
from torch.nn import functional

from pipelines.training import checkpoints
from pipelines.training.callbacks import TrainingCallbacks
from pipelines.training.data import TrainingData, target_scaling
from pipelines.training.errors import TrainingDivergedError, TrainingStopped
from pipelines.training.model import PREDICTION_BATCH_SIZE, TrainedModel
from pipelines.training.optimisation import (
    EarlyStopping,
    MixedPrecision,
    build_optimizer,
    build_scheduler,
    step_scheduler,
)
from pipelines.training.samples import Predictions
from pipelines.training.templates import TorchTemplate


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's sample order, a pure function of (seed, epoch)."""
    derived = int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0])
    return torch.Generator().manual_seed(derived)


class TorchRun:
    """What one torch run holds between epochs; `train_torch` drives it."""

    def __init__(
        self,
        template: type[TorchTemplate],
        params: dict[str, Any],
        data: TrainingData,
        *,
        device: str,
        seed: int,
        callbacks: TrainingCallbacks,
    ) -> None:
        self.template, self.params, self.data = template, params, data
        self.device, self.seed, self.callbacks = device, seed, callbacks
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        self.target_mean, self.target_std = target_scaling(data)
        self.network = template.build_network(params, data.input_shape, data.n_outputs)
        self.network.input_scaling.fit(data.x_train)
        self.network.to(device)
        self.optimizer = build_optimizer(params, self.network)
        self.scheduler = build_scheduler(params, self.optimizer)
        self.precision = MixedPrecision(device)
        self.early_stopping = EarlyStopping(
            params["early_stopping_metric"], params["patience"], params["min_delta"]
        )
        self.best_state = checkpoints.cpu_copy(self.network.state_dict())
        self.history: list[dict[str, float]] = []
        self.next_epoch = 0
        # Without augmentation the whole training split lives on the device: no copy per batch.
        keep_on_device = data.augment is None
        self.x_train = torch.from_numpy(data.x_train).to(device if keep_on_device else "cpu")
        self.y_train = self._targets(data.y_train)
        self.x_val = torch.from_numpy(data.x_val).to(device)
        self.y_val = self._targets(data.y_val)
        self.val_outputs: torch.Tensor | None = None  # the last validation pass, for samples

    def _targets(self, values: np.ndarray) -> torch.Tensor:
        if self.data.task == "classification":
            return torch.from_numpy(values).to(self.device)
        standardised = (values.astype(np.float64) - self.target_mean) / self.target_std
        return torch.from_numpy(standardised.astype(np.float32)).to(self.device)

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.data.task == "classification":
            return functional.cross_entropy(outputs.float(), targets)
        return functional.mse_loss(outputs[:, 0].float(), targets)

    def _training_batch(self, index: torch.Tensor) -> torch.Tensor:
        if self.data.augment is None:
            return self.x_train[index]
        augmented = self.data.augment(self.data.x_train[index.cpu().numpy()])
        return torch.from_numpy(np.asarray(augmented, dtype=np.float32)).to(self.device)

    def _check_stop(self) -> None:
        reason = self.callbacks.should_stop()
        if reason is not None:
            raise TrainingStopped(reason)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training split in this epoch's order; loss and accuracy as seen
        during the pass (dropout on), which is what `train_*` metrics mean everywhere.

        Per batch the loop only keeps the loss tensor and writes the predicted classes into a
        preallocated tensor; sums and comparisons happen once per epoch. On a small network
        each extra tensor operation per batch costs a measurable share of the step.
        """
        self.network.train()
        n_samples, batch_size = len(self.x_train), self.params["batch_size"]
        order = torch.randperm(n_samples, generator=epoch_generator(self.seed, epoch))
        order = order.to(self.x_train.device)
        classification = self.data.task == "classification"
        predicted = torch.empty(n_samples, dtype=torch.int64, device=self.device)
        predicted = predicted if classification else None
        batch_losses: list[torch.Tensor] = []
        started = time.perf_counter()
        for start in range(0, n_samples, batch_size):
            self._check_stop()
            index = order[start : start + batch_size]
            targets = self.y_train[index.to(self.device)]
            with self.precision.autocast():
                outputs = self.network(self._training_batch(index))
            loss = self._loss(outputs, targets)
            self.precision.step(loss, self.optimizer)
            batch_losses.append(loss.detach())
            if predicted is not None:
                torch.argmax(outputs.detach(), dim=1, out=predicted[start : start + len(index)])
        batch_sizes = [
            min(batch_size, n_samples - start) for start in range(0, n_samples, batch_size)
        ]
        weights = torch.tensor(batch_sizes, dtype=torch.float32, device=self.device)
        metrics = {"train_loss": float(torch.stack(batch_losses).float() @ weights) / n_samples}
        if predicted is not None:
            targets = self.y_train[order.to(self.device)]
            metrics["train_accuracy"] = float((predicted == targets).sum()) / n_samples
        metrics["samples_per_s"] = n_samples / max(time.perf_counter() - started, 1e-9)
        return metrics

    def validate(self) -> dict[str, float]:
        """Loss and accuracy (or RMSE in the target's units) on the validation split."""
        self._check_stop()
        self.network.eval()
        with torch.inference_mode(), self.precision.autocast():
            outputs = torch.cat(
                [
                    self.network(self.x_val[start : start + PREDICTION_BATCH_SIZE]).float()
                    for start in range(0, len(self.x_val), PREDICTION_BATCH_SIZE)
                ]
            )
        self.val_outputs = outputs
        metrics = {"val_loss": float(self._loss(outputs, self.y_val))}
        if self.data.task == "classification":
            accuracy = (outputs.argmax(dim=1) == self.y_val).float().mean()
            metrics["val_accuracy"] = float(accuracy)
        else:
            metrics["val_rmse"] = (metrics["val_loss"] ** 0.5) * self.target_std
        return metrics

    def validation_predictions(self, indices: np.ndarray) -> Predictions:
        """The last validation pass's predictions at `indices` of the validation split: a few
        rows of outputs already computed, so a sample costs no forward pass."""
        if self.val_outputs is None:
            raise RuntimeError("no validation pass yet")
        with torch.inference_mode():
            rows = torch.as_tensor(indices, dtype=torch.int64, device=self.val_outputs.device)
            outputs = self.val_outputs[rows].float()
            if self.data.task == "classification":
                confidence, codes = torch.softmax(outputs, dim=1).max(dim=1)
                return Predictions(codes.cpu().numpy(), confidence.cpu().numpy())
            values = outputs[:, 0].cpu().numpy().astype(np.float64)
        return Predictions((values * self.target_std + self.target_mean).astype(np.float32))

    def _check_finite(self, epoch: int, metrics: dict[str, float]) -> None:
        """Fails the run on a NaN or infinite loss, before it is reported or checkpointed."""
        for name in ("train_loss", "val_loss"):
            if not np.isfinite(metrics[name]):
                raise TrainingDivergedError(
                    f"{name} became {metrics[name]} at epoch {epoch + 1}: the learning rate "
                    f"{metrics['learning_rate']:g} is probably too high"
                )

    def run_epoch(self, epoch: int) -> None:
        """Train, validate, track the best weights, report, ask the pruner, checkpoint, log."""
        started = time.perf_counter()
        learning_rate = float(self.optimizer.param_groups[0]["lr"])
        metrics = self.train_epoch(epoch)
        metrics.update(self.validate())
        metrics["learning_rate"] = learning_rate
        metrics["epoch_s"] = time.perf_counter() - started
        self._check_finite(epoch, metrics)
        improved = self.early_stopping.update(epoch, metrics)
        if improved:
            self.best_state = checkpoints.cpu_copy(self.network.state_dict())
        step_scheduler(self.scheduler, metrics["val_loss"])
        self.history.append(metrics)
        self.callbacks.on_epoch_end(epoch, dict(metrics))
        prune_reason = self.callbacks.should_prune(epoch, dict(metrics))
        if prune_reason is not None:
            self.callbacks.log(_epoch_line(epoch, self.params["epochs"], metrics, improved))
            raise TrainingStopped(prune_reason)
        is_last = epoch + 1 >= self.params["epochs"] or self.early_stopping.should_stop
        if self.callbacks.sample_due(epoch, is_last):
            self.callbacks.on_sample(epoch, self.validation_predictions)
        if self.callbacks.checkpoint_due(epoch):
            self.callbacks.save_checkpoint(checkpoints.torch_checkpoint(self, epoch))
        self.callbacks.log(_epoch_line(epoch, self.params["epochs"], metrics, improved))

    def identity(self) -> dict[str, Any]:
        """What a checkpoint must share with this run to be resumed by it."""
        return {
            "template_name": self.template.name,
            "params": self.params,
            "seed": self.seed,
            "task": self.data.task,
            "input_shape": list(self.data.input_shape),
            "n_outputs": self.data.n_outputs,
            "n_training_samples": len(self.data.x_train),
            "target_mean": self.target_mean,
            "target_std": self.target_std,
        }

    def finish(self) -> TrainedModel:
        """The model with the best epoch's weights."""
        stopping = self.early_stopping
        if stopping.should_stop and len(self.history) < self.params["epochs"]:
            self.callbacks.log(
                f"early stopping after epoch {len(self.history)}: {stopping.metric} has not "
                f"improved for {stopping.patience} epochs"
            )
        self.callbacks.log(
            f"keeping epoch {stopping.best_epoch + 1} ({stopping.metric} {stopping.best_value:.4g})"
        )
        self.network.load_state_dict(self.best_state)
        self.network.eval()
        return TrainedModel(
            template_name=self.template.name,
            params=self.params,
            task=self.data.task,
            label_names=self.data.label_names,
            feature_names=self.data.feature_names,
            input_shape=self.data.input_shape,
            device=self.device,
            network=self.network,
            target_mean=self.target_mean,
            target_std=self.target_std,
            history=self.history,
            best_epoch=stopping.best_epoch,
        )


def _epoch_line(epoch: int, n_epochs: int, metrics: dict[str, float], improved: bool) -> str:
    shown = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_rmse")
    values = " ".join(f"{name} {metrics[name]:.4g}" for name in shown if name in metrics)
    return (
        f"epoch {epoch + 1}/{n_epochs} {values} lr {metrics['learning_rate']:.3g} "
        f"{metrics['epoch_s']:.2f} s" + (" (best)" if improved else "")
    )


def train_torch(
    template: type[TorchTemplate],
    params: dict[str, Any],
    data: TrainingData,
    *,
    device: str,
    seed: int,
    callbacks: TrainingCallbacks,
    resume_from: bytes | None = None,
) -> TrainedModel:
    """Trains a torch template; see the module docstring for what is reproducible."""
    run = TorchRun(template, params, data, device=device, seed=seed, callbacks=callbacks)
    if resume_from is not None:
        checkpoints.resume_torch_run(run, resume_from)
        callbacks.log(f"resuming after epoch {run.next_epoch}/{params['epochs']}")
    for epoch in range(run.next_epoch, params["epochs"]):
        if run.early_stopping.should_stop:
            break
        run.run_epoch(epoch)
    return run.finish()
