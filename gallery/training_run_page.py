"""What the run page adds: for every run, what its charts and live updates need (the
websocket stream, the metrics API); for a run the studio trains, also live status and progress,
the result (final metrics, confusion matrix), the error, the training recipe and the log's
address.

Runs opened by outside scripts have no training config and get none of the studio's parts.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.urls import reverse

from registry import dataset_selectors, selectors, streams
from registry.models import DatasetVersion, Run, RunStatus, StreamEvent

PRIMARY_METRICS = ("test_accuracy", "test_rmse")
CONFUSION_MATRIX_PATH = "confusion_matrix.png"
ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
# uPlot, installed from npm by `make` (package-lock.json); the charts fall back to charts.js.
UPLOT_SCRIPT = "vendor/uplot/uPlot.iife.min.js"


def uplot_available() -> bool:
    """Whether the chart library is installed (`make` runs npm when it can)."""
    return finders.find(UPLOT_SCRIPT) is not None


def run_live_config(run: Run) -> dict[str, Any]:
    """What static/js/run_page.js reads (as JSON): where the run's stream and metrics are."""
    return {
        "run": run.pk,
        "status": run.status,
        "is_active": run.status in ACTIVE_STATUSES,
        "stream": f"/ws/runs/{run.pk}/",
        "metrics_url": f"/api/v1/runs/{run.pk}/metrics/",
        "device_class": run.device_class,
        # Where the page drew the progress bar; the stream's messages take over from here.
        "progress": run.progress if run.status == RunStatus.RUNNING else None,
    }


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


def _newest_sample(run: Run) -> tuple[int, dict[str, Any] | None]:
    """(seq, payload) of the run's newest `sample` event, what the live stream last said
    ((0, None) before the first); the payload gains `n_right` (None without verdicts). One query."""
    newest = (
        StreamEvent.objects.filter(stream__name=streams.run_stream(run.pk), type="sample")
        .order_by("-seq")
        .values_list("seq", "payload")
        .first()
    )
    if newest is None:
        return 0, None
    seq, payload = newest
    verdicts = [item.get("correct") for item in payload.get("items", [])]
    known = [verdict for verdict in verdicts if isinstance(verdict, bool)]
    return seq, {**payload, "n_right": sum(known) if known else None}


def run_training_context(request: HttpRequest, run: Run) -> dict[str, Any]:
    """What the run page adds: the live config of every run, and for a run the studio trains
    its `training` parts (None otherwise)."""
    error_lines = run.error_text.strip().splitlines()
    context: dict[str, Any] = {
        "error_head": error_lines[0] if error_lines else "",
        "error_rest": "\n".join(error_lines[1:]).strip(),
        "live": run_live_config(run),
        "uplot": uplot_available(),
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
        "log_url": reverse("gallery:run-log", args=[run.pk]),
    }
    context["training"]["sample_seq"], context["training"]["sample"] = _newest_sample(run)
    return context
