"""GPU check, for a machine with CUDA: the CNN with mixed precision on the GPU against the CPU,
and a run placed on `cuda` really training there.

    .venv/bin/python bench/gpu_check.py [--epochs 8]

Prints samples/s of the `cnn` template on the digits (32x32x3) on CUDA (automatic mixed
precision) and on the CPU, their ratio, the test accuracy of each, and then trains one run
through the studio's runner with CANVASCRAFT_DEVICE=cuda:0 and checks its recorded device, its
log and where its weights were. Without CUDA it says so and exits 0.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def digits_data():
    from sklearn.datasets import load_digits

    from pipelines.training.data import TrainingData, split_indices

    digits = load_digits()
    images = np.repeat(np.kron(digits.images, np.ones((4, 4)))[..., None], 3, axis=3)
    features = ((images / 16.0) - 0.5).astype(np.float32)
    labels = digits.target.astype(np.int64)
    train_at, val_at, test_at = split_indices(labels, task="classification", seed=0)
    return TrainingData(
        x_train=features[train_at],
        y_train=labels[train_at],
        x_val=features[val_at],
        y_val=labels[val_at],
        x_test=features[test_at],
        y_test=labels[test_at],
        task="classification",
        label_names=[str(n) for n in range(10)],
        feature_names=[],
    )


def train_on(device: str, data, epochs: int) -> tuple[float, float, str]:
    """(training samples/s, test accuracy, the device the weights ended on)."""
    from pipelines.training.callbacks import TrainingCallbacks
    from pipelines.training.trainer import configure_threads, evaluate, train

    configure_threads(device)
    seconds: list[float] = []
    callbacks = TrainingCallbacks(
        on_epoch_end=lambda epoch, metrics: seconds.append(metrics["epoch_s"]),
        log=lambda line: None,
    )
    params = {"epochs": epochs, "patience": epochs}
    model = train("cnn", params, data, device=device, seed=0, callbacks=callbacks)
    # The first epoch pays for CUDA kernels' warm-up; the rest is the steady rate.
    steady = seconds[1:] or seconds
    samples_per_s = len(data.x_train) * len(steady) / sum(steady)
    weights_device = str(next(model.network.parameters()).device)
    return samples_per_s, evaluate(model, data.x_test, data.y_test)["test_accuracy"], weights_device


def run_through_the_runner() -> None:
    """One run via the runner with a CUDA worker setting, in a throwaway studio."""
    data_dir = tempfile.mkdtemp(prefix="canvascraft-gpu-")
    os.environ.update(
        CANVASCRAFT_DATA_DIR=data_dir,
        CANVASCRAFT_DEVICE="cuda:0",
        DJANGO_SETTINGS_MODULE="canvascraft.settings",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from gallery.demo_datasets import digits_zip
    from pipelines.runner import execute_run
    from pipelines.services import start_run
    from registry import services
    from registry.models import StreamEvent

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("gpu", password="gpu-check-password-1")
    _, version = services.dataset_create(
        owner=owner,
        name="digits",
        modality="image",
        upload=io.BytesIO(digits_zip()),
        original_name="d.zip",
    )
    experiment = services.experiment_create(owner=owner, name="gpu check")
    run = start_run(
        owner=owner,
        experiment=experiment,
        name="cnn on cuda",
        config={
            "dataset_version": version.pk,
            "task": "classification",
            "template": "cnn",
            "device": "gpu",
            "params": {"epochs": 4},
        },
    )
    started = time.perf_counter()
    status = execute_run(run.pk)
    run.refresh_from_db()
    on_cuda = run.device.startswith("cuda") and f"on {run.device}" in run.log_text
    elapsed_s = time.perf_counter() - started
    print(
        f"  runner: run {run.pk} {status} on {run.device!r} in {elapsed_s:.1f} s, "
        f"test_accuracy {run.summary.get('test_accuracy', float('nan')):.4f} "
        f"-> {'trained on CUDA' if on_cuda else 'NOT on CUDA'}"
    )
    # The live sample predictions are made on the run's device too: they must have arrived.
    samples = StreamEvent.objects.filter(stream__name=f"run:{run.pk}", type="sample").count()
    print(f"  runner: {samples} sample-prediction events on the run's stream")
    for line in run.log_text.splitlines():
        if "cuda" in line.lower() or "precision" in line.lower() or "error" in line.lower():
            print(f"  log: {line[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    arguments = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device here: nothing to check (run this on a GPU machine)")
        return
    print(f"GPU check — {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    data = digits_data()
    gpu_rate, gpu_accuracy, gpu_weights = train_on("cuda:0", data, arguments.epochs)
    cpu_rate, cpu_accuracy, cpu_weights = train_on("cpu", data, arguments.epochs)
    print(
        f"  cnn on cuda:0 (mixed precision): {gpu_rate:10,.0f} samples/s, "
        f"test_accuracy {gpu_accuracy:.4f}, weights on {gpu_weights}"
    )
    print(
        f"  cnn on cpu ({torch.get_num_threads()} threads): {cpu_rate:10,.0f} samples/s, "
        f"test_accuracy {cpu_accuracy:.4f}, weights on {cpu_weights}"
    )
    print(f"  speed-up: {gpu_rate / cpu_rate:.1f}x")
    run_through_the_runner()


if __name__ == "__main__":
    main()
