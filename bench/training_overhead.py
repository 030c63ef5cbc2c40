"""Training overhead: samples/s through the whole pipeline against a bare PyTorch loop.

    .venv/bin/python bench/training_overhead.py [--epochs 40] [--repeats 7]

Both train the `mlp` template's network on the demo digits (the same features, read from the
feature store), with the same optimiser and weight decay, learning rate, batch size, seed and
thread count, and both run a validation pass after every epoch. The pipeline adds what makes a
run a run: metric logging, checkpoints written (and fsynced) off the training thread,
heartbeats, the log, train loss and accuracy per epoch, early stopping bookkeeping. Both are
timed from feature arrays to a trained network (the pipeline's train step; the bare loop's
tensors, network, optimiser and epochs), as training samples per second of that wall time.
The figure is the median ratio over back-to-back pairs; the goal is at least 0.95.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup(data_dir: str) -> None:
    os.environ["CANVASCRAFT_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvascraft.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def pipeline_samples_per_s(owner, experiment, version, params: dict) -> tuple[float, int]:
    """Runs the pipeline in this process; returns (samples/s of the train step, n_train)."""
    from pipelines.runner import execute_run
    from pipelines.services import start_run
    from registry.models import Artifact

    run = start_run(
        owner=owner,
        experiment=experiment,
        name="overhead",
        config={
            "dataset_version": version.pk,
            "task": "classification",
            "template": "mlp",
            "device": "cpu",
            "params": params,
        },
    )
    assert execute_run(run.pk) == "succeeded"
    from registry import artifact_store

    stored = Artifact.objects.get(run=run, path="metrics.json")
    metrics = json.loads(artifact_store.blob_path(stored.sha256).read_bytes())
    n_epochs = run.summaries.get(key="train_loss").n_points  # one point per epoch
    n_train = metrics["split"]["train"]
    return n_train * n_epochs / metrics["step_seconds"]["train"], n_train


def bare_samples_per_s(version, params: dict, n_threads: int) -> float:
    """The same network and work in a plain loop: shuffle, forward, backward, step, validate."""
    import torch

    from pipelines.features import features_for
    from pipelines.run_config import default_brushes
    from pipelines.training.data import split_indices
    from pipelines.training.templates import get_template

    torch.set_num_threads(n_threads)
    torch.manual_seed(0)
    features = features_for(version, default_brushes(version))
    train_at, val_at, _ = split_indices(features.labels, task="classification", seed=0)
    # Timed like the pipeline's train step: from arrays to a trained network.
    started = time.perf_counter()
    x_train = torch.from_numpy(features.features[train_at])
    y_train = torch.from_numpy(features.labels[train_at])
    x_val = torch.from_numpy(features.features[val_at])
    y_val = torch.from_numpy(features.labels[val_at])
    network = get_template("mlp").build_network(params, tuple(x_train.shape[1:]), 10)
    # The template's optimiser and weight decay (the mlp default is AdamW), written out plainly.
    optimizer_class = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[params["optimizer"]]
    optimizer = optimizer_class(
        network.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"]
    )
    loss_function = torch.nn.CrossEntropyLoss()
    batch_size = params["batch_size"]
    for _epoch in range(params["epochs"]):
        network.train()
        order = torch.randperm(len(x_train))
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(network(x_train[index]), y_train[index])
            loss.backward()
            optimizer.step()
        network.eval()
        with torch.no_grad():
            float(loss_function(network(x_val), y_val))
    seconds = time.perf_counter() - started
    return len(x_train) * params["epochs"] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=7)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="canvascraft-bench-") as data_dir:
        _setup(data_dir)
        from django.contrib.auth import get_user_model

        from gallery.demo_datasets import digits_zip
        from pipelines.training.devices import configure_threads
        from pipelines.training.templates import check_params
        from registry import services

        owner = get_user_model().objects.create_user("bench", password="bench-password-1")
        experiment = services.experiment_create(owner=owner, name="overhead")
        _, version = services.dataset_create(
            owner=owner,
            name="digits",
            modality="image",
            upload=io.BytesIO(digits_zip()),
            original_name="d.zip",
        )
        # No early stopping and no schedule: both loops do exactly `epochs` epochs at one rate.
        params = check_params(
            "mlp",
            {
                "epochs": arguments.epochs,
                "patience": arguments.epochs,
                "lr_schedule": "none",
                "dropout": 0.0,
            },
        )
        n_threads = configure_threads("cpu")
        # Warm-ups: imports, allocator, the feature store's first computation, for both.
        bare_samples_per_s(version, params, n_threads)
        pipeline_samples_per_s(owner, experiment, version, params)
        pipeline, bare = [], []
        for _ in range(arguments.repeats):
            pipeline.append(pipeline_samples_per_s(owner, experiment, version, params)[0])
            bare.append(bare_samples_per_s(version, params, n_threads))
        # Each pipeline run is paired with the bare run right after it: the median of the pair
        # ratios cancels the slow drifts of a shared machine that separate medians keep.
        ratio = statistics.median(p / b for p, b in zip(pipeline, bare, strict=True))
        print(
            f"CanvasCraft training overhead — {os.cpu_count()} CPUs, {n_threads} torch threads, "
            f"mlp on digits, {arguments.epochs} epochs, median of {arguments.repeats} pairs"
        )
        print(f"  bare PyTorch loop: {statistics.median(bare):9,.0f} samples/s")
        print(f"  whole pipeline:    {statistics.median(pipeline):9,.0f} samples/s")
        pairs = zip(pipeline, bare, strict=True)
        print("  pair ratios:       " + " ".join(f"{p / b:.3f}" for p, b in pairs))
        print(f"  ratio: {ratio:.3f} (goal >= 0.95) {'ok' if ratio >= 0.95 else 'MISS'}")


if __name__ == "__main__":
    main()
