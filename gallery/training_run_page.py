"""What the run page adds for a run the studio trains: live status and progress, the result
(final metrics, confusion matrix), the error, the training recipe and the log's address.

Runs opened by outside scripts have no training config and get none of it.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from registry import dataset_selectors, selectors
from registry.models import DatasetVersion, Run, RunStatus

PRIMARY_METRICS = ("test_accuracy", "test_rmse")
CONFUSION_MATRIX_PATH = "confusion_matrix.png"
ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


def _template_description(name: str) -> str:
    # Imported when used: the template modules pull in torch and scikit-learn.
    from pipelines.training.templates import list_templates

    return next((t["description"] for t in list_templates() if t["name"] == name), "")


def _summary_items(summary: dict) -> list[dict[str, Any]]:
    """Final metrics, the headline one (test accuracy or RMSE) first."""
    keys = sorted(summary, key=lambda key: (key not in PRIMARY_METRICS, key))
    return [
        {
            "key": key,
            "label": key.removeprefix("test_").replace("_", " "),
            "value": summary[key],
            "percent": round(100 * summary[key], 1) if "accuracy" in key else None,
            "is_primary": index == 0,
        }
        for index, key in enumerate(keys)
        if isinstance(summary[key], int | float) and not isinstance(summary[key], bool)
    ]


def _progress(run: Run) -> dict[str, Any]:
    progress = run.progress or {}
    epoch, n_epochs = progress.get("epoch"), progress.get("n_epochs")
    percent = None
    if isinstance(epoch, int) and isinstance(n_epochs, int) and n_epochs > 0:
        percent = max(0, min(100, round(100 * epoch / n_epochs)))
    return {
        "phase": progress.get("phase", ""),
        "epoch": epoch,
        "n_epochs": n_epochs,
        "percent": percent,
    }


def _recipe(request: HttpRequest, run: Run) -> dict[str, Any]:
    """The training config, with the dataset version it names (linked when still visible)."""
    config = run.config
    params = config.get("params") or {}
    version = (
        DatasetVersion.objects.select_related("dataset")
        .defer("manifest")
        .filter(pk=config.get("dataset_version"))
        .first()
    )
    visible = version is not None and (
        dataset_selectors.datasets_visible_to(request.user).filter(pk=version.dataset_id).exists()
    )
    description = _template_description(config.get("template", ""))
    return {
        "config": config,
        "version": version,
        "version_url": (
            f"{reverse('gallery:dataset', args=[version.dataset_id])}?version={version.pk}"
            if visible
            else ""
        ),
        "template_description": description,
        "params": [(key, _shown(value)) for key, value in sorted(params.items())],
        "brushes": [
            {
                "name": brush.get("name", ""),
                "settings": [
                    (key, _shown(value))
                    for key, value in (brush.get("params") or {}).items()
                    if value is not None
                ],
            }
            for brush in config.get("brushes") or []
        ],
    }


def _shown(value: Any) -> str | None:
    """A config value as the page shows it: strings bare, everything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def run_training_context(request: HttpRequest, run: Run) -> dict[str, Any]:
    """What the run page adds for a run the studio trains (an empty `training` otherwise)."""
    error_lines = run.error_text.strip().splitlines()
    context: dict[str, Any] = {
        "error_head": error_lines[0] if error_lines else "",
        "error_rest": "\n".join(error_lines[1:]).strip(),
        "training": None,
    }
    if not run.config:
        return context
    confusion = (
        selectors.artifacts_of_run(run).filter(path=CONFUSION_MATRIX_PATH).only("id").first()
    )
    is_active = run.status in ACTIVE_STATUSES
    summaries = run.summaries.all()  # prefetched by the run's selector
    context["training"] = {
        "is_active": is_active,
        # A finished run's one-point metrics (test scores, a scikit-learn fit) make no curve.
        "chart_keys": [s.key for s in summaries if is_active or s.n_points > 1],
        "metric_keys": [s.key for s in summaries],
        "summary": _summary_items(run.summary or {}),
        "progress": _progress(run),
        "recipe": _recipe(request, run),
        "confusion_matrix_url": (
            f"/api/v1/runs/{run.pk}/artifacts/{confusion.pk}/" if confusion else ""
        ),
        "api_url": f"/api/v1/runs/{run.pk}/",
        "log_url": reverse("gallery:run-log", args=[run.pk]),
    }
    return context
