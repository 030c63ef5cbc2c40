"""The training params every torch template shares, with defaults each template tunes.

One definition keeps the names, ranges and wording identical across templates, so a sweep over
`learning_rate` or `lr_schedule` means the same thing whichever network it drives.
"""

from __future__ import annotations

from typing import Any

from pipelines.training.params import choice_property, integer_property, number_property

OPTIMIZERS = ["adam", "adamw", "sgd"]
LR_SCHEDULES = ["none", "cosine", "step", "plateau"]
EARLY_STOPPING_METRICS = ["val_loss", "val_accuracy", "val_rmse"]


def training_properties(
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    dropout: float,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    lr_schedule: str = "cosine",
    patience: int = 5,
) -> dict[str, dict[str, Any]]:
    """Schema properties of the optimiser, schedule, regularisation and early stopping."""
    return {
        "dropout": number_property(
            dropout,
            "Fraction of activations zeroed during training, against overfitting.",
            minimum=0.0,
            exclusive_maximum=1.0,
        ),
        "epochs": integer_property(epochs, 1, 1000, "Largest number of passes over the data."),
        "batch_size": integer_property(batch_size, 1, 4096, "Samples per optimisation step."),
        "optimizer": choice_property(
            optimizer, OPTIMIZERS, "adam, adamw (decoupled weight decay) or sgd with momentum 0.9."
        ),
        "learning_rate": number_property(
            learning_rate, "Step size at the start of training.", exclusive_minimum=0.0, maximum=10
        ),
        "weight_decay": number_property(
            weight_decay, "L2 penalty on the weights (decoupled for adamw).", minimum=0, maximum=1
        ),
        "lr_schedule": choice_property(
            lr_schedule,
            LR_SCHEDULES,
            "How the learning rate changes per epoch: none, cosine decay to zero, step (x0.1 "
            "every third of the epochs) or plateau (halved when val_loss stalls for 2 epochs).",
        ),
        "early_stopping_metric": choice_property(
            "val_loss",
            EARLY_STOPPING_METRICS,
            "Validation metric that picks the best epoch: val_loss, val_accuracy "
            "(classification) or val_rmse (regression).",
        ),
        "patience": integer_property(
            patience, 1, 1000, "Epochs without improvement before training stops early."
        ),
        "min_delta": number_property(
            0.0, "Smallest change of the metric that counts as an improvement.", minimum=0.0
        ),
    }
