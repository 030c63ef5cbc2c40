"""Demo models for `seed_demo`: two small models really trained on the demo datasets and
published (public, `production` set), so the gallery and its "try it" panel work on a fresh
studio. Training happens in this process (a few seconds on two cores); a model already present
is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from pipelines.publishing import export_is_outdated, export_version_onnx, publish_run
from pipelines.runner import execute_run
from pipelines.services import start_run
from registry import services
from registry.models import Dataset, Experiment, ModelVersion, RegisteredModel, Run, Visibility

EXPERIMENT = "Published demo models"


@dataclass(frozen=True)
class DemoModel:
    name: str
    dataset: str
    config: dict[str, Any]
    description: str
    intended_use: str
    tags: list[str] = field(default_factory=list)


DEMO_MODELS = [
    DemoModel(
        name="sketch-digits",
        dataset="Digits",
        config={
            "task": "classification",
            "template": "cnn",
            "params": {"epochs": 12},
            "device": "cpu",
        },
        description="Reads a hand-drawn digit, 0 to 9. A small convolutional network trained "
        "on the 1,797 demo digits (32x32, grey).",
        intended_use="Try it: draw a digit in white on the black pad. Thick strokes that fill "
        "the pad work best, like the training pictures.",
        tags=["digits", "sketches", "demo"],
    ),
    DemoModel(
        name="wine-cultivars",
        dataset="Wine",
        config={
            "task": "classification",
            "target": "cultivar",
            "template": "random_forest",
            "params": {"n_estimators": 100},
            "device": "cpu",
        },
        description="Tells the three cultivars of the demo wines apart from their chemistry.",
        intended_use="A teaching example of a table model: fill in the 13 measurements.",
        tags=["tables", "demo"],
    ),
]


def seed_demo_models(creator: AbstractBaseUser, log: Callable[[str], None]) -> int:
    """Trains and publishes the missing demo models, and re-exports the outdated ONNX exports of
    existing ones; returns how many models it made or refreshed."""
    created = 0
    for demo in DEMO_MODELS:
        if RegisteredModel.objects.filter(name=demo.name).exists():
            created += _refresh_outdated_exports(demo.name, log)
            continue
        dataset = Dataset.objects.filter(owner=creator, name=demo.dataset).first()
        version = dataset.versions.order_by("-number").first() if dataset else None
        if version is None:
            log(f"skipped model {demo.name!r}: no dataset {demo.dataset!r}")
            continue
        run = _trained(creator, demo, version.pk)
        if run.status != "succeeded":
            log(f"skipped model {demo.name!r}: its training {run.status}: {run.error_text[:200]}")
            continue
        published = publish_run(user=creator, run=run, name=demo.name, visibility=Visibility.PUBLIC)
        services.model_update(
            model=published.model,
            description=demo.description,
            intended_use=demo.intended_use,
            licence="CC BY 4.0",
            tags=demo.tags,
        )
        services.model_alias_move(
            user=creator,
            model=published.model,
            alias="production",
            version=published,
            reason="first demo version",
        )
        created += 1
        log(f"trained and published model {demo.name!r}")
    return created


def _refresh_outdated_exports(name: str, log: Callable[[str], None]) -> int:
    """Re-exports a demo model's versions whose ONNX export is outdated (a studio seeded by an
    older release), so that `make run` serves what this release would; 1 if any was, else 0."""
    outdated = [
        version
        for version in ModelVersion.objects.filter(model__name=name).order_by("number")
        if export_is_outdated(version)
    ]
    for version in outdated:
        summary = export_version_onnx(version)
        log(f"re-exported model {name!r} version {version.number} to ONNX: {summary['status']}")
    return int(bool(outdated))


def _trained(creator: AbstractBaseUser, demo: DemoModel, dataset_version: int) -> Run:
    experiment = Experiment.objects.filter(owner=creator, name=EXPERIMENT).first()
    if experiment is None:
        experiment = services.experiment_create(
            owner=creator,
            name=EXPERIMENT,
            description="The runs behind the demo models in the gallery.",
            tags=["demo"],
        )
    run = start_run(
        owner=creator,
        experiment=experiment,
        name=demo.name,
        config={"dataset_version": dataset_version, **demo.config},
    )
    execute_run(run.pk)
    run.refresh_from_db()
    return run
