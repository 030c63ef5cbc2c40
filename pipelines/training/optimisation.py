"""Optimiser, learning-rate schedule and early stopping of the torch loop, built from params.

Each object here has a `state_dict()` of tensors and plain values, which is what lets a
checkpoint be read back with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

SGD_MOMENTUM = 0.9
STEP_SCHEDULE_FACTOR = 0.1
PLATEAU_FACTOR = 0.5
PLATEAU_PATIENCE_EPOCHS = 2
# Metrics where a larger value is better; every other metric is a loss or an error.
MAXIMISED_METRICS = frozenset({"val_accuracy"})


def build_optimizer(params: dict[str, Any], network: nn.Module) -> torch.optim.Optimizer:
    """adam, adamw (decoupled weight decay) or sgd with Nesterov momentum 0.9."""
    settings = {"lr": params["learning_rate"], "weight_decay": params["weight_decay"]}
    if params["optimizer"] == "adam":
        return torch.optim.Adam(network.parameters(), **settings)
    if params["optimizer"] == "adamw":
        return torch.optim.AdamW(network.parameters(), **settings)
    return torch.optim.SGD(network.parameters(), momentum=SGD_MOMENTUM, nesterov=True, **settings)


def build_scheduler(params: dict[str, Any], optimizer: torch.optim.Optimizer) -> Any:
    """The per-epoch schedule named by `lr_schedule`, or None for a constant rate.

    cosine decays to zero over `epochs`; step divides by 10 after each third of the epochs;
    plateau halves the rate when val_loss has not improved for 2 epochs.
    """
    schedule = params["lr_schedule"]
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=params["epochs"])
    if schedule == "step":
        step_size = max(1, params["epochs"] // 3)
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size, STEP_SCHEDULE_FACTOR)
    if schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=PLATEAU_FACTOR, patience=PLATEAU_PATIENCE_EPOCHS
        )
    return None


def step_scheduler(scheduler: Any, validation_loss: float) -> None:
    """Advances the schedule by one epoch (plateau watches the validation loss)."""
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(validation_loss)
    elif scheduler is not None:
        scheduler.step()


@dataclass
class EarlyStopping:
    """Tracks the best epoch by one validation metric and says when to stop.

    An epoch improves when its metric beats the best by more than `min_delta` (lower is better,
    except for val_accuracy). Training stops after `patience` epochs in a row without
    improvement; the loop then restores the weights of `best_epoch`.
    """

    metric: str
    patience: int
    min_delta: float
    best_value: float = math.nan
    best_epoch: int = -1
    epochs_without_improvement: int = 0

    def update(self, epoch: int, metrics: dict[str, float]) -> bool:
        """Records an epoch's metrics; True when it is the new best."""
        value = metrics[self.metric]
        if self.best_epoch < 0 or self._better(value):
            self.best_value, self.best_epoch = value, epoch
            self.epochs_without_improvement = 0
            return True
        self.epochs_without_improvement += 1
        return False

    def _better(self, value: float) -> bool:
        if self.metric in MAXIMISED_METRICS:
            return value > self.best_value + self.min_delta
        return value < self.best_value - self.min_delta

    @property
    def should_stop(self) -> bool:
        return self.epochs_without_improvement >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)


class MixedPrecision:
    """Automatic mixed precision for one device: autocast for the forward pass, and the backward
    pass and optimiser step (with gradient scaling where float16 needs it).

    CUDA: bfloat16 where the GPU supports it (float32's range, so no loss scaling), else float16
    with a `GradScaler`. CPU and MPS: full float32, since autocast there is slower or less
    reliable for networks this small.
    """

    def __init__(self, device: str) -> None:
        self.dtype: torch.dtype | None = None
        self.scaler: torch.amp.GradScaler | None = None
        if device.startswith("cuda"):
            if torch.cuda.is_bf16_supported():
                self.dtype = torch.bfloat16
            else:
                self.dtype = torch.float16
                self.scaler = torch.amp.GradScaler("cuda")

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        """Backward pass and one optimiser step."""
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict[str, Any] | None:
        return None if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if self.scaler is not None and state is not None:
            self.scaler.load_state_dict(state)
