"""The steps of a training run: load -> split -> preprocess -> train -> evaluate -> save.

Each step is thin: it moves data between the registry (through services and selectors) and the
plain training core (`pipelines.training`). What a step learns goes into the context's
metadata for the steps after it.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from pipelines.features import MAX_CLASSES, features_for, raw_labels
from pipelines.pipeline import PipelineCancelled, PipelineContext, StepFailed
from pipelines.run_io import RunIO
from pipelines.sweep_pruning import TrialPruning
from pipelines.training.data import TrainingData, split_indices
from pipelines.training.samples import IMAGE_CELL_PX, SampleMaker
from pipelines.training.trainer import (
    TrainingCallbacks,
    TrainingStopped,
    confusion_matrix,
    confusion_matrix_png,
    evaluate,
    sample_predictions,
    train,
)
from registry import dataset_selectors
from registry.errors import InvalidInput
from registry.models import DatasetVersion


@dataclass
class LoadDataset:
    """Finds the dataset version and each sample's label, without decoding samples."""

    name = "load dataset"

    def run(self, context: PipelineContext) -> None:
        config = context.config
        version = (
            DatasetVersion.objects.select_related("dataset")
            .filter(pk=config["dataset_version"])
            .first()
        )
        if version is None:
            raise StepFailed(f"dataset version {config['dataset_version']} no longer exists")
        try:
            labels = raw_labels(version, config.get("target"))
        except InvalidInput as error:
            raise StepFailed(error.message) from None
        context.metadata.update(version=version, raw_labels=labels)


@dataclass
class Split:
    """Seeded train/validation/test split, stratified for classification."""

    name = "split"

    def run(self, context: PipelineContext) -> None:
        config = context.config
        labels = context.metadata["raw_labels"]
        labelled = np.array([index for index, label in enumerate(labels) if label is not None])
        if len(labelled) < 10:
            raise StepFailed(f"only {len(labelled)} labelled samples; a run needs at least 10")
        if config["task"] == "classification":
            names = sorted({str(labels[index]) for index in labelled})
            if len(names) < 2:
                raise StepFailed("classification needs at least two classes")
            if len(names) > MAX_CLASSES:
                raise StepFailed(f"{len(names)} classes: is this a regression target?")
            targets = np.array([names.index(str(labels[index])) for index in labelled])
        else:
            try:
                targets = np.array([float(labels[index]) for index in labelled], dtype=np.float32)
            except (TypeError, ValueError):
                raise StepFailed("regression needs a numeric target column") from None
        try:
            train_at, val_at, test_at = split_indices(
                targets,
                task=config["task"],
                validation_fraction=config["validation_fraction"],
                test_fraction=config["test_fraction"],
                seed=config["seed"],
            )
        except ValueError as error:
            raise StepFailed(str(error)) from None
        split = {"train": labelled[train_at], "val": labelled[val_at], "test": labelled[test_at]}
        fingerprint = json.dumps(
            {name: indices.tolist() for name, indices in split.items()}, sort_keys=True
        )
        context.metadata.update(
            split=split, split_key=hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
        )


@dataclass
class Preprocess:
    """Brush chain through the feature store: fitted on the training split, reused if stored."""

    io: RunIO
    name = "preprocess"

    def run(self, context: PipelineContext) -> None:
        config, metadata = context.config, context.metadata
        split = metadata["split"]
        try:
            features = features_for(
                metadata["version"],
                config["brushes"],
                target=config.get("target"),
                run=self.io.run,
                fit_on=split["train"],
                fit_key=metadata["split_key"],
            )
        except InvalidInput as error:
            raise StepFailed(error.message) from None
        self.io.log(
            f"features {'from the store' if features.hit else 'computed'} in "
            f"{features.seconds:.2f} s: {features.features.shape}"
        )
        if config["task"] == "classification":
            targets = features.labels
        else:
            targets = np.array(
                [np.nan if label is None else float(label) for label in metadata["raw_labels"]],
                dtype=np.float32,
            )
        has_augmentation = any(brush.training_only for brush in features.chain)
        metadata.update(features=features)
        metadata["data"] = TrainingData(
            x_train=features.features[split["train"]],
            y_train=targets[split["train"]],
            x_val=features.features[split["val"]],
            y_val=targets[split["val"]],
            x_test=features.features[split["test"]],
            y_test=targets[split["test"]],
            task=config["task"],
            label_names=features.label_names,
            feature_names=features.feature_names,
            augment=features.augment if has_augmentation else None,
        )
        # The examples the live page shows each epoch, read before training starts.
        metadata["sample_maker"] = sample_maker(context)
        metadata["sample_maker"].prepare()


@dataclass
class Train:
    """Trains the template, logging every epoch and checkpointing so a retry resumes."""

    io: RunIO
    device: str
    name = "train"

    def run(self, context: PipelineContext) -> None:
        config = context.config
        # A sweep trial reports its objective per epoch and may be pruned (None otherwise).
        pruning = TrialPruning.for_run(self.io.run)
        callbacks = TrainingCallbacks(
            on_epoch_end=self.io.log_epoch,
            should_stop=self.io.stop_reason,
            save_checkpoint=self.io.save_checkpoint,
            checkpoint_due=self.io.checkpoint_due,
            sample_due=self.io.sample_due,
            on_sample=partial(self.io.log_sample, context.metadata["sample_maker"]),
            log=self.io.log,
        )
        if pruning is not None:
            callbacks.should_prune = pruning.should_prune
        resume_from = self.io.load_checkpoint()
        if resume_from is not None:
            self.io.log("resuming from the last checkpoint")
        try:
            model = train(
                config["template"],
                config["params"],
                context.metadata["data"],
                device=self.device,
                seed=config["seed"],
                callbacks=callbacks,
                resume_from=resume_from,
            )
        except TrainingStopped as stopped:
            raise PipelineCancelled(stopped.reason) from None
        finally:
            if pruning is not None:
                pruning.close()
        context.metadata["model"] = model


def sample_maker(context: PipelineContext) -> SampleMaker:
    """The run's sample examples (chosen from its seed), shown as the original images and, for
    audio, with the first example's clip: both read from the dataset archive by
    `SampleMaker.prepare` (which falls back to the features if that fails)."""
    data: TrainingData = context.metadata["data"]
    version: DatasetVersion = context.metadata["version"]
    maker = SampleMaker.for_validation(data, seed=context.config["seed"])
    if maker.kind == "table":
        return maker
    positions = context.metadata["split"]["val"][maker.indices]
    entries = [version.manifest[position] for position in positions]
    path = dataset_selectors.version_file(version)
    if maker.kind == "image":
        maker.load_pictures = partial(_original_images, path, entries)
    else:
        maker.load_clip = partial(_original_clip, path, entries[0], version.sample_rate or 16000)
    return maker


def _original_images(path: Path, entries: list[dict]) -> list[np.ndarray]:
    """The examples' images, read one by one and shrunk to their grid cell: a photo dataset
    never holds ten full-size pictures in memory at once."""
    from PIL import Image

    from registry.ingest.readers import read_images

    pictures = []
    for entry in entries:
        (array,), _labels = read_images(path, [entry])
        image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
        image.thumbnail(IMAGE_CELL_PX)  # small images stay as they are
        shrunk = np.asarray(image)
        pictures.append(shrunk[:, :, np.newaxis] if shrunk.ndim == 2 else shrunk)
    return pictures


def _original_clip(path: Path, entry: dict, sample_rate: int) -> tuple[np.ndarray, int]:
    from registry.ingest.readers import read_audio

    return read_audio(path, [entry], sample_rate=sample_rate)[0][0], sample_rate


@dataclass
class Evaluate:
    """Scores the model on the held-out test split; the summary always has test_accuracy
    (classification) or test_rmse (regression)."""

    io: RunIO
    name = "evaluate"

    def run(self, context: PipelineContext) -> None:
        data: TrainingData = context.metadata["data"]
        model = context.metadata["model"]
        summary = evaluate(model, data.x_test, data.y_test)
        self.io.log_summary(summary)
        context.metadata["summary"] = summary
        if data.task == "classification":
            predictions = model.predict(data.x_test)
            matrix = confusion_matrix(data.y_test, predictions, len(data.label_names))
            context.artifacts["confusion_matrix.png"] = confusion_matrix_png(
                matrix, data.label_names
            )
            context.metadata["confusion_matrix"] = matrix.tolist()
        samples = sample_predictions(
            model, data.x_test, data.y_test, n=8, seed=context.config["seed"]
        )
        context.metadata["samples"] = samples


@dataclass
class SaveArtifacts:
    """Weights, fitted brushes, metrics, confusion matrix and sample predictions as artifacts."""

    io: RunIO
    name = "save artifacts"

    def run(self, context: PipelineContext) -> None:
        metadata = context.metadata
        model = metadata["model"]
        files = {f"model/{name}": data for name, data in model.to_files().items()}
        files["model/brushes.zip"] = metadata["features"].chain.deterministic_part.to_bytes()
        metrics = {
            "summary": metadata["summary"],
            "confusion_matrix": metadata.get("confusion_matrix"),
            "label_names": metadata["data"].label_names,
            "split": {name: len(indices) for name, indices in metadata["split"].items()},
            "step_seconds": context.step_seconds,
        }
        files["metrics.json"] = json.dumps(metrics, indent=2).encode()
        files["samples/predictions.json"] = json.dumps(metadata["samples"], indent=2).encode()
        files.update(context.artifacts)
        for path, data in files.items():
            self.io.save_artifact(path, io.BytesIO(data))


def build_steps(run_io: RunIO, *, device: str) -> list:
    return [
        LoadDataset(),
        Split(),
        Preprocess(run_io),
        Train(run_io, device),
        Evaluate(run_io),
        SaveArtifacts(run_io),
    ]
