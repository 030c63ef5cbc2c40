"""Creators' pages for tracking: home, experiments, an experiment's runs, a run, compare."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify

from gallery.forms import ExperimentForm
from gallery.training_run_page import run_training_context
from registry import selectors, services
from registry.errors import InvalidInput, NotFound, RegistryError
from registry.models import Run

RUNS_PER_PAGE = 50
MAX_COMPARE = 10


HOME_MODELS = 6


def home(request: HttpRequest) -> HttpResponse:
    recent_runs = []
    experiments = []
    if request.user.is_authenticated:
        recent_runs = list(selectors.runs_for_user(request.user)[:8])
        experiments = list(selectors.experiments_for_user(request.user)[:6])
    from gallery.model_views import gallery_models

    models = list(gallery_models(request, {"sort": "newest"})[:HOME_MODELS])
    return render(
        request,
        "gallery/home.html",
        {"recent_runs": recent_runs, "experiments": experiments, "models": models},
    )


@login_required
def experiment_list(request: HttpRequest) -> HttpResponse:
    form = ExperimentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            experiment = services.experiment_create(owner=request.user, **form.cleaned_data)
        except RegistryError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Experiment “{experiment.name}” created.")
            return redirect("gallery:experiment", experiment_id=experiment.pk)
    experiments = selectors.experiments_for_user(request.user)
    page = Paginator(experiments, 30).get_page(request.GET.get("page"))
    return render(request, "gallery/experiment_list.html", {"page": page, "form": form})


def _columns(runs: list[Run]) -> tuple[list[str], list[str]]:
    param_keys: dict[str, None] = {}
    metric_keys: dict[str, None] = {}
    for run in runs:
        param_keys.update(dict.fromkeys(run.params))
        metric_keys.update(dict.fromkeys(summary.key for summary in run.summaries.all()))
    return sorted(param_keys), sorted(metric_keys)


@login_required
def experiment_detail(request: HttpRequest, experiment_id: int) -> HttpResponse:
    try:
        experiment = selectors.experiment_for_user(request.user, experiment_id)
    except NotFound:
        raise Http404("experiment not found") from None
    filter_text = request.GET.get("filter", "").strip()
    order_by = request.GET.get("order_by", "").strip()
    filter_error = ""
    try:
        runs = selectors.runs_for_user(
            request.user, experiment_id=experiment.pk, filter_text=filter_text, order_by=order_by
        )
        page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    except InvalidInput as error:
        filter_error = error.message
        runs = selectors.runs_for_user(request.user, experiment_id=experiment.pk)
        page = Paginator(runs, RUNS_PER_PAGE).get_page(1)
    page_runs = list(page.object_list)
    param_keys, metric_keys = _columns(page_runs)
    rows = [
        {
            "run": run,
            "params": [run.params.get(key, "") for key in param_keys],
            "metrics": [
                next((s for s in run.summaries.all() if s.key == key), None) for key in metric_keys
            ],
        }
        for run in page_runs
    ]
    return render(
        request,
        "gallery/experiment_detail.html",
        {
            "experiment": experiment,
            "page": page,
            "rows": rows,
            "param_keys": param_keys,
            "metric_keys": metric_keys,
            "filter_text": filter_text,
            "filter_error": filter_error,
            "order_by": order_by,
        },
    )


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    try:
        run = selectors.run_for_user(request.user, run_id)
    except NotFound:
        raise Http404("run not found") from None
    return render(
        request,
        "gallery/run_detail.html",
        {
            "run": run,
            "metric_keys": selectors.run_metric_keys(run),
            "summaries": list(run.summaries.all()),
            "artifacts": selectors.artifacts_of_run(run),
            "params": sorted(run.params.items()),
            "feature_uses": selectors.feature_uses_of_run(run),
            "publish_name": slugify(run.experiment.name)[:100] or f"run-{run.pk}",
            **run_training_context(request, run),
        },
    )


@login_required
def run_compare(request: HttpRequest) -> HttpResponse:
    raw_ids = request.GET.getlist("ids") or request.GET.get("runs", "").split(",")
    run_ids: list[int] = []
    for raw in raw_ids:
        for part in raw.split(","):
            if part.strip().isascii() and part.strip().isdigit() and int(part) not in run_ids:
                run_ids.append(int(part))
    if len(run_ids) < 2:
        messages.warning(request, "Pick at least two runs to compare.")
        referer = request.META.get("HTTP_REFERER", "")
        if url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(referer)
        return redirect("gallery:experiments")
    run_ids = run_ids[:MAX_COMPARE]
    try:
        runs = selectors.runs_for_compare(request.user, run_ids)
    except NotFound:
        raise Http404("run not found") from None
    param_keys = sorted({key for run in runs for key in run.params})
    params_rows = []
    for key in param_keys:
        values = [run.params.get(key, "—") for run in runs]
        params_rows.append(
            {"key": key, "values": values, "differs": len({repr(v) for v in values}) > 1}
        )
    metric_keys = sorted({s.key for run in runs for s in run.summaries.all()})
    metric_rows = []
    for key in metric_keys:
        summaries = [next((s for s in run.summaries.all() if s.key == key), None) for run in runs]
        metric_rows.append({"key": key, "summaries": summaries})
    return render(
        request,
        "gallery/run_compare.html",
        {
            "runs": runs,
            "params_rows": params_rows,
            "metric_rows": metric_rows,
            "metric_keys": metric_keys,
            "run_ids": ",".join(str(run.pk) for run in runs),
        },
    )


_AREA_BLURBS = {
    "Drift": "Watch published models for drift and retrain them on fresh data.",
}


def coming_soon(request: HttpRequest, area: str) -> HttpResponse:
    """Navigation targets of areas still being built: an honest page, not a 404."""
    return render(
        request, "gallery/coming_soon.html", {"area": area, "blurb": _AREA_BLURBS.get(area, "")}
    )
