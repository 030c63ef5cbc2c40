"""Demo content for a fresh studio: two accounts and experiments with realistic runs.

Curves are simulated (seeded, so every install shows the same gallery) rather than trained, so
`make run` stays fast; each run gets per-epoch metrics, a long per-batch loss series and a
couple of artifacts. Everything goes through the registry services, as a script's runs would.
"""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from gallery.demo_datasets import DEMO_DATASETS
from registry import services
from registry.models import Dataset, Experiment, RunStatus, Visibility

N_EPOCHS = 30
BATCHES_PER_EPOCH = 50


@dataclass(frozen=True)
class DemoRun:
    name: str
    params: dict
    quality: float  # 0..1: how good the final model gets
    outcome: str = RunStatus.SUCCEEDED
    error_text: str = ""
    stop_epoch: int = N_EPOCHS


def ensure_demo_users() -> tuple[AbstractUser, AbstractUser]:
    """The creator and the operator account; existing accounts are left exactly as they are."""
    user_model = get_user_model()
    creator_name, creator_password = settings.DEMO_CREATOR
    operator_name, operator_password = settings.DEMO_OPERATOR
    creator = user_model.objects.filter(username=creator_name).first()
    if creator is None:
        creator = user_model.objects.create_user(
            creator_name, email="demo@canvascraft.local", password=creator_password
        )
    operator = user_model.objects.filter(username=operator_name).first()
    if operator is None:
        operator = user_model.objects.create_superuser(
            operator_name, email="admin@canvascraft.local", password=operator_password
        )
    return creator, operator


def _epoch_metrics(run: DemoRun, rng: random.Random, metric: str) -> list[dict]:
    points = []
    tau = 4 + 6 * (1 - run.quality)
    for epoch in range(run.stop_epoch):
        progress = 1 - math.exp(-(epoch + 1) / tau)
        noise = rng.gauss(0, 0.01)
        if metric == "accuracy":
            val_acc = 0.1 + (0.88 * run.quality + 0.1) * progress + noise
            train_loss = 2.3 * (1 - progress) * (1.1 - run.quality) + 0.05 + abs(noise)
            val_loss = train_loss * (1.05 + 0.01 * epoch * (1 - run.quality)) + abs(noise)
            points += [
                {"key": "val_acc", "step": epoch, "value": round(min(val_acc, 0.999), 5)},
                {"key": "train_loss", "step": epoch, "value": round(train_loss, 5)},
                {"key": "val_loss", "step": epoch, "value": round(val_loss, 5)},
            ]
        else:
            rmse = 0.9 - 0.75 * run.quality * progress + noise
            points += [
                {"key": "val_rmse", "step": epoch, "value": round(rmse, 5)},
                {"key": "val_r2", "step": epoch, "value": round(1 - rmse**2 / 0.81, 5)},
            ]
        points.append(
            {
                "key": "learning_rate",
                "step": epoch,
                "value": run.params.get("lr", 0.01) * 0.5 ** (epoch // 10),
            }
        )
    return points


def _batch_losses(run: DemoRun, rng: random.Random) -> list[dict]:
    """A long, noisy per-batch series: the kind of curve downsampling is for."""
    points = []
    n_steps = run.stop_epoch * BATCHES_PER_EPOCH
    for step in range(n_steps):
        level = 2.3 * math.exp(-step / (400 + 900 * (1 - run.quality))) + 0.08
        spike = 0.8 if rng.random() < 0.004 else 0.0
        points.append(
            {
                "key": "batch_loss",
                "step": step,
                "value": round(level * (1 + rng.gauss(0, 0.12)) + spike, 5),
            }
        )
    return points


def _create_run(owner, experiment: Experiment, run: DemoRun, metric: str) -> None:
    rng = random.Random(f"{experiment.name}/{run.name}")
    record = services.run_create(
        owner=owner, experiment=experiment, name=run.name, params=run.params
    )
    points = _epoch_metrics(run, rng, metric) + _batch_losses(run, rng)
    for start in range(0, len(points), 5000):
        services.run_log_metrics(
            run=record, batch=services.check_metric_batch(points[start : start + 5000])
        )
    if run.outcome == RunStatus.SUCCEEDED:
        config = json.dumps({"params": run.params, "epochs": run.stop_epoch}, indent=2).encode()
        services.run_log_artifact(run=record, path="config.json", stream=io.BytesIO(config))
        card = (
            f"# {run.name}\n\nTrained for {run.stop_epoch} epochs in '{experiment.name}'.\n\n"
            + "\n".join(f"- **{key}**: {value}" for key, value in run.params.items())
        ).encode()
        services.run_log_artifact(run=record, path="model_card.md", stream=io.BytesIO(card))
    services.run_finish(run=record, status=run.outcome, error_text=run.error_text)


def _digit_runs() -> list[DemoRun]:
    runs = []
    for index, (lr, hidden, optimizer) in enumerate(
        (lr, hidden, optimizer)
        for optimizer in ("adam", "sgd")
        for hidden in (64, 256)
        for lr in (0.001, 0.003, 0.03)
    ):
        quality = 0.92 - abs(math.log10(lr / 0.003)) * 0.18 + (0.05 if hidden == 256 else 0)
        quality -= 0.08 if optimizer == "sgd" else 0
        runs.append(
            DemoRun(
                name=f"mlp-{hidden}-{optimizer}-lr{lr}",
                params={
                    "model": "mlp",
                    "hidden_units": hidden,
                    "optimizer": optimizer,
                    "lr": lr,
                    "batch_size": 64 if index % 2 else 32,
                    "brush": "standard_scaler",
                },
                quality=max(min(quality, 0.99), 0.2),
            )
        )
    runs.append(
        DemoRun(
            name="mlp-512-adam-lr0.3",
            params={
                "model": "mlp",
                "hidden_units": 512,
                "optimizer": "adam",
                "lr": 0.3,
                "batch_size": 32,
            },
            quality=0.1,
            outcome=RunStatus.FAILED,
            stop_epoch=7,
            error_text="FloatingPointError: loss became NaN at epoch 7 (lr 0.3 is too high)",
        )
    )
    runs.append(
        DemoRun(
            name="cnn-small-adam",
            params={
                "model": "cnn",
                "channels": 16,
                "optimizer": "adam",
                "lr": 0.003,
                "batch_size": 64,
            },
            quality=0.97,
            outcome=RunStatus.CANCELLED,
            stop_epoch=12,
        )
    )
    return runs


def _wine_runs() -> list[DemoRun]:
    return [
        DemoRun(
            name=f"{model}-depth{depth}",
            params={"model": model, "max_depth": depth, "lr": 0.05, "brush": "min_max_scaler"},
            quality=0.5 + 0.1 * depth - (0.1 if model == "linear" else 0),
        )
        for model in ("gradient_boosting", "linear")
        for depth in (2, 3, 4)
    ]


def _timbre_runs() -> list[DemoRun]:
    return [
        DemoRun(
            name=f"spectrogram-cnn-{n_mels}mels",
            params={
                "model": "cnn",
                "n_mels": n_mels,
                "lr": 0.001,
                "optimizer": "adam",
                "brush": "audio_spectrogram",
            },
            quality=0.6 + n_mels / 320,
        )
        for n_mels in (32, 64, 96)
    ]


DEMO_EXPERIMENTS: list[tuple[str, str, list[str], str, Callable[[], list[DemoRun]]]] = [
    (
        "Digit doodles",
        "Which MLP settings read hand-drawn digits best?",
        ["images", "digits"],
        "accuracy",
        _digit_runs,
    ),
    (
        "Wine palette regression",
        "Predicting wine colour intensity from its chemistry.",
        ["tables", "wine"],
        "regression",
        _wine_runs,
    ),
    (
        "Synth timbres",
        "Telling sine, square, saw and noise apart by ear.",
        ["audio"],
        "accuracy",
        _timbre_runs,
    ),
]


def seed_demo_datasets(creator, log: Callable[[str], None]) -> int:
    """Creates the missing demo datasets (public, so every account can try them)."""
    created = 0
    for name, modality, file_name, description, make in DEMO_DATASETS:
        if Dataset.objects.filter(owner=creator, name=name).exists():
            continue
        services.dataset_create(
            owner=creator,
            name=name,
            modality=modality,
            upload=io.BytesIO(make()),
            original_name=file_name,
            description=description,
            visibility=Visibility.PUBLIC,
            note="Demo data, generated on this machine.",
        )
        created += 1
        log(f"created dataset {name!r}")
    return created


def seed_demo(log: Callable[[str], None] = lambda message: None) -> int:
    """Creates whatever demo content is missing; returns how many datasets, experiments and
    published models it made."""
    creator, _operator = ensure_demo_users()
    created = seed_demo_datasets(creator, log)
    for name, description, tags, metric, make_runs in DEMO_EXPERIMENTS:
        if Experiment.objects.filter(owner=creator, name=name).exists():
            continue
        with transaction.atomic():
            experiment = services.experiment_create(
                owner=creator, name=name, description=description, tags=tags
            )
            for run in make_runs():
                _create_run(creator, experiment, run, metric)
        created += 1
        log(f"created experiment {name!r}")
    if not settings.SEED_DEMO_MODELS:
        return created
    from gallery.demo_models import seed_demo_models

    return created + seed_demo_models(creator, log)
